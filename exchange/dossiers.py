"""An agency's dossiers (hồ sơ, Decree 30 App. VI Part III): the clerk keeps the dossier
list, files outgoing and incoming documents into a dossier, and closes it into the archive.

Closing hands the archive, for each document filed (in the dossier's order): the files the
document's signed edXML package carries (the main document and its attachments, byte-exact as
signed), the package itself (``.edxml``, byte-exact), the document's App. VI metadata as TT 05
``EAD_doc`` fields, and its processing trail: the package's TraceHeaderList and the statuses
it went through; for an incoming document also the validation report and the evidence it
was judged on when it arrived. An incoming copy destroyed after a recall or a revocation is
handed over as what remains of it (its metadata, report, evidence and statuses), and the
result says so. The archive validates each file again, takes signed PDFs to B-LTA and keeps
everything twice; the dossier is closed here only once the archive holds all of it, so a
failure leaves it open and closing again is safe (the archive adds only what is new).
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from archive import (
    Archive,
    IngestResult,
    StatusChange,
    Submission,
    dossier_fields,
    ingest_submissions,
)
from exchange import audit
from exchange.accounts import Principal, Role
from exchange.db.delivery_models import DocumentStatus
from exchange.db.dossier_models import Dossier, DossierItem
from exchange.db.incoming_models import IncomingDocument, IncomingStatus
from exchange.db.models import Agency, Document
from exchange.edxml import Edoc, EdxmlError, parse_package
from exchange.errors import BadRequest, Conflict, NotFound
from exchange.service import Services

MAINTENANCE = {
    "01": "01",
    "vĩnh viễn": "01",
    "permanent": "01",
    "70 năm": "02",
    "50 năm": "03",
    "30 năm": "04",
    "20 năm": "05",
    "10 năm": "06",
}
"""App. VI ``Maintenance`` (text) to the TT 05 code (archive.md §12); the codes 01–07 and
"N năm" for the fixed periods are accepted as they are."""

RIGHTS = {"01": "01", "02": "02", "03": "03", "công khai": "01", "hạn chế": "02", "mật": "03"}
"""App. VI ``Rights`` to TT 05 ``mode``: 01 public, 02 conditional, 03 secret."""

LANGUAGES = {f"{n:02d}" for n in range(1, 12)} | {"vi", "en"}

_TYPE_LIST = (
    "Nghị quyết",
    "Quyết định",
    "Chỉ thị",
    "Quy chế",
    "Quy định",
    "Thông cáo",
    "Thông báo",
    "Hướng dẫn",
    "Chương trình",
    "Kế hoạch",
    "Phương án",
    "Đề án",
    "Dự án",
    "Báo cáo",
    "Tờ trình",
    "Giấy ủy quyền",
    "Phiếu gửi",
    "Phiếu chuyển",
    "Phiếu báo",
    "Biên bản",
    "Hợp đồng",
    "Công văn",
    "Công điện",
    "Bản ghi nhớ",
    "Bản thỏa thuận",
    "Giấy mời",
    "Giấy giới thiệu",
    "Giấy nghỉ phép",
    "Thư công",
    "Bản đồ",
    "Bản vẽ kỹ thuật",
)
TYPE_NAMES = {name.casefold(): f"{n:02d}" for n, name in enumerate(_TYPE_LIST, start=1)}
"""TT 05 §7 typeName codes by the Vietnamese name (32: any other)."""

_NOTATION = re.compile(r"^[0-9A-Za-zĐđ._-]{1,20}$")
_UNSAFE = re.compile(r"[^0-9A-Za-z._-]+")

_OUTGOING_STATES = ("issued", "revoked", "updated", "replaced")
_INCOMING_STATES = ("registered", "recalled", "revoked", "updated", "replaced")
"""Registered, or a later state: a copy destroyed after a recall or a revocation still goes
into a dossier (its metadata, validation report, evidence and statuses stay, Decree 30
Art. 18(4b)); a rejected package never does."""


@dataclass(frozen=True, slots=True)
class ItemView:
    ordinal: int
    kind: str
    """``outgoing`` or ``incoming``."""
    id: str
    """The document's public id."""
    code: str
    subject: str
    state: str


@dataclass(frozen=True, slots=True)
class DossierView:
    id: str
    code: str
    title: str
    maintenance: str
    rights: str
    language: str
    creator: str
    state: str
    created_at: datetime
    closed_at: datetime | None
    items: tuple[ItemView, ...] = ()


