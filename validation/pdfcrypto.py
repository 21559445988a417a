"""The cryptographic checks of a PDF signature or timestamp: which certificate signed (a twin
in the bag changes nothing), integrity, the signature value, the algorithms (TT 15/2025). Part
of :mod:`validation.pdf`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from asn1crypto import algos, cms, core, tsp, x509
from cryptography.hazmat.primitives import hashes
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.general import (
    check_ess_certid,
    extract_signer_info,
)
from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.utils import CMSAlgorithmUsagePolicy
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from validation.context import (
    AlgorithmPolicy,
)
from validation.pdfread import (
    BAD_INPUT,
    MAX_CERTIFICATES,
    make_finding,
    make_problem,
    why,
)
from validation.policy import ValidationPolicy
from validation.report import (
    Finding,
    SubIndication,
)

__all__ = ["Crypto", "check_crypto", "signer_certificate"]


@dataclass(slots=True)
class Crypto:
    """Signature value, integrity and algorithms of one CMS SignedData."""

    cert: x509.Certificate | None = None
    other_certs: tuple[x509.Certificate, ...] = ()
    intact: bool | None = None
    valid: bool | None = None
    problems: list[tuple[SubIndication, Finding]] = field(default_factory=list)
    digest_algorithm: str | None = None
    signature_algorithm: str | None = None

    @property
    def sound(self) -> bool:
        """Intact, valid, algorithms accepted: worth judging the certificate."""
        return bool(self.intact and self.valid and self.cert is not None and not self.problems)


def signer_certificate(
    signed_data: cms.SignedData,
    signer_info: cms.SignerInfo,
    canonical: Callable[[x509.Certificate], x509.Certificate],
) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    """The signer's certificate among the CMS certificates (ETSI EN 319 102-1 §5.2.3.4), and
    the others, as one object per certificate.

    pyHanko's ``extract_certs_for_validation`` does the same but compares the issuer name of
    every certificate in the bag before its serial number, and RFC 5280 name comparison is the
    slowest thing in a validation; here the serial number goes first. Among several candidates
    the one the ``signing-certificate(-v2)`` attribute names wins.
    """
    choices = signed_data["certificates"]
    if len(choices) > MAX_CERTIFICATES:
        raise SignatureValidationError(
            f"the signature carries {len(choices)} certificates (at most {MAX_CERTIFICATES})",
            AdESFailure.FORMAT_FAILURE,
        )
    bag = [canonical(c.chosen.untag()) for c in choices if c.name == "certificate"]
    sid = signer_info["sid"]
    if sid.name == "issuer_and_serial_number":
        wanted = sid.chosen
        serial = wanted["serial_number"].native
        issuer = wanted["issuer"]

        def named(cert: x509.Certificate) -> bool:
            if cert.serial_number != serial:
                return False
            try:
                return bool(issuer.dump() == cert.issuer.dump() or issuer == cert.issuer)
            except ValueError:
                return False

    elif sid.name == "subject_key_identifier":
        key_id = sid.chosen.native

        def named(cert: x509.Certificate) -> bool:
            return bool(cert.key_identifier == key_id)

    else:
        raise SignatureValidationError(
            "unknown signer identifier", AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND
        )
    candidates = [c for c in bag if named(c)]
    certid = None
    signed_attrs = signer_info["signed_attrs"]
    if signed_attrs is not core.VOID:
        attr = generic_cms.get_signing_cert_attr(signed_attrs)
        certid = None if attr is None else attr["certs"][0]
    if certid is not None:
        candidates = [c for c in candidates if _names_certificate(certid, c)]
    if not candidates:
        raise SignatureValidationError(
            "the certificate the signature names is not in it (or does not match its "
            "signing-certificate attribute)",
            AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND,
        )
    signer = candidates[0]
    return signer, tuple(c for c in bag if c is not signer)


def _names_certificate(certid: tsp.ESSCertID | tsp.ESSCertIDv2, cert: x509.Certificate) -> bool:
    """pyHanko's ``check_ess_certid``, with the issuer compared byte for byte before name
    matching is tried (bytes that are equal are the same name)."""
    algorithm = (
        "sha1"
        if isinstance(certid, tsp.ESSCertID)
        else certid["hash_algorithm"]["algorithm"].native
    )
    md = hashes.Hash(get_pyca_cryptography_hash(algorithm))
    md.update(cert.dump())
    if md.finalize() != certid["cert_hash"].native:
        return False
    issuer_serial = certid["issuer_serial"]
    if not issuer_serial:
        return True
    names = issuer_serial["issuer"]
    if (
        issuer_serial["serial_number"].native == cert.serial_number
        and len(names) == 1
        and names[0].name == "directory_name"
        and names[0].chosen.untag().dump() == cert.issuer.dump()
    ):
        return True
    return bool(check_ess_certid(cert, certid))


def check_crypto(
    signed_data: cms.SignedData,
    digest: bytes | None,
    content_type: str,
    policy: ValidationPolicy,
    canonical: Callable[[x509.Certificate], x509.Certificate],
) -> Crypto:
    """``digest`` is the external digest (detached); ``None``: hash the encapsulated content."""
    result = Crypto()
    try:
        signer_info = extract_signer_info(signed_data)
        result.digest_algorithm = str(signer_info["digest_algorithm"]["algorithm"].native)
        result.signature_algorithm = str(signer_info["signature_algorithm"]["algorithm"].native)
        result.cert, result.other_certs = signer_certificate(signed_data, signer_info, canonical)
        content = signed_data["encap_content_info"]["content"]
        if digest is None:
            md = hashes.Hash(get_pyca_cryptography_hash(result.digest_algorithm))
            md.update(bytes(content))
            digest = md.finalize()
        elif content is not core.VOID:
            result.problems.append(
                make_problem(
                    AdESFailure.FORMAT_FAILURE,
                    "cms.content_in_detached",
                    "the signature carries content of its own, which a PDF signature must "
                    "not (it signs the file's byte range)",
                    "chữ ký chứa nội dung riêng, điều chữ ký PDF không được phép "
                    "(chữ ký PDF ký trên các đoạn byte của tệp)",
                )
            )
            return result
        intact, valid = generic_cms.validate_sig_integrity(
            signer_info, result.cert, expected_content_type=content_type, actual_digest=digest
        )
    except SignatureValidationError as exc:
        sub = exc.ades_subindication
        if sub is not AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND:
            sub = AdESFailure.FORMAT_FAILURE
        result.problems.append(
            (
                sub,
                make_finding(
                    "cms.no_signer_certificate"
                    if sub is AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND
                    else "cms.malformed",
                    f"the signature container is not usable: {exc.failure_message}",
                    f"cấu trúc chữ ký không dùng được: {exc.failure_message}",
                ),
            )
        )
        return result
    except BAD_INPUT as exc:
        result.problems.append(
            make_problem(
                AdESFailure.FORMAT_FAILURE,
                "cms.malformed",
                f"the signature container cannot be read: {why(exc)}",
                f"không đọc được cấu trúc chữ ký: {why(exc)}",
            )
        )
        return result
    result.intact, result.valid = intact, valid
    if not intact:
        result.problems.append(
            make_problem(
                AdESFailure.HASH_FAILURE,
                "cms.hash_mismatch",
                "the signed data was altered: its digest does not match the signed one",
                "dữ liệu đã ký bị thay đổi: giá trị băm không khớp với giá trị đã ký",
            )
        )
    elif not valid:
        result.problems.append(
            make_problem(
                AdESFailure.SIG_CRYPTO_FAILURE,
                "cms.signature_invalid",
                "the signature value does not verify with the certificate's public key",
                "giá trị chữ ký không khớp với khóa công khai của chứng thư số",
            )
        )
    else:
        refusal = _algorithm_refusal(signer_info, result.cert, policy)
        if refusal is not None:
            result.problems.append(
                make_problem(
                    AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
                    "crypto.not_accepted",
                    f"algorithm not accepted: {refusal}",
                    f"thuật toán không được chấp nhận: {refusal}",
                )
            )
    return result


def _algorithm_refusal(
    signer_info: cms.SignerInfo, cert: x509.Certificate, policy: ValidationPolicy
) -> str | None:
    """TT 15/2025 App. I: the reason the signature's algorithms are refused, if they are."""
    rules = CMSAlgorithmUsagePolicy.lift_policy(AlgorithmPolicy(policy))
    signature_algorithm = signer_info["signature_algorithm"]
    digest_algorithm = signer_info["digest_algorithm"]
    checks = (
        rules.signature_algorithm_allowed(signature_algorithm, None, public_key=cert.public_key),
        rules.digest_algorithm_allowed(digest_algorithm, None),
        rules.digest_combination_allowed(
            signature_algo=signature_algorithm,
            message_digest_algo=algos.DigestAlgorithm(
                {"algorithm": digest_algorithm["algorithm"].native}
            ),
            moment=None,
        ),
    )
    for check in checks:
        if not check:
            return str(check.failure_reason or signature_algorithm["algorithm"].native)
    return None
