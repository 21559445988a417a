"""One entry point for any signed file: detect the format, validate, judge the document.

Formats are recognised from content, never from the file name: PDF (``%PDF-`` near the
start), XML (``<`` after an optional BOM and whitespace), and DER: an RFC 3161 reply or
token (``.tsr``), otherwise a CMS SignedData (``.p7s``, detached: the signed content comes
separately).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, cast

from asn1crypto import cms
from pyhanko.sign.ades.report import AdESIndeterminate, AdESStatus
from pyhanko_certvalidator.fetchers.api import Fetchers

from validation.cms import validate_cms
from validation.context import DOCUMENT_SIGNING_PURPOSES, fetching, validation_time
from validation.errors import InputMissing, os_reason
from validation.legal import DocumentKind, legal_verdict
from validation.mapped import mapped, unchanged
from validation.pdf import validate_pdf
from validation.policy import ValidationPolicy
from validation.report import (
    DocumentFormat,
    DocumentReport,
    Finding,
    Outcome,
    SignatureReport,
    Unparseable,
    format_failure,
    overall,
)
from validation.tsp import is_timestamp_reply, validate_timestamp
from validation.xml import validate_xml

_PEM_CMS = (b"-----BEGIN PKCS7", b"-----BEGIN CMS", b"-----BEGIN PKCS #7 SIGNED DATA")


def detect_format(data: bytes) -> DocumentFormat:
    """The format of ``data``, from its first bytes. Text may be UTF-8 (with or without a
    byte-order mark) or UTF-16 (with a byte-order mark, little or big endian, or without one
    when it starts with ``<``, as XML 1.0 Appendix F detects it)."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    text = head.removeprefix(b"\xef\xbb\xbf")
    for mark, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(mark):
            text = head[2:].decode(codec, errors="replace").encode()
            break
    else:
        for start, codec in ((b"<\x00", "utf-16-le"), (b"\x00<", "utf-16-be")):
            if head.startswith(start):
                text = head.decode(codec, errors="replace").encode()
                break
    stripped = text.lstrip()
    if stripped.startswith(_PEM_CMS):
        return "cms"
    if stripped.startswith(b"<"):
        return "xml"
    if head[:1] == b"\x30":
        try:
            info = cms.ContentInfo.load(data)
            if info["content_type"].native == "signed_data":
                econtent = info["content"]["encap_content_info"]["content_type"].native
                return "tsr" if econtent == "tst_info" else "cms"
        except Exception:  # noqa: S110 - asn1crypto parses lazily and fails in many ways
            pass
        if is_timestamp_reply(data):
            return "tsr"
    return "unknown"


async def validate_bytes(
    data: bytes,
    policy: ValidationPolicy,
    *,
    name: str = "-",
    detached_data: bytes | None = None,
    kind: DocumentKind = "main",
    fetchers: Fetchers | None = None,
) -> DocumentReport:
    """Validate one file's bytes. Never raises for a bad document: that is a report.

    The validation time is the policy's (the caller's), else now, once for the whole document.
    ``fetchers`` (CRL, OCSP, certificates): the caller's HTTP client, shared across documents
    and pinned in tests; without it one is opened per document (unless the policy is offline).
    Safe to call concurrently."""
    return await _validate(
        data,
        policy,
        name=name,
        detached_data=detached_data,
        kind=kind,
        fetchers=fetchers,
        stream=None,
    )


async def _validate(
    data: bytes,
    policy: ValidationPolicy,
    *,
    name: str,
    detached_data: bytes | None,
    kind: DocumentKind,
    fetchers: Fetchers | None,
    stream: BinaryIO | None,
) -> DocumentReport:
    """:func:`validate_bytes`; ``stream``: the open file a mapped PDF's ``data`` maps."""
    when = validation_time(policy)
    # one "now" for the whole document, whichever format module judges it
    policy = replace(policy, validation_time=when)
    file_format = detect_format(data)
    try:
        outcome = await _dispatch(file_format, data, policy, detached_data, fetchers, stream)
    except Unparseable as exc:
        return format_failure(name, file_format, when, exc.finding)
    signatures = tuple(_within_purpose(s) for s in outcome.signatures)
    indication, sub = overall(signatures)
    return DocumentReport(
        file=name,
        format=file_format,
        validation_time=when,
        indication=indication,
        sub_indication=sub,
        legal=legal_verdict(signatures, kind, outcome.updates),
        signatures=signatures,
        findings=outcome.findings,
        evidence=outcome.evidence,
        updates=outcome.updates,
    )


