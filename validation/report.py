"""Validation reports: what a clerk sees, what a program reads, what an archive keeps.

The vocabulary is ETSI EN 319 102-1, with pyHanko's enums (``AdESStatus``, ``AdESFailure``,
``AdESIndeterminate``). In JSON the indication is spelled as ETSI does (``TOTAL-PASSED``,
``TOTAL-FAILED``, ``INDETERMINATE``) and the sub-indication is the enum member's name
(``HASH_FAILURE``, ``NO_CERTIFICATE_CHAIN_FOUND``, …), ``null`` when passed.

JSON schema (``lienthong-validation/1``; fields are never removed, new ones may be added)::

    {"schema": "lienthong-validation/1",
     "reports": [
      {"file": "cong-van.pdf", "format": "pdf" | "xml" | "cms" | "tsr" | "unknown",
       "validation_time": "2026-11-28T09:15:30+00:00",
       "indication": "TOTAL-PASSED" | "TOTAL-FAILED" | "INDETERMINATE",
       "sub_indication": null | "<ETSI name>",
       "verdict": {"vi": "hợp lệ", "en": "valid"},
       "legal": {"valid": true | false, "rule": "decree30-art5",
                 "personal": "<signature id>" | null, "agency": "<signature id>" | null,
                 "reasons": [{"code": …, "severity": …, "vi": …, "en": …}]},
       "findings": [ … document-level findings … ],
       "updates": [{"revision": 2, "changes": [{"kind": "fill", "name": "so"}, …]}, …],
       "signatures": [
        {"id": "personal-1",
         "kind": "signature" | "counter-signature" | "document-timestamp" | "timestamp-token",
         "indication": …, "sub_indication": …,
         "role": "personal" | "agency" | "timestamp" | "unknown",
         "signer": {"common_name", "organisation", "subject", "issuer", "serial", "sha256",
                    "not_before", "not_after", "is_organisation"} | null,
         "claimed_signing_time": "…" | null,
         "timestamp": {"time", "tsa", "valid", "kind"} | null,
         "best_signature_time": "…" | null,
         "integrity": true | false | null, "signature_valid": …,
         "certificate_valid_at_signing_time": …, "trusted": …,
         "trust_anchor": "<subject>" | null, "trust_purpose": "public" | … | null,
         "revocation": {"status": "good" | "revoked" | "unknown" | "not-checked",
                        "source": "embedded" | "supplied" | "online" | null, "detail": …},
         "modification": "NONE" | "LTA_UPDATES" | "FORM_FILLING" | "ANNOTATIONS" | "OTHER" | null,
         "coverage": "ENTIRE_FILE" | … | null,
         "digest_algorithm": "sha256" | null, "signature_algorithm": "…" | null,
         "findings": [ … ],
         "counter_signs": "<signature id>" | null, "revision": 0 | 1 | … | null}]}]}
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from asn1crypto import x509
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus

SCHEMA = "lienthong-validation/1"

VIETNAM = timezone(timedelta(hours=7), "ICT")
"""Vietnam time (UTC+7, no daylight saving): the time people read."""


def people_time(value: datetime) -> str:
    """A time as a Vietnamese reader writes it, in Vietnam time: ``01/12/2026 22:44:54
    (GMT+7)``. Reports for people and finding texts use it; JSON keeps ISO 8601."""
    return value.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S (GMT+7)")


SubIndication = AdESFailure | AdESIndeterminate

INDICATION_NAMES = {
    AdESStatus.PASSED: "TOTAL-PASSED",
    AdESStatus.FAILED: "TOTAL-FAILED",
    AdESStatus.INDETERMINATE: "INDETERMINATE",
}
VERDICT_WORDS = {
    AdESStatus.PASSED: {"vi": "hợp lệ", "en": "valid"},
    AdESStatus.FAILED: {"vi": "không hợp lệ", "en": "not valid"},
    AdESStatus.INDETERMINATE: {"vi": "chưa xác định được", "en": "cannot be determined"},
}


class Role(enum.StrEnum):
    PERSONAL = "personal"
    AGENCY = "agency"
    TIMESTAMP = "timestamp"
    UNKNOWN = "unknown"


SignatureKind = Literal["signature", "counter-signature", "document-timestamp", "timestamp-token"]
DocumentFormat = Literal["pdf", "xml", "cms", "tsr", "unknown"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One thing the validator noticed, in both languages."""

    code: str
    """Stable, for programs: ``pdf.modified_after_signing``, ``crypto.weak_digest``, …"""
    en: str
    vi: str
    severity: Literal["error", "warning", "info"] = "error"

    def message(self, lang: str) -> str:
        return self.vi if lang == "vi" else self.en


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateInfo:
    """Who a certificate names, and by whom it was issued."""

    common_name: str
    organisation: str | None
    subject: str
    issuer: str
    serial: str
    sha256: str
    not_before: datetime
    not_after: datetime
    is_organisation: bool
    extended_key_usage: tuple[str, ...] | None = None
    """The purposes of the extendedKeyUsage extension; ``None`` without one."""

    @classmethod
    def of(cls, cert: x509.Certificate, *, is_organisation: bool) -> CertificateInfo:
        try:
            subject = cert.subject.native
            subject_text = cert.subject.human_friendly
        except ValueError:  # a name that does not decode (bad UTF-8 in a UTF8String, …)
            subject, subject_text = {}, UNREADABLE_NAME
        try:
            issuer_text = cert.issuer.human_friendly
        except ValueError:
            issuer_text = UNREADABLE_NAME
        validity = cert["tbs_certificate"]["validity"]
        return cls(
            common_name=_first(subject.get("common_name")) or subject_text,
            organisation=_first(subject.get("organization_name")),
            subject=subject_text,
            issuer=issuer_text,
            serial=f"{cert.serial_number:x}",
            sha256=cert.sha256.hex(),
            not_before=validity["not_before"].native,
            not_after=validity["not_after"].native,
            is_organisation=is_organisation,
            extended_key_usage=None
            if cert.extended_key_usage_value is None
            else tuple(cert.extended_key_usage_value.native),
        )


