"""The archive's use cases: ingest a dossier, seal what is new under one archive timestamp,
renew the evidence before it ages, audit both copies, hand out evidence records.

Crash safety: every byte is written to both copies of the store before the catalog names it,
and each use case ends in one transaction. A process killed half-way leaves at most unnamed
objects in the store (content-addressed, harmless, reused by the next try): a dossier is
ingested entirely or not at all, and a seal interrupted after its timestamp call simply
seals again.
"""

from __future__ import annotations

import asyncio
import base64
import json
from array import array
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast, overload
from uuid import uuid4

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps.api import TimeStamper
from sqlalchemy import Table, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from archive.catalog import (
    ArchivedDocument,
    ArchiveEvent,
    ArchiveStamp,
    Dossier,
    StampLink,
    StoredItem,
)
from archive.composition import Entry, catalog_name, composition_bytes
from archive.errors import (
    ArchiveError,
    EvidenceInvalid,
    InputMissing,
    StorageFailed,
    UsageError,
)
from archive.hashtree import HashTree, digest_size, digest_stream
from archive.package import StatusChange
from archive.records import Part, record_der, renewal_leaf, token_leaf
from archive.store import AuditReport, StoredObject, TwoCopyStore
from archive.tokens import facts
from signing import ServiceUnavailable, SigningError, extend_to_lta
from validation import (
    DocumentReport,
    Evidence,
    ValidationPolicy,
    detect_format,
    render_html,
    render_json,
    report_json,
    validate_bytes,
)

Progress = Callable[[int, int], None]

MEDIA_TYPES = {"pdf": "application/pdf", "xml": "application/xml", "cms": "application/pkcs7-mime"}

MAINTENANCE_CODES = frozenset(f"{n:02d}" for n in range(1, 8))
RETENTION_YEARS = {"02": 70, "03": 50, "04": 30, "05": 20, "06": 10}
"""TT 05/2025 maintenance codes with a fixed period (01 permanent, 07 other: no automatic
end)."""

MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024
"""The largest file ingest accepts: the validation room judges a document from memory."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Archive:
    """Everything the use cases need: the catalog's sessions, the store, the timestamp
    authority for archive timestamps, and what the validation trusts."""

    sessions: async_sessionmaker[AsyncSession]
    store: TwoCopyStore
    timestamper: TimeStamper | None
    policy: ValidationPolicy
    trust_roots: tuple[asn1_x509.Certificate, ...] = ()
    """Roots for the B-LTA augmentation (validation data fetched along their paths)."""
    agent: str = "lienthong archive"
    algorithm: str = "sha256"
    fetch_timeout: float = 10.0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        try:
            async with self.sessions() as session, session.begin():
                yield session
        except ArchiveError:
            raise
        except OSError as exc:
            raise StorageFailed(
                f"the archive catalog cannot be written: {exc}",
                "không ghi được danh mục lưu trữ",
            ) from exc


# -- ingest ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IngestedDocument:
    name: str
    sha256: str
    size: int
    indication: str
    legal: str | None
    augmented: bool
    already: bool
    """The same bytes were in the dossier already (a repeated ingest): nothing was added."""
    note_en: str = ""
    note_vi: str = ""


@dataclass(frozen=True, slots=True)
class IngestResult:
    dossier: str
    created: bool
    documents: tuple[IngestedDocument, ...]


@dataclass(frozen=True, slots=True)
class _Prepared:
    name: str
    original_sha256: str
    sha256: str
    size: int
    media_type: str
    report: DocumentReport
    report_sha256: str
    report_html_sha256: str
    evidence_sha256: str
    augmented: bool
    note_en: str
    note_vi: str
    fields: dict[str, Any]
    trace_sha256: str | None
    status_history: list[dict[str, str]] | None
    objects: tuple[tuple[str, int, str], ...]
    """(sha256, size, kind) of everything stored for this document."""


def dossier_fields(
    *,
    title: str,
    maintenance: str = "01",
    mode: str = "01",
    language: str = "01",
    description: str = "",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The dossier's EAD fields that are not counted from its documents."""
    if maintenance not in MAINTENANCE_CODES:
        raise UsageError(
            f"unknown maintenance code {maintenance!r} (01-07)",
            f"mã thời hạn bảo quản không hợp lệ: {maintenance!r} (01-07)",
        )
    fields: dict[str, Any] = {
        "title": title,
        "maintenance": maintenance,
        "mode": mode,
        "language": language,
        "format": "01",
        "confidenceLevel": "01",
        "riskRecovery": "0",
        "description": description,
    }
    fields.update(extra or {})
    return fields


@dataclass(frozen=True, slots=True, kw_only=True)
class Submission:
    """One file of a dossier handed in by another room (the exchange room closing a
    dossier): its bytes, its ``EAD_doc`` fields and its processing trail."""

    name: str
    """Its name in the package (``representations/rep1/data/NAME``), unique in the dossier."""
    content: bytes
    fields: Mapping[str, Any] = field(default_factory=dict)
    """``EAD_doc`` fields by their TT 05 name (typeName, codeNumber, codeNotation, issuedDate
    as DD/MM/YYYY, organName, subject, keyword, numberOfPage, autograph); they take
    precedence over what the archive reads from the document itself."""
    edxml_trace: bytes | None = None
    """The processing trail: the edXML trace (TraceHeaderList) as it was exchanged."""
    status_history: Sequence[StatusChange] = ()
    """The processing trail: the statuses the document went through."""


