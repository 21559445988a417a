"""CMS signatures (``.p7s``, RFC 5652) and the judging of one CMS signer, which RFC 3161
timestamp tokens (:mod:`validation.tsp`) share.

A signature is *detached* (the signed bytes come separately, ``detached_data``) or *attached*
(the content is inside the SignedData). Each SignerInfo is one signature (``cms-1``,
``cms-2``, …). pyHanko does the cryptography, path building, revocation and algorithm checks,
through validation contexts built from the one :class:`ValidationPolicy`:

1. every signature timestamp (the unsigned ``signature-time-stamp`` attribute) is judged at the
   validation time; the earliest one that passes is the proof of existence (POE). A timestamp
   that does not pass is reported and ignored (ETSI EN 319 102-1 §5.5.4), and so is one whose
   time is after the validation time: it did not exist then (``time.after_validation_time``);
2. the signer's certificate is judged at the POE's time, counting revocation information issued
   after it, or, without a POE, at the validation time. The ``signingTime`` attribute is the
   signer's own clock and proves nothing: it is only reported;
3. each counter-signature (RFC 5652 §11.4: a SignerInfo in the unsigned countersignature
   attribute of another, signing that one's signature value) is a signature of its own,
   judged the same way (its timestamps, its certificate's path and revocation) and reported
   as such (``cms-1-counter-1``, ``kind="counter-signature"``, ``counter_signs="cms-1"``);
   counter-signatures of counter-signatures too, up to a bound on depth and number.

The signer's certificate is the one the signer identifier names, the signing-certificate(-v2)
attribute names and whose key verifies the signature: another certificate with the same issuer
and serial number (a "twin") planted in the unsigned certificate set changes nothing.

Revocation information comes from the SignedData (its ``crls`` field: CRLs and OCSP responses,
and Adobe's revocation-info-archival attribute), from the caller (``policy.crls``,
``policy.ocsp_responses``) and, unless offline, from the network.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from asn1crypto import algos, cms, core, crl, ocsp, pem, tsp, x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus
from pyhanko.sign.general import CMSStructuralError, check_ess_certid
from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.errors import CMSAlgorithmProtectionError, SignatureValidationError
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import (
    SignatureStatus,
    StandardCMSSignatureStatus,
    TimestampSignatureStatus,
)
from pyhanko.sign.validation.utils import CMSAlgorithmUsagePolicy
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.authority import CertTrustAnchor
from pyhanko_certvalidator.errors import (
    InsufficientRevinfoError,
    InvalidCertificateError,
    NotYetValidError,
)
from pyhanko_certvalidator.errors import ValidationError as CertValidationError
from pyhanko_certvalidator.fetchers.api import Fetchers
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator, SignatureValidationContext
from pyhanko_certvalidator.util import get_pyca_cryptography_hash
from pyhanko_certvalidator.validate import async_validate_path

from validation.certificates import (
    code_of,
    no_timestamp,
    refine_revoked,
    revocation_unknown_accepted,
)
from validation.context import (
    SIGNER_KEY_USAGE,
    AlgorithmPolicy,
    algorithm_findings,
    fetching,
    validation_context,
    validation_time,
)
from validation.policy import ValidationPolicy
from validation.report import (
    CertificateInfo,
    Evidence,
    Finding,
    Outcome,
    RevocationInfo,
    Role,
    SignatureReport,
    SubIndication,
    TimestampInfo,
    Unparseable,
    people_time,
)

_PEM_TYPES = frozenset({"PKCS7", "CMS", "PKCS #7 SIGNED DATA"})
_TOLERANCE = timedelta(seconds=1)


# -- parsing ---------------------------------------------------------------------------------


def load_signed_data(data: bytes, *, what_en: str, what_vi: str) -> cms.SignedData:
    """The SignedData of a DER (or PEM-armoured) ContentInfo, parsed completely; anything else
    raises :class:`Unparseable`."""
    der = data
    if pem.detect(data):
        try:
            kind, _, der = pem.unarmor(data)
        except ValueError as exc:
            raise _unparseable(what_en, what_vi, "bad PEM armour", "vỏ PEM hỏng") from exc
        if kind not in _PEM_TYPES:
            raise _unparseable(what_en, what_vi, f"PEM block {kind!r}", f"khối PEM {kind!r}")
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise _unparseable(
                what_en,
                what_vi,
                f"content type {info['content_type'].native}",
                f"kiểu nội dung {info['content_type'].native}",
            )
        signed_data = info["content"]
        _parse_signed_data(signed_data)
    except Exception as exc:  # asn1crypto parses lazily; hostile bytes fail in many ways
        raise _unparseable(
            what_en, what_vi, "not DER-encoded CMS SignedData", "không phải CMS SignedData DER"
        ) from exc
    return signed_data


def _parse_signed_data(signed_data: cms.SignedData) -> None:
    """Parse everything now, to fail here, except the counter-signatures, which are parsed one
    level at a time when they are judged (a hostile file may nest thousands of them, deeper
    than a recursive parse can go)."""
    for name in ("version", "digest_algorithms", "encap_content_info", "certificates", "crls"):
        signed_data[name].native  # noqa: B018
    for signer_info in signed_data["signer_infos"]:
        parse_signer_info(signer_info)


def parse_signer_info(signer_info: cms.SignerInfo) -> None:
    """Parse a SignerInfo completely, except the counter-signatures among its unsigned
    attributes; hostile bytes raise."""
    for name in ("version", "sid", "digest_algorithm", "signed_attrs", "signature_algorithm"):
        signer_info[name].native  # noqa: B018
    signer_info["signature"].native  # noqa: B018
    for attr in signer_info["unsigned_attrs"]:
        if attr["type"].native != "counter_signature":
            attr["values"].native  # noqa: B018


def _unparseable(what_en: str, what_vi: str, why_en: str, why_vi: str) -> Unparseable:
    return Unparseable(
        Finding(
            code="cms.unparseable",
            en=f"cannot read the {what_en}: {why_en}",
            vi=f"không đọc được {what_vi}: {why_vi}",
        )
    )


def single_signer(signed_data: cms.SignedData, signer_info: cms.SignerInfo) -> cms.SignedData:
    """The same SignedData with only ``signer_info`` (pyHanko judges one signer at a time).
    The SignerInfo keeps its original encoding, so its signature is unaffected."""
    if len(signed_data["signer_infos"]) == 1:
        return signed_data
    return _rebuild(signed_data, signer_infos=[signer_info])


def _rebuild(signed_data: cms.SignedData, **changes: object) -> cms.SignedData:
    fields = {
        name: signed_data[name]
        for name in (
            "version",
            "digest_algorithms",
            "encap_content_info",
            "certificates",
            "crls",
            "signer_infos",
        )
        if not isinstance(signed_data[name], core.Void)
    }
    fields.update(changes)
    return cms.SignedData(fields)


MAX_SIGNER_CANDIDATES = 16
"""Certificates named by one signer identifier whose key is tried on the signature; more are
ignored (two are already a CA's mistake or somebody's trick)."""


def signer_certificate(
    signed_data: cms.SignedData,
    policy: ValidationPolicy,
    *,
    content_digest: bytes | None = None,
) -> tuple[cms.SignedData, x509.Certificate | None]:
    """The certificate of the (single) SignerInfo (ETSI EN 319 102-1 §5.2.3.4): one that the
    signer identifier names, that the signing-certificate(-v2) attribute names (when there is
    one) and whose key verifies the signature (when that can be checked: over the signed
    attributes, or over ``content_digest`` without them); the first named one if no key
    verifies, so that the verdict says why. Candidates come from the SignedData's certificates,
    then (RFC 3161 tokens may omit them) from the caller's certificates and trust anchors.

    A twin in the certificate set (same issuer and serial number, another key) is not the
    signer's certificate and changes nothing. The SignedData returned holds the chosen
    certificate, first, and none of the other certificates the identifier names, so that
    pyHanko, which takes the last one named, judges the same certificate. Raises
    :class:`SignatureValidationError` for a signing-certificate attribute that is present
    more than once."""
    signer_info = signed_data["signer_infos"][0]
    sid = signer_info["sid"]
    choices = list(signed_data["certificates"])
    in_bag = [c.chosen for c in choices if c.name == "certificate" and _identifies(sid, c.chosen)]
    named = list(in_bag)
    known = {c.dump() for c in named}
    for cert in (*policy.extra_certificates, *policy.anchors.all()):
        if cert.dump() not in known and _identifies(sid, cert):
            named.append(cert)
            known.add(cert.dump())
    certid = _signing_certificate_id(signer_info)
    if certid is not None:
        named = [c for c in named if _ess_names(certid, c)]
    if not named:
        return signed_data, None
    chosen = named[0]
    if len(named) > 1:  # pyHanko verifies the one chosen anyway
        chosen = next(
            (c for c in named[:MAX_SIGNER_CANDIDATES] if _verifies(signer_info, c, content_digest)),
            chosen,
        )
    if len(in_bag) == 1 and in_bag[0].dump() == chosen.dump():
        return signed_data, chosen  # the only one named: as it is
    others = [c for c in choices if c.name != "certificate" or not _identifies(sid, c.chosen)]
    certs = [cms.CertificateChoices("certificate", chosen), *others]
    return _rebuild(signed_data, certificates=certs), chosen


def signer_twins(signed_data: cms.SignedData, cert: x509.Certificate) -> int:
    """How many other certificates in the SignedData the SignerInfo's identifier names."""
    sid = signed_data["signer_infos"][0]["sid"]
    return sum(
        1
        for c in embedded_certificates(signed_data)
        if c.dump() != cert.dump() and _identifies(sid, c)
    )