@dataclass(frozen=True, slots=True)
class Closed:
    dossier: DossierView
    archived: IngestResult
    destroyed: tuple[ItemView, ...] = ()
    """Incoming documents whose copy was destroyed after a recall or a revocation: only what
    remains of them (metadata, validation report, evidence, statuses) went to the archive."""


# -- the dossier list ------------------------------------------------------------------------


def _code_of(value: str, table: Mapping[str, str], what_en: str, what_vi: str) -> str:
    key = value.strip().casefold()
    if key in table:
        return table[key]
    raise BadRequest(
        f"Unknown {what_en}: {value!r} (one of: {', '.join(sorted(set(table)))}).",
        f"{what_vi} không hợp lệ: {value!r} (một trong: {', '.join(sorted(set(table)))}).",
    )


def maintenance_code(value: str) -> str:
    """The TT 05 maintenance code for an App. VI ``Maintenance`` given as code or text."""
    key = value.strip().casefold()
    if re.fullmatch(r"0[1-7]", key):
        return key
    return _code_of(value, MAINTENANCE, "retention period", "Thời hạn bảo quản")


async def create_dossier(
    session: AsyncSession,
    principal: Principal,
    *,
    notation: str,
    title: str,
    year: int | None = None,
    maintenance: str = "01",
    rights: str = "01",
    language: str = "01",
    creator: str = "",
    description: str = "",
) -> DossierView:
    """Open a dossier of the agency's list: its FileCode is OrganId.FileCatalog.FileNotation
    (App. VI), FileCatalog the year (default this year). ``notation`` may also be the whole
    FileCode (the agency's OrganId, the year, the notation)."""
    principal.require(Role.CLERK)
    notation = notation.strip()
    whole = re.fullmatch(re.escape(principal.organ_id) + r"\.(\d{4})\.(.+)", notation)
    if whole is not None:
        if year is not None and year != int(whole[1]):
            raise BadRequest(
                f"The code's year {whole[1]} is not the year given ({year}).",
                f"Năm trong mã hồ sơ ({whole[1]}) khác năm đã ghi ({year}).",
            )
        year, notation = int(whole[1]), whole[2]
    if not _NOTATION.match(notation):
        raise BadRequest(
            "FileNotation: 1-20 letters, digits, '.', '_' or '-'.",
            "FileNotation: 1-20 chữ cái, chữ số, '.', '_' hoặc '-'.",
        )
    title = title.strip()
    if not title or len(title) > 500:
        raise BadRequest("Title: 1-500 characters.", "Tiêu đề hồ sơ (Title): 1-500 ký tự.")
    catalog = year if year is not None else datetime.now(UTC).year
    if not 1900 <= catalog <= 9999:
        raise BadRequest("FileCatalog: a year (4 digits).", "FileCatalog: năm (4 chữ số).")
    lang = language.strip().lower()
    if lang not in LANGUAGES:
        raise BadRequest(
            f"Unknown language code {language!r} (01-11).",
            f"Mã ngôn ngữ không hợp lệ: {language!r} (01-11).",
        )
    lang = {"vi": "01", "en": "02"}.get(lang, lang)
    if len(creator) > 30 or len(description) > 500:
        raise BadRequest(
            "Creator: at most 30 characters; description: at most 500.",
            "Người lập hồ sơ (Creator): tối đa 30 ký tự; mô tả: tối đa 500.",
        )
    code = f"{principal.organ_id}.{catalog}.{notation}"
    taken = await session.scalar(
        select(Dossier.id).where(Dossier.agency_id == principal.agency_id, Dossier.code == code)
    )
    if taken is not None:
        raise Conflict(f"Dossier {code} already exists.", f"Hồ sơ {code} đã có.")
    now = datetime.now(UTC)
    row = Dossier(
        agency_id=principal.agency_id,
        code=code,
        file_catalog=catalog,
        file_notation=notation,
        title=title,
        maintenance=maintenance_code(maintenance),
        rights=_code_of(rights, RIGHTS, "rights", "Chế độ sử dụng"),
        language=lang,
        creator=creator.strip() or (principal.username or principal.actor.name)[:30],
        description=description.strip(),
        state="open",
        created_at=now,
        created_by=principal.actor.name,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        actor=principal.actor,
        action="dossier.create",
        agency=principal.organ_id,
        document=f"dossier:{row.public_id}",
        details={"code": code, "title": title[:200]},
        now=now,
    )
    return await _view(session, row)