async def ingest(
    archive: Archive,
    files: Sequence[Path],
    *,
    dossier: str,
    title: str | None = None,
    fields: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Ingest signed files as (or into) the dossier ``dossier``: each validated again, taken
    to long-term form where it is a signed PDF (B-LTA), stored twice with its report and
    evidence, then catalogued in one transaction. A file that is not valid is kept too, its
    report saying so."""
    code = _check_batch(dossier, [p.name for p in files])
    prepared: list[_Prepared] = []
    for done, path in enumerate(files):
        prepared.append(await _prepare(archive, path.name, _read(path)))
        if progress is not None:
            progress(done + 1, len(files))
    return await _catalogue(archive, code, title, fields, prepared)


async def ingest_submissions(
    archive: Archive,
    submissions: Sequence[Submission],
    *,
    dossier: str,
    title: str | None = None,
    fields: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """:func:`ingest` for files handed in from memory with their own metadata and processing
    trail (a dossier closed in the exchange room). Handing the same dossier in again adds
    only what is new."""
    code = _check_batch(dossier, [s.name for s in submissions])
    prepared: list[_Prepared] = []
    for done, item in enumerate(submissions):
        _check_name(item.name)
        if len(item.content) > MAX_FILE_BYTES:
            raise UsageError(
                f"{item.name} is larger than {MAX_FILE_BYTES // 2**20} MiB",
                f"{item.name} lớn hơn {MAX_FILE_BYTES // 2**20} MiB",
            )
        prepared.append(await _prepare(archive, item.name, item.content, item))
        if progress is not None:
            progress(done + 1, len(submissions))
    return await _catalogue(archive, code, title, fields, prepared)


def _check_batch(dossier: str, names: Sequence[str]) -> str:
    if not names:
        raise UsageError("no file to ingest", "không có tệp nào để nộp lưu")
    code = _dossier_code(dossier)
    if len(set(names)) != len(names):
        raise UsageError(
            "two files have the same name; a dossier names each document once",
            "có hai tệp trùng tên; mỗi văn bản trong hồ sơ có một tên riêng",
        )
    return code


def _check_name(name: str) -> None:
    if (
        not name
        or len(name) > 255
        or name in (".", "..")
        or any(c in name for c in "/\\\0")
        or any(ord(c) < 32 for c in name)
        or name != name.strip(" ")
        or name.endswith(".")
    ):
        raise UsageError(
            f"{name!r} cannot name a file in a package (1-255 characters, no slash or "
            "control character, no leading or trailing space, no trailing dot)",
            f"{name!r} không dùng được làm tên tệp trong gói (1-255 ký tự, không có dấu gạch "
            "chéo hay ký tự điều khiển, không có khoảng trắng ở đầu/cuối hay dấu chấm ở cuối)",
        )


async def _catalogue(
    archive: Archive,
    code: str,
    title: str | None,
    fields: Mapping[str, Any] | None,
    prepared: Sequence[_Prepared],
) -> IngestResult:
    now = datetime.now(UTC)
    async with archive.transaction() as session:
        await _objects_lock(session)
        row = await session.scalar(select(Dossier).where(Dossier.code == code))
        created = row is None
        if row is None:
            if not title:
                raise UsageError(
                    f"dossier {code} is new: give its title (--title)",
                    f"hồ sơ {code} chưa có: cần tiêu đề hồ sơ (--title)",
                    needs="title",
                )
            base = dossier_fields(title=title, extra=fields)
            row = Dossier(
                code=code,
                objid=str(uuid4()),
                title=title,
                fields=base,
                maintenance=str(base["maintenance"]),
                created_at=now,
            )
            session.add(row)
            await session.flush()
        elif row.disposed_at is not None:
            raise UsageError(
                f"dossier {code} was disposed of; it takes no new documents",
                f"hồ sơ {code} đã được hủy; không nhận thêm văn bản",
            )
        existing = {
            d.name: d
            for d in await session.scalars(
                select(ArchivedDocument).where(
                    ArchivedDocument.dossier_id == row.id, ArchivedDocument.role == "document"
                )
            )
        }
        ordinal = max((d.ordinal for d in existing.values()), default=0)
        results = []
        for item in prepared:
            before = existing.get(item.name)
            if before is not None:
                if item.original_sha256 in (before.original_sha256, before.sha256):
                    results.append(_result(item, already=True, stored=before))
                    continue
                raise UsageError(
                    f"dossier {code} already holds another file named {item.name}",
                    f"hồ sơ {code} đã có một tệp khác tên {item.name}",
                )
            ordinal += 1
            await _record_objects(session, item.objects, now)
            doc = ArchivedDocument(
                dossier_id=row.id,
                ordinal=ordinal,
                name=item.name,
                sha256=item.sha256,
                size=item.size,
                original_sha256=item.original_sha256,
                media_type=item.media_type,
                indication=_indication(item.report),
                legal=_legal(item.report),
                report_sha256=item.report_sha256,
                report_html_sha256=item.report_html_sha256,
                evidence_sha256=item.evidence_sha256,
                fields=item.fields,
                trace_sha256=item.trace_sha256,
                status_history=item.status_history,
                state="kept",
                ingested_at=now,
                sealed=False,
            )
            session.add(doc)
            await session.flush()
            session.add_all(_ingest_events(archive, row.id, doc, item, now))
            results.append(_result(item, already=False, stored=doc))
            existing[doc.name] = doc
        if any(not r.already for r in results):
            await _record_composition(archive, session, row, list(existing.values()), now)
        # under the lock, no disposal can delete them now; one may have done so between the
        # put and this transaction (the same bytes were a disposed dossier's): then nothing
        # is catalogued, and ingesting again writes them anew
        added = {sha for item in prepared for sha, _, _ in item.objects}
        gone = [sha for sha in sorted(added) if not all(archive.store.exists(sha))]
        if gone:
            raise StorageFailed(
                f"{len(gone)} object(s) were deleted by a disposal while this ingest ran "
                "(the same bytes belonged to a disposed dossier); nothing was catalogued: "
                "ingest again",
                f"{len(gone)} đối tượng bị xóa bởi một lần hủy tài liệu trong lúc nộp lưu (cùng "
                "nội dung với hồ sơ đã hủy); chưa ghi gì vào danh mục: hãy nộp lưu lại",
            )
    return IngestResult(dossier=code, created=created, documents=tuple(results))


async def _record_composition(
    archive: Archive,
    session: AsyncSession,
    row: Dossier,
    documents: Sequence[ArchivedDocument],
    now: datetime,
) -> None:
    """The dossier's composition after this ingest, stored and catalogued like a document
    (unsealed: the next seal covers it with the documents)."""
    version = 1 + int(
        await session.scalar(
            select(func.count()).where(
                ArchivedDocument.dossier_id == row.id, ArchivedDocument.role == "composition"
            )
        )
        or 0
    )
    data = composition_bytes(
        row.code,
        row.objid,
        version,
        now,
        [Entry(d.ordinal, d.name, d.sha256, d.size) for d in documents if d.state == "kept"],
    )
    stored = await asyncio.to_thread(archive.store.put_bytes, data)
    await _record_objects(session, [(stored.sha256, stored.size, "composition")], now)
    session.add(
        ArchivedDocument(
            dossier_id=row.id,
            ordinal=-version,
            name=catalog_name(version),
            sha256=stored.sha256,
            size=stored.size,
            original_sha256=stored.sha256,
            media_type="application/json",
            indication="NONE",
            legal=None,
            report_sha256="",
            report_html_sha256="",
            evidence_sha256=None,
            fields={},
            state="kept",
            role="composition",
            ingested_at=now,
            sealed=False,
        )
    )
    await session.flush()


OBJECTS_LOCK = 0x6C74_6172  # "ltar": the advisory lock key of the store's objects


async def _objects_lock(session: AsyncSession) -> None:
    """Serialise, until the transaction ends, the catalog's naming of stored objects with a
    disposal's deletion of them: on PostgreSQL a transaction-scoped advisory lock; on SQLite
    the database's write lock, taken at once by a write that changes nothing."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": OBJECTS_LOCK})
    else:
        await session.execute(
            update(StoredItem).where(StoredItem.sha256 == "").values(kind=StoredItem.kind)
        )


async def _record_objects(
    session: AsyncSession, objects: Sequence[tuple[str, int, str]], now: datetime
) -> None:
    wanted = {sha: (size, kind) for sha, size, kind in objects}
    known = set(
        await session.scalars(select(StoredItem.sha256).where(StoredItem.sha256.in_(wanted)))
    )
    session.add_all(
        StoredItem(sha256=sha, size=size, kind=kind, stored_at=now)
        for sha, (size, kind) in wanted.items()
        if sha not in known
    )


def _dossier_code(code: str) -> str:
    code = code.strip()
    if not code or len(code) > 100 or any(c in code for c in "/\\\0\n\r\t"):
        raise UsageError(
            "a dossier code is 1-100 characters with no slash or control character",
            "mã hồ sơ dài 1-100 ký tự, không có dấu gạch chéo hay ký tự điều khiển",
        )
    return code


def _result(item: _Prepared, *, already: bool, stored: ArchivedDocument) -> IngestedDocument:
    return IngestedDocument(
        name=item.name,
        sha256=stored.sha256,
        size=stored.size,
        indication=stored.indication,
        legal=stored.legal,
        augmented=item.augmented and not already,
        already=already,
        note_en=item.note_en,
        note_vi=item.note_vi,
    )


async def _prepare(
    archive: Archive, name: str, data: bytes, given: Submission | None = None
) -> _Prepared:
    report = await validate_bytes(data, archive.policy, name=name)
    fmt = detect_format(data)
    final, augmented, note_en, note_vi = data, False, "", ""
    if fmt == "pdf" and report.signatures and archive.timestamper is not None:
        try:
            final = await extend_to_lta(
                data,
                trust_roots=archive.trust_roots,
                timestamper=archive.timestamper,
                fetch_timeout=archive.fetch_timeout,
            )
            augmented = True
        except ServiceUnavailable:
            # the TSA (or a CRL/OCSP server) is down: nothing is stored yet, and the whole
            # ingest is refused so that it is run again later, rather than the document
            # being kept without its long-term form for want of a service
            raise
        except SigningError as exc:
            note_en = f"kept as received, not taken to B-LTA: {exc.en}"
            note_vi = f"lưu nguyên như khi nhận, chưa nâng lên B-LTA: {exc.vi}"
    elif fmt == "pdf" and report.signatures:
        note_en = "kept as received: no timestamp authority to take it to B-LTA"
        note_vi = "lưu nguyên như khi nhận: không có máy chủ dấu thời gian để nâng lên B-LTA"
    objects: list[tuple[str, int, str]] = []

    async def put(content: bytes, kind: str) -> str:
        obj = await asyncio.to_thread(archive.store.put_bytes, content)
        objects.append((obj.sha256, obj.size, kind))
        return obj.sha256

    original = await put(data, "original")
    stored = await put(final, "document") if augmented else original
    report_sha256 = await put(render_json([report]).encode("utf-8"), "report")
    report_html_sha256 = await put(render_html([report], "vi").encode("utf-8"), "report-html")
    evidence_sha256 = await put(_evidence_json(report.evidence), "evidence")
    fields = _document_fields(report)
    trace_sha256: str | None = None
    history: list[dict[str, str]] | None = None
    if given is not None:
        fields.update(given.fields)
        if given.edxml_trace is not None:
            trace_sha256 = await put(given.edxml_trace, "trail")
        if given.status_history:
            history = [_status_json(change) for change in given.status_history]
    return _Prepared(
        name=name,
        original_sha256=original,
        sha256=stored,
        size=len(final),
        media_type=MEDIA_TYPES.get(fmt, "application/octet-stream"),
        report=report,
        report_sha256=report_sha256,
        report_html_sha256=report_html_sha256,
        evidence_sha256=evidence_sha256,
        augmented=augmented,
        note_en=note_en,
        note_vi=note_vi,
        fields=fields,
        trace_sha256=trace_sha256,
        status_history=history,
        objects=tuple(objects),
    )


def _status_json(change: StatusChange) -> dict[str, str]:
    if change.time.tzinfo is None:
        raise UsageError(
            f"status {change.code}: its time has no time zone",
            f"trạng thái {change.code}: thời điểm không có múi giờ",
        )
    return {
        "code": change.code,
        "time": change.time.astimezone(UTC).isoformat(),
        "organ": change.organ,
        "description": change.description,
    }


def status_changes(history: Sequence[Mapping[str, str]] | None) -> tuple[StatusChange, ...]:
    """The status history a document was catalogued with, oldest first."""
    changes = [
        StatusChange(
            code=str(item["code"]),
            time=datetime.fromisoformat(str(item["time"])),
            organ=str(item.get("organ", "")),
            description=str(item.get("description", "")),
        )
        for item in history or ()
    ]
    return tuple(sorted(changes, key=lambda c: c.time))


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UsageError(
                f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MiB",
                f"{path.name} lớn hơn {MAX_FILE_BYTES // 2**20} MiB",
            )
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise InputMissing(f"{path} does not exist", f"không có tệp {path}") from exc
    except IsADirectoryError as exc:
        raise UsageError(f"{path} is a folder", f"{path} là thư mục") from exc
    except OSError as exc:
        raise UsageError(
            f"{path} cannot be read: {exc.strerror}", f"không đọc được {path}: {exc.strerror}"
        ) from exc


def _evidence_json(evidence: Evidence) -> bytes:
    groups = {
        "certificates": evidence.certificates,
        "crls": evidence.crls,
        "ocsp_responses": evidence.ocsp_responses,
        "timestamp_tokens": evidence.timestamp_tokens,
    }
    body = {
        name: [base64.b64encode(der).decode() for der in items] for name, items in groups.items()
    }
    return json.dumps(body, indent=2).encode("utf-8")


def _indication(report: DocumentReport) -> str:
    return str(report_json(report)["indication"])


def _legal(report: DocumentReport) -> str | None:
    legal = report_json(report).get("legal")
    if isinstance(legal, Mapping):
        value = legal.get("verdict") or legal.get("status")
        return None if value is None else str(value)
    return None


def _document_fields(report: DocumentReport) -> dict[str, Any]:
    """EAD_doc fields known from the document itself: the first signature's time as the
    issue date (the clerk's metadata, when the exchange room hands a dossier in, replaces
    it)."""
    issued: date | None = None
    for sig in report.signatures:
        when = getattr(sig, "signing_time", None) or getattr(sig, "claimed_time", None)
        if isinstance(when, datetime):
            issued = when.date()
            break
    return {
        "typeName": "32",
        "issuedDate": (issued or datetime.now(UTC).date()).strftime("%d/%m/%Y"),
        "confidenceLevel": "01",
        "process": "1",
    }


def _ingest_events(
    archive: Archive, dossier_id: int, doc: ArchivedDocument, item: _Prepared, now: datetime
) -> list[ArchiveEvent]:
    indication = doc.indication
    events = [
        ArchiveEvent(
            dossier_id=dossier_id,
            document_id=doc.id,
            at=now,
            type="ingestion",
            outcome="success",
            detail=f"{doc.name}: SHA-256 {doc.sha256}, {doc.size} bytes",
            agent=archive.agent,
        ),
        ArchiveEvent(
            dossier_id=dossier_id,
            document_id=doc.id,
            at=now,
            type="validation",
            outcome="success" if indication == "TOTAL-PASSED" else "warning",
            detail=f"{doc.name}: {indication}" + (f", legal {doc.legal}" if doc.legal else ""),
            agent=archive.agent,
        ),
    ]
    if item.augmented or item.note_en:
        events.append(
            ArchiveEvent(
                dossier_id=dossier_id,
                document_id=doc.id,
                at=now,
                type="migration",
                outcome="success" if item.augmented else "warning",
                detail=(
                    f"{doc.name}: taken to PAdES B-LTA (from SHA-256 {item.original_sha256})"
                    if item.augmented
                    else f"{doc.name}: {item.note_en}"
                ),
                agent=archive.agent,
            )
        )
    return events


# -- retention ------------------------------------------------------------------------------


def retention_ends(dossier: Dossier) -> date | None:
    """When the dossier's retention period ends (from the year its last document came in,
    Law 33/2024 Art. 15(3)); None: permanent or not fixed."""
    years = RETENTION_YEARS.get(dossier.maintenance)
    if years is None:
        return None
    return date(dossier.created_at.year + years + 1, 1, 1)


@dataclass(frozen=True, slots=True)
class DossierSummary:
    code: str
    title: str
    documents: int
    sealed: int
    maintenance: str
    retention_ends: date | None
    disposed_at: datetime | None
    events: tuple[tuple[datetime, str, str, str], ...] = field(default=())


async def dossier_summary(archive: Archive, code: str) -> DossierSummary:
    async with archive.transaction() as session:
        row = await dossier_row(session, code)
        docs = list(
            await session.scalars(
                select(ArchivedDocument).where(
                    ArchivedDocument.dossier_id == row.id, ArchivedDocument.role == "document"
                )
            )
        )
        events = list(
            await session.scalars(
                select(ArchiveEvent)
                .where(ArchiveEvent.dossier_id == row.id)
                .order_by(ArchiveEvent.id)
            )
        )
    return DossierSummary(
        code=row.code,
        title=row.title,
        documents=len(docs),
        sealed=sum(1 for d in docs if d.sealed),
        maintenance=row.maintenance,
        retention_ends=retention_ends(row),
        disposed_at=row.disposed_at,
        events=tuple((e.at, e.type, e.outcome, e.detail) for e in events),
    )


async def dossier_row(session: AsyncSession, code: str) -> Dossier:
    """The catalog's row of the dossier ``code`` (:class:`UsageError` when unknown)."""
    row = await session.scalar(select(Dossier).where(Dossier.code == code))
    if row is None:
        raise UsageError(f"no dossier {code} in the archive", f"không có hồ sơ {code} trong kho")
    return row


# -- sealing --------------------------------------------------------------------------------

SEAL_BATCH = 100_000
"""Documents under one archive timestamp (the issue asks at least 50,000 a call)."""


@dataclass(frozen=True, slots=True)
class SealResult:
    stamps: int
    documents: int
    damaged: tuple[str, ...]
    """Documents left unsealed because neither copy matched their digest (named
    ``CODE/NAME``); the audit reports them too."""


def _timestamper(archive: Archive) -> TimeStamper:
    if archive.timestamper is None:
        raise UsageError(
            "no timestamp authority is configured for archive timestamps",
            "chưa cấu hình máy chủ dấu thời gian cho dấu thời gian lưu trữ",
            needs="timestamp_authority",
        )
    return archive.timestamper


SEAL_PAGE = 5_000
"""Unsealed documents are read from the catalog this many at a time (memory stays flat)."""

VERIFY_CHUNK = 1_000
"""Documents read back and checked per worker-thread hand-off while sealing."""


async def seal(
    archive: Archive, *, batch: int = SEAL_BATCH, progress: Progress | None = None
) -> SealResult:
    """Seal every kept document not sealed yet: each batch of up to ``batch`` documents is
    read back from the store (streamed, its digest checked), put in one hash tree, and the
    root timestamped once. Killed half-way, a batch is either sealed entirely or not at all;
    running again seals what is left.

    Memory stays flat in the number of documents: the catalog is read a page at a time, and
    a batch keeps only its leaves (32 bytes each) and the documents' ids (8 bytes each)."""
    timestamper = _timestamper(archive)
    if archive.algorithm != "sha256":
        raise UsageError(
            "documents are sealed under SHA-256; a newer algorithm comes by hash-tree renewal",
            "văn bản được niêm phong với SHA-256; thuật toán mới hơn đến qua gia hạn cây băm",
        )
    stamps = documents = total = 0
    if progress is not None:
        async with archive.transaction() as session:
            total = int(
                await session.scalar(
                    select(func.count()).where(
                        ArchivedDocument.sealed.is_(False), ArchivedDocument.state == "kept"
                    )
                )
                or 0
            )
    damaged: list[int] = []
    skip: set[int] = set()
    last = 0
    exhausted = False
    while not exhausted:
        leaves = bytearray()
        ids = array("q")
        records = 0  # of them, composition records (not counted as documents)
        while len(ids) < batch:
            async with archive.transaction() as session:
                page = (
                    await session.execute(
                        select(
                            ArchivedDocument.id,
                            ArchivedDocument.sha256,
                            ArchivedDocument.role == "composition",
                        )
                        .where(
                            ArchivedDocument.sealed.is_(False),
                            ArchivedDocument.state == "kept",
                            ArchivedDocument.id > last,
                        )
                        .order_by(ArchivedDocument.id)
                        .limit(min(SEAL_PAGE, batch - len(ids)))
                    )
                ).all()
            if not page:
                exhausted = True
                break
            last = page[-1][0]
            todo = [(i, sha, record) for i, sha, record in page if i not in skip]
            for start in range(0, len(todo), VERIFY_CHUNK):
                chunk = todo[start : start + VERIFY_CHUNK]
                good = await asyncio.to_thread(archive.store.verify_many, [s for _, s, _ in chunk])
                for (doc_id, sha, record), ok in zip(chunk, good, strict=True):
                    if ok:
                        leaves += bytes.fromhex(sha)
                        ids.append(doc_id)
                        records += bool(record)
                    else:
                        damaged.append(doc_id)
                        skip.add(doc_id)
                if progress is not None:
                    progress(documents + len(ids) + len(damaged), max(total, 1))
        if not ids:
            break
        await _stamp(archive, timestamper, "seal", leaves, _Positions(ids))
        stamps += 1
        documents += len(ids) - records
    return SealResult(
        stamps=stamps, documents=documents, damaged=tuple(await _names(archive, damaged))
    )


class _Positions(Sequence[tuple[int, int]]):
    """``(document_id, leaf)`` of a seal, made when asked: leaf ``n`` is the ``n``-th id."""

    def __init__(self, ids: array[int]) -> None:
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> tuple[int, int]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[int, int]]: ...

    def __getitem__(self, index: int | slice) -> tuple[int, int] | list[tuple[int, int]]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self.ids))
            return [(self.ids[n], n) for n in range(start, stop, step)]
        n = index if index >= 0 else len(self.ids) + index
        return (self.ids[n], n)


