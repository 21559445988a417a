"""One judge of certificates for every format: path, validity, revocation, key usage and
algorithms of a signer's (or a TSA's) certificate at one moment, decided once here, in the
vocabulary of ETSI EN 319 102-1, with one finding code per fact. The PDF, XML, CMS and RFC
3161 modules keep only what is specific to their format (where the certificate and the
claimed time come from, which moment is proven).

What is wrong at the moment judged, its indication / sub-indication, and its finding code:

* no path to a trust anchor, or an untrusted self-signed certificate: INDETERMINATE /
  NO_CERTIFICATE_CHAIN_FOUND (§5.2.6, X.509 certificate validation) — ``cert.no_chain``;
* revoked before the moment: INDETERMINATE / REVOKED_NO_POE (a CA: REVOKED_CA_NO_POE)
  (§5.2.6) — ``cert.revoked``; and when the signer's own claimed signing time is after
  the revocation, TOTAL-FAILED / REVOKED (§5.3.4: by its own account the signature was made
  with a revoked certificate) — ``cert.revoked``;
* expired at the moment: INDETERMINATE / OUT_OF_BOUNDS_NO_POE — ``cert.expired``;
* not yet valid at the moment: TOTAL-FAILED / NOT_YET_VALID (the signature provably existed
  before the certificate) — ``cert.not_yet_valid``;
* revocation status unknown or stale, hard mode: INDETERMINATE / TRY_LATER (§5.2.5) —
  ``cert.revocation_unknown``; accepted in soft mode, with the warning
  ``cert.revocation_unknown_accepted``;
* key usage does not allow the purpose: INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE —
  ``cert.key_usage``;
* an algorithm of the chain refused: INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE
  (``_NO_POE`` when banned only from a date) — ``crypto.chain_not_accepted``;
* no proof of existence where one is needed (a time slide failed): INDETERMINATE / NO_POE —
  ``cert.no_poe``;
* anything else in the path: INDETERMINATE / CERTIFICATE_CHAIN_GENERAL_FAILURE —
  ``cert.chain_failure``.

Facts about time, the same in every format: ``time.no_timestamp`` (no timestamp: the claimed
signing time is the signer's own clock, never used as proof), ``time.after_validation_time``
(a timestamp later than the validation time proves nothing at that time).

Why not pyHanko's ``generic_cms.handle_certvalidator_errors``: it logs each failure with its
traceback and folds several failures into a general one; the mapping above refines it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.authority import CertTrustAnchor
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError,
    ExpiredError,
    InsufficientPOEError,
    InsufficientRevinfoError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.ltv.errors import TimeSlideFailure
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.validate import async_validate_path

from validation.report import Finding, RevocationInfo, SubIndication, people_time

__all__ = [
    "NO_CHAIN",
    "PathVerdict",
    "chain_failure",
    "code_of",
    "find_path",
    "judge_certificate",
    "no_timestamp",
    "refine_revoked",
    "revocation_unknown_accepted",
]

_CODES: dict[SubIndication, str] = {
    AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND: "cert.no_chain",
    AdESIndeterminate.REVOKED_NO_POE: "cert.revoked",
    AdESIndeterminate.REVOKED_CA_NO_POE: "cert.revoked",
    AdESFailure.REVOKED: "cert.revoked",
    AdESIndeterminate.OUT_OF_BOUNDS_NO_POE: "cert.expired",
    AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED: "cert.expired",
    AdESFailure.NOT_YET_VALID: "cert.not_yet_valid",
    AdESIndeterminate.NOT_YET_VALID: "cert.not_yet_valid",
    AdESIndeterminate.TRY_LATER: "cert.revocation_unknown",
    AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE: "cert.key_usage",
    AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE: "crypto.chain_not_accepted",
    AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE: "crypto.chain_not_accepted",
    AdESIndeterminate.NO_POE: "cert.no_poe",
    AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE: "cert.chain_failure",
}


def code_of(sub: SubIndication) -> str | None:
    """The finding code of a certificate fact (``None`` for sub-indications that are not
    about the certificate: hash failures, format failures, …)."""
    return _CODES.get(sub)


def refine_revoked(
    sub: SubIndication | None, revoked_at: datetime | None, claimed: datetime | None
) -> SubIndication | None:
    """EN 319 102-1 §5.3.4: REVOKED_NO_POE becomes TOTAL-FAILED / REVOKED when the signer's
    own claimed signing time is after the revocation (for formats whose path judgment
    comes from pyHanko's own mapping)."""
    if (
        sub is AdESIndeterminate.REVOKED_NO_POE
        and revoked_at is not None
        and claimed is not None
        and revoked_at < claimed
    ):
        return AdESFailure.REVOKED
    return sub


def no_timestamp(*, later_document_timestamp: bool = False) -> Finding:
    """No (valid) signature timestamp: the claimed signing time is the signer's own clock and
    proves nothing, so the certificate is judged at the validation time, or (PDF) at the
    time of a later document timestamp."""
    at_en = (
        "the time of a later document timestamp"
        if later_document_timestamp
        else ("the validation time")
    )
    at_vi = (
        "thời điểm của dấu thời gian văn bản sau đó"
        if later_document_timestamp
        else ("thời điểm kiểm tra")
    )
    return Finding(
        code="time.no_timestamp",
        severity="warning",
        en="no valid signature timestamp: the signing time is the signer's own claim, so the "
        f"certificate is judged at {at_en}",
        vi="không có dấu thời gian hợp lệ: thời điểm ký do người ký tự khai, nên chứng thư số "
        f"được kiểm tra tại {at_vi}",
    )


def revocation_unknown_accepted(detail: str | None) -> Finding:
    """Soft revocation mode: the status could not be established, and that was accepted."""
    suffix_en = f" ({detail})" if detail else ""
    return Finding(
        code="cert.revocation_unknown_accepted",
        severity="warning",
        en="the revocation status of the certificate could not be established; accepted "
        f"because the revocation check is soft{suffix_en}",
        vi="không xác định được trạng thái thu hồi của chứng thư số; vẫn chấp nhận vì chế độ "
        "kiểm tra thu hồi là mềm",
    )


def _finding(code: str, en: str, vi: str) -> Finding:
    return Finding(code=code, en=en, vi=vi)


def _why(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _no_poe(detail: str) -> Finding:
    return _finding(
        "cert.no_poe",
        f"nothing proves the signature existed at the time it must be judged: {detail}",
        "không có bằng chứng chữ ký tồn tại tại thời điểm cần kiểm tra",
    )


@dataclass(slots=True)
class PathVerdict:
    """The certificate's judgement at one moment."""

    sub: SubIndication | None
    finding: Finding | None
    path: ValidationPath | None
    revocation: RevocationInfo
    revoked_at: datetime | None = None
    context: ValidationContext | None = None

    @property
    def anchor(self) -> x509.Certificate | None:
        if self.path is None:
            return None
        anchor = self.path.trust_anchor
        return anchor.certificate if isinstance(anchor, CertTrustAnchor) else None

    @property
    def chained(self) -> bool:
        """A path to a trust anchor exists (whatever else went wrong)."""
        return self.path is not None and self.sub not in (
            AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND,
            AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE,
        )


NO_CHAIN = _finding(
    "cert.no_chain",
    "the certificate does not chain to a trusted root (trust anchor)",
    "chứng thư số không dẫn tới chứng thư gốc tin cậy",
)


async def judge_certificate(
    cert: x509.Certificate,
    context: ValidationContext,
    usage: KeyUsageConstraints,
    when: datetime,
    *,
    claimed: datetime | None = None,
) -> PathVerdict:
    """Build and validate the path at the context's moment (``when``), and say what is wrong
    in the vocabulary of ETSI EN 319 102-1: the table in the module docstring."""
    unchecked = RevocationInfo()
    stamp = people_time(when)
    try:
        path = await find_path(cert, context)
    except RevokedError as exc:
        detail = exc.failure_msg
        if exc.is_side_validation:
            return PathVerdict(
                AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE,
                chain_failure(detail),
                exc.original_path,
                unchecked,
            )
        day = people_time(exc.revocation_dt)
        whose_en = "certificate" if exc.is_ee_cert else "issuing CA's certificate"
        whose_vi = "chứng thư số" if exc.is_ee_cert else "chứng thư số của CA cấp phát"
        if exc.is_ee_cert and claimed is not None and exc.revocation_dt < claimed:
            # by the signer's own account, signed with a revoked certificate
            return PathVerdict(
                AdESFailure.REVOKED,
                _finding(
                    "cert.revoked",
                    f"the certificate was revoked on {day}, and the signer's own claimed "
                    f"signing time ({people_time(claimed)}) is after that "
                    f"({detail})",
                    f"chứng thư số đã bị thu hồi ngày {day}, và chính thời điểm ký do người ký "
                    f"tự khai ({people_time(claimed)}) còn sau ngày đó",
                ),
                exc.original_path,
                RevocationInfo(status="revoked", detail=detail),
                revoked_at=exc.revocation_dt,
            )
        return PathVerdict(
            AdESIndeterminate.REVOKED_NO_POE
            if exc.is_ee_cert
            else AdESIndeterminate.REVOKED_CA_NO_POE,
            _finding(
                "cert.revoked",
                f"the {whose_en} was revoked on {day}, before {stamp} ({detail})",
                f"{whose_vi} đã bị thu hồi ngày {day}, trước thời điểm {stamp}",
            ),
            exc.original_path,
            RevocationInfo(status="revoked", detail=detail),
            revoked_at=exc.revocation_dt,
        )
    except InsufficientRevinfoError as exc:
        return PathVerdict(
            AdESIndeterminate.TRY_LATER,
            _finding(
                "cert.revocation_unknown",
                f"the revocation status cannot be established at {stamp}: {exc.failure_msg}",
                f"không xác định được trạng thái thu hồi của chứng thư số tại {stamp}",
            ),
            exc.original_path,
            RevocationInfo(status="unknown", detail=exc.failure_msg),
        )
    except ExpiredError as exc:
        if exc.is_ee_cert and not exc.is_side_validation:
            day = people_time(exc.expired_dt)
            return PathVerdict(
                AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
                _finding(
                    "cert.expired",
                    f"the certificate expired on {day}, and nothing proves the signature "
                    f"existed before that (it is judged at {stamp})",
                    f"chứng thư số đã hết hạn ngày {day} và không có bằng chứng chữ ký tồn tại "
                    f"trước đó (được kiểm tra tại {stamp})",
                ),
                exc.original_path,
                unchecked,
            )
        return PathVerdict(
            AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE,
            chain_failure(exc.failure_msg),
            exc.original_path,
            unchecked,
        )
    except NotYetValidError as exc:
        if exc.is_ee_cert and not exc.is_side_validation:
            day = people_time(exc.valid_from)
            return PathVerdict(
                AdESFailure.NOT_YET_VALID,
                _finding(
                    "cert.not_yet_valid",
                    f"the signature existed at {stamp}, before its certificate became valid "
                    f"({day})",
                    f"chữ ký đã tồn tại tại {stamp}, trước khi chứng thư số có hiệu lực ({day})",
                ),
                exc.original_path,
                unchecked,
            )
        return PathVerdict(
            AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE,
            chain_failure(exc.failure_msg),
            exc.original_path,
            unchecked,
        )
    except DisallowedAlgorithmError as exc:
        return PathVerdict(
            AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE
            if exc.banned_since is None
            else AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
            _finding(
                "crypto.chain_not_accepted",
                f"an algorithm in the certificate chain is not accepted: {exc.failure_msg}",
                f"thuật toán trong chuỗi chứng thư số không được chấp nhận: {exc.failure_msg}",
            ),
            exc.original_path,
            unchecked,
        )
    except InsufficientPOEError as exc:
        return PathVerdict(
            AdESIndeterminate.NO_POE, _no_poe(exc.failure_msg), exc.original_path, unchecked
        )
    except TimeSlideFailure as exc:
        return PathVerdict(AdESIndeterminate.NO_POE, _no_poe(exc.failure_msg), None, unchecked)
    except (PathBuildingError, InvalidCertificateError):
        return PathVerdict(AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND, NO_CHAIN, None, unchecked)
    except ValidationError as exc:
        return PathVerdict(
            AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE,
            chain_failure(exc.failure_msg),
            getattr(exc, "original_path", None),
            unchecked,
        )
    except Exception as exc:  # hostile certificates: a verdict must come out
        return PathVerdict(
            AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE,
            chain_failure(_why(exc)),
            None,
            unchecked,
        )
    if path.pkix_len > 0:
        # A certificate that is itself a trust anchor is trusted as configured (pyHanko too).
        try:
            usage.validate(cert)
        except InvalidCertificateError as exc:
            return PathVerdict(
                AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE,
                _finding(
                    "cert.key_usage",
                    f"the certificate may not be used for this: {exc.failure_msg}",
                    "mục đích sử dụng khóa của chứng thư số không cho phép dùng vào việc này "
                    "(ký số cần digitalSignature hoặc nonRepudiation)",
                ),
                path,
                unchecked,
            )
    return PathVerdict(None, None, path, unchecked)


async def find_path(cert: x509.Certificate, context: ValidationContext) -> ValidationPath:
    """pyhanko-certvalidator's ``find_valid_path``, except that a dead end met while looking
    for more candidate paths does not hide why an earlier candidate failed (with two issuers of
    the same name in the pool, the real reason would otherwise become "no path")."""
    errors: list[ValidationError] = []
    paths = context.path_builder.async_build_paths_lazy(cert)
    try:
        async for candidate in paths:
            try:
                await async_validate_path(context, candidate)
            except ValidationError as exc:
                errors.append(exc)
            else:
                return candidate
    except PathBuildingError:
        if not errors:
            raise
    finally:
        await paths.cancel()
    if not errors:
        raise PathBuildingError(f"no path for {cert.subject.human_friendly}")
    # as pyhanko-certvalidator: a reason other than a bad signature is the telling one
    telling = [e for e in errors if "signature" not in str(e)]
    raise (telling[-1] if telling else errors[0])


def chain_failure(detail: str) -> Finding:
    return _finding(
        "cert.chain_failure",
        f"the certificate chain does not validate: {detail}",
        "chuỗi chứng thư số không hợp lệ",
    )
