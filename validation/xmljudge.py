"""Judging one examined XML signature: its XAdES properties (the claimed signing time, the
``SignatureTimeStamp``), the certificate path through :mod:`validation.certificates`,
revocation, the algorithms against the policy, and the report. Part of
:mod:`validation.xml`.

**Key usage.** digitalSignature or nonRepudiation when the extension is present; a
certificate without the extension is not restricted (RFC 5280), as
:func:`signing.keys.check_certificate_usable` reads it too.

**Mapping.** Structure → FORMAT_FAILURE; digests → HASH_FAILURE; signature value →
SIG_CRYPTO_FAILURE; then, for a signature that verifies, the certificate path as pyHanko maps
it (NO_CERTIFICATE_CHAIN_FOUND, OUT_OF_BOUNDS_NO_POE, REVOKED_NO_POE, CHAIN_CONSTRAINTS_FAILURE,
CRYPTO_CONSTRAINTS_FAILURE(_NO_POE), …) with two refinements (NOT_YET_VALID and REVOKED as
TOTAL-FAILED, see :func:`_judge_path`), and the signature's own algorithms against the
policy (MD5, RSA < 2048 bits, EC < 256 bits: CRYPTO_CONSTRAINTS_FAILURE; SHA-1 passes with a
warning). An algorithm signxml cannot compute (MD5, HMAC, DSA, unknown) is
CRYPTO_CONSTRAINTS_FAILURE without any cryptographic check.

**Signing time.** XAdES ``SigningTime`` is the signer's claim, only reported. A valid
``SignatureTimeStamp`` (an RFC 3161 token over the canonicalised ``ds:SignatureValue``) is
proof of existence: the certificate is then judged at the timestamp's time, counting
revocation information issued after it; otherwise at the validation time. A timestamp that
does not pass is reported and ignored (ETSI EN 319 102-1 §5.5.4), as for CMS; so is one whose
time lies after the validation time (``time.after_validation_time``, as for PDF): it proves
nothing at the validation time.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Literal

from asn1crypto import algos, cms, x509
from asn1crypto.crl import CRLReason
from lxml import etree
from pyhanko.sign.ades.report import AdESIndeterminate, AdESStatus
from pyhanko.sign.validation.status import RevocationDetails
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.authority import CertTrustAnchor
from pyhanko_certvalidator.fetchers.api import Fetchers
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.policy_decl import AlgorithmUsageConstraint
from signxml.algorithms import CanonicalizationMethod, SignatureMethod
from signxml.exceptions import InvalidInput

from validation.certificates import judge_certificate, no_timestamp
from validation.cms import (
    TokenOutcome,
    context_for,
    digest,
    judge_timestamp_token,
    ocsp_status,
    rejected_timestamp_findings,
    revocation_findings,
    revocation_statuses,
    valid_at,
    verdict_finding,
)
from validation.context import (
    SIGNER_KEY_USAGE,
    AlgorithmPolicy,
    algorithm_findings,
    offline_scope,
    validation_time,
)
from validation.judgments import Scope, judgments
from validation.policy import ValidationPolicy
from validation.report import (
    CertificateInfo,
    Evidence,
    Finding,
    RevocationInfo,
    Role,
    SignatureReport,
    SubIndication,
    people_time,
)
from validation.xmlc14n import DEFAULT_C14N, canonical
from validation.xmlread import DS, XADES, Examined, Stamp
from validation.xmlverify import MD5_URIS, digest_of, method_of

__all__ = ["judge", "signature_timestamps", "xs_datetime"]

_HASH_SIZES = {"sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}


# -- the XAdES properties (read while examining) ------------------------------------------


def xs_datetime(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def signature_timestamps(
    signature: etree._Element, value: etree._Element, out: Examined
) -> list[Stamp]:
    stamps: list[Stamp] = []
    path = (
        f"{DS}Object/{XADES}QualifyingProperties/{XADES}UnsignedProperties/"
        f"{XADES}UnsignedSignatureProperties/{XADES}SignatureTimeStamp"
    )
    for stamp in signature.iterfind(path):
        method_element = stamp.find(f"{DS}CanonicalizationMethod")
        encapsulated = stamp.find(f"{XADES}EncapsulatedTimeStamp")
        try:
            method = (
                DEFAULT_C14N
                if method_element is None
                else CanonicalizationMethod(method_element.get("Algorithm"))
            )
            if encapsulated is None or encapsulated.get("Encoding") not in (
                None,
                "http://uri.etsi.org/01903/v1.2.2#DER",
            ):
                raise ValueError("no DER EncapsulatedTimeStamp")
            token = base64.b64decode("".join((encapsulated.text or "").split()), validate=True)
        except (ValueError, InvalidInput, binascii.Error):
            out.findings.append(
                Finding(
                    code="xml.timestamp_unreadable",
                    severity="warning",
                    en="a xades:SignatureTimeStamp cannot be read and is ignored",
                    vi="một xades:SignatureTimeStamp không đọc được nên bị bỏ qua",
                )
            )
            continue
        stamps.append(Stamp(token=token, covered=canonical(value, method)))
    return stamps


# -- judging (async: certificate paths, revocation, timestamps) ---------------------------


def _role(cert: x509.Certificate | None, policy: ValidationPolicy) -> tuple[Role, bool]:
    if cert is None:
        return Role.UNKNOWN, False
    is_org = policy.agency_rule.is_organisation(cert)
    return (Role.AGENCY if is_org else Role.PERSONAL), is_org


def _algorithm_name(uri: str | None) -> str | None:
    if not uri:
        return None
    return uri.rsplit("#", 1)[-1]


def _digest_name(uri: str) -> str | None:
    algorithm = digest_of(uri)
    if algorithm is None:
        return "md5" if uri in MD5_URIS else None
    return algorithm.name.lower()


def _signature_digest(method: SignatureMethod) -> str:
    name = method.name
    if name.endswith("_RSA_MGF1"):
        return name.removesuffix("_RSA_MGF1").lower()
    return name.split("_", 1)[1].lower()


async def judge(
    ex: Examined, policy: ValidationPolicy, fetchers: Fetchers | None
) -> tuple[SignatureReport, Evidence]:
    when = validation_time(policy)
    role, is_org = _role(ex.signer, policy)
    signer_info = (
        None if ex.signer is None else CertificateInfo.of(ex.signer, is_organisation=is_org)
    )
    digest_names = [n for n in (_digest_name(u) for u in ex.digest_uris) if n]
    findings = list(ex.findings)
    for name in dict.fromkeys([*digest_names, *_signature_digest_names(ex.signature_uri)]):
        findings.extend(algorithm_findings(policy, name))
    base = SignatureReport(
        id=ex.id,
        kind="signature" if ex.counter_signs is None else "counter-signature",
        counter_signs=ex.counter_signs,
        indication=AdESStatus.INDETERMINATE,
        role=role,
        signer=signer_info,
        claimed_signing_time=ex.claimed_time,
        integrity=ex.integrity,
        signature_valid=ex.signature_valid,
        digest_algorithm=digest_names[0] if digest_names else None,
        signature_algorithm=_algorithm_name(ex.signature_uri),
    )
    certificates = tuple(c.dump() for c in ex.certificates)
    cert = ex.signer
    if ex.early is not None or cert is None:
        early, finding = ex.early or (AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND, None)
        report = dataclasses.replace(
            base,
            indication=early.status,
            sub_indication=early,
            findings=(*(() if finding is None else (finding,)), *findings),
            best_signature_time=when,
        )
        return report, Evidence(certificates=certificates)

    stamps, unreadable = await _judge_stamps(ex, policy, fetchers)
    findings.extend(unreadable)
    proofs: list[TokenOutcome] = []
    for stamp in stamps:
        if stamp.proof_time is not None and stamp.proof_time > when:
            findings.append(_later_than_validation(stamp.proof_time))
        elif stamp.proof_time is not None:
            proofs.append(stamp)
    used = min(proofs, key=lambda s: s.proof_time or when) if proofs else None
    poe = None if used is None or used.proof_time is None else min(used.proof_time, when)
    moment = poe or when
    findings.extend(_timestamp_findings(stamps, used))

    past = poe is not None and poe < when
    vc = context_for(
        policy, fetchers=fetchers, other_certs=ex.certificates, moment=moment, past=past
    )
    scope = None
    if fetchers is None:  # only judgments made without the network are kept
        scope = offline_scope(
            policy,
            cert,
            other_certs=ex.certificates,
            usage=SIGNER_KEY_USAGE,
            retroactive_revinfo=past,
        )
    judged = await _judge_path(cert, vc, ex.claimed_time, scope)
    path, sub, detail = judged.path, judged.sub, judged.detail
    algorithm_problem = _algorithm_problem(ex, cert, policy, moment)
    if algorithm_problem is not None and (sub is None or sub.status is not AdESStatus.FAILED):
        sub, detail = algorithm_problem
    revocation = _revocation(cert, vc, judged, policy, moment)
    explained = (
        judged.finding
        if sub is judged.sub and judged.finding is not None
        else verdict_finding("xml", sub, detail)
    )
    if explained is not None:
        findings.insert(0, explained)
    findings.extend(revocation_findings(revocation, policy))
    anchor = _anchor(path if judged.trusted else None)
    report = dataclasses.replace(
        base,
        indication=AdESStatus.PASSED if sub is None else sub.status,
        sub_indication=sub,
        timestamp=None if not stamps else (used or stamps[0]).report.timestamp,
        best_signature_time=moment,
        certificate_valid_at_signing_time=valid_at(cert, moment) and revocation.status != "revoked",
        trusted=judged.trusted,
        trust_anchor=None if anchor is None else anchor.subject.human_friendly,
        trust_purpose=None if anchor is None else policy.anchors.purpose_of(anchor),
        revocation=revocation,
        coverage="ENTIRE_FILE" if ex.counter_signs is None else None,
        findings=tuple(findings),
    )
    evidence = _evidence(cert, ex.certificates, vc, path)
    for stamp in stamps:
        evidence = evidence.merge(stamp.evidence)
    return report, evidence


def _signature_digest_names(uri: str | None) -> list[str]:
    method = method_of(uri)
    return [] if method is None else [_signature_digest(method)]


def _imprint(covered: bytes) -> Callable[[str], bytes]:
    """The message imprint a signature timestamp must carry, for its hash algorithm."""

    def imprint(algorithm: str) -> bytes:
        return digest(covered, algorithm)

    return imprint


async def _judge_stamps(
    ex: Examined, policy: ValidationPolicy, fetchers: Fetchers | None
) -> tuple[list[TokenOutcome], list[Finding]]:
    outcomes: list[TokenOutcome] = []
    findings: list[Finding] = []
    for n, stamp in enumerate(ex.stamps, start=1):
        try:
            token = cms.ContentInfo.load(stamp.token, strict=True)
            outcomes.append(
                await judge_timestamp_token(
                    token,
                    policy,
                    fetchers=fetchers,
                    imprint=_imprint(stamp.covered),
                    kind="signature-timestamp",
                    id=f"{ex.id}-timestamp-{n}",
                )
            )
        except (ValueError, KeyError, TypeError, IndexError):
            findings.append(
                Finding(
                    code="xml.timestamp_unreadable",
                    severity="warning",
                    en="a xades:SignatureTimeStamp does not hold an RFC 3161 token and is ignored",
                    vi="một xades:SignatureTimeStamp không chứa dấu thời gian RFC 3161 nên bị "
                    "bỏ qua",
                )
            )
    return outcomes, findings


def _later_than_validation(when: datetime) -> Finding:
    """A timestamp whose time lies after the validation time proves nothing at that time (the
    same code and wording as for PDF, :mod:`validation.pdf`)."""
    stamp = people_time(when)
    return Finding(
        code="time.after_validation_time",
        severity="warning",
        en=f"the timestamp ({stamp}) is later than the validation time: it is not used as proof",
        vi=f"dấu thời gian ({stamp}) muộn hơn thời điểm kiểm tra nên không được dùng làm "
        "bằng chứng",
    )


def _timestamp_findings(stamps: Sequence[TokenOutcome], used: TokenOutcome | None) -> list[Finding]:
    findings: list[Finding] = []
    if used is not None and used.report.timestamp is not None:
        ts = used.report.timestamp
        findings.append(
            Finding(
                code="xml.timestamp",
                severity="info",
                en=f"signature timestamp by {ts.tsa} at {people_time(ts.time)}: the certificate "
                "is judged at that time",
                vi=f"dấu thời gian của chữ ký do {ts.tsa} cấp lúc {people_time(ts.time)}: chứng "
                "thư số được kiểm tra tại thời điểm đó",
            )
        )
    else:
        findings.append(no_timestamp())
    findings.extend(rejected_timestamp_findings(stamps, "xml"))
    return findings


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _PathJudgement:
    path: ValidationPath | None
    """The validated path, or the one that failed (if any was built)."""
    sub: SubIndication | None
    detail: str | None = None
    trusted: bool = False
    """A path to a trust anchor was built (whatever else failed)."""
    revoked: RevocationDetails | None = None
    finding: Finding | None = None
    """The certificate judge's own finding for ``sub``."""