async def _names(archive: Archive, document_ids: Sequence[int]) -> list[str]:
    """``CODE/ID`` of each document (for the seal's report of damaged ones)."""
    if not document_ids:
        return []
    async with archive.transaction() as session:
        codes = dict(
            (
                await session.execute(
                    select(ArchivedDocument.id, Dossier.code)
                    .join(Dossier, Dossier.id == ArchivedDocument.dossier_id)
                    .where(ArchivedDocument.id.in_(list(document_ids)))
                )
            ).all()
        )
    return [f"{codes.get(i, '?')}/{i}" for i in document_ids]


LINK_CHUNK = 5_000
"""A seal's links are inserted this many rows a statement."""


async def _stamp(
    archive: Archive,
    timestamper: TimeStamper,
    kind: str,
    leaves: bytes | bytearray,
    links: Sequence[tuple[int, int]],
    *,
    algorithm: str = "sha256",
    outlive: datetime | None = None,
) -> ArchiveStamp:
    """One archive timestamp over the tree of ``leaves``, catalogued with a link per covered
    document (``(document_id, leaf)``), in one transaction after the timestamp call."""
    size = digest_size(algorithm)
    tree = HashTree.build(
        (bytes(leaves[i : i + size]) for i in range(0, len(leaves), size)), algorithm
    )
    token = await timestamper.async_timestamp(tree.root, algorithm)
    der = bytes(token.dump())
    fact = facts(der)
    if fact.imprint != tree.root:
        raise EvidenceInvalid(
            "the timestamp authority answered for other data",
            "máy chủ dấu thời gian trả lời cho dữ liệu khác",
        )
    leaves_obj = await asyncio.to_thread(archive.store.put_bytes, bytes(leaves))
    now = datetime.now(UTC)
    async with archive.transaction() as session:
        await _record_objects(session, [(leaves_obj.sha256, leaves_obj.size, "tree")], now)
        stamp = ArchiveStamp(
            kind=kind,
            algorithm=algorithm,
            root=tree.root.hex(),
            token=der,
            gen_time=fact.gen_time,
            tsa_not_after=fact.tsa_not_after,
            leaves=len(tree),
            leaves_sha256=leaves_obj.sha256,
            created_at=now,
        )
        session.add(stamp)
        await session.flush()
        connection = await session.connection()
        table = cast(Table, StampLink.__table__)
        for start in range(0, len(links), LINK_CHUNK):
            # Core executemany, not the ORM's bulk path: a seal inserts 100,000 links
            await connection.execute(
                insert(table),
                [
                    {"document_id": d, "stamp_id": stamp.id, "leaf": leaf}
                    for d, leaf in links[start : start + LINK_CHUNK]
                ],
            )
        if kind == "seal":
            # one statement marks every document this timestamp covers (by its links, not
            # by a list of ids sent again)
            marked = await session.execute(
                update(ArchivedDocument)
                .where(
                    ArchivedDocument.id.in_(
                        select(StampLink.document_id).where(StampLink.stamp_id == stamp.id)
                    ),
                    ArchivedDocument.sealed.is_(False),
                )
                .values(sealed=True)
                .execution_options(synchronize_session=False)
            )
            if marked.rowcount != len(links):  # type: ignore[attr-defined]
                # another seal (the worker's, or a second command) sealed some of them
                # meanwhile: this one is rolled back whole, its timestamp unused, so each
                # document keeps exactly one seal; running again seals what is left
                raise UsageError(
                    "another seal ran at the same time; run lienthong archive seal again",
                    "một lần niêm phong khác chạy cùng lúc; hãy chạy lại lienthong archive seal",
                )
        helps = outlive is None or fact.tsa_not_after > outlive
        await _stamp_events(session, archive, stamp, now, helps=helps)
    return stamp