def _identifies(sid: cms.SignerIdentifier, cert: x509.Certificate) -> bool:
    """Whether the signer identifier names ``cert``: the serial number first (cheap), then the
    issuer byte for byte, then by RFC 5280 name comparison."""
    try:
        if sid.name == "issuer_and_serial_number":
            chosen = sid.chosen
            if chosen["serial_number"].native != cert.serial_number:
                return False
            issuer = chosen["issuer"]
            return bool(issuer.dump() == cert.issuer.dump() or issuer == cert.issuer)
        if sid.name == "subject_key_identifier":
            return bool(cert.key_identifier == sid.chosen.native)
    except (ValueError, KeyError, TypeError):  # names that cannot be compared name nobody
        return False
    return False


def _signing_certificate_id(
    signer_info: cms.SignerInfo,
) -> tsp.ESSCertID | tsp.ESSCertIDv2 | None:
    """The first certificate the signing-certificate(-v2) signed attribute names (RFC 5035:
    the signer's own), or ``None`` without one."""
    signed_attrs = signer_info["signed_attrs"]
    if isinstance(signed_attrs, core.Void):
        return None
    attr = generic_cms.get_signing_cert_attr(signed_attrs)
    if attr is None or len(attr["certs"]) == 0:
        return None
    certid: tsp.ESSCertID | tsp.ESSCertIDv2 = attr["certs"][0]
    return certid


def _ess_names(certid: tsp.ESSCertID | tsp.ESSCertIDv2, cert: x509.Certificate) -> bool:
    try:
        return bool(check_ess_certid(cert, certid))
    except Exception:  # an unknown hash algorithm or a broken issuer: it names nothing
        return False


def _verifies(
    signer_info: cms.SignerInfo, cert: x509.Certificate, content_digest: bytes | None
) -> bool:
    """Whether ``cert``'s key verifies the signature value (nothing else: not the message
    digest, not the certificate)."""
    signed_attrs = signer_info["signed_attrs"]
    if isinstance(signed_attrs, core.Void):
        if content_digest is None:
            return False
        payload, prehashed = content_digest, True
    else:
        payload, prehashed = signed_attrs.untag().dump(), False
    try:
        DefaultSignatureValidator().validate_signature(
            signer_info["signature"].native,
            payload,
            cert.public_key,
            signer_info["signature_algorithm"],
            context=SignatureValidationContext(
                contextual_md_algorithm=signer_info["digest_algorithm"]["algorithm"].native,
                prehashed=prehashed,
            ),
        )
    except Exception:  # InvalidSignature, or a key or algorithm that cannot verify anything
        return False
    return True


def embedded_certificates(signed_data: cms.SignedData) -> tuple[x509.Certificate, ...]:
    return tuple(c.chosen for c in signed_data["certificates"] if c.name == "certificate")


def embedded_revocation(
    signed_data: cms.SignedData, signer_info: cms.SignerInfo
) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """CRLs and OCSP responses (DER) the signature carries: the SignedData's ``crls`` field
    and Adobe's revocation-info-archival signed attribute."""
    crls: list[bytes] = []
    ocsps: list[bytes] = []
    for choice in signed_data["crls"]:
        if choice.name == "crl":
            crls.append(choice.chosen.dump())
        elif choice.chosen["other_rev_info_format"].native == "ocsp_response":
            ocsps.append(choice.chosen["other_rev_info"].dump())
    for attr in signer_info["signed_attrs"]:
        if attr["type"].native != "adobe_revocation_info_archival":
            continue
        for archival in attr["values"]:
            crls.extend(c.dump() for c in archival["crl"])
            ocsps.extend(o.dump() for o in archival["ocsp"])
    return tuple(crls), tuple(ocsps)


def claimed_signing_time(signer_info: cms.SignerInfo) -> datetime | None:
    for attr in signer_info["signed_attrs"]:
        if attr["type"].native == "signing_time" and len(attr["values"]) == 1:
            value = attr["values"][0].native
            return value if isinstance(value, datetime) else None
    return None


def digest(data: bytes, algorithm: str) -> bytes:
    """``algorithm`` (asn1crypto's name) over ``data``; :class:`ValueError` if unknown."""
    try:
        h = hashes.Hash(get_pyca_cryptography_hash(algorithm))
    except (AttributeError, KeyError, TypeError) as exc:
        raise ValueError(f"unsupported digest algorithm {algorithm}") from exc
    h.update(data)
    return h.finalize()


# -- judging one signer ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Judgement:
    """pyHanko's verdict on one CMS signer (a signature or a timestamp token), with what the
    report needs from it."""

    indication: AdESStatus
    sub_indication: SubIndication | None
    signer: x509.Certificate | None
    status: SignatureStatus | None = None
    context: ValidationContext | None = None
    moment: datetime
    detail: str | None = None
    """Why, in pyHanko's or pyhanko-certvalidator's (English) words."""
    revocation: RevocationInfo = dataclasses.field(default_factory=RevocationInfo)
    embedded_crls: tuple[bytes, ...] = ()
    embedded_ocsps: tuple[bytes, ...] = ()

    @property
    def path(self) -> ValidationPath | None:
        return None if self.status is None else self.status.validation_path


def context_for(
    policy: ValidationPolicy,
    *,
    fetchers: Fetchers | None,
    other_certs: Sequence[x509.Certificate],
    moment: datetime,
    crls: Sequence[bytes] = (),
    ocsps: Sequence[bytes] = (),
    past: bool = False,
) -> ValidationContext:
    """The shared context with the signature's own revocation data added. ``past``: the
    moment is a proof of existence in the past, and revocation information issued after it
    counts (ETSI EN 319 102-1 accepts revocation data issued after the best signature time)."""
    return validation_context(
        policy,
        fetchers=fetchers,
        other_certs=tuple(other_certs),
        moment=moment,
        crls=[crl.CertificateList.load(der) for der in crls],
        ocsps=[ocsp.OCSPResponse.load(der) for der in ocsps],
        retroactive_revinfo=past,
    )


async def judge_signer(
    signed_data: cms.SignedData,
    policy: ValidationPolicy,
    *,
    fetchers: Fetchers | None,
    moment: datetime,
    past: bool = False,
    raw_digest: bytes | None = None,
    tst_imprint: Callable[[str], bytes] | None = None,
    countersigned: bytes | None = None,
) -> Judgement:
    """Judge a single-signer SignedData at ``moment``: a regular signature over data whose
    digest is ``raw_digest`` (``None``: the encapsulated content), or, with ``tst_imprint``,
    a timestamp token whose message imprint must be ``tst_imprint(algorithm)``, or, with
    ``countersigned`` (the signature value of the SignerInfo it counter-signs), a
    counter-signature (RFC 5652 §11.4) held in the SignedData as its only SignerInfo."""
    try:
        return await _judge_signer(
            signed_data,
            policy,
            fetchers=fetchers,
            moment=moment,
            past=past,
            raw_digest=raw_digest,
            tst_imprint=tst_imprint,
            countersigned=countersigned,
        )
    except Exception as exc:
        # Hostile or broken structures surface deep inside pyHanko and asn1crypto as all
        # kinds of exceptions (unknown algorithm OIDs, impossible key parameters, names
        # that cannot be compared, …): the signature cannot be read, which is a verdict,
        # never a pass.
        return Judgement(
            indication=AdESStatus.FAILED,
            sub_indication=AdESFailure.FORMAT_FAILURE,
            signer=None,
            moment=moment,
            detail=str(exc) or type(exc).__name__,
        )