async def _judge_path(
    cert: x509.Certificate,
    vc: ValidationContext,
    claimed: datetime | None,
    scope: Scope | None = None,
) -> _PathJudgement:
    """The signer's certificate at the context's moment, judged by the one certificate judge
    every format shares (:func:`validation.certificates.judge_certificate`: path, validity,
    revocation, key usage, and the claimed signing time after a revocation); with ``scope``
    (an offline context), a judgment already made in the process is reused
    (:mod:`validation.judgments`)."""
    verdict = None if scope is None else judgments.get(scope, vc.moment, claimed)
    if verdict is None:
        verdict = await judge_certificate(cert, vc, SIGNER_KEY_USAGE, vc.moment, claimed=claimed)
        if scope is not None:
            judgments.put(scope, vc.moment, verdict, claimed)
    revoked = None
    if verdict.revoked_at is not None:
        revoked = RevocationDetails(
            ca_revoked=verdict.sub is AdESIndeterminate.REVOKED_CA_NO_POE,
            revocation_date=verdict.revoked_at,
            revocation_reason=CRLReason("unspecified"),
        )
    return _PathJudgement(
        path=verdict.path,
        sub=verdict.sub,
        detail=None if verdict.finding is None else verdict.finding.en,
        trusted=verdict.path is not None
        and verdict.sub is not AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND,
        revoked=revoked,
        finding=verdict.finding,
    )


