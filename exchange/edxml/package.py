"""Signing an edXML package and judging its signature, through the lower rooms.

The signature is the signing room's enveloped XMLDSig (:func:`signing.sign_xml`: RSA-SHA256,
RSASSA-PSS or ECDSA, exclusive C14N, the last child of ``edXMLHeader``), made by the agency
key; the verdict is the validation room's (:func:`validation.validate_bytes`), which already
knows XMLDSig, edXML's non-standard ``Signature`` elements and weak algorithms. This module
only adds what a receiving service needs on top: the signer's certificate itself (DER), so the
service can check it is one the directory lists for the sending agency.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.ades.report import AdESStatus

from exchange.edxml.build import build_message
from exchange.edxml.errors import EdxmlUnreadable
from exchange.edxml.model import Message
from exchange.edxml.parse import Limits, ParsedPackage, parse_package
from signing import KeySigner, XmlSignatureSpec, sign_xml
from validation import (
    DocumentReport,
    Finding,
    SignatureReport,
    Unparseable,
    ValidationPolicy,
    os_reason,
    parse_untrusted_xml,
    validate_bytes,
)

XMLDSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
PACKAGE_SIGNATURE = XmlSignatureSpec(kind="xmldsig")
"""Enveloped XMLDSig over the whole package, placed as QCVN 102:2016 places it."""


async def sign_package(
    data: bytes, key: KeySigner, *, signing_time: datetime | None = None
) -> bytes:
    """``data`` (an unsigned package or status message) signed by ``key``."""
    return await sign_xml(data, key, PACKAGE_SIGNATURE, signing_time=signing_time)


async def build_signed(message: Message, key: KeySigner, *, now: datetime | None = None) -> bytes:
    """:func:`exchange.edxml.build.build_message` then :func:`sign_package`."""
    return await sign_package(build_message(message, now=now), key, signing_time=now)


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageVerdict:
    """The validation room's verdict on a package's signature, plus who signed it."""

    report: DocumentReport
    """The whole report (every signature, findings, evidence)."""
    signer_certificate: bytes | None
    """DER of the certificate that made the (first) signature, when the signature names one
    in its ``KeyInfo`` and the validator identified it; compare it with the directory."""
    findings: tuple[Finding, ...] = ()
    """What this module adds to the report's findings (a package without any signature)."""

    @property
    def indication(self) -> AdESStatus:
        return self.report.indication

    @property
    def passed(self) -> bool:
        return self.report.indication == AdESStatus.PASSED

    @property
    def signature(self) -> SignatureReport | None:
        return self.report.signatures[0] if self.report.signatures else None

    def signed_by_one_of(self, certificates: Iterable[bytes]) -> bool:
        """The package passed and its signer's certificate is one of ``certificates`` (DER),
        e.g. those the directory lists for the sending agency."""
        if not self.passed or self.signer_certificate is None:
            return False
        return any(der == self.signer_certificate for der in certificates)

    @property
    def reasons(self) -> tuple[Finding, ...]:
        """Why it did not pass (the document's findings, then the signatures'); empty when it
        passed without remarks."""
        found = [*self.findings, *self.report.findings]
        for sig in self.report.signatures:
            found.extend(sig.findings)
        return tuple(found)


async def verify_package(
    data: bytes, policy: ValidationPolicy, *, name: str = "package.edxml"
) -> PackageVerdict:
    """Judge the package signature of ``data`` under ``policy``. A bad or missing signature is
    a verdict, not an exception (a malformed file too: its report says why)."""
    report = await validate_bytes(data, policy, name=name)
    certificate = None
    signature = report.signatures[0] if report.signatures else None
    if signature is not None and signature.signer is not None:
        certificate = _certificate_with_sha256(data, signature.signer.sha256)
    findings = () if report.signatures else (NO_SIGNATURE,)
    return PackageVerdict(report=report, signer_certificate=certificate, findings=findings)


NO_SIGNATURE = Finding(
    code="edxml.no_signature",
    en="the package carries no XMLDSig signature: who sent it cannot be checked",
    vi="gói tin không có chữ ký XMLDSig: không kiểm tra được cơ quan gửi",
)


async def read_package(
    path: Path, policy: ValidationPolicy, *, limits: Limits | None = None
) -> tuple[ParsedPackage, PackageVerdict]:
    """What a receiver does with a package file: read it (bounded, in a worker thread: lxml
    blocks) into typed objects, then judge its signature. A package the reader refuses raises
    its :class:`~exchange.edxml.errors.EdxmlError`; a bad signature is a verdict."""
    parsed = await asyncio.to_thread(parse_package, path, limits=limits)
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        en, vi = os_reason(exc)
        raise EdxmlUnreadable(
            "", f"cannot read {path}: {en}", f"không đọc được {path}: {vi}"
        ) from exc
    verdict = await verify_package(data, policy, name=path.name)
    return parsed, verdict


def _certificate_with_sha256(data: bytes, sha256: str) -> bytes | None:
    """The ``ds:X509Certificate`` of ``data`` whose SHA-256 is ``sha256``, as DER."""
    try:
        root = parse_untrusted_xml(data)
    except Unparseable:  # the report already says why the file is unreadable
        return None
    for element in root.iter(f"{{{XMLDSIG_NS}}}X509Certificate"):
        try:
            der = base64.b64decode("".join((element.text or "").split()), validate=True)
            certificate = asn1_x509.Certificate.load(der)
            if certificate.sha256.hex() == sha256:
                return der
        except (binascii.Error, ValueError, TypeError, KeyError):
            continue
    return None


__all__ = [
    "PACKAGE_SIGNATURE",
    "PackageVerdict",
    "build_signed",
    "read_package",
    "sign_package",
    "verify_package",
]