async def _judge_signer(
    signed_data: cms.SignedData,
    policy: ValidationPolicy,
    *,
    fetchers: Fetchers | None,
    moment: datetime,
    past: bool,
    raw_digest: bytes | None,
    tst_imprint: Callable[[str], bytes] | None,
    countersigned: bytes | None,
) -> Judgement:
    signer_info = signed_data["signer_infos"][0]
    crls, ocsps = embedded_revocation(signed_data, signer_info)
    try:
        signed_data, cert = signer_certificate(
            signed_data,
            policy,
            content_digest=_content_digest(signed_data, raw_digest, countersigned),
        )
    except SignatureValidationError as exc:
        sub = exc.ades_subindication
        return Judgement(
            indication=sub.status,
            sub_indication=_sub(sub),
            signer=None,
            moment=moment,
            detail=exc.failure_message,
            embedded_crls=crls,
            embedded_ocsps=ocsps,
        )
    if cert is None:
        return Judgement(
            indication=AdESStatus.INDETERMINATE,
            sub_indication=AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND,
            signer=None,
            moment=moment,
            detail="no certificate matches the signer identifier"
            if _signing_certificate_id(signer_info) is None
            else "no certificate matches both the signer identifier and the "
            "signing-certificate attribute",
            embedded_crls=crls,
            embedded_ocsps=ocsps,
        )
    vc = context_for(
        policy,
        fetchers=fetchers,
        other_certs=embedded_certificates(signed_data),
        moment=moment,
        crls=crls,
        ocsps=ocsps,
        past=past,
    )
    base = Judgement(
        indication=AdESStatus.INDETERMINATE,
        sub_indication=AdESIndeterminate.GENERIC,
        signer=cert,
        context=vc,
        moment=moment,
        embedded_crls=crls,
        embedded_ocsps=ocsps,
    )
    status: SignatureStatus
    try:
        if tst_imprint is not None:
            kwargs = await generic_cms.validate_tst_signed_data(
                signed_data, vc, expected_tst_imprint=tst_imprint
            )
            status = TimestampSignatureStatus(**kwargs)
        elif countersigned is not None:
            status = await _counter_signature_status(signed_data, cert, vc, countersigned)
        else:
            status = await generic_cms.async_validate_cms_signature(
                signed_data,
                status_cls=StandardCMSSignatureStatus,
                raw_digest=raw_digest,
                validation_context=vc,
                key_usage_settings=SIGNER_KEY_USAGE,
            )
    except SignatureValidationError as exc:
        sub = exc.ades_subindication
        return dataclasses.replace(
            base, indication=sub.status, sub_indication=_sub(sub), detail=exc.failure_message
        )
    except Exception as exc:  # see judge_signer; here the signer is known
        return dataclasses.replace(
            base,
            indication=AdESStatus.FAILED,
            sub_indication=AdESFailure.FORMAT_FAILURE,
            detail=str(exc) or type(exc).__name__,
        )
    judgement = dataclasses.replace(base, status=status)
    if not status.intact:
        return dataclasses.replace(
            judgement, indication=AdESStatus.FAILED, sub_indication=AdESFailure.HASH_FAILURE
        )
    if not status.valid:
        return dataclasses.replace(
            judgement, indication=AdESStatus.FAILED, sub_indication=AdESFailure.SIG_CRYPTO_FAILURE
        )
    problem = _sub(status.trust_problem_indic)
    detail = None
    if problem is not None:
        usage = (
            SIGNER_KEY_USAGE
            if tst_imprint is None
            else TimestampSignatureStatus.default_usage_constraints()
        )
        detail, problem = await _diagnose(problem, vc, status, usage, policy, signer_info)
        revoked = getattr(status, "revocation_details", None)
        refined = refine_revoked(
            problem,
            None if revoked is None else revoked.revocation_date,
            claimed_signing_time(signer_info),
        )
        if refined is not problem:
            detail = f"{detail or ''} (the claimed signing time is after the revocation)".strip()
            problem = refined
    missing = detail is not None and detail.startswith(_MISSING_REVINFO)
    if missing and problem is AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE:
        # as for PDF: fresher revocation data may come later (ETSI EN 319 102-1 TRY_LATER)
        problem = AdESIndeterminate.TRY_LATER
    judgement = dataclasses.replace(judgement, detail=detail)
    judgement = dataclasses.replace(
        judgement, revocation=_revocation(judgement, policy, missing=missing)
    )
    if problem is None and not status.trusted:  # never pass without a validated path
        problem = AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE
    if problem is None:
        problem, detail = _outside_validity(cert, moment)
        if detail is not None:
            judgement = dataclasses.replace(judgement, detail=detail)
    if problem is None:
        return dataclasses.replace(judgement, indication=AdESStatus.PASSED, sub_indication=None)
    return dataclasses.replace(judgement, indication=problem.status, sub_indication=problem)


def _content_digest(
    signed_data: cms.SignedData, raw_digest: bytes | None, countersigned: bytes | None
) -> bytes | None:
    """The digest a SignerInfo without signed attributes signs directly (to choose its
    certificate), ``None`` when unknown."""
    signer_info = signed_data["signer_infos"][0]
    if not isinstance(signer_info["signed_attrs"], core.Void):
        return None  # the signature is over the signed attributes
    algorithm = str(signer_info["digest_algorithm"]["algorithm"].native)
    try:
        if countersigned is not None:
            return digest(countersigned, algorithm)
        if raw_digest is not None:
            return raw_digest
        content = signed_data["encap_content_info"]["content"]
        return None if isinstance(content, core.Void) else digest(bytes(content), algorithm)
    except ValueError:
        return None


async def _counter_signature_status(
    signed_data: cms.SignedData,
    cert: x509.Certificate,
    vc: ValidationContext,
    countersigned: bytes,
) -> StandardCMSSignatureStatus:
    """What pyHanko's ``cms_basic_validation`` finds for a signature, for a counter-signature,
    which pyHanko does not judge (it insists on a content-type attribute, which RFC 5652
    §11.4 forbids a counter-signature to carry): the message digest is over the
    counter-signed signature value; then the signature value, the algorithms, and the
    certificate's path, usage and revocation, as for the main signer."""
    signer_info = signed_data["signer_infos"][0]
    md_algorithm = str(signer_info["digest_algorithm"]["algorithm"].native)
    signature_algorithm = signer_info["signature_algorithm"]
    try:
        actual = digest(countersigned, md_algorithm)
    except ValueError as exc:
        raise SignatureValidationError(
            str(exc), ades_subindication=AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE
        ) from exc
    signed_attrs = signer_info["signed_attrs"]
    embedded: bytes | None = None
    if isinstance(signed_attrs, core.Void):
        payload, prehashed = actual, True
    else:
        attrs = signed_attrs.untag()
        if any(attr["type"].native == "content_type" for attr in attrs):
            raise SignatureValidationError(
                "a counter-signature carries a content-type attribute (RFC 5652 §11.4 forbids it)",
                ades_subindication=AdESFailure.FORMAT_FAILURE,
            )
        try:
            generic_cms.validate_algorithm_protection(
                attrs, signer_info["digest_algorithm"], signature_algorithm, None
            )
        except CMSAlgorithmProtectionError as exc:
            raise SignatureValidationError(
                exc.failure_message, ades_subindication=AdESIndeterminate.GENERIC
            ) from exc
        except CMSStructuralError as exc:
            raise SignatureValidationError(
                exc.failure_message, ades_subindication=AdESFailure.FORMAT_FAILURE
            ) from exc
        digests = [a for a in attrs if a["type"].native == "message_digest"]
        if len(digests) != 1 or len(digests[0]["values"]) != 1:
            raise SignatureValidationError(
                "a counter-signature with signed attributes needs exactly one message-digest "
                "attribute (RFC 5652 §11.4)",
                ades_subindication=AdESFailure.FORMAT_FAILURE,
            )
        embedded = bytes(digests[0]["values"][0].native)
        payload, prehashed = attrs.dump(), False
    try:
        vc.sig_validator.validate_signature(
            signer_info["signature"].native,
            payload,
            cert.public_key,
            signature_algorithm,
            context=SignatureValidationContext(
                contextual_md_algorithm=md_algorithm, prehashed=prehashed
            ),
        )
        valid = True
    except InvalidSignature:
        valid = False
    intact = valid if embedded is None else embedded == actual
    problem: SubIndication | None = None
    horizon: datetime | None = None
    algorithms = CMSAlgorithmUsagePolicy.lift_policy(vc.algorithm_policy)
    allowed = algorithms.signature_algorithm_allowed(
        signature_algorithm, vc.best_signature_time, cert.public_key
    )
    if allowed:
        allowed = algorithms.digest_algorithm_allowed(
            signer_info["digest_algorithm"], vc.best_signature_time
        )
    if allowed:
        allowed = algorithms.digest_combination_allowed(
            signature_algorithm, algos.DigestAlgorithm({"algorithm": md_algorithm}), None
        )
    if not allowed:
        horizon = allowed.not_allowed_after
        problem = (
            AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE
            if horizon is None
            else AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE
        )
    path: ValidationPath | None = None
    revoked = None
    if valid and problem is None:
        try:
            vc.certificate_registry.register_multiple(
                [c for c in embedded_certificates(signed_data) if c.dump() != cert.dump()]
            )
            result = await generic_cms.validate_cert_usage(
                cert,
                vc,
                key_usage_settings=StandardCMSSignatureStatus.default_usage_constraints(
                    SIGNER_KEY_USAGE
                ),
                paths=vc.path_builder.async_build_paths_lazy(cert),
            )
            revoked = result.revo_details
            problem = refine_revoked(
                result.error_subindic,
                None if revoked is None else revoked.revocation_date,
                claimed_signing_time(signer_info),
            )
            path = result.success_result or result.error_path
            horizon = result.error_time_horizon
        except ValueError:  # as pyHanko's cms_basic_validation
            problem = AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE
    return StandardCMSSignatureStatus(
        intact=intact,
        valid=valid,
        trust_problem_indic=problem,
        signing_cert=cert,
        pkcs7_signature_mechanism=str(signature_algorithm["algorithm"].native),
        md_algorithm=md_algorithm,
        validation_path=path,
        revocation_details=revoked,
        error_time_horizon=horizon,
        validation_time=vc.moment,
        qualification_result=None,
    )