EVENT_TYPES = {"seal": "seal", "timestamp": "timestamp renewal", "hashtree": "hash-tree renewal"}


async def _stamp_events(
    session: AsyncSession,
    archive: Archive,
    stamp: ArchiveStamp,
    now: datetime,
    *,
    helps: bool = True,
) -> None:
    """One event per dossier the archive timestamp covers. ``helps=False``: a timestamp
    renewal by a TSA whose certificate expires no later than the renewed one's (it must be
    renewed again as soon: a warning)."""
    counts = dict(
        (
            await session.execute(
                select(ArchivedDocument.dossier_id, func.count())
                .join(StampLink, StampLink.document_id == ArchivedDocument.id)
                .where(StampLink.stamp_id == stamp.id, ArchivedDocument.role == "document")
                .group_by(ArchivedDocument.dossier_id)
            )
        ).all()
    )
    for dossier_id, n in counts.items():
        session.add(
            ArchiveEvent(
                dossier_id=dossier_id,
                at=now,
                type=EVENT_TYPES[stamp.kind],
                outcome="success" if helps else "warning",
                detail=(
                    f"{n} document(s) under archive timestamp {stamp.id} "
                    f"({stamp.algorithm}, {stamp.leaves} leaves, "
                    f"{stamp.gen_time.isoformat()}, root {stamp.root})"
                    + (
                        ""
                        if helps
                        else "; its TSA certificate expires no later than the renewed one's: "
                        "renew again with another TSA"
                    )
                ),
                agent=archive.agent,
            )
        )