UNREADABLE_NAME = "?"
"""What a report shows for a certificate name that does not decode; the certificate's own
signature check (by its issuer) decides whether it is any good."""


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else unicodedata.normalize("NFC", str(value))


@dataclass(frozen=True, slots=True, kw_only=True)
class RevocationInfo:
    status: Literal["good", "revoked", "unknown", "not-checked"] = "not-checked"
    source: Literal["embedded", "supplied", "online"] | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TimestampInfo:
    time: datetime
    tsa: str
    valid: bool
    kind: Literal["signature-timestamp", "document-timestamp", "content-timestamp"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureReport:
    """The verdict on one signature or timestamp, with everything TT 15/2025 asks to show."""

    id: str
    kind: SignatureKind
    indication: AdESStatus
    sub_indication: SubIndication | None = None
    role: Role = Role.UNKNOWN
    signer: CertificateInfo | None = None
    claimed_signing_time: datetime | None = None
    """The signer's own clock: not proof of anything."""
    timestamp: TimestampInfo | None = None
    best_signature_time: datetime | None = None
    """The earliest time the signature provably existed (its timestamp), else the validation
    time."""
    integrity: bool | None = None
    signature_valid: bool | None = None
    certificate_valid_at_signing_time: bool | None = None
    trusted: bool | None = None
    trust_anchor: str | None = None
    trust_purpose: str | None = None
    revocation: RevocationInfo = field(default_factory=RevocationInfo)
    modification: str | None = None
    coverage: str | None = None
    digest_algorithm: str | None = None
    signature_algorithm: str | None = None
    findings: tuple[Finding, ...] = ()
    counter_signs: str | None = None
    """For a counter-signature: the id of the signature it counter-signs."""
    revision: int | None = None
    """PDF: the revision (0 = the original file) this signature or timestamp signs."""

    @property
    def passed(self) -> bool:
        return self.indication is AdESStatus.PASSED


@dataclass(frozen=True, slots=True, kw_only=True)
class RevisionUpdate:
    """PDF: what one revision (from the first signed one on) changed that a reader sees, as
    ``(kind, name)`` pairs: ``signature``, ``timestamp``, ``fill``, ``refill``, ``large-fill``,
    ``unsigned-field``, ``appearance``, ``revealed``, ``annotation``, ``form-defaults``,
    ``dss`` (see :mod:`validation.pdfhistory`)."""

    revision: int
    changes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LegalVerdict:
    """Decree 30/2020 Art. 5: a main document is legally valid with a valid personal
    signature and a valid agency signature."""

    valid: bool
    personal: str | None = None
    agency: str | None = None
    reasons: tuple[Finding, ...] = ()
    rule: str = "decree30-art5"


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """What the verdict rests on, DER-encoded, for the archive (TT 15/2025 §2.4)."""

    certificates: tuple[bytes, ...] = ()
    crls: tuple[bytes, ...] = ()
    ocsp_responses: tuple[bytes, ...] = ()
    timestamp_tokens: tuple[bytes, ...] = ()

    def merge(self, other: Evidence) -> Evidence:
        return Evidence(
            certificates=_unique(self.certificates + other.certificates),
            crls=_unique(self.crls + other.crls),
            ocsp_responses=_unique(self.ocsp_responses + other.ocsp_responses),
            timestamp_tokens=_unique(self.timestamp_tokens + other.timestamp_tokens),
        )


def _unique(items: Iterable[bytes]) -> tuple[bytes, ...]:
    return tuple(dict.fromkeys(items))


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentReport:
    """The verdict on one file."""

    file: str
    format: DocumentFormat
    validation_time: datetime
    indication: AdESStatus
    sub_indication: SubIndication | None
    legal: LegalVerdict
    signatures: tuple[SignatureReport, ...] = ()
    findings: tuple[Finding, ...] = ()
    evidence: Evidence = field(default_factory=Evidence)
    updates: tuple[RevisionUpdate, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What a format's validator returns; the document's verdict is built from it."""

    signatures: tuple[SignatureReport, ...] = ()
    findings: tuple[Finding, ...] = ()
    evidence: Evidence = field(default_factory=Evidence)
    updates: tuple[RevisionUpdate, ...] = ()


class Unparseable(Exception):
    """Raised by a format's validator when the file cannot be read or parsed; becomes a
    TOTAL-FAILED / FORMAT_FAILURE report, not an error."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.en)
        self.finding = finding


_SEVERITY = {AdESStatus.PASSED: 0, AdESStatus.INDETERMINATE: 1, AdESStatus.FAILED: 2}


def overall(
    signatures: Sequence[SignatureReport],
) -> tuple[AdESStatus, SubIndication | None]:
    """The document's indication: the worst of its signatures'; none at all (document
    timestamps alone included, unless one of them failed) is INDETERMINATE /
    SIGNED_DATA_NOT_FOUND."""
    worst = max(signatures, key=lambda s: _SEVERITY[s.indication], default=None)
    signed = any(s.kind != "document-timestamp" for s in signatures)
    if worst is None or (not signed and worst.indication is not AdESStatus.FAILED):
        # document timestamps prove when a file existed, not that anyone signed it
        return AdESStatus.INDETERMINATE, AdESIndeterminate.SIGNED_DATA_NOT_FOUND
    return worst.indication, worst.sub_indication


def format_failure(
    file: str, format_: DocumentFormat, when: datetime, finding: Finding
) -> DocumentReport:
    """The report for a file that cannot be read or parsed: TOTAL-FAILED / FORMAT_FAILURE."""
    return DocumentReport(
        file=file,
        format=format_,
        validation_time=when,
        indication=AdESStatus.FAILED,
        sub_indication=AdESFailure.FORMAT_FAILURE,
        legal=LegalVerdict(valid=False, reasons=(finding,)),
        findings=(finding,),
    )


# -- JSON ------------------------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _finding_json(f: Finding) -> dict[str, str]:
    return {"code": f.code, "severity": f.severity, "vi": f.vi, "en": f.en}


def signature_json(sig: SignatureReport) -> dict[str, Any]:
    signer = sig.signer
    return {
        "id": sig.id,
        "kind": sig.kind,
        "indication": INDICATION_NAMES[sig.indication],
        "sub_indication": None if sig.sub_indication is None else sig.sub_indication.name,
        "verdict": VERDICT_WORDS[sig.indication],
        "role": sig.role.value,
        "signer": None
        if signer is None
        else {
            "common_name": signer.common_name,
            "organisation": signer.organisation,
            "subject": signer.subject,
            "issuer": signer.issuer,
            "serial": signer.serial,
            "sha256": signer.sha256,
            "not_before": _time(signer.not_before),
            "not_after": _time(signer.not_after),
            "is_organisation": signer.is_organisation,
            "extended_key_usage": None
            if signer.extended_key_usage is None
            else list(signer.extended_key_usage),
        },
        "claimed_signing_time": _time(sig.claimed_signing_time),
        "timestamp": None
        if sig.timestamp is None
        else {
            "time": _time(sig.timestamp.time),
            "tsa": sig.timestamp.tsa,
            "valid": sig.timestamp.valid,
            "kind": sig.timestamp.kind,
        },
        "best_signature_time": _time(sig.best_signature_time),
        "integrity": sig.integrity,
        "signature_valid": sig.signature_valid,
        "certificate_valid_at_signing_time": sig.certificate_valid_at_signing_time,
        "trusted": sig.trusted,
        "trust_anchor": sig.trust_anchor,
        "trust_purpose": sig.trust_purpose,
        "revocation": {
            "status": sig.revocation.status,
            "source": sig.revocation.source,
            "detail": sig.revocation.detail,
        },
        "modification": sig.modification,
        "coverage": sig.coverage,
        "digest_algorithm": sig.digest_algorithm,
        "signature_algorithm": sig.signature_algorithm,
        "findings": [_finding_json(f) for f in sig.findings],
        "counter_signs": sig.counter_signs,
        "revision": sig.revision,
    }


def report_json(report: DocumentReport) -> dict[str, Any]:
    return {
        "file": report.file,
        "format": report.format,
        "validation_time": _time(report.validation_time),
        "indication": INDICATION_NAMES[report.indication],
        "sub_indication": None if report.sub_indication is None else report.sub_indication.name,
        "verdict": VERDICT_WORDS[report.indication],
        "legal": {
            "valid": report.legal.valid,
            "rule": report.legal.rule,
            "personal": report.legal.personal,
            "agency": report.legal.agency,
            "reasons": [_finding_json(f) for f in report.legal.reasons],
        },
        "findings": [_finding_json(f) for f in report.findings],
        "updates": [
            {
                "revision": u.revision,
                "changes": [{"kind": kind, "name": name} for kind, name in u.changes],
            }
            for u in report.updates
        ],
        "signatures": [signature_json(s) for s in report.signatures],
    }


def reports_json(reports: Sequence[DocumentReport]) -> dict[str, Any]:
    return {"schema": SCHEMA, "reports": [report_json(r) for r in reports]}