def _algorithm_problem(
    ex: Examined, cert: x509.Certificate, policy: ValidationPolicy, moment: datetime
) -> tuple[SubIndication, str] | None:
    """The signature's own algorithms against the policy, at the time judged (TT 15/2025
    App. I: no MD5, RSA ≥ 2048 bits, ECDSA ≥ 256 bits)."""
    algorithms = AlgorithmPolicy(policy)
    method = method_of(ex.signature_uri)
    checks: list[AlgorithmUsageConstraint] = []
    if method is not None:
        checks.append(
            algorithms.signature_algorithm_allowed(
                _signed_digest_algorithm(method), moment, cert.public_key
            )
        )
        checks.append(
            algorithms.digest_algorithm_allowed(
                algos.DigestAlgorithm({"algorithm": _signature_digest(method)}), moment
            )
        )
    for uri in ex.digest_uris:
        name = _digest_name(uri)
        if name is not None:
            checks.append(
                algorithms.digest_algorithm_allowed(
                    algos.DigestAlgorithm({"algorithm": name}), moment
                )
            )
    for check in checks:
        if not check.allowed:
            sub = (
                AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE
                if check.not_allowed_after is None
                else AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE
            )
            return sub, check.failure_reason or "algorithm not allowed"
    return None


def _signed_digest_algorithm(method: SignatureMethod) -> algos.SignedDigestAlgorithm:
    digest_name = _signature_digest(method)
    if method.name.endswith("_RSA_MGF1"):
        return algos.SignedDigestAlgorithm(
            {
                "algorithm": "rsassa_pss",
                "parameters": {
                    "hash_algorithm": {"algorithm": digest_name},
                    "mask_gen_algorithm": {
                        "algorithm": "mgf1",
                        "parameters": {"algorithm": digest_name},
                    },
                    "salt_length": _HASH_SIZES.get(digest_name, 32),
                },
            }
        )
    family = "ecdsa" if method.name.startswith("ECDSA_") else "rsa"
    name = f"{digest_name}_{family}"
    if name not in algos.SignedDigestAlgorithmId._map.values():
        name = "ecdsa" if family == "ecdsa" else "rsassa_pkcs1v15"
    return algos.SignedDigestAlgorithm({"algorithm": name})