def _outside_validity(
    cert: x509.Certificate, moment: datetime
) -> tuple[SubIndication | None, str | None]:
    """pyhanko-certvalidator trusts a certificate that is itself a trust anchor without
    looking at its validity period (RFC 5280 treats anchors so); TT 15/2025 App. II 1.1 asks
    for the signer's certificate to be valid at signing time all the same."""
    validity = cert["tbs_certificate"]["validity"]
    not_before: datetime = validity["not_before"].native
    not_after: datetime = validity["not_after"].native
    if moment > not_after + _TOLERANCE:
        return AdESIndeterminate.OUT_OF_BOUNDS_NO_POE, f"the certificate expired {not_after}"
    if moment < not_before - _TOLERANCE:
        return AdESFailure.NOT_YET_VALID, f"the certificate is not valid until {not_before}"
    return None, None


def _sub(value: object) -> SubIndication | None:
    return value if isinstance(value, AdESFailure | AdESIndeterminate) else None


_MISSING_REVINFO = "revocation status unknown"
_CRYPTO = (
    AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
    AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
)


async def _diagnose(
    problem: SubIndication,
    vc: ValidationContext,
    status: SignatureStatus,
    usage: KeyUsageConstraints,
    policy: ValidationPolicy,
    signer_info: cms.SignerInfo,
) -> tuple[str | None, SubIndication]:
    """Why pyHanko said ``problem``: it logs the reason rather than returning it, and folds
    several path failures into CERTIFICATE_CHAIN_GENERAL_FAILURE. Re-check the one thing that
    failed to say which, and refine a signer certificate that is not yet valid to
    FAILED/NOT_YET_VALID (the signature was made before the certificate was valid: ETSI EN
    319 102-1 §5.5.4)."""
    cert = status.signing_cert
    if problem is AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE:
        anchored = any(a.sha256 == cert.sha256 for a in policy.anchors.all())
        if cert.self_signed != "no" and not anchored:
            return (
                "the certificate is self-signed and is not a trust anchor",
                AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND,
            )
        try:
            usage.validate(cert)
        except InvalidCertificateError as exc:
            return exc.failure_msg, problem
        return None, problem
    path = status.validation_path
    if path is None:
        if problem in _CRYPTO:
            algorithms = AlgorithmPolicy(policy)
            allowed = algorithms.signature_algorithm_allowed(
                signer_info["signature_algorithm"], None, cert.public_key
            )
            if allowed:
                allowed = algorithms.digest_algorithm_allowed(signer_info["digest_algorithm"], None)
            return allowed.failure_reason, problem
        return None, problem
    try:
        await async_validate_path(vc, path)
    except NotYetValidError as exc:
        if exc.is_ee_cert and problem is AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE:
            return exc.failure_msg, AdESFailure.NOT_YET_VALID
        return exc.failure_msg, problem
    except InsufficientRevinfoError as exc:
        return f"{_MISSING_REVINFO}: {exc.failure_msg}", problem
    except CertValidationError as exc:
        return exc.failure_msg, problem
    except Exception:  # the second look is only for the message; the verdict stands
        return None, problem
    return None, problem


# -- revocation, trust, evidence -------------------------------------------------------------


def ocsp_status(resp: ocsp.OCSPResponse, cert: x509.Certificate) -> str | None:
    """The status an OCSP response gives ``cert`` (``good``/``revoked``/``unknown``)."""
    try:
        if resp["response_status"].native != "successful":
            return None
        basic = resp["response_bytes"]["response"].parsed
        for single in basic["tbs_response_data"]["responses"]:
            cert_id = single["cert_id"]
            if cert_id["serial_number"].native != cert.serial_number:
                continue
            algo = cert_id["hash_algorithm"]["algorithm"].native
            if cert_id["issuer_name_hash"].native == digest(cert.issuer.dump(), algo):
                return str(single["cert_status"].name)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return None


def crl_status(lst: crl.CertificateList, cert: x509.Certificate) -> str | None:
    try:
        if lst.issuer != cert.issuer:
            return None
        for entry in lst["tbs_cert_list"]["revoked_certificates"]:
            if entry["user_certificate"].native == cert.serial_number:
                return "revoked"
    except (ValueError, KeyError, TypeError):
        return None
    return "good"


Source = Literal["embedded", "supplied", "online"]


def revocation_statuses(
    vc: ValidationContext, cert: x509.Certificate, source: Callable[[bytes], Source]
) -> list[tuple[str, Source, str]]:
    """What each OCSP response and CRL the context holds says of ``cert``: (status, where the
    data came from, "OCSP" or "CRL")."""
    found: list[tuple[str, Source, str]] = []
    for resp in vc.ocsps:
        state = ocsp_status(resp, cert)
        if state is not None:
            found.append((state, source(resp.dump()), "OCSP"))
    for lst in vc.crls:
        state = crl_status(lst, cert)
        if state is not None:
            found.append((state, source(lst.dump()), "CRL"))
    return found


def _revocation(j: Judgement, policy: ValidationPolicy, *, missing: bool) -> RevocationInfo:
    """The signer certificate's revocation status at the moment judged, and where it came
    from (TT 15/2025 App. II 1.2: OCSP when the CA offers it, else the CRL). ``missing``: the
    path failed for want of revocation information."""
    cert, vc, status = j.signer, j.context, j.status
    if cert is None or vc is None or status is None:
        return RevocationInfo()

    def source(der: bytes) -> Source:
        if der in j.embedded_crls or der in j.embedded_ocsps:
            return "embedded"
        if der in policy.crls or der in policy.ocsp_responses:
            return "supplied"
        return "online"

    def lookup(target: x509.Certificate) -> list[tuple[str, Source, str]]:
        return revocation_statuses(vc, target, source)

    details = status.revocation_details
    if details is not None:
        when = details.revocation_date.isoformat()
        reason = details.revocation_reason.human_friendly if details.revocation_reason else None
        targets = [cert] if not details.ca_revoked else list(_path_certs(status.validation_path))
        src = next((s for t in targets for state, s, _ in lookup(t) if state == "revoked"), None)
        what = "a CA certificate of the path" if details.ca_revoked else "the certificate"
        return RevocationInfo(
            status="revoked",
            source=src,
            detail=f"{what} was revoked at {when}" + (f" ({reason})" if reason else ""),
        )
    if not status.trusted:
        if missing:
            return RevocationInfo(
                status="unknown",
                detail="no usable CRL or OCSP response" + (" (offline)" if policy.offline else ""),
            )
        return RevocationInfo(
            status="not-checked", detail="the validation stopped before the revocation check"
        )
    if vc.soft_fail_exceptions:
        return RevocationInfo(
            status="unknown",
            detail="; ".join(str(e) for e in vc.soft_fail_exceptions)
            + (" (offline)" if policy.offline else ""),
        )
    found = lookup(cert)
    if found:
        state, src, kind = next((f for f in found if f[2] == "OCSP"), found[0])
        detail = f"{kind}: not revoked at {j.moment.isoformat()}"
        if state == "revoked":  # reachable only when judged at a proof of existence
            detail += " (revoked later)"
        return RevocationInfo(status="good", source=src, detail=detail)
    if not cert.crl_distribution_points and not cert.ocsp_urls:
        return RevocationInfo(
            status="not-checked", detail="the certificate names no CRL or OCSP responder"
        )
    return RevocationInfo(
        status="unknown",
        detail="no CRL or OCSP response was available" + (" (offline)" if policy.offline else ""),
    )