# -- evidence records -----------------------------------------------------------------------


class TreeCache:
    """The hash trees of archive timestamps, rebuilt from their stored leaves once each."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._trees: dict[int, HashTree] = {}

    async def of(self, stamp: ArchiveStamp) -> HashTree:
        tree = self._trees.get(stamp.id)
        if tree is None:
            data = await asyncio.to_thread(_read_all, self.archive.store, stamp.leaves_sha256)
            size = digest_size(stamp.algorithm)
            tree = HashTree.build(
                (data[i : i + size] for i in range(0, len(data), size)), stamp.algorithm
            )
            if tree.root.hex() != stamp.root:
                raise EvidenceInvalid(
                    f"the leaves of archive timestamp {stamp.id} do not lead to its root",
                    f"các lá của dấu thời gian lưu trữ {stamp.id} không dẫn tới gốc của nó",
                )
            self._trees[stamp.id] = tree
        return tree


def _read_all(store: TwoCopyStore, sha256: str) -> bytes:
    with store.open(sha256) as handle:
        return handle.read()


async def _parts(session: AsyncSession, trees: TreeCache, document_id: int) -> list[Part]:
    rows = (
        await session.execute(
            select(ArchiveStamp, StampLink.leaf)
            .join(StampLink, StampLink.stamp_id == ArchiveStamp.id)
            .where(StampLink.document_id == document_id)
            .order_by(ArchiveStamp.id)
        )
    ).all()
    return [
        Part(kind=s.kind, algorithm=s.algorithm, token=s.token, tree=await trees.of(s), leaf=leaf)
        for s, leaf in rows
    ]


async def evidence_records(
    archive: Archive, document_ids: Sequence[int], trees: TreeCache | None = None
) -> dict[int, bytes]:
    """The RFC 4998 EvidenceRecords (DER) of many documents, by id: one catalog query per
    thousand documents and each tree rebuilt once (what an export of a dossier needs). A
    document not sealed yet is left out."""
    trees = trees or TreeCache(archive)
    found: dict[int, list[Part]] = {}
    async with archive.transaction() as session:
        for start in range(0, len(document_ids), 1000):
            chunk = list(document_ids[start : start + 1000])
            rows = (
                await session.execute(
                    select(StampLink.document_id, ArchiveStamp, StampLink.leaf)
                    .join(StampLink, StampLink.stamp_id == ArchiveStamp.id)
                    .where(StampLink.document_id.in_(chunk))
                    .order_by(StampLink.document_id, ArchiveStamp.id)
                )
            ).all()
            for doc_id, stamp, leaf in rows:
                found.setdefault(doc_id, []).append(
                    Part(
                        kind=stamp.kind,
                        algorithm=stamp.algorithm,
                        token=stamp.token,
                        tree=await trees.of(stamp),
                        leaf=leaf,
                    )
                )
    return {doc_id: record_der(parts) for doc_id, parts in found.items()}


async def evidence_record(
    archive: Archive, document_id: int, trees: TreeCache | None = None
) -> bytes:
    """The document's RFC 4998 EvidenceRecord (DER), put together from the catalog."""
    trees = trees or TreeCache(archive)
    async with archive.transaction() as session:
        parts = await _parts(session, trees, document_id)
    if not parts:
        raise UsageError(
            "the document is not sealed yet (lienthong archive seal)",
            "văn bản chưa được niêm phong (lienthong archive seal)",
        )
    return record_der(parts)


