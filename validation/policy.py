"""What the validator trusts and demands: trust anchors by purpose, revocation, time,
algorithms, and how an agency's certificate is told from a person's.

Frozen specs (STYLE.md habit 4); the process edge (CLI, service settings) builds them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from asn1crypto import pem, x509

from validation.errors import InputMissing, PolicyError, os_reason

Purpose = str
"""A trust anchor's purpose: ``public`` (the national root, NEAC: public signatures under
Decree 23/2025), ``special-use`` (the Government CA, Ban Cơ yếu: public-service signatures
under Decree 68/2024), ``foreign`` (recognised foreign trust list), or any other name."""


def load_certificates(path: Path) -> tuple[x509.Certificate, ...]:
    """Every certificate in a PEM file (several allowed) or one DER file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        en, vi = os_reason(exc)
        # a file that does not exist is a missing input (exit 66), not a bad policy
        error = InputMissing if isinstance(exc, FileNotFoundError) else PolicyError
        raise error(
            f"cannot read the trust anchor file {path}: {en}",
            f"không đọc được tệp chứng thư tin cậy {path}: {vi}",
        ) from exc
    try:
        if pem.detect(data):
            certs = tuple(
                x509.Certificate.load(der)
                for kind, _, der in pem.unarmor(data, multiple=True)
                if kind == "CERTIFICATE"
            )
        else:
            certs = (x509.Certificate.load(data),)
        for cert in certs:
            cert.native  # noqa: B018 - parse now, fail here
    except ValueError as exc:
        raise PolicyError(
            f"{path} holds no readable certificate",
            f"{path} không chứa chứng thư số đọc được",
        ) from exc
    if not certs:
        raise PolicyError(f"{path} holds no certificate", f"{path} không chứa chứng thư số")
    return certs


@dataclass(frozen=True, slots=True)
class TrustAnchors:
    """Trust anchors grouped by purpose."""

    by_purpose: Mapping[Purpose, tuple[x509.Certificate, ...]] = field(default_factory=dict)

    @classmethod
    def from_files(cls, files: Mapping[Purpose, Sequence[Path]]) -> TrustAnchors:
        """Each purpose from PEM/DER files or directories of them (``*.pem``, ``*.crt``,
        ``*.cer``, ``*.der``)."""
        result: dict[Purpose, tuple[x509.Certificate, ...]] = {}
        for purpose, paths in files.items():
            certs: list[x509.Certificate] = []
            for path in paths:
                if path.is_dir():
                    members = sorted(
                        p
                        for p in path.iterdir()
                        if p.suffix.lower() in {".pem", ".crt", ".cer", ".der"}
                    )
                    if not members:
                        raise PolicyError(
                            f"the trust anchor directory {path} holds no certificate files "
                            "(*.pem, *.crt, *.cer, *.der)",
                            f"thư mục chứng thư tin cậy {path} không có tệp chứng thư nào",
                        )
                    for member in members:
                        certs.extend(load_certificates(member))
                else:
                    certs.extend(load_certificates(path))
            result[purpose] = tuple(certs)
        return cls(result)

    def all(self) -> tuple[x509.Certificate, ...]:
        seen: dict[bytes, x509.Certificate] = {}
        for certs in self.by_purpose.values():
            for cert in certs:
                seen.setdefault(cert.sha256, cert)
        return tuple(seen.values())

    def purpose_of(self, anchor: x509.Certificate) -> Purpose | None:
        for purpose, certs in self.by_purpose.items():
            if any(c.sha256 == anchor.sha256 for c in certs):
                return purpose
        return None


PERSONAL_UID_PREFIXES = ("CMND:", "CCCD:", "HC:", "CMTND:", "PID:", "CN:")
ORGANISATION_UID_PREFIXES = ("MST:", "MNS:", "MSNS:", "MDV:")


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


@dataclass(frozen=True, slots=True, kw_only=True)
class AgencyRule:
    """How an agency's (organisation's) certificate is told from a person's.

    Default, in order: a personal identifier in the subject's UID (``CMND:``, ``CCCD:``,
    ``HC:`` …, as Vietnamese CAs write it) makes it a person's; an organisation identifier
    (``MST:`` tax code, ``MNS:`` budget-unit code …, or an ``organizationIdentifier``)
    makes it an agency's; otherwise it is an agency's when its CN equals its O (Decree 30
    agency certificates name the agency in both).
    """

    personal_uid_prefixes: tuple[str, ...] = PERSONAL_UID_PREFIXES
    organisation_uid_prefixes: tuple[str, ...] = ORGANISATION_UID_PREFIXES
    cn_equals_o: bool = True

    def is_organisation(self, cert: x509.Certificate) -> bool:
        try:
            subject = cert.subject.native
        except ValueError:  # a name that does not decode is nobody's: not an agency's
            return False
        uids = subject.get("user_id") or []
        if isinstance(uids, str):
            uids = [uids]
        upper = [str(u).upper().replace(" ", "") for u in uids]
        if any(u.startswith(self.personal_uid_prefixes) for u in upper):
            return False
        if any(u.startswith(self.organisation_uid_prefixes) for u in upper):
            return True
        if "organization_identifier" in subject:
            return True
        if self.cn_equals_o:
            cn, org = subject.get("common_name"), subject.get("organization_name")
            if isinstance(cn, list):
                cn = cn[0] if cn else None
            if isinstance(org, list):
                org = org[0] if org else None
            return bool(cn and org and _norm(str(cn)) == _norm(str(org)))
        return False


WEAK_DIGESTS = frozenset({"sha1"})
"""Accepted with a "weak algorithm" warning."""
FORBIDDEN_DIGESTS = frozenset({"md2", "md5"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationPolicy:
    """Everything a validation depends on besides the document."""

    anchors: TrustAnchors = field(default_factory=TrustAnchors)
    validation_time: datetime | None = None
    """When to judge (timezone-aware); ``None``: now."""
    revocation: Literal["hard", "soft"] = "hard"
    """``soft`` accepts a certificate whose status cannot be determined (reported as such)."""
    offline: bool = False
    """Never fetch certificates, CRLs or OCSP responses over the network."""
    crls: tuple[bytes, ...] = ()
    """CRLs supplied by the caller (DER)."""
    ocsp_responses: tuple[bytes, ...] = ()
    """OCSP responses supplied by the caller (DER)."""
    extra_certificates: tuple[x509.Certificate, ...] = ()
    """Untrusted intermediates to help path building."""
    fetch_timeout: float = 10.0
    agency_rule: AgencyRule = field(default_factory=AgencyRule)
    weak_digests: frozenset[str] = WEAK_DIGESTS
    forbidden_digests: frozenset[str] = FORBIDDEN_DIGESTS
    min_rsa_bits: int = 2048
    min_ec_bits: int = 256

    def __post_init__(self) -> None:
        if self.validation_time is not None and self.validation_time.tzinfo is None:
            raise PolicyError(
                "the validation time must carry a time zone",
                "thời điểm kiểm tra phải có múi giờ",
            )


def anchors_from(paths: Iterable[Path], purpose: Purpose = "public") -> TrustAnchors:
    return TrustAnchors.from_files({purpose: list(paths)})