def _path_certs(path: ValidationPath | None) -> list[x509.Certificate]:
    return [] if path is None else list(path.iter_certs(include_root=True))


def trust_anchor(path: ValidationPath | None) -> x509.Certificate | None:
    if path is None:
        return None
    anchor = path.trust_anchor
    return anchor.certificate if isinstance(anchor, CertTrustAnchor) else None


def judgement_evidence(j: Judgement, signed_data: cms.SignedData) -> Evidence:
    """Certificates, CRLs and OCSP responses the verdict rests on (not the twins of the
    signer's certificate: see :func:`signer_certificate`)."""
    certs: list[x509.Certificate] = list(embedded_certificates(signed_data))
    if j.signer is not None:
        sid = signed_data["signer_infos"][0]["sid"]
        signer = j.signer.dump()
        certs = [c for c in certs if c.dump() == signer or not _identifies(sid, c)]
        certs.insert(0, j.signer)
    path = j.path
    if path is not None:
        certs.extend(path.iter_certs(include_root=True))
    crls: list[bytes] = list(j.embedded_crls)
    ocsps: list[bytes] = list(j.embedded_ocsps)
    if j.context is not None:
        chain = [j.signer, *(path.iter_certs(include_root=True) if path else ())]
        chain_certs = [c for c in chain if c is not None]
        issuers = [c.issuer for c in chain_certs]
        crls.extend(c.dump() for c in j.context.crls if c.issuer in issuers)
        ocsps.extend(
            r.dump()
            for r in j.context.ocsps
            if any(ocsp_status(r, c) is not None for c in chain_certs)
        )
    return Evidence(
        certificates=tuple(dict.fromkeys(c.dump() for c in certs)),
        crls=tuple(dict.fromkeys(crls)),
        ocsp_responses=tuple(dict.fromkeys(ocsps)),
    )


def valid_at(cert: x509.Certificate, moment: datetime) -> bool:
    validity = cert["tbs_certificate"]["validity"]
    not_before: datetime = validity["not_before"].native
    not_after: datetime = validity["not_after"].native
    return not_before - _TOLERANCE <= moment <= not_after + _TOLERANCE


def signature_algorithm_name(signer_info: cms.SignerInfo) -> str | None:
    try:
        return str(signer_info["signature_algorithm"]["algorithm"].native)
    except (ValueError, KeyError):
        return None


# -- findings --------------------------------------------------------------------------------

_MESSAGES: dict[SubIndication, tuple[str, str]] = {
    AdESFailure.FORMAT_FAILURE: (
        "the signature is malformed",
        "chữ ký sai cấu trúc",
    ),
    AdESFailure.HASH_FAILURE: (
        "integrity: the data was changed after it was signed (the digests do not match)",
        "toàn vẹn: dữ liệu đã bị thay đổi sau khi ký (giá trị băm không khớp)",
    ),
    AdESFailure.SIG_CRYPTO_FAILURE: (
        "the signature value does not verify with the public key of the signer's certificate",
        "giá trị chữ ký không khớp với khóa công khai trong chứng thư số của người ký",
    ),
    AdESFailure.REVOKED: (
        "the signer's certificate was revoked before the signature was made",
        "chứng thư số của người ký đã bị thu hồi trước khi ký",
    ),
    AdESFailure.NOT_YET_VALID: (
        "the signature was made before the signer's certificate became valid",
        "chữ ký được tạo trước khi chứng thư số của người ký có hiệu lực",
    ),
    AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND: (
        "the signer's certificate is neither in the signature nor among the supplied certificates",
        "không tìm thấy chứng thư số của người ký trong chữ ký hay trong các chứng thư "
        "được cung cấp",
    ),
    AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND: (
        "no certificate path leads from the signer's certificate to a trusted root",
        "không có đường dẫn chứng thư từ chứng thư số của người ký đến chứng thư gốc tin cậy",
    ),
    AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE: (
        "the certificate path could not be validated",
        "không xác thực được đường dẫn chứng thư số",
    ),
    AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE: (
        "the certificate may not be used for this purpose (key usage or other constraints)",
        "chứng thư số không được phép dùng cho mục đích này (mục đích sử dụng khóa hoặc ràng "
        "buộc khác)",
    ),
    AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE: (
        "an algorithm or key size is not acceptable (MD5, RSA under 2048 bits or EC under "
        "256 bits are not)",
        "thuật toán hoặc độ dài khóa không được chấp nhận (không chấp nhận MD5, RSA dưới 2048 "
        "bit, EC dưới 256 bit)",
    ),
    AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE: (
        "an algorithm or key size was no longer acceptable at the time judged, and nothing "
        "proves the signature existed before",
        "thuật toán hoặc độ dài khóa không còn được chấp nhận tại thời điểm kiểm tra và không có "
        "bằng chứng chữ ký tồn tại trước đó",
    ),
    AdESIndeterminate.OUT_OF_BOUNDS_NO_POE: (
        "the certificate was outside its validity period at the time judged (expired), and "
        "no timestamp proves the signature existed while it was valid",
        "chứng thư số đã hết hiệu lực tại thời điểm kiểm tra và không có dấu thời gian chứng "
        "minh chữ ký tồn tại khi chứng thư còn hiệu lực",
    ),
    AdESIndeterminate.NOT_YET_VALID: (
        "the certificate was not yet valid at the time judged",
        "chứng thư số chưa có hiệu lực tại thời điểm kiểm tra",
    ),
    AdESIndeterminate.REVOKED_NO_POE: (
        "the certificate has been revoked, and nothing proves the signature was made before "
        "the revocation",
        "chứng thư số đã bị thu hồi và không có bằng chứng chữ ký được tạo trước thời điểm thu hồi",
    ),
    AdESIndeterminate.REVOKED_CA_NO_POE: (
        "a CA certificate of the path has been revoked, and nothing proves the signature was "
        "made before the revocation",
        "chứng thư của một tổ chức cấp trong đường dẫn đã bị thu hồi và không có bằng chứng "
        "chữ ký được tạo trước thời điểm thu hồi",
    ),
    AdESIndeterminate.TRY_LATER: (
        "the revocation information is not fresh enough; try again later",
        "thông tin thu hồi chưa đủ mới; hãy kiểm tra lại sau",
    ),
    AdESIndeterminate.SIGNED_DATA_NOT_FOUND: (
        "the signed data was not supplied: a detached signature needs the file it signs",
        "chưa có dữ liệu được ký: chữ ký tách rời cần tệp đã được ký",
    ),
}


LATER_THAN_VALIDATION = "time.after_validation_time"
Severity = Literal["error", "warning", "info"]


def twin_findings(twins: int) -> tuple[Finding, ...]:
    """A warning when other certificates carry the signer's issuer and serial number."""
    if twins == 0:
        return ()
    return (
        Finding(
            code="cms.signer_certificate_twin",
            severity="warning",
            en=f"the signature carries {twins} other certificate(s) with the same issuer and "
            "serial number as the signer's certificate (a CA never issues two): they are not "
            "the signer's certificate and were ignored",
            vi=f"chữ ký kèm theo {twins} chứng thư số khác có cùng tổ chức cấp và số hiệu "
            "(serial) với chứng thư số của người ký (tổ chức cấp không bao giờ cấp hai chứng "
            "thư như vậy): đó không phải là chứng thư số của người ký nên đã được bỏ qua",
        ),
    )