async def _dossier(session: AsyncSession, principal: Principal, code: str) -> Dossier:
    row = await session.scalar(
        select(Dossier).where(
            Dossier.agency_id == principal.agency_id,
            (Dossier.code == code) | (Dossier.public_id == code),
        )
    )
    if row is None:
        raise NotFound(f"No dossier {code}.", f"Không có hồ sơ {code}.")
    return row


def _still_open(row: Dossier) -> None:
    if row.state != "open":
        raise Conflict(
            f"Dossier {row.code} is closed: it takes no change.",
            f"Hồ sơ {row.code} đã đóng: không thay đổi được nữa.",
        )


async def add_document(
    session: AsyncSession,
    principal: Principal,
    code: str,
    *,
    outgoing: str | None = None,
    incoming: str | None = None,
) -> DossierView:
    """File an issued outgoing document or a registered incoming one into the open dossier
    ``code`` (numbered next); the document is referred to, not copied."""
    principal.require(Role.CLERK)
    if (outgoing is None) == (incoming is None):
        raise BadRequest(
            "Name one document: an outgoing one or an incoming one.",
            "Chỉ rõ một văn bản: văn bản đi hoặc văn bản đến.",
        )
    row = await _dossier(session, principal, code)
    _still_open(row)
    document_id = incoming_id = None
    if outgoing is not None:
        doc = await session.scalar(
            select(Document).where(
                Document.public_id == outgoing, Document.agency_id == principal.agency_id
            )
        )
        if doc is None:
            raise NotFound("No such outgoing document.", "Không có văn bản đi này.")
        if doc.state not in _OUTGOING_STATES or doc.package_sha256 is None:
            raise Conflict(
                "Only an issued outgoing document (with its signed package) goes into a dossier.",
                "Chỉ văn bản đi đã ban hành (có gói tin đã ký) mới đưa vào hồ sơ.",
            )
        document_id = doc.id
        clash = DossierItem.document_id == doc.id
    else:
        got = await session.scalar(
            select(IncomingDocument).where(
                IncomingDocument.public_id == incoming,
                IncomingDocument.agency_id == principal.agency_id,
            )
        )
        if got is None:
            raise NotFound("No such incoming document.", "Không có văn bản đến này.")
        if got.state not in _INCOMING_STATES:
            raise Conflict(
                "Only a registered incoming document goes into a dossier (not a rejected one).",
                "Chỉ văn bản đến đã vào sổ mới đưa vào hồ sơ (không đưa văn bản bị từ chối).",
            )
        incoming_id = got.id
        clash = DossierItem.incoming_id == got.id
    if await session.scalar(select(DossierItem.id).where(DossierItem.dossier_id == row.id, clash)):
        raise Conflict(
            f"That document is in dossier {row.code} already.",
            f"Văn bản này đã có trong hồ sơ {row.code}.",
        )
    ordinal = 1 + (
        await session.scalar(
            select(func.coalesce(func.max(DossierItem.ordinal), 0)).where(
                DossierItem.dossier_id == row.id
            )
        )
        or 0
    )
    if ordinal > 999:
        raise Conflict(
            "A dossier holds at most 999 documents (DocOrdinal N3).",
            "Một hồ sơ có tối đa 999 văn bản (DocOrdinal N3).",
        )
    now = datetime.now(UTC)
    session.add(
        DossierItem(
            dossier_id=row.id,
            ordinal=ordinal,
            document_id=document_id,
            incoming_id=incoming_id,
            added_at=now,
            added_by=principal.actor.name,
        )
    )
    await session.flush()
    await audit.record(
        session,
        actor=principal.actor,
        action="dossier.add",
        agency=principal.organ_id,
        document=f"dossier:{row.public_id}",
        details={"ordinal": ordinal, "outgoing": outgoing, "incoming": incoming},
        now=now,
    )
    return await _view(session, row)


async def remove_document(
    session: AsyncSession, principal: Principal, code: str, ordinal: int
) -> DossierView:
    """Take the document numbered ``ordinal`` out of the open dossier (the others keep their
    numbers)."""
    principal.require(Role.CLERK)
    row = await _dossier(session, principal, code)
    _still_open(row)
    item = await session.scalar(
        select(DossierItem).where(DossierItem.dossier_id == row.id, DossierItem.ordinal == ordinal)
    )
    if item is None:
        raise NotFound(
            f"Dossier {row.code} has no document {ordinal}.",
            f"Hồ sơ {row.code} không có văn bản số {ordinal}.",
        )
    await session.delete(item)
    await session.flush()
    await audit.record(
        session,
        actor=principal.actor,
        action="dossier.remove",
        agency=principal.organ_id,
        document=f"dossier:{row.public_id}",
        details={"ordinal": ordinal},
    )
    return await _view(session, row)