# -- renewal --------------------------------------------------------------------------------

RENEWAL_MARGIN = timedelta(days=365)
"""Renew this long before a TSA certificate expires or an algorithm's sunset."""

ALGORITHM_SUNSETS: Mapping[str, date] = {
    "sha1": date(2011, 1, 1),
    "sha224": date(2031, 1, 1),
    "sha256": date(2040, 1, 1),
    "sha384": date(2050, 1, 1),
    "sha512": date(2050, 1, 1),
    "sha3_256": date(2050, 1, 1),
    "sha3_512": date(2060, 1, 1),
}
"""When each digest algorithm stops being trusted for archive timestamps (configurable;
TT 15/2025 names no dates, so these follow the usual long-term guidance: SHA-1 gone, SHA-224
with 112-bit security to 2030, SHA-256 kept under watch). A chain whose algorithm nears its
sunset is renewed by a new hash tree (``renewal_algorithm``)."""


@dataclass(frozen=True, slots=True)
class RenewalStep:
    kind: str
    """``timestamp`` or ``hashtree``."""
    stamps: tuple[int, ...]
    """The archive timestamps being renewed (the last of each covered chain)."""
    documents: int
    algorithm: str
    """The chain's algorithm (timestamp renewal) or the new one (hash-tree renewal)."""
    due: datetime
    en: str
    vi: str