def later_than_validation(when: datetime, *, severity: Severity = "warning") -> Finding:
    """A timestamp whose time is after the validation time proves nothing at that time (the
    words of the PDF validator's finding)."""
    stamp = people_time(when)
    return Finding(
        code=LATER_THAN_VALIDATION,
        en=f"the timestamp ({stamp}) is later than the validation time: it is not used as proof",
        vi=f"dấu thời gian ({stamp}) muộn hơn thời điểm kiểm tra nên không được dùng làm bằng "
        "chứng",
        severity=severity,
    )


def verdict_finding(
    code_prefix: str, sub: SubIndication | None, detail: str | None, *, subject_en: str = ""
) -> Finding | None:
    """One finding explaining a sub-indication, with pyHanko's own words as detail."""
    if sub is None:
        return None
    en, vi = _MESSAGES.get(
        sub, (f"validation failed ({sub.name})", f"kiểm tra không đạt ({sub.name})")
    )
    if subject_en:
        en = f"{subject_en}: {en}"
    if detail:  # pyHanko's words, in English: kept out of the Vietnamese text
        en = f"{en} [{detail}]"
    # one code per fact: a certificate problem has the certificate judge's code in every format
    return Finding(code=code_of(sub) or f"{code_prefix}.{sub.name.lower()}", en=en, vi=vi)


def revocation_findings(info: RevocationInfo, policy: ValidationPolicy) -> tuple[Finding, ...]:
    if info.status == "unknown" and policy.revocation == "soft":
        return (revocation_unknown_accepted(info.detail),)
    return ()


# -- timestamp tokens (RFC 3161): signature timestamps here, .tsr files in validation.tsp ----