async def list_dossiers(session: AsyncSession, principal: Principal) -> list[DossierView]:
    principal.require(Role.CLERK, Role.ARCHIVIST, Role.SIGNER)
    rows = await session.scalars(
        select(Dossier).where(Dossier.agency_id == principal.agency_id).order_by(Dossier.code)
    )
    return [await _view(session, row, items=False) for row in rows]


async def show_dossier(session: AsyncSession, principal: Principal, code: str) -> DossierView:
    principal.require(Role.CLERK, Role.ARCHIVIST, Role.SIGNER)
    return await _view(session, await _dossier(session, principal, code))


async def _filed(
    session: AsyncSession, dossier_id: int
) -> list[tuple[DossierItem, Document | None, IncomingDocument | None]]:
    """The dossier's items in order, each with its outgoing or incoming document."""
    rows = await session.execute(
        select(DossierItem, Document, IncomingDocument)
        .outerjoin(Document, Document.id == DossierItem.document_id)
        .outerjoin(IncomingDocument, IncomingDocument.id == DossierItem.incoming_id)
        .where(DossierItem.dossier_id == dossier_id)
        .order_by(DossierItem.ordinal)
    )
    return [(item, doc, got) for item, doc, got in rows]


async def _view(session: AsyncSession, row: Dossier, *, items: bool = True) -> DossierView:
    listed: list[ItemView] = []
    if items:
        for item, doc, got in await _filed(session, row.id):
            if doc is not None:
                meta = json.loads(doc.metadata_json)
                number = meta.get("code_number")
                code = f"{number}/{meta.get('code_notation', '')}" if number else ""
                listed.append(
                    ItemView(
                        item.ordinal, "outgoing", doc.public_id, code, meta["subject"], doc.state
                    )
                )
            elif got is not None:
                listed.append(
                    ItemView(
                        item.ordinal, "incoming", got.public_id, got.code, got.subject, got.state
                    )
                )
    return DossierView(
        id=row.public_id,
        code=row.code,
        title=row.title,
        maintenance=row.maintenance,
        rights=row.rights,
        language=row.language,
        creator=row.creator,
        state=row.state,
        created_at=row.created_at,
        closed_at=row.closed_at,
        items=tuple(listed),
    )


# -- closing into the archive ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Gathered:
    row_id: int
    items: tuple[int, ...]
    code: str
    title: str
    fields: dict[str, Any]
    submissions: tuple[Submission, ...]
    destroyed: tuple[int, ...]


async def closable(svc: Services, principal: Principal, code: str) -> DossierView:
    """The dossier ``code`` if it can be closed (it exists and holds documents): checked
    before the archive is opened, so a refusal costs nothing."""
    principal.require(Role.CLERK)
    async with svc.transaction(read_only=True) as session:
        row = await _dossier(session, principal, code)
        view = await _view(session, row)
        if row.state == "open" and not view.items:
            raise _empty(row.code)
    return view


def _empty(code: str) -> Conflict:
    return Conflict(
        f"Dossier {code} holds no document: nothing to archive.",
        f"Hồ sơ {code} chưa có văn bản nào: không có gì để nộp lưu.",
    )


async def close_dossier(svc: Services, principal: Principal, code: str, archive: Archive) -> Closed:
    """Hand the dossier to the archive (everything it holds, see the module's text) and close
    it once the archive has all of it. An archive error leaves the dossier open."""
    principal.require(Role.CLERK)
    gathered = await _gather(svc, principal, code)
    result = await ingest_submissions(
        archive,
        gathered.submissions,
        dossier=gathered.code,
        title=gathered.title,
        fields=gathered.fields,
    )
    async with svc.transaction() as session:
        row = await _dossier(session, principal, code)
        if row.state == "closed":
            view = await _view(session, row)
            return Closed(view, result, _picked(view, gathered.destroyed))
        now_items = tuple(
            await session.scalars(
                select(DossierItem.id)
                .where(DossierItem.dossier_id == row.id)
                .order_by(DossierItem.ordinal)
            )
        )
        if now_items != gathered.items:
            raise Conflict(
                f"Dossier {row.code} changed while it was being archived: close it again.",
                f"Hồ sơ {row.code} thay đổi trong lúc nộp lưu: hãy đóng hồ sơ lại lần nữa.",
            )
        now = datetime.now(UTC)
        row.state, row.closed_at, row.closed_by = "closed", now, principal.actor.name
        await audit.record(
            session,
            actor=principal.actor,
            action="dossier.close",
            agency=principal.organ_id,
            document=f"dossier:{row.public_id}",
            details={
                "code": row.code,
                "files": len(result.documents),
                "destroyed": " ".join(str(n) for n in gathered.destroyed) or None,
            },
            now=now,
        )
        await session.flush()
        view = await _view(session, row)
        return Closed(view, result, _picked(view, gathered.destroyed))


