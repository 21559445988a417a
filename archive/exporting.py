"""Packages out of the archive and their offline check.

:func:`export_package` writes a dossier as a zipped TT 05/2025 ``AIP_hoso`` (or
``SIP_hoso``): each document byte-exact from the store, its evidence record put together
from the catalog, its validation report and the evidence it rests on, the dossier's
history as PREMIS events.
(Their offline check is :mod:`archive.verifying`.)
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Literal
from uuid import UUID

from sqlalchemy import select

from archive.catalog import ArchivedDocument, ArchiveEvent
from archive.errors import PackageInvalid
from archive.package import (
    Dossier,
    PackageDocument,
    PackageSummary,
    PreservationEvent,
    write_package,
)
from archive.service import (
    Archive,
    TreeCache,
    dossier_row,
    evidence_record,
    evidence_records,
    status_changes,
)

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
    trees = TreeCache(archive)
    async with archive.transaction() as session:
        row = await dossier_row(session, code)
        docs = list(
            await session.scalars(
                select(ArchivedDocument)
                .where(
                    ArchivedDocument.dossier_id == row.id,
                    ArchivedDocument.state == "kept",
                    ArchivedDocument.role == "document",
                )
                .order_by(ArchivedDocument.ordinal)
            )
        )
        # the latest record of the dossier's composition (ordinal -N for version N)
        composition = await session.scalar(
            select(ArchivedDocument)
            .where(
                ArchivedDocument.dossier_id == row.id,
                ArchivedDocument.state == "kept",
                ArchivedDocument.role == "composition",
            )
            .order_by(ArchivedDocument.ordinal)
            .limit(1)
        )
        events = list(
            await session.scalars(
                select(ArchiveEvent)
                .where(ArchiveEvent.dossier_id == row.id)
                .order_by(ArchiveEvent.id)
            )
        )
    unsealed = [d.name for d in docs if not d.sealed]
    if composition is not None and not composition.sealed:
        unsealed.append(composition.name)
    if unsealed:
        raise PackageInvalid(
            f"seal the dossier first (lienthong archive seal): {', '.join(unsealed)}",
            f"hãy niêm phong hồ sơ trước (lienthong archive seal): {', '.join(unsealed)}",
        )
    by_id = {d.id: d.name for d in docs}
    records = await evidence_records(
        archive, [d.id for d in docs] + ([composition.id] if composition else []), trees
    )
    composed = None
    if composition is not None:
        composed = (
            await asyncio.to_thread(_read, archive, composition.sha256),
            records.get(composition.id) or await evidence_record(archive, composition.id, trees),
        )
    documents = []
    for doc in docs:
        record = records.get(doc.id) or await evidence_record(archive, doc.id, trees)
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
                keyword=str(doc.fields.get("keyword", "")),
                number_of_page=_int(doc.fields.get("numberOfPage")),
                autograph=str(doc.fields.get("autograph", "")),
                edxml_trace=None
                if doc.trace_sha256 is None
                else await asyncio.to_thread(_read, archive, doc.trace_sha256),
                status_history=status_changes(doc.status_history),
                description=f"{doc.indication}" + (f", {doc.legal}" if doc.legal else ""),
                evidence_record=record,
                report_json=report,
                report_html=html,
                evidence_files=evidence,
            )
        )
    fields = row.fields
    dates = [d.issued_date for d in documents if d.issued_date] or [row.created_at.date()]
    start = _date(fields.get("startDate")) or min(dates)
    end = _date(fields.get("endDate")) or max(dates)
    dossier = Dossier(
        file_code=row.code,
        archive_code=archive_code,
        title=row.title,
        maintenance=row.maintenance,
        mode=str(fields.get("mode", "01")),
        languages=tuple(str(fields.get("language", "01")).split(",")),
        start_date=start,
        end_date=max(start, end),
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
    return await asyncio.to_thread(
        write_package, dossier, documents, history, dest, kind=kind, composition=composed
    )


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


def _int(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value if 0 <= value < 10**4 else 0
    if isinstance(value, str) and value.isdigit() and len(value) <= 4:
        return int(value)
    return 0


def _date(text: object) -> date | None:
    if not isinstance(text, str):
        return None
    try:
        day, month, year = (int(part) for part in text.split("/"))
        return date(year, month, day)
    except ValueError:
        return None


__all__ = ["export_package"]