async def plan_renewal(
    archive: Archive,
    *,
    now: datetime | None = None,
    margin: timedelta = RENEWAL_MARGIN,
    sunsets: Mapping[str, date] = ALGORITHM_SUNSETS,
    renewal_algorithm: str = "sha512",
) -> list[RenewalStep]:
    """What needs renewing at ``now``: the last archive timestamp of every document's record,
    judged by its TSA certificate's expiry and its algorithm's sunset."""
    now = now or datetime.now(UTC)
    async with archive.transaction() as session:
        last = await _last_stamps(session)
        stamps = {
            s.id: s
            for s in await session.scalars(
                select(ArchiveStamp).where(ArchiveStamp.id.in_(set(last.values())))
            )
        }
        records = set(
            await session.scalars(
                select(ArchivedDocument.id).where(ArchivedDocument.role == "composition")
            )
        )
    # every record is renewed (composition records too); the plan counts the documents
    by_stamp: dict[int, int] = {}
    for document_id, stamp_id in last.items():
        by_stamp[stamp_id] = by_stamp.get(stamp_id, 0) + (document_id not in records)
    hashtree: dict[str, list[int]] = {}
    timestamp: dict[str, list[int]] = {}
    due: dict[tuple[str, str], datetime] = {}
    for stamp_id in sorted(by_stamp):
        stamp = stamps[stamp_id]
        chain_algorithm = stamp.algorithm
        sunset = sunsets.get(chain_algorithm)
        sunset_at = (
            None if sunset is None else datetime(sunset.year, sunset.month, sunset.day, tzinfo=UTC)
        )
        if sunset_at is not None and sunset_at - margin <= now:
            hashtree.setdefault(chain_algorithm, []).append(stamp_id)
            key = ("hashtree", chain_algorithm)
            due[key] = min(due.get(key, sunset_at), sunset_at)
        elif stamp.tsa_not_after - margin <= now:
            timestamp.setdefault(chain_algorithm, []).append(stamp_id)
            key = ("timestamp", chain_algorithm)
            due[key] = min(due.get(key, stamp.tsa_not_after), stamp.tsa_not_after)
    steps = []
    for algorithm, ids in timestamp.items():
        n = sum(by_stamp[i] for i in ids)
        when = due[("timestamp", algorithm)]
        steps.append(
            RenewalStep(
                kind="timestamp",
                stamps=tuple(ids),
                documents=n,
                algorithm=algorithm,
                due=when,
                en=(
                    f"timestamp renewal of {len(ids)} archive timestamp(s) covering {n} "
                    f"document(s): the TSA certificate expires {when:%Y-%m-%d}"
                ),
                vi=(
                    f"gia hạn dấu thời gian cho {len(ids)} dấu thời gian lưu trữ, {n} văn bản: "
                    f"chứng thư của máy chủ dấu thời gian hết hạn ngày {when:%d/%m/%Y}"
                ),
            )
        )
    for algorithm, ids in hashtree.items():
        n = sum(by_stamp[i] for i in ids)
        when = due[("hashtree", algorithm)]
        steps.append(
            RenewalStep(
                kind="hashtree",
                stamps=tuple(ids),
                documents=n,
                algorithm=renewal_algorithm,
                due=when,
                en=(
                    f"hash-tree renewal of {n} document(s) from {algorithm} to "
                    f"{renewal_algorithm}: {algorithm} is trusted until {when:%Y-%m-%d}"
                ),
                vi=(
                    f"gia hạn cây băm cho {n} văn bản từ {algorithm} sang {renewal_algorithm}: "
                    f"{algorithm} chỉ được tin cậy đến ngày {when:%d/%m/%Y}"
                ),
            )
        )
    return steps


async def _last_stamps(session: AsyncSession) -> dict[int, int]:
    """Each sealed, kept document's latest archive timestamp."""
    rows = await session.execute(
        select(StampLink.document_id, func.max(StampLink.stamp_id))
        .join(ArchivedDocument, ArchivedDocument.id == StampLink.document_id)
        .where(ArchivedDocument.state == "kept")
        .group_by(StampLink.document_id)
    )
    return {document_id: stamp_id for document_id, stamp_id in rows}


async def renew(
    archive: Archive, steps: Sequence[RenewalStep], *, progress: Progress | None = None
) -> list[ArchiveStamp]:
    """Carry out ``steps`` (from :func:`plan_renewal`): one archive timestamp each."""
    timestamper = _timestamper(archive)
    made = []
    for step in steps:
        if step.kind == "timestamp":
            made.append(await _renew_timestamps(archive, timestamper, step))
        else:
            made.append(await _renew_hash_tree(archive, timestamper, step, progress))
    return made


async def _renew_timestamps(
    archive: Archive, timestamper: TimeStamper, step: RenewalStep
) -> ArchiveStamp:
    async with archive.transaction() as session:
        last = await _last_stamps(session)
        stamps = list(
            await session.scalars(
                select(ArchiveStamp)
                .where(ArchiveStamp.id.in_(step.stamps))
                .order_by(ArchiveStamp.id)
            )
        )
    index = {s.id: n for n, s in enumerate(stamps)}
    leaves = b"".join(token_leaf(s.token, step.algorithm) for s in stamps)
    links = [(doc, index[stamp_id]) for doc, stamp_id in last.items() if stamp_id in index]
    return await _stamp(
        archive,
        timestamper,
        "timestamp",
        leaves,
        links,
        algorithm=step.algorithm,
        outlive=max(s.tsa_not_after for s in stamps),
    )


async def _renew_hash_tree(
    archive: Archive, timestamper: TimeStamper, step: RenewalStep, progress: Progress | None
) -> ArchiveStamp:
    trees = TreeCache(archive)
    async with archive.transaction() as session:
        last = await _last_stamps(session)
        wanted = sorted(doc for doc, stamp_id in last.items() if stamp_id in step.stamps)
        shas = dict(
            (
                await session.execute(
                    select(ArchivedDocument.id, ArchivedDocument.sha256).where(
                        ArchivedDocument.id.in_(wanted)
                    )
                )
            ).all()
        )
    leaves = bytearray()
    links = []
    for n, doc in enumerate(wanted):
        async with archive.transaction() as session:
            parts = await _parts(session, trees, doc)
        digest = await asyncio.to_thread(_digest, archive.store, shas[doc], step.algorithm)
        leaves += renewal_leaf(parts, digest, step.algorithm)
        links.append((doc, n))
        if progress is not None:
            progress(n + 1, len(wanted))
    return await _stamp(archive, timestamper, "hashtree", leaves, links, algorithm=step.algorithm)


def _digest(store: TwoCopyStore, sha256: str, algorithm: str) -> bytes:
    with store.open(sha256) as handle:
        return digest_stream(handle, (algorithm,))[algorithm]


# -- fixity audit ---------------------------------------------------------------------------