def _within_purpose(sig: SignatureReport) -> SignatureReport:
    """TT 15/2025 App. II 1.4: a certificate whose extended key usage names only other
    purposes (a TSA's timeStamping, an OCSP responder's OCSPSigning, …) signs no documents."""
    signer = sig.signer
    if (
        sig.kind not in ("signature", "counter-signature")
        or signer is None
        or signer.extended_key_usage is None
    ):
        return sig
    if DOCUMENT_SIGNING_PURPOSES & set(signer.extended_key_usage):
        return sig
    finding = Finding(
        code="certificate.wrong_purpose",
        en="the certificate may not sign documents: its extended key usage allows only "
        + ", ".join(signer.extended_key_usage),
        vi="chứng thư số không được dùng để ký văn bản: mục đích sử dụng mở rộng chỉ gồm "
        + ", ".join(signer.extended_key_usage),
    )
    if sig.indication is AdESStatus.FAILED:
        return replace(sig, findings=(*sig.findings, finding))
    return replace(
        sig,
        indication=AdESStatus.INDETERMINATE,
        sub_indication=AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE,
        findings=(*sig.findings, finding),
    )


async def _dispatch(
    kind: DocumentFormat,
    data: bytes,
    policy: ValidationPolicy,
    detached: bytes | None,
    fetchers: Fetchers | None,
    stream: BinaryIO | None = None,
) -> Outcome:
    if kind == "pdf":
        return await validate_pdf(data, policy, fetchers=fetchers, stream=stream)
    if kind == "xml":
        return await validate_xml(data, policy, fetchers=fetchers)
    if kind == "cms":
        return await validate_cms(data, policy, detached_data=detached, fetchers=fetchers)
    if kind == "tsr":
        return await validate_timestamp(data, policy, detached_data=detached, fetchers=fetchers)
    raise Unparseable(
        Finding(
            code="format.unknown",
            en="not a PDF, XML, CMS signature or RFC 3161 timestamp",
            vi="không phải tệp PDF, XML, chữ ký CMS hay dấu thời gian RFC 3161",
        )
    )


async def validate_files(
    paths: Sequence[Path],
    policy: ValidationPolicy,
    *,
    detached_data: Path | None = None,
    kind: DocumentKind = "main",
) -> list[DocumentReport]:
    """Validate files one after another (each its own report)."""
    detached = None
    if detached_data is not None:
        try:
            detached = await asyncio.to_thread(detached_data.read_bytes)
        except OSError as exc:
            en, vi = os_reason(exc)
            raise InputMissing(
                f"cannot read the signed data {detached_data}: {en}",
                f"không đọc được dữ liệu đã ký {detached_data}: {vi}",
            ) from exc
    reports = []
    async with fetching(policy) as fetchers:  # one HTTP client for all the files
        for path in paths:
            reports.append(await _validate_file(path, policy, detached, kind, fetchers))
    return reports


async def _validate_file(
    path: Path,
    policy: ValidationPolicy,
    detached: bytes | None,
    kind: DocumentKind,
    fetchers: Fetchers | None,
) -> DocumentReport:
    """A PDF is judged from a memory map of the file (:mod:`validation.mapped`: never read
    whole); other formats are read whole."""
    try:
        with mapped(path) as pdf:
            if pdf is not None and detect_format(pdf.data[:1024]) == "pdf":
                report = await _validate(
                    # the map does all that the PDF readers do with the bytes (MappedFile)
                    cast(bytes, pdf.data),
                    policy,
                    name=str(path),
                    detached_data=detached,
                    kind=kind,
                    fetchers=fetchers,
                    stream=pdf.stream,
                )
                if unchanged(pdf):
                    return report
                changed = Finding(
                    code="file.changed",
                    en="the file was changed while it was being checked",
                    vi="tệp đã bị thay đổi trong khi đang được kiểm tra",
                )
                return format_failure(str(path), "pdf", report.validation_time, changed)
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        en, vi = os_reason(exc)
        finding = Finding(
            code="file.unreadable",
            en=f"cannot read the file: {en}",
            vi=f"không đọc được tệp: {vi}",
        )
        return format_failure(str(path), "unknown", validation_time(policy), finding)
    return await validate_bytes(
        data, policy, name=str(path), detached_data=detached, kind=kind, fetchers=fetchers
    )