def _anchor(path: ValidationPath | None) -> x509.Certificate | None:
    if path is None:
        return None
    anchor = path.trust_anchor
    return anchor.certificate if isinstance(anchor, CertTrustAnchor) else None


def _revocation(
    cert: x509.Certificate,
    vc: ValidationContext,
    judged: _PathJudgement,
    policy: ValidationPolicy,
    moment: datetime,
) -> RevocationInfo:
    """The signer certificate's revocation status at the time judged, and its source (XML
    signatures here carry no revocation data: it is supplied or fetched)."""

    def source(der: bytes) -> Literal["supplied", "online"]:
        return "supplied" if der in policy.crls or der in policy.ocsp_responses else "online"

    found = revocation_statuses(vc, cert, source)
    details = judged.revoked
    if details is not None:
        src = next((s for st, s, _ in found if st == "revoked"), None)
        what = "the issuing CA's certificate" if details.ca_revoked else "the certificate"
        return RevocationInfo(
            status="revoked",
            source=src,
            detail=f"{what} was revoked at {details.revocation_date.isoformat()}",
        )
    if found:
        state, src, kind = next((f for f in found if f[2] == "OCSP"), found[0])
        if state == "good" or (state == "revoked" and judged.sub is None):
            return RevocationInfo(
                status="good", source=src, detail=f"{kind} at {moment.isoformat()}"
            )
        return RevocationInfo(status="unknown", source=src, detail=f"{kind} says {state}")
    if not cert.crl_distribution_points and not cert.ocsp_urls:
        return RevocationInfo(
            status="not-checked", detail="the certificate names no CRL or OCSP responder"
        )
    return RevocationInfo(
        status="unknown",
        detail="no CRL or OCSP response was available" + (" (offline)" if policy.offline else ""),
    )


def _evidence(
    cert: x509.Certificate,
    carried: Sequence[x509.Certificate],
    vc: ValidationContext,
    path: ValidationPath | None,
) -> Evidence:
    chain: list[x509.Certificate] = [cert]
    if path is not None:
        chain.extend(path.iter_certs(include_root=True))
    certs = [*chain, *carried]
    issuers = [c.issuer for c in chain]
    return Evidence(
        certificates=tuple(dict.fromkeys(c.dump() for c in certs)),
        crls=tuple(dict.fromkeys(c.dump() for c in vc.crls if c.issuer in issuers)),
        ocsp_responses=tuple(
            dict.fromkeys(
                r.dump() for r in vc.ocsps if any(ocsp_status(r, c) is not None for c in chain)
            )
        ),
    )
