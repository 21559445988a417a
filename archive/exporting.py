"""Packages out of the archive and their offline check.

:func:`export_package` writes a dossier as a zipped TT 05/2025 ``AIP_hoso`` (or
``SIP_hoso``): each document byte-exact from the store, its evidence record put together
from the catalog, its validation report and the evidence it rests on, the dossier's
history as PREMIS events.

:func:`verify_package` needs no database and no network: the METS checksums of every file,
each document's evidence record (its hash in the tree, every archive timestamp valid when the
next one was made, the last valid at the verification time), then the document's own
signatures judged at the time the first archive timestamp proves, from the validation data
the document carries.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal
from uuid import UUID

from sqlalchemy import select

from archive.catalog import ArchivedDocument, ArchiveEvent
from archive.errors import PackageInvalid
from archive.ers import Judge, Verification, timestamp_judge, verify
from archive.mets import PackageCheck, PackageEntry, check_package
from archive.package import (
    Dossier,
    PackageDocument,
    PackageSummary,
    PreservationEvent,
    write_package,
)
from archive.service import Archive, _dossier, _Trees, evidence_record
from validation import TrustAnchors, ValidationPolicy, report_json, validate_bytes

EVIDENCE_SUFFIXES = {
    "certificates": "cer",
    "crls": "crl",
    "ocsp_responses": "ocsp",
    "timestamp_tokens": "tst",
}


async def export_package(
    archive: Archive,
    code: str,
    dest: Path,
    *,
    kind: Literal["AIP", "SIP"] = "AIP",
    archive_code: str = "LIENTHONG",
) -> PackageSummary:
    """Write the dossier ``code`` as a zipped package at ``dest`` (atomically). Every
    document must be sealed: its evidence record goes with it."""
    trees = _Trees(archive)
    async with archive.transaction() as session:
        row = await _dossier(session, code)
        docs = list(
            await session.scalars(
                select(ArchivedDocument)
                .where(ArchivedDocument.dossier_id == row.id, ArchivedDocument.state == "kept")
                .order_by(ArchivedDocument.ordinal)
            )
        )
        events = list(
            await session.scalars(
                select(ArchiveEvent)
                .where(ArchiveEvent.dossier_id == row.id)
                .order_by(ArchiveEvent.id)
            )
        )
    unsealed = [d.name for d in docs if not d.sealed]
    if unsealed:
        raise PackageInvalid(
            f"seal the dossier first (lienthong archive seal): {', '.join(unsealed)}",
            f"hãy niêm phong hồ sơ trước (lienthong archive seal): {', '.join(unsealed)}",
        )
    by_id = {d.id: d.name for d in docs}
    documents = []
    for doc in docs:
        record = await evidence_record(archive, doc.id, trees)
        report = await asyncio.to_thread(_read, archive, doc.report_sha256)
        html = await asyncio.to_thread(_read, archive, doc.report_html_sha256)
        evidence = (
            {}
            if doc.evidence_sha256 is None
            else _evidence_files(await asyncio.to_thread(_read, archive, doc.evidence_sha256))
        )
        documents.append(
            PackageDocument(
                name=doc.name,
                content=_chunks(archive, doc.sha256),
                sha256=doc.sha256,
                size=doc.size,
                created=doc.ingested_at,
                doc_ordinal=doc.ordinal,
                type_name=str(doc.fields.get("typeName", "32")),
                mimetype=doc.media_type,
                issued_date=_date(doc.fields.get("issuedDate")),
                code_number=str(doc.fields.get("codeNumber", "")),
                code_notation=str(doc.fields.get("codeNotation", "")),
                organ_name=str(doc.fields.get("organName", "")),
                subject=str(doc.fields.get("subject", "")),
                description=f"{doc.indication}" + (f", {doc.legal}" if doc.legal else ""),
                evidence_record=record,
                report_json=report,
                report_html=html,
                evidence_files=evidence,
            )
        )
    dates = [d.issued_date for d in documents if d.issued_date] or [row.created_at.date()]
    fields = row.fields
    dossier = Dossier(
        file_code=row.code,
        archive_code=archive_code,
        title=row.title,
        maintenance=row.maintenance,
        mode=str(fields.get("mode", "01")),
        languages=tuple(str(fields.get("language", "01")).split(",")),
        start_date=min(dates),
        end_date=max(dates),
        objid=UUID(row.objid),
        description=str(fields.get("description", "")),
    )
    history = [
        PreservationEvent(
            event_type=e.type,
            time=e.at,
            outcome=e.outcome,
            detail=e.detail,
            objects=()
            if e.document_id is None or e.document_id not in by_id
            else (by_id[e.document_id],),
            agent=e.agent,
        )
        for e in events
    ]
    return await asyncio.to_thread(write_package, dossier, documents, history, dest, kind=kind)


def _read(archive: Archive, sha256: str) -> bytes:
    return b"".join(archive.store.read_verified(sha256))


def _chunks(archive: Archive, sha256: str) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        with archive.store.open(sha256) as handle:
            while chunk := handle.read(1 << 20):
                yield chunk

    return chunks


def _evidence_files(data: bytes) -> dict[str, bytes]:
    body = json.loads(data)
    files = {}
    for group, suffix in EVIDENCE_SUFFIXES.items():
        for n, item in enumerate(body.get(group, ()), start=1):
            files[f"{group}-{n}.{suffix}"] = base64.b64decode(item)
    return files


def _date(text: object) -> date | None:
    if not isinstance(text, str):
        return None
    try:
        day, month, year = (int(part) for part in text.split("/"))
        return date(year, month, day)
    except ValueError:
        return None


# -- the offline check ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DocumentProof:
    name: str
    intact: bool
    """Its bytes match METS."""
    evidence: Verification | None
    """None: the package has no evidence record for it."""
    indication: str | None
    """The document's own signatures, judged at the proven time (None: not judged)."""
    legal: str | None
    problems: tuple[tuple[str, str], ...]
    """(en, vi) of each thing that does not hold."""

    @property
    def proven(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class PackageVerdict:
    path: Path
    objid: str
    at: datetime
    documents: tuple[DocumentProof, ...]
    problems: tuple[tuple[str, str], ...]
    """Problems of the package itself (METS checksums, missing or unlisted files)."""

    @property
    def proven(self) -> bool:
        return not self.problems and all(d.proven for d in self.documents)


async def verify_package(
    path: Path, *, anchors: TrustAnchors, at: datetime | None = None
) -> PackageVerdict:
    """Check a package offline at ``at`` (default now), trusting ``anchors`` for the
    timestamp authorities and the signers."""
    when = at or datetime.now(UTC)
    check = await asyncio.to_thread(check_package, path)
    judge = timestamp_judge(anchors)
    proofs = []
    for entry in check.documents:
        proofs.append(await _prove(check, entry.name, entry, anchors, judge, when))
    return PackageVerdict(
        path=path,
        objid=check.objid,
        at=when,
        documents=tuple(proofs),
        problems=tuple((f"{f.path}: {f.en}", f"{f.path}: {f.vi}") for f in check.findings),
    )


async def _prove(
    check: PackageCheck,
    name: str,
    entry: PackageEntry,
    anchors: TrustAnchors,
    judge: Judge,
    when: datetime,
) -> DocumentProof:
    problems: list[tuple[str, str]] = []
    if not entry.intact:
        problems.append(
            (f"{name}: the bytes differ from METS", f"{name}: nội dung khác với METS ghi")
        )
    if entry.ers_path is None:
        problems.append((f"{name}: no evidence record", f"{name}: không có bản ghi bằng chứng"))
        return DocumentProof(name, entry.intact, None, None, None, tuple(problems))
    record = await asyncio.to_thread(check.read_member, entry.ers_path)
    data = await asyncio.to_thread(lambda: b"".join(check.iter_member(entry.data_path)))
    result = await verify(record, io.BytesIO(data), judge=judge, at=when)
    for finding in result.findings:
        problems.append((f"{name}: {finding.en}", f"{name}: {finding.vi}"))
    if not result.valid or result.proven_time is None:
        if not result.findings:
            problems.append(
                (
                    f"{name}: the evidence record does not prove the document",
                    f"{name}: bản ghi bằng chứng không chứng minh được văn bản",
                )
            )
        return DocumentProof(name, entry.intact, result, None, None, tuple(problems))
    policy = ValidationPolicy(
        anchors=anchors, validation_time=result.proven_time, offline=True, revocation="soft"
    )
    report = await validate_bytes(data, policy, name=name)
    body = report_json(report)
    indication = str(body["indication"])
    legal_body = body.get("legal")
    legal = None
    if isinstance(legal_body, dict):
        value = legal_body.get("verdict") or legal_body.get("status")
        legal = None if value is None else str(value)
    if indication != "TOTAL-PASSED":
        problems.append(
            (
                f"{name}: its signatures are {indication} at {result.proven_time.isoformat()}",
                f"{name}: chữ ký số {indication} tại thời điểm {result.proven_time.isoformat()}",
            )
        )
    return DocumentProof(name, entry.intact, result, indication, legal, tuple(problems))


__all__ = ["DocumentProof", "PackageVerdict", "export_package", "verify_package"]