TimestampKind = Literal["signature-timestamp", "document-timestamp", "content-timestamp"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenOutcome:
    """A judged timestamp token: its report, what the verdict rests on, the token (DER)."""

    report: SignatureReport
    evidence: Evidence
    token: bytes

    @property
    def proof_time(self) -> datetime | None:
        """The time it proves, if it passed."""
        ts = self.report.timestamp
        return ts.time if ts is not None and self.report.passed else None


def tst_info_of(signed_data: cms.SignedData) -> tsp.TSTInfo:
    """The TSTInfo a token encapsulates; :class:`ValueError` if it holds something else."""
    eci = signed_data["encap_content_info"]
    content = eci["content"]
    if eci["content_type"].native != "tst_info" or not isinstance(
        content, core.ParsableOctetString
    ):
        raise ValueError("not a timestamp token")
    info = content.parsed
    if not isinstance(info, tsp.TSTInfo):
        raise ValueError("not a timestamp token")
    return info


def _tsa_usage_problem(cert: x509.Certificate) -> str | None:
    """RFC 3161 §2.3: the TSA certificate has one extended key usage, timeStamping, and the
    extension is critical."""
    for ext in cert["tbs_certificate"]["extensions"]:
        if ext["extn_id"].native != "extended_key_usage":
            continue
        purposes = set(ext["extn_value"].parsed.native)
        if purposes != {"time_stamping"}:
            return f"its extended key usage is {sorted(purposes)}, not only timeStamping"
        if not ext["critical"].native:
            return "its extended key usage timeStamping is not marked critical"
        return None
    return "it has no extended key usage timeStamping"


async def judge_timestamp_token(
    token: cms.ContentInfo,
    policy: ValidationPolicy,
    *,
    fetchers: Fetchers | None,
    imprint: Callable[[str], bytes] | None,
    kind: TimestampKind,
    id: str,
) -> TokenOutcome:
    """Judge an RFC 3161 token at the validation time: the TSA's signature, its certificate
    (path to an anchor, EKU timeStamping critical, revocation, algorithms) and the message
    imprint, which must equal ``imprint(algorithm)``. ``imprint=None``: the timestamped data
    is unknown, so the token is at best INDETERMINATE/SIGNED_DATA_NOT_FOUND."""
    signed_data = token["content"]
    info = tst_info_of(signed_data)
    gen_time: datetime = info["gen_time"].native
    mi_algo = str(info["message_imprint"]["hash_algorithm"]["algorithm"].native)
    mi_value: bytes = info["message_imprint"]["hashed_message"].native
    when = validation_time(policy)
    findings: list[Finding] = []
    signed_data = single_signer(signed_data, signed_data["signer_infos"][0])
    signer_info = signed_data["signer_infos"][0]
    j = await judge_signer(
        signed_data,
        policy,
        fetchers=fetchers,
        moment=when,
        tst_imprint=imprint if imprint is not None else (lambda _algo: mi_value),
    )
    indication, sub = j.indication, j.sub_indication
    imprint_ok: bool | None = None
    if imprint is not None and j.status is not None:
        try:
            imprint_ok = imprint(mi_algo) == mi_value
        except ValueError:  # an unknown digest algorithm (SignatureValidationError too)
            imprint_ok = False
        if not imprint_ok:
            findings.append(
                Finding(
                    code="tsp.imprint_mismatch",
                    en="the timestamp's message imprint does not match the data: it was made "
                    "for other data",
                    vi="dấu thời gian không khớp với dữ liệu (message imprint khác): nó được "
                    "cấp cho dữ liệu khác",
                )
            )
    if j.signer is not None:
        problem = _tsa_usage_problem(j.signer)
        if problem is not None:
            findings.append(
                Finding(
                    code="tsp.tsa_key_usage",
                    en=f"the TSA certificate may not sign timestamps: {problem} (RFC 3161 §2.3)",
                    vi="chứng thư của đơn vị cấp dấu thời gian không được phép ký dấu thời gian: "
                    f"{problem} (RFC 3161 mục 2.3)",
                )
            )
            if indication is AdESStatus.PASSED:
                indication = AdESStatus.INDETERMINATE
                sub = AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE
    if j.signer is not None:
        outside, why = _outside_validity(j.signer, gen_time)
        if outside is not None:
            findings.append(
                Finding(
                    code="tsp.time_outside_certificate",
                    en=f"the timestamp's time {people_time(gen_time)} is outside the validity of "
                    f"the TSA certificate ({why})",
                    vi=f"thời điểm của dấu thời gian {people_time(gen_time)} nằm ngoài thời hạn "
                    f"hiệu lực của chứng thư đơn vị cấp dấu thời gian ({why})",
                )
            )
            if indication is AdESStatus.PASSED:
                indication, sub = outside.status, outside
    if mi_algo in policy.forbidden_digests:
        findings.append(
            Finding(
                code="crypto.forbidden_digest",
                en=f"the timestamp's message imprint uses {mi_algo.upper()}, which is not "
                "acceptable",
                vi=f"message imprint của dấu thời gian dùng {mi_algo.upper()}, "
                "không được chấp nhận",
            )
        )
        if indication is AdESStatus.PASSED:
            indication = AdESStatus.INDETERMINATE
            sub = AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE
    findings.extend(algorithm_findings(policy, mi_algo))
    digest_algorithm = str(signer_info["digest_algorithm"]["algorithm"].native)
    if digest_algorithm != mi_algo:
        findings.extend(algorithm_findings(policy, digest_algorithm))
    if imprint is None:
        findings.append(
            Finding(
                code="tsp.data_missing",
                en="the timestamped data was not supplied, so the message imprint could not be "
                "checked",
                vi="chưa có dữ liệu được đóng dấu thời gian nên không kiểm tra được giá trị băm "
                "(message imprint) của nó",
            )
        )
        if indication is AdESStatus.PASSED:
            indication = AdESStatus.INDETERMINATE
            sub = AdESIndeterminate.SIGNED_DATA_NOT_FOUND
    late = gen_time > when
    if late:
        findings.append(later_than_validation(gen_time, severity="error"))
        if indication is AdESStatus.PASSED:
            indication, sub = AdESStatus.INDETERMINATE, AdESIndeterminate.NO_POE
    explained = verdict_finding("tsp", sub, j.detail)
    if explained is not None and sub not in (
        AdESIndeterminate.SIGNED_DATA_NOT_FOUND,
        AdESIndeterminate.NO_POE if late else None,
    ):
        findings.insert(0, explained)
    findings.extend(revocation_findings(j.revocation, policy))
    anchor = trust_anchor(j.path)
    status = j.status
    tsa = j.signer
    report = SignatureReport(
        id=id,
        kind="timestamp-token",
        indication=indication,
        sub_indication=sub,
        role=Role.TIMESTAMP,
        signer=None
        if tsa is None
        else CertificateInfo.of(tsa, is_organisation=policy.agency_rule.is_organisation(tsa)),
        timestamp=TimestampInfo(
            time=gen_time,
            tsa=tsa.subject.human_friendly if tsa is not None else _claimed_tsa(info),
            valid=indication is AdESStatus.PASSED,
            kind=kind,
        ),
        best_signature_time=when,
        integrity=None if imprint is None or status is None else bool(status.intact),
        signature_valid=None if status is None else bool(status.valid),
        certificate_valid_at_signing_time=None
        if tsa is None
        else valid_at(tsa, gen_time) and j.revocation.status != "revoked",
        trusted=None if status is None else bool(status.trusted),
        trust_anchor=None if anchor is None else anchor.subject.human_friendly,
        trust_purpose=None if anchor is None else policy.anchors.purpose_of(anchor),
        revocation=j.revocation,
        digest_algorithm=mi_algo,
        signature_algorithm=signature_algorithm_name(signer_info),
        findings=tuple(findings),
    )
    evidence = judgement_evidence(j, signed_data).merge(Evidence(timestamp_tokens=(token.dump(),)))
    return TokenOutcome(report=report, evidence=evidence, token=token.dump())


def _claimed_tsa(info: tsp.TSTInfo) -> str:
    name = info["tsa"]
    if isinstance(name, core.Void):
        return "unknown"
    chosen = name.chosen
    return str(chosen.human_friendly if isinstance(chosen, x509.Name) else chosen.native)


# -- CMS signatures ------------------------------------------------------------------------


async def validate_cms(
    data: bytes,
    policy: ValidationPolicy,
    *,
    detached_data: bytes | None,
    fetchers: Fetchers | None = None,
) -> Outcome:
    """Validate a CMS SignedData (DER, or PEM ``PKCS7``/``CMS`` armour): detached over
    ``detached_data``, or attached (its content inside). One report per SignerInfo
    (``cms-1``, …). Raises :class:`Unparseable` for a file that is not CMS SignedData."""
    signed_data = load_signed_data(data, what_en="CMS signature", what_vi="chữ ký CMS")
    eci = signed_data["encap_content_info"]
    if len(signed_data["signer_infos"]) == 0:
        return Outcome(
            findings=(
                Finding(
                    code="cms.no_signer",
                    en="the CMS file holds no signature (only certificates or CRLs)",
                    vi="tệp CMS không chứa chữ ký nào (chỉ có chứng thư số hoặc CRL)",
                ),
            ),
            evidence=Evidence(
                certificates=tuple(c.dump() for c in embedded_certificates(signed_data))
            ),
        )
    content = None if isinstance(eci["content"], core.Void) else bytes(eci["content"])
    if content is None and detached_data is None:
        return _without_data(signed_data, policy)
    findings: list[Finding] = []
    mismatch = content is not None and detached_data is not None and detached_data != content
    if mismatch:
        findings.append(
            Finding(
                code="cms.content_mismatch",
                en="the signature carries its own content, and the data supplied with it is "
                "different: the supplied data is not what was signed",
                vi="chữ ký chứa sẵn nội dung đã ký, và dữ liệu được cung cấp kèm theo khác "
                "nội dung đó: dữ liệu được cung cấp không phải là dữ liệu đã ký",
            )
        )
    signatures: list[SignatureReport] = []
    evidence = Evidence()
    budget = _CounterBudget()
    async with fetching(policy, fetchers) as fetchers:
        for n, signer_info in enumerate(signed_data["signer_infos"], start=1):
            report, more = await _judge_signature(
                single_signer(signed_data, signer_info),
                policy,
                fetchers=fetchers,
                id=f"cms-{n}",
                data=detached_data if content is None else None,
                mismatch=mismatch,
            )
            signatures.append(report)
            evidence = evidence.merge(more)
            counters, more = await _judge_counter_signatures(
                signed_data,
                signer_info,
                policy,
                fetchers=fetchers,
                parent_id=report.id,
                depth=1,
                budget=budget,
            )
            signatures.extend(counters)
            evidence = evidence.merge(more)
    return Outcome(signatures=tuple(signatures), findings=tuple(findings), evidence=evidence)


MAX_COUNTER_SIGNATURE_DEPTH = 4
"""Counter-signatures of counter-signatures are judged this deep (1: those of a signature)."""
MAX_COUNTER_SIGNATURES = 16
"""Counter-signatures judged in one file, at all depths."""


@dataclass(slots=True)
class _CounterBudget:
    """What is left to judge of a file's counter-signatures."""

    left: int = MAX_COUNTER_SIGNATURES
    reported: bool = False
    """Whether the report already says that the limit was reached."""


async def _judge_counter_signatures(
    signed_data: cms.SignedData,
    parent: cms.SignerInfo,
    policy: ValidationPolicy,
    *,
    fetchers: Fetchers | None,
    parent_id: str,
    depth: int,
    budget: _CounterBudget,
) -> tuple[list[SignatureReport], Evidence]:
    """The counter-signatures (RFC 5652 §11.4) of ``parent`` (its unsigned countersignature
    attributes), each judged as a signature of its own over ``parent``'s signature value, with
    the SignedData's certificates and revocation data, then theirs, depth first. Beyond
    :data:`MAX_COUNTER_SIGNATURE_DEPTH` or :data:`MAX_COUNTER_SIGNATURES` nothing more is
    judged, and one report says so: it is INDETERMINATE, for what was not judged may not
    pass."""
    reports: list[SignatureReport] = []
    evidence = Evidence()
    countersigned = bytes(parent["signature"].native)
    n = 0
    for attr in parent["unsigned_attrs"]:
        if attr["type"].native != "counter_signature":
            continue
        try:
            values = list(attr["values"])
        except Exception:  # asn1crypto parses lazily; hostile bytes fail in many ways
            n += 1
            reports.append(_unreadable_counter_signature(f"{parent_id}-counter-{n}", parent_id))
            continue
        for value in values:
            n += 1
            id = f"{parent_id}-counter-{n}"
            if depth > MAX_COUNTER_SIGNATURE_DEPTH or budget.left <= 0:
                if not budget.reported:
                    budget.reported = True
                    reports.append(_counter_signature_limit(id, parent_id))
                return reports, evidence
            budget.left -= 1
            try:
                parse_signer_info(value)
                report, more = await _judge_signature(
                    _rebuild(signed_data, signer_infos=[value]),
                    policy,
                    fetchers=fetchers,
                    id=id,
                    data=None,
                    mismatch=False,
                    countersigned=countersigned,
                    counter_signs=parent_id,
                )
            except Exception:  # see judge_signer: an unreadable counter-signature
                reports.append(_unreadable_counter_signature(id, parent_id))
                continue
            reports.append(report)
            evidence = evidence.merge(more)
            deeper, more = await _judge_counter_signatures(
                signed_data,
                value,
                policy,
                fetchers=fetchers,
                parent_id=id,
                depth=depth + 1,
                budget=budget,
            )
            reports.extend(deeper)
            evidence = evidence.merge(more)
    return reports, evidence


def _unreadable_counter_signature(id: str, parent_id: str) -> SignatureReport:
    return SignatureReport(
        id=id,
        kind="counter-signature",
        indication=AdESStatus.FAILED,
        sub_indication=AdESFailure.FORMAT_FAILURE,
        counter_signs=parent_id,
        findings=(
            Finding(
                code="cms.counter_signature_unparseable",
                en=f"a counter-signature of {parent_id} cannot be read",
                vi=f"không đọc được một chữ ký xác nhận (counter-signature) của {parent_id}",
            ),
        ),
    )


def _counter_signature_limit(id: str, parent_id: str) -> SignatureReport:
    return SignatureReport(
        id=id,
        kind="counter-signature",
        indication=AdESStatus.INDETERMINATE,
        sub_indication=AdESIndeterminate.GENERIC,
        counter_signs=parent_id,
        findings=(
            Finding(
                code="cms.counter_signature_limit",
                en=f"the file holds more counter-signatures than are judged (at most "
                f"{MAX_COUNTER_SIGNATURES}, nested at most {MAX_COUNTER_SIGNATURE_DEPTH} deep): "
                f"from this counter-signature of {parent_id} on, they are not judged",
                vi=f"tệp chứa nhiều chữ ký xác nhận (counter-signature) hơn mức được kiểm tra "
                f"(tối đa {MAX_COUNTER_SIGNATURES}, lồng nhau tối đa "
                f"{MAX_COUNTER_SIGNATURE_DEPTH} cấp): kể từ chữ ký xác nhận này của {parent_id}, "
                "các chữ ký xác nhận không được kiểm tra",
            ),
        ),
    )


async def _judge_signature(
    signed_data: cms.SignedData,
    policy: ValidationPolicy,
    *,
    fetchers: Fetchers | None,
    id: str,
    data: bytes | None,
    mismatch: bool,
    countersigned: bytes | None = None,
    counter_signs: str | None = None,
) -> tuple[SignatureReport, Evidence]:
    """One signature: its timestamps, then its signer at the best proof of existence. With
    ``countersigned`` (the signature value it signs), a counter-signature of the report
    ``counter_signs``."""
    signer_info = signed_data["signer_infos"][0]
    when = validation_time(policy)
    stamps: list[TokenOutcome] = []
    imprint = generic_cms.message_imprint_checker(signer_info)
    for attr in signer_info["unsigned_attrs"]:
        if attr["type"].native != "signature_time_stamp_token":
            continue
        for token in attr["values"]:
            try:
                stamps.append(
                    await judge_timestamp_token(
                        token,
                        policy,
                        fetchers=fetchers,
                        imprint=imprint,
                        kind="signature-timestamp",
                        id=f"{id}-timestamp-{len(stamps) + 1}",
                    )
                )
            except Exception:  # an unreadable token proves nothing; see judge_signer
                stamps.append(_broken_token(token, f"{id}-timestamp-{len(stamps) + 1}"))
    proofs = [s for s in stamps if s.proof_time is not None]
    used = min(proofs, key=lambda s: s.proof_time or when) if proofs else None
    poe = None if used is None or used.proof_time is None else min(used.proof_time, when)
    md_algo = str(signer_info["digest_algorithm"]["algorithm"].native)
    raw_digest = None
    judgement: Judgement | None = None
    if data is not None:
        try:
            raw_digest = digest(data, md_algo)
        except ValueError:
            judgement = Judgement(
                indication=AdESStatus.INDETERMINATE,
                sub_indication=AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
                signer=signer_certificate(signed_data, policy)[1],
                moment=when,
                detail=f"unsupported digest algorithm {md_algo}",
            )
    if judgement is None:
        judgement = await judge_signer(
            signed_data,
            policy,
            fetchers=fetchers,
            moment=poe or when,
            past=poe is not None and poe < when,
            raw_digest=raw_digest,
            countersigned=countersigned,
        )
    indication, sub = judgement.indication, judgement.sub_indication
    status = judgement.status
    integrity = None if status is None else bool(status.intact)
    if mismatch:
        indication, sub, integrity = AdESStatus.FAILED, AdESFailure.HASH_FAILURE, False
    findings: list[Finding] = []
    explained = verdict_finding("cms", sub, None if mismatch else judgement.detail)
    if explained is not None:
        findings.append(explained)
    findings.extend(_timestamp_findings(stamps, used))
    if poe is None:
        findings.append(no_timestamp())
    findings.extend(algorithm_findings(policy, md_algo))
    findings.extend(revocation_findings(judgement.revocation, policy))
    cert = judgement.signer
    if cert is not None:
        findings.extend(twin_findings(signer_twins(signed_data, cert)))
    is_org = cert is not None and policy.agency_rule.is_organisation(cert)
    best = poe or when
    anchor = trust_anchor(judgement.path)
    ts_report = None if not stamps else (used or stamps[0]).report.timestamp
    report = SignatureReport(
        id=id,
        kind="signature" if countersigned is None else "counter-signature",
        indication=indication,
        sub_indication=sub,
        role=Role.UNKNOWN if cert is None else Role.AGENCY if is_org else Role.PERSONAL,
        signer=None if cert is None else CertificateInfo.of(cert, is_organisation=is_org),
        claimed_signing_time=claimed_signing_time(signer_info),
        timestamp=ts_report,
        best_signature_time=best,
        integrity=integrity,
        signature_valid=None if status is None else bool(status.valid),
        certificate_valid_at_signing_time=None
        if cert is None
        else valid_at(cert, best) and judgement.revocation.status != "revoked",
        trusted=None if status is None else bool(status.trusted) and not mismatch,
        trust_anchor=None if anchor is None else anchor.subject.human_friendly,
        trust_purpose=None if anchor is None else policy.anchors.purpose_of(anchor),
        revocation=judgement.revocation,
        digest_algorithm=md_algo,
        signature_algorithm=signature_algorithm_name(signer_info),
        findings=tuple(findings),
        counter_signs=counter_signs,
    )
    evidence = judgement_evidence(judgement, signed_data)
    for stamp in stamps:
        evidence = evidence.merge(stamp.evidence)
    return report, evidence


def _broken_token(token: cms.ContentInfo, id: str) -> TokenOutcome:
    finding = Finding(
        code="tsp.unparseable",
        en="the signature timestamp cannot be read",
        vi="không đọc được dấu thời gian của chữ ký",
    )
    report = SignatureReport(
        id=id,
        kind="timestamp-token",
        indication=AdESStatus.FAILED,
        sub_indication=AdESFailure.FORMAT_FAILURE,
        role=Role.TIMESTAMP,
        findings=(finding,),
    )
    return TokenOutcome(report=report, evidence=Evidence(), token=token.dump())


def _timestamp_findings(stamps: Sequence[TokenOutcome], used: TokenOutcome | None) -> list[Finding]:
    findings: list[Finding] = []
    if used is not None:
        ts = used.report.timestamp
        if ts is not None:
            findings.append(
                Finding(
                    code="cms.timestamp",
                    severity="info",
                    en=f"signature timestamp by {ts.tsa} at {people_time(ts.time)}: the "
                    "certificate is judged at that time",
                    vi=f"dấu thời gian của chữ ký do {ts.tsa} cấp lúc {people_time(ts.time)}: "
                    "chứng thư số được kiểm tra tại thời điểm đó",
                )
            )
    findings.extend(rejected_timestamp_findings(stamps, "cms"))
    return findings


def rejected_timestamp_findings(stamps: Sequence[TokenOutcome], prefix: str) -> list[Finding]:
    """A warning for each signature timestamp that failed and so proves nothing; for one whose
    only fault is a time after the validation time, that (``time.after_validation_time``)."""
    findings = []
    for stamp in stamps:
        if stamp.report.passed:
            continue
        late = next((f for f in stamp.report.findings if f.code == LATER_THAN_VALIDATION), None)
        if late is not None and stamp.report.sub_indication is AdESIndeterminate.NO_POE:
            findings.append(dataclasses.replace(late, severity="warning"))
            continue
        name = "" if stamp.report.sub_indication is None else stamp.report.sub_indication.name
        reasons_en = "; ".join(f.en for f in stamp.report.findings if f.severity == "error")
        reasons_vi = "; ".join(f.vi for f in stamp.report.findings if f.severity == "error")
        findings.append(
            Finding(
                code=f"{prefix}.timestamp_invalid",
                severity="warning",
                en=f"a signature timestamp is not valid ({name}) and is not used as proof of "
                f"existence: {reasons_en}",
                vi=f"một dấu thời gian của chữ ký không hợp lệ ({name}) nên không được dùng làm "
                f"bằng chứng thời điểm: {reasons_vi}",
            )
        )
    return findings


def _without_data(signed_data: cms.SignedData, policy: ValidationPolicy) -> Outcome:
    """A detached signature without its data: who signed and when they say, nothing more."""
    sub = AdESIndeterminate.SIGNED_DATA_NOT_FOUND
    en, vi = _MESSAGES[sub]
    finding = Finding(code="cms.data_missing", en=en, vi=vi)
    signatures = []
    certs: list[bytes] = [c.dump() for c in embedded_certificates(signed_data)]
    for n, signer_info in enumerate(signed_data["signer_infos"], start=1):
        try:
            _, cert = signer_certificate(single_signer(signed_data, signer_info), policy)
            is_org = cert is not None and policy.agency_rule.is_organisation(cert)
        except Exception:  # an unreadable certificate: nothing to say about the signer
            cert, is_org = None, False
        signatures.append(
            SignatureReport(
                id=f"cms-{n}",
                kind="signature",
                indication=AdESStatus.INDETERMINATE,
                sub_indication=sub,
                role=Role.UNKNOWN if cert is None else Role.AGENCY if is_org else Role.PERSONAL,
                signer=None if cert is None else CertificateInfo.of(cert, is_organisation=is_org),
                claimed_signing_time=claimed_signing_time(signer_info),
                digest_algorithm=str(signer_info["digest_algorithm"]["algorithm"].native),
                signature_algorithm=signature_algorithm_name(signer_info),
                findings=(finding,),
            )
        )
    return Outcome(
        signatures=tuple(signatures),
        findings=(finding,),
        evidence=Evidence(certificates=tuple(dict.fromkeys(certs))),
    )