def _picked(view: DossierView, ordinals: tuple[int, ...]) -> tuple[ItemView, ...]:
    return tuple(item for item in view.items if item.ordinal in ordinals)


@dataclass(frozen=True, slots=True)
class _Plan:
    ordinal: int
    package_sha256: str | None
    """None when the copy was destroyed (a recalled or revoked incoming document)."""
    history: tuple[StatusChange, ...]
    report_sha256: str | None = None
    """An incoming document's validation report (JSON) and evidence, as judged on arrival."""
    evidence_sha256: str | None = None
    remains: dict[str, Any] | None = None
    """A destroyed copy's EAD_doc fields, from the metadata kept."""
    stem: str = ""


async def _gather(svc: Services, principal: Principal, code: str) -> _Gathered:
    async with svc.transaction(read_only=True) as session:
        row = await _dossier(session, principal, code)
        agency = await session.get(Agency, principal.agency_id)
        organ_name = agency.name if agency else principal.organ_id
        pairs = await _filed(session, row.id)
        if not pairs:
            raise _empty(row.code)
        plans: list[_Plan] = []
        for item, doc, got in pairs:
            if doc is not None:
                if doc.package_sha256 is None:  # refused on add; a later change would be a bug
                    raise Conflict(
                        f"Document {item.ordinal} has no signed package.",
                        f"Văn bản số {item.ordinal} không có gói tin đã ký.",
                    )
                statuses = await session.scalars(
                    select(DocumentStatus)
                    .where(DocumentStatus.document_id == doc.id)
                    .order_by(DocumentStatus.stated_at)
                )
                history = tuple(
                    StatusChange(
                        code=s.status_code,
                        time=s.stated_at,
                        organ=s.recipient_organ_id,
                        description=s.description,
                    )
                    for s in statuses
                )
                plans.append(_Plan(item.ordinal, doc.package_sha256, history))
            elif got is not None:
                answers = await session.scalars(
                    select(IncomingStatus)
                    .where(IncomingStatus.incoming_id == got.id)
                    .order_by(IncomingStatus.created_at)
                )
                history = tuple(
                    StatusChange(
                        code=s.status_code,
                        time=s.created_at,
                        organ=principal.organ_id,
                        description=s.description,
                    )
                    for s in answers
                )
                number, _, notation = got.code.partition("/")
                plans.append(
                    _Plan(
                        item.ordinal,
                        None if got.destroyed_at is not None else got.package_sha256,
                        history,
                        report_sha256=got.report_sha256,
                        evidence_sha256=got.evidence_sha256,
                        remains={
                            "typeName": "32",
                            "codeNumber": number[:11],
                            "codeNotation": notation[:30],
                            "organName": got.sender_name[:200],
                            "subject": got.subject[:500],
                        },
                        stem=f"{item.ordinal:03d}-" + _safe(got.code.replace("/", "-")),
                    )
                )
        item_ids = tuple(item.id for item, _, _ in pairs)
        dossier = row
    submissions: list[Submission] = []
    dates: list[date] = []
    destroyed: list[int] = []
    for plan in plans:
        ordinal = plan.ordinal
        files: list[Submission] = []
        trace: bytes | None = None
        if plan.package_sha256 is not None:
            package = b"".join([chunk async for chunk in svc.blobs.read(plan.package_sha256)])
            edoc, trace = await asyncio.to_thread(_read_package, package, ordinal)
            if edoc.promulgation.date is not None:
                dates.append(edoc.promulgation.date)
            fields = _document_fields(edoc, organ_name)
            stem = f"{ordinal:03d}-" + _safe(f"{edoc.code.number}-{edoc.code.notation}")
            seen: set[str] = set()
            for n, attachment in enumerate(edoc.attachments):
                name = f"{ordinal:03d}-" + _safe(attachment.name)
                while name in seen:
                    name = f"{ordinal:03d}-{n}-" + _safe(attachment.name)
                seen.add(name)
                described = attachment.description[:500] or fields["subject"]
                files.append(
                    Submission(
                        name=name,
                        content=attachment.data,
                        fields=fields if n == 0 else {**fields, "subject": described},
                    )
                )
            files.append(Submission(name=f"{stem}.edxml", content=package, fields=fields))
        else:  # the copy destroyed: what remains of it
            destroyed.append(ordinal)
            assert plan.remains is not None  # noqa: S101 (only incoming copies are destroyed)
            fields, stem = plan.remains, plan.stem
        for suffix, sha, what in (
            (".report.json", plan.report_sha256, "Báo cáo kiểm tra khi nhận"),
            (".evidence.json", plan.evidence_sha256, "Chứng cứ kiểm tra khi nhận"),
        ):
            if sha is not None:
                files.append(
                    Submission(
                        name=stem + suffix,
                        content=b"".join([chunk async for chunk in svc.blobs.read(sha)]),
                        fields={**fields, "subject": f"{what}: {fields['subject']}"[:500]},
                    )
                )
        # the document's processing trail goes with its first file (the main document, or
        # the package when it carries none, or the report of a destroyed copy)
        first = files[0]
        files[0] = Submission(
            name=first.name,
            content=first.content,
            fields=first.fields,
            edxml_trace=trace,
            status_history=plan.history,
        )
        submissions.extend(files)
    extra: dict[str, Any] = {"totalDoc": len(plans)}
    if dates:
        extra["startDate"] = min(dates).strftime("%d/%m/%Y")
        extra["endDate"] = max(dates).strftime("%d/%m/%Y")
    description = dossier.creator + (f"; {dossier.description}" if dossier.description else "")
    fields = dossier_fields(
        title=dossier.title,
        maintenance=dossier.maintenance,
        mode=dossier.rights,
        language=dossier.language,
        description=description[:500],
        extra=extra,
    )
    return _Gathered(
        dossier.id,
        item_ids,
        dossier.code,
        dossier.title,
        fields,
        tuple(submissions),
        tuple(destroyed),
    )