async def audit(
    archive: Archive, *, repair: bool = True, progress: Callable[[int, int], None] | None = None
) -> AuditReport:
    """Re-hash both copies of every stored object against the catalog (streamed), repair a
    damaged copy from the good one, report what neither copy can give back; one event per
    dossier touched, and one for the whole audit."""
    async with archive.transaction() as session:
        objects = [
            StoredObject(sha256=sha, size=size)
            for sha, size in await session.execute(
                select(StoredItem.sha256, StoredItem.size).order_by(StoredItem.sha256)
            )
        ]
    report = await asyncio.to_thread(archive.store.audit, objects, repair=repair, progress=progress)
    now = datetime.now(UTC)
    async with archive.transaction() as session:
        touched: dict[int, list[str]] = {}
        for finding in report.findings:
            for dossier_id, name in await session.execute(
                select(ArchivedDocument.dossier_id, ArchivedDocument.name).where(
                    (ArchivedDocument.sha256 == finding.sha256)
                    | (ArchivedDocument.original_sha256 == finding.sha256)
                    | (ArchivedDocument.report_sha256 == finding.sha256)
                    | (ArchivedDocument.report_html_sha256 == finding.sha256)
                    | (ArchivedDocument.evidence_sha256 == finding.sha256)
                )
            ):
                touched.setdefault(dossier_id, []).append(
                    f"{name}: {finding.state.value} ({finding.en})"
                )
        for dossier_id, lines in touched.items():
            repaired = all("repaired" in line.split(":", 1)[1][:10] for line in lines)
            session.add(
                ArchiveEvent(
                    dossier_id=dossier_id,
                    at=now,
                    type="repair" if repaired else "fixity check",
                    outcome="success" if repaired else "failure",
                    detail="; ".join(lines),
                    agent=archive.agent,
                )
            )
        for (dossier_id,) in await session.execute(select(Dossier.id)):
            if dossier_id not in touched:
                session.add(
                    ArchiveEvent(
                        dossier_id=dossier_id,
                        at=now,
                        type="fixity check",
                        outcome="success",
                        detail=f"both copies match ({report.objects_checked} objects checked)",
                        agent=archive.agent,
                    )
                )
    return report


# -- disposal -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Disposal:
    dossier: str
    documents: int
    objects_deleted: int
    approved_by: str


async def dispose(
    archive: Archive, code: str, *, approved_by: str, now: datetime | None = None
) -> Disposal:
    """Dispose of the dossier ``code`` once its retention period has ended, on an
    archivist's approval: its documents' bytes are deleted from both copies (unless another
    kept document has the same bytes), their metadata, reports and the record of the disposal
    are kept (Law 33/2024 Art. 16; ND 113/2025 Art. 20)."""
    approved_by = approved_by.strip()
    if not approved_by:
        raise UsageError(
            "disposal needs the name of the archivist who approved it (--approved-by)",
            "hủy tài liệu cần tên người có thẩm quyền đã phê duyệt (--approved-by)",
            needs="approved_by",
        )
    now = now or datetime.now(UTC)
    async with archive.transaction() as session:
        row = await dossier_row(session, code)
        if row.disposed_at is not None:
            raise UsageError(
                f"dossier {code} was disposed of on {row.disposed_at:%Y-%m-%d}",
                f"hồ sơ {code} đã được hủy ngày {row.disposed_at:%d/%m/%Y}",
            )
        ends = retention_ends(row)
        if ends is None:
            raise UsageError(
                f"dossier {code} is kept permanently (maintenance {row.maintenance})",
                f"hồ sơ {code} được bảo quản vĩnh viễn (mã {row.maintenance}): không được hủy",
            )
        if now.date() < ends:
            raise UsageError(
                f"the retention of dossier {code} ends on {ends:%Y-%m-%d}",
                f"thời hạn bảo quản hồ sơ {code} đến ngày {ends:%d/%m/%Y}",
            )
        docs = list(
            await session.scalars(
                select(ArchivedDocument).where(
                    ArchivedDocument.dossier_id == row.id,
                    ArchivedDocument.state == "kept",
                    ArchivedDocument.role == "document",  # the composition records stay
                )
            )
        )
        candidates = {d.sha256 for d in docs} | {d.original_sha256 for d in docs}
        still_used = set(
            await session.scalars(
                select(ArchivedDocument.sha256).where(
                    ArchivedDocument.dossier_id != row.id,
                    ArchivedDocument.state == "kept",
                    ArchivedDocument.sha256.in_(candidates),
                )
            )
        ) | set(
            await session.scalars(
                select(ArchivedDocument.original_sha256).where(
                    ArchivedDocument.dossier_id != row.id,
                    ArchivedDocument.state == "kept",
                    ArchivedDocument.original_sha256.in_(candidates),
                )
            )
        )
        doomed = sorted(candidates - still_used)
        for doc in docs:
            doc.state = "disposed"
        row.disposed_at = now
        row.disposal_approved_by = approved_by
        await session.execute(delete(StoredItem).where(StoredItem.sha256.in_(doomed)))
        session.add(
            ArchiveEvent(
                dossier_id=row.id,
                at=now,
                type="deletion",
                outcome="success",
                detail=(
                    f"disposed of on the approval of {approved_by}: "
                    + "; ".join(f"{d.name} (SHA-256 {d.sha256}, {d.size} bytes)" for d in docs)
                ),
                agent=archive.agent,
            )
        )
        # the catalog says "disposed" before the bytes go: a crash between the two leaves
        # unnamed bytes (removed by the next disposal or found by the store), never a
        # catalogued document without its bytes
    deleted = 0
    async with archive.transaction() as session:
        await _objects_lock(session)
        # an ingest of the same bytes may have named them again since: those stay
        wanted = set(
            await session.scalars(select(StoredItem.sha256).where(StoredItem.sha256.in_(doomed)))
        )
        for sha in doomed:
            if sha not in wanted:
                await asyncio.to_thread(archive.store.delete, sha)
                deleted += 1
    return Disposal(
        dossier=row.code, documents=len(docs), objects_deleted=deleted, approved_by=approved_by
    )


async def last_audit(archive: Archive) -> datetime | None:
    """When the last fixity audit ran (None: never)."""
    async with archive.transaction() as session:
        return await session.scalar(
            select(func.max(ArchiveEvent.at)).where(
                ArchiveEvent.type.in_(("fixity check", "repair"))
            )
        )