def _read_package(data: bytes, ordinal: int) -> tuple[Edoc, bytes | None]:
    try:
        message = parse_package(data).message
    except EdxmlError as exc:
        raise Conflict(
            f"Document {ordinal}: its edXML package cannot be read: {exc.en}",
            f"Văn bản số {ordinal}: không đọc được gói tin edXML: {exc.vi}",
        ) from exc
    if not isinstance(message, Edoc):
        raise Conflict(
            f"Document {ordinal}: its package is not a document package.",
            f"Văn bản số {ordinal}: gói tin không phải gói văn bản.",
        )
    return message, _trace(data)


def _trace(data: bytes) -> bytes | None:
    """The package's TraceHeaderList as it travelled (the header comes before the payloads,
    so reading stops there); None when it has none."""
    events = etree.iterparse(
        io.BytesIO(data),
        events=("end",),
        tag="{*}TraceHeaderList",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    try:
        for _, element in events:
            return bytes(etree.tostring(element, encoding="UTF-8", xml_declaration=True))
    except etree.XMLSyntaxError:
        return None
    return None


def _document_fields(edoc: Edoc, organ_name: str) -> dict[str, Any]:
    issued = edoc.promulgation.date
    type_name = TYPE_NAMES.get(edoc.document_type.type_name.strip().casefold(), "32")
    fields: dict[str, Any] = {
        "typeName": type_name,
        "codeNumber": edoc.code.number[:11],
        "codeNotation": edoc.code.notation[:30],
        "organName": (edoc.from_.organ_name or organ_name)[:200],
        "subject": edoc.subject[:500],
    }
    if issued is not None:
        fields["issuedDate"] = issued.strftime("%d/%m/%Y")
    if edoc.signer.full_name:
        fields["autograph"] = edoc.signer.full_name[:2000]
    return fields


def _safe(name: str) -> str:
    cleaned = _UNSAFE.sub("_", name).strip("._") or "document"
    return cleaned[:200]


__all__ = [
    "Closed",
    "DossierView",
    "ItemView",
    "add_document",
    "closable",
    "close_dossier",
    "create_dossier",
    "list_dossiers",
    "maintenance_code",
    "remove_document",
    "show_dossier",
]
