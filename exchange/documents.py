"""Outgoing documents (flow 1), first step: the clerk's draft.

A draft is the main PDF, its separate attachments and its Decree 30 App. VI metadata, checked
here with the App. VI lengths (:class:`OutgoingMetadata`). The system adds the empty number
and date fields to the main PDF (``signing.add_text_fields``), so that they can be filled
after the personal signature without breaking it; the uploaded original is kept too.
Signing and issuing build on this in later steps.
"""

from __future__ import annotations

import asyncio
import base64
import json
import tempfile
import weakref
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from exchange import audit, directory, files, outbox, registers
from exchange.accounts import Principal, Role
from exchange.blobs import BlobStore
from exchange.db.models import (
    Agency,
    Document,
    DocumentAttachment,
    Register,
    SigningState,
    StoredFile,
    User,
)
from exchange.directory import AgencySpec, check_organ_id
from exchange.edxml import (
    Attachment,
    Bussiness,
    BussinessDocType,
    Code,
    DocumentType,
    DocumentUpdate,
    Edoc,
    Organ,
    OtherInfo,
    Priority,
    PromulgationInfo,
    Replacement,
    SignerInfo,
    StaffInfo,
    TraceHeader,
    TraceHeaderList,
    build_signed,
    document_id_for,
)
from exchange.errors import (
    BadRequest,
    Conflict,
    InputUnreadable,
    NotFound,
    PayloadTooLarge,
    SigningFailed,
)
from exchange.service import Services
from exchange.settings import AgencyConfig
from signing import (
    VIETNAM,
    Anchor,
    AppearanceSpec,
    Level,
    PadesSigner,
    PadesSpec,
    PinOptions,
    Profile,
    SigningError,
    add_text_fields,
    add_validation_data,
    decree30_date_parts,
    fill_text_fields,
    finish_pdf,
    load_certificates,
    open_key,
    prepare_pdf,
)

PDF_MAGIC = b"%PDF-"
SIGNATURE_VALUE_INVALID = "signing.signature_value_invalid"
"""The signing room's code for a signature value that does not match (two-phase)."""
MAX_ATTACHMENTS = 50


def _bad(field_name: str, en: str, vi: str) -> BadRequest:
    return BadRequest(f"{field_name}: {en}", f"{field_name}: {vi}", field=field_name)


def _text(record: Mapping[str, Any], key: str, name: str, longest: int, *, required: bool) -> str:
    value = record.get(key, "")
    if not isinstance(value, str):
        raise _bad(name, "must be text", "phải là chuỗi ký tự")
    value = value.strip()
    if required and not value:
        raise _bad(name, "is missing", "còn thiếu")
    if len(value) > longest:
        raise _bad(name, f"is longer than {longest} characters", f"dài quá {longest} ký tự")
    return value


def _amount(record: Mapping[str, Any], key: str, name: str) -> int | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 999:
        raise _bad(name, "must be a number from 1 to 999", "phải là số từ 1 đến 999")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMetadata:
    """The App. VI (Part II.I) metadata a clerk gives for an outgoing document; the system
    fills the rest (OrganId, FileCatalog, CodeNumber, IssuedDate, …) when it issues it."""

    register: str
    """The outgoing register that will number it."""
    type_name: str
    """TypeName (S100): Công văn, Quyết định, …"""
    code_notation: str
    """CodeNotation (S30), the ký hiệu after the number: ``SNV-VP``."""
    subject: str
    """Subject (S500), the trích yếu."""
    signer_position: str
    """SignerInfo/Position (S100)."""
    signer_full_name: str
    """SignerInfo/FullName (S50)."""
    recipients: tuple[str, ...]
    """To/OrganId of each recipient, in the directory."""
    priority: Priority = Priority.NORMAL
    """Priority (N1): 0 thường … 4 hỏa tốc hẹn giờ."""
    due_date: date | None = None
    """DueDate (D10)."""
    language: str = "vi"
    """Language (S30)."""
    page_amount: int | None = None
    """PageAmount (N3)."""
    issued_amount: int | None = None
    """IssuedAmount (N3)."""
    description: str = ""
    """Description (S500)."""

    FIELDS = (
        "register",
        "type_name",
        "code_notation",
        "subject",
        "signer_position",
        "signer_full_name",
        "recipients",
        "priority",
        "due_date",
        "language",
        "page_amount",
        "issued_amount",
        "description",
    )

    @classmethod
    def parse(cls, record: Mapping[str, Any]) -> OutgoingMetadata:
        unknown = sorted(set(record) - set(cls.FIELDS))
        if unknown:
            raise _bad(unknown[0], "is not a metadata field", "không phải trường siêu dữ liệu")
        notation = _text(record, "code_notation", "CodeNotation", 30, required=True)
        if "/" in notation or any(c.isspace() for c in notation):
            raise _bad(
                "CodeNotation",
                "may not contain '/' or spaces",
                "không được có '/' hay khoảng trắng",
            )
        recipients = record.get("recipients")
        if not isinstance(recipients, list) or not recipients:
            raise _bad("To", "at least one recipient is needed", "cần ít nhất một nơi nhận")
        organ_ids = tuple(check_organ_id(str(r), "To.OrganId") for r in recipients)
        if len(set(organ_ids)) != len(organ_ids):
            raise _bad("To", "a recipient is named twice", "một nơi nhận bị ghi hai lần")
        priority = record.get("priority", 0)
        try:
            level = Priority(priority)
        except ValueError:
            raise _bad("Priority", "must be 0 to 4", "phải từ 0 đến 4") from None
        due = record.get("due_date")
        due_date = None
        if due is not None:
            try:
                due_date = date.fromisoformat(str(due))
            except ValueError:
                raise _bad(
                    "DueDate", "must be a date (YYYY-MM-DD)", "phải là ngày (YYYY-MM-DD)"
                ) from None
        return cls(
            register=_text(record, "register", "register", 30, required=True),
            type_name=_text(record, "type_name", "TypeName", 100, required=True),
            code_notation=notation,
            subject=_text(record, "subject", "Subject", 500, required=True),
            signer_position=_text(
                record, "signer_position", "SignerInfo.Position", 100, required=True
            ),
            signer_full_name=_text(
                record, "signer_full_name", "SignerInfo.FullName", 50, required=True
            ),
            recipients=organ_ids,
            priority=level,
            due_date=due_date,
            language=_text(record, "language", "Language", 30, required=False) or "vi",
            page_amount=_amount(record, "page_amount", "PageAmount"),
            issued_amount=_amount(record, "issued_amount", "IssuedAmount"),
            description=_text(record, "description", "Description", 500, required=False),
        )

    def to_record(self) -> dict[str, Any]:
        return {
            "register": self.register,
            "type_name": self.type_name,
            "code_notation": self.code_notation,
            "subject": self.subject,
            "signer_position": self.signer_position,
            "signer_full_name": self.signer_full_name,
            "recipients": list(self.recipients),
            "priority": int(self.priority),
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "language": self.language,
            "page_amount": self.page_amount,
            "issued_amount": self.issued_amount,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Upload:
    """A file from the caller, read whole (bounded by the settings' upload limit)."""

    filename: str
    media_type: str
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentView:
    id: str
    """The public identifier (:mod:`exchange.ids`); files are named by theirs."""
    state: str
    metadata: dict[str, Any]
    main_file_id: str
    current_sha256: str
    package_sha256: str | None = None
    """The signed edXML package, once issued."""
    attachment_file_ids: list[str] = field(default_factory=list)
    created_at: datetime
    created_by: str
    change_type: int = 0
    """The package's ``BussinessDocType``: 0 new, 2 an update of ``supersedes``, 3 its
    replacement."""
    supersedes: str | None = None
    """The document this one updates or replaces."""
    superseded_by: str | None = None
    """The document that updated or replaced this one (its state says which)."""
    revoked_at: datetime | None = None
    """When the agency revoked this document (frozen since; the revocation was sent)."""


def _view(
    row: Document,
    main_file: str,
    attachments: Sequence[str],
    *,
    supersedes: str | None = None,
    superseded_by: str | None = None,
) -> DocumentView:
    return DocumentView(
        change_type=row.change_type or 0,
        supersedes=supersedes,
        superseded_by=superseded_by,
        revoked_at=row.revoked_at,
        id=row.public_id,
        state=row.state,
        metadata=json.loads(row.metadata_json),
        main_file_id=main_file,
        current_sha256=row.current_sha256,
        package_sha256=row.package_sha256,
        attachment_file_ids=list(attachments),
        created_at=row.created_at,
        created_by=row.created_by,
    )


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _with_fields(pdf: bytes) -> bytes:
    """The draft with its empty number and date fields (signing room)."""
    try:
        return add_text_fields(pdf)
    except SigningError as exc:
        raise InputUnreadable(exc.en, exc.vi) from exc


async def create_draft(
    session: AsyncSession,
    blobs: BlobStore,
    principal: Principal,
    *,
    metadata: OutgoingMetadata,
    main: Upload,
    attachments: Sequence[Upload] = (),
    max_size: int,
) -> DocumentView:
    """Check the draft, add its empty fields, store every file, then the rows."""
    register = await session.scalar(
        select(Register).where(
            Register.agency_id == principal.agency_id, Register.code == metadata.register
        )
    )
    if register is None:
        raise NotFound("No such register.", "Không có sổ này.")
    if register.kind != "outgoing":
        raise _bad("register", "is not an outgoing register", "không phải sổ văn bản đi")
    known = set(
        await session.scalars(
            select(Agency.organ_id).where(Agency.organ_id.in_(metadata.recipients))
        )
    )
    for organ_id in metadata.recipients:
        if organ_id not in known:
            raise _bad(
                "To.OrganId",
                f"{organ_id} is not in the agency directory",
                f"{organ_id} không có trong danh bạ cơ quan",
            )
    if len(attachments) > MAX_ATTACHMENTS:
        raise _bad("attachments", f"at most {MAX_ATTACHMENTS}", f"tối đa {MAX_ATTACHMENTS}")
    for upload in (main, *attachments):
        if len(upload.data) > max_size:
            raise PayloadTooLarge(
                f"{upload.filename} is larger than the {max_size} bytes allowed.",
                f"{upload.filename} lớn hơn mức cho phép ({max_size} byte).",
            )
    if not main.data.startswith(PDF_MAGIC):
        raise InputUnreadable(
            "The main document is not a PDF file.", "Văn bản chính không phải tệp PDF."
        )
    drafted = await asyncio.to_thread(_with_fields, main.data)
    # every blob is complete before any row names it
    draft_blob = await blobs.put_bytes(drafted)
    original = await files.store_file(
        session,
        blobs,
        principal,
        chunks=_one(main.data),
        filename=main.filename,
        media_type="application/pdf",
        max_size=max_size,
    )
    attached = [
        await files.store_file(
            session,
            blobs,
            principal,
            chunks=_one(upload.data),
            filename=upload.filename,
            media_type=upload.media_type,
            max_size=max_size,
        )
        for upload in attachments
    ]
    now = datetime.now(UTC)
    row = Document(
        agency_id=principal.agency_id,
        register_id=register.id,
        state="draft",
        metadata_json=json.dumps(metadata.to_record(), ensure_ascii=False),
        main_file_id=original.id,
        current_sha256=draft_blob.sha256,
        created_at=now,
        created_by=principal.actor.name,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    for ordinal, view in enumerate(attached, start=1):
        session.add(DocumentAttachment(document_id=row.id, file_id=view.id, ordinal=ordinal))
    await session.flush()
    await audit.record(
        session,
        actor=principal.actor,
        action="document.draft",
        agency=principal.organ_id,
        document=f"document:{row.public_id}",
        details={"subject": metadata.subject[:200], "attachments": len(attached)},
    )
    return _view(row, original.public_id, [a.public_id for a in attached])


async def _row(session: AsyncSession, principal: Principal, document_id: str) -> Document:
    row = await session.scalar(
        select(Document).where(
            Document.public_id == document_id, Document.agency_id == principal.agency_id
        )
    )
    if row is None:
        raise NotFound("No such document.", "Không có văn bản này.")
    return row


async def _full_view(session: AsyncSession, row: Document) -> DocumentView:
    """The view of ``row`` with its files named by their public identifiers."""
    main = await session.scalar(
        select(StoredFile.public_id).where(StoredFile.id == row.main_file_id)
    )
    attachments = await session.scalars(
        select(StoredFile.public_id)
        .join(DocumentAttachment, DocumentAttachment.file_id == StoredFile.id)
        .where(DocumentAttachment.document_id == row.id)
        .order_by(DocumentAttachment.ordinal)
    )
    supersedes = None
    if row.supersedes_id is not None:
        supersedes = await session.scalar(
            select(Document.public_id).where(Document.id == row.supersedes_id)
        )
    superseded_by = await session.scalar(
        select(Document.public_id)
        .where(Document.supersedes_id == row.id, Document.state != "draft")
        .order_by(Document.id.desc())
        .limit(1)
    )
    return _view(
        row,
        main or "",
        list(attachments),
        supersedes=supersedes,
        superseded_by=superseded_by if row.state in ("updated", "replaced") else None,
    )


async def get_document(
    session: AsyncSession, principal: Principal, document_id: str
) -> DocumentView:
    return await _full_view(session, await _row(session, principal, document_id))


async def list_documents(session: AsyncSession, principal: Principal) -> list[DocumentView]:
    rows = (
        await session.scalars(
            select(Document).where(Document.agency_id == principal.agency_id).order_by(Document.id)
        )
    ).all()
    return [await _full_view(session, r) for r in rows]


async def open_current(
    session: AsyncSession, blobs: BlobStore, principal: Principal, document_id: str
) -> AsyncIterator[bytes]:
    """The document's PDF as it stands now."""
    row = await _row(session, principal, document_id)
    await audit.record(
        session,
        actor=principal.actor,
        action="document.read",
        agency=principal.organ_id,
        document=f"document:{row.public_id}",
    )
    return blobs.read(row.current_sha256)


# -- the personal signature (server-side key) ----------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonalKey:
    """Where the signer's key is and how to log in to it (from the agency's configuration)."""

    reference: str
    """PKCS#11 URI or PKCS#12 file."""
    pin_env: str | None
    pin_file: str | None
    signature_png: bytes


def _personal_spec(
    image_png: bytes, meta: Mapping[str, Any], tsa_urls: tuple[str, ...]
) -> PadesSpec:
    return PadesSpec(
        level=Level.B_T if tsa_urls else Level.B_B,
        tsa_urls=tsa_urls,
        appearance=AppearanceSpec(
            profile=Profile.PERSONAL,
            image_png=image_png,
            placement=Anchor(text=meta["signer_full_name"], above=meta["signer_position"]),
        ),
    )


async def _sign_pdf(
    pdf: bytes, key: PersonalKey, meta: dict[str, Any], tsa_urls: tuple[str, ...]
) -> bytes:
    """The personal signature (``personal`` profile: the blue signature image centred between
    the signer's position and name, box 7c), by the signing room."""
    spec = _personal_spec(key.signature_png, meta, tsa_urls)
    pins = PinOptions(env=key.pin_env, file=Path(key.pin_file) if key.pin_file else None)
    try:
        async with open_key(key.reference, pins) as signer:
            signed, _ = await PadesSigner(signer, spec).sign_bytes(pdf)
    except SigningError as exc:
        raise SigningFailed(exc.en, exc.vi) from exc
    return signed


async def sign_personal(
    services: Services,
    principal: Principal,
    document_id: str,
    *,
    key: PersonalKey,
    tsa_urls: tuple[str, ...] = (),
) -> DocumentView:
    """Sign a draft with the signer's server-side key.

    The token is used outside any transaction (it may take seconds); the document is then
    moved to ``signed`` only if it is still the draft that was signed (another request may
    have signed it meanwhile: that one wins, this one is a conflict)."""
    async with services.transaction() as session:
        row = await _row(session, principal, document_id)
        if row.state != "draft":
            raise Conflict(
                "Only a draft can get the personal signature.",
                "Chỉ bản dự thảo mới được ký số cá nhân.",
            )
        draft_sha, meta = row.current_sha256, json.loads(row.metadata_json)
    pdf = await _read_blob(services.blobs, draft_sha)
    signed = await _sign_pdf(pdf, key, meta, tsa_urls)
    blob = await services.blobs.put_bytes(signed)
    async with services.transaction() as session:
        row = await _row(session, principal, document_id)
        if row.state != "draft" or row.current_sha256 != draft_sha:
            raise Conflict(
                "The document changed while it was being signed.",
                "Văn bản đã thay đổi trong lúc đang ký.",
            )
        row.state, row.current_sha256, row.updated_at = "signed", blob.sha256, datetime.now(UTC)
        await audit.record(
            session,
            actor=principal.actor,
            action="document.sign",
            agency=principal.organ_id,
            document=f"document:{row.public_id}",
            details={"sha256": blob.sha256, "key": "server"},
        )
        return await _full_view(session, row)


async def _read_blob(blobs: BlobStore, sha256: str) -> bytes:
    return b"".join([chunk async for chunk in blobs.read(sha256)])


def server_key(agencies: Mapping[str, AgencyConfig], principal: Principal) -> PersonalKey:
    """The caller's server-side key, from the node's configuration of their agency."""
    if principal.username is None:
        raise SigningFailed(
            "A personal signature is made by a person: log in as the signer.",
            "Chữ ký số cá nhân phải do người ký thực hiện: hãy đăng nhập bằng tài khoản người ký.",
        )
    config = agencies.get(principal.organ_id)
    entry = config.signers.get(principal.username) if config else None
    if entry is None:
        raise SigningFailed(
            f"No signing key on this node is configured for {principal.username}.",
            f"Nút này chưa cấu hình khóa ký cho {principal.username}.",
        )
    try:
        image = entry.signature_image.read_bytes()
    except OSError as exc:
        raise SigningFailed(
            f"The signature image of {principal.username} cannot be read.",
            f"Không đọc được hình chữ ký của {principal.username}.",
        ) from exc
    return PersonalKey(
        reference=entry.key,
        pin_env=entry.pin_env,
        pin_file=str(entry.pin_file) if entry.pin_file else None,
        signature_png=image,
    )


# -- the personal signature, two-phase (the key stays on the signer's machine) -------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningRequestView:
    """What the signer's own key must sign (phase one), and the state that phase two names."""

    document_id: str
    state_id: str
    """The signing request's public identifier: phase two names it."""
    digest_algorithm: str
    signature_algorithm: str
    to_be_signed: str
    """The DER of the CMS signed attributes, base64: for hash-and-sign APIs."""
    digest: str
    """Their digest, base64: for sign-a-digest APIs."""


def _person(principal: Principal) -> int:
    if principal.user_id is None or principal.username is None:
        raise SigningFailed(
            "A personal signature is made by a person: log in as the signer.",
            "Chữ ký số cá nhân phải do người ký thực hiện: hãy đăng nhập bằng tài khoản người ký.",
        )
    return principal.user_id


def signature_image_of(
    agencies: Mapping[str, AgencyConfig], principal: Principal, uploaded: bytes | None
) -> bytes:
    """The signature image for a two-phase signature: the one the signer uploads, otherwise
    the one configured for them on this node."""
    _person(principal)
    if uploaded:
        return uploaded
    config = agencies.get(principal.organ_id)
    entry = config.signers.get(principal.username or "") if config else None
    if entry is None:
        raise BadRequest(
            "The signer's signature image is missing (none given, none configured).",
            "Thiếu hình chữ ký của người ký (không gửi kèm, cũng không được cấu hình).",
            field="signature_image",
        )
    try:
        return entry.signature_image.read_bytes()
    except OSError as exc:
        raise SigningFailed(
            f"The signature image of {principal.username} cannot be read.",
            f"Không đọc được hình chữ ký của {principal.username}.",
        ) from exc


def _prepare_files(pdf: bytes, certificates: bytes, work: Path) -> tuple[Path, Any, list[Any]]:
    source, pem = work / "draft.pdf", work / "certificates.pem"
    source.write_bytes(pdf)
    pem.write_bytes(certificates)
    try:
        certs = load_certificates(pem)
    except SigningError as exc:
        raise InputUnreadable(
            "The signer's certificate holds no readable certificate.",
            "Chứng thư số của người ký không đọc được.",
        ) from exc
    return source, certs[0], certs[1:]


async def prepare_personal(
    services: Services,
    principal: Principal,
    document_id: str,
    *,
    certificates: bytes,
    signature_png: bytes | None,
    agencies: Mapping[str, AgencyConfig],
    tsa_urls: tuple[str, ...] = (),
) -> SigningRequestView:
    """Phase one: the draft with a reserved personal signature, and what the signer's key
    must sign (``signature_png``: the signer's image, else the one configured for them).
    The signing room's state file is stored as a blob and named by a row, with the
    draft it was made for, so that phase two can tell a draft changed meanwhile."""
    user_id = _person(principal)
    async with services.transaction(read_only=True) as session:
        row = await _row(session, principal, document_id)
        if row.state != "draft":
            raise Conflict(
                "Only a draft can get the personal signature.",
                "Chỉ bản dự thảo mới được ký số cá nhân.",
            )
        draft_sha, meta = row.current_sha256, json.loads(row.metadata_json)
    image = signature_image_of(agencies, principal, signature_png)
    pdf = await _read_blob(services.blobs, draft_sha)
    spec = _personal_spec(image, meta, tsa_urls)
    with tempfile.TemporaryDirectory(prefix="lienthong-prepare-") as name:
        work = Path(name)
        source, cert, chain = await asyncio.to_thread(_prepare_files, pdf, certificates, work)
        try:
            request = await prepare_pdf(source, work / "state.json", cert, chain, spec)
        except SigningError as exc:
            raise SigningFailed(exc.en, exc.vi) from exc
        state_blob = await services.blobs.put_bytes(request.state_path.read_bytes())
    async with services.transaction() as session:
        row = await _row(session, principal, document_id)
        if row.state != "draft" or row.current_sha256 != draft_sha:
            raise Conflict(
                "The document changed while it was being prepared for signing.",
                "Văn bản đã thay đổi trong lúc chuẩn bị ký.",
            )
        state = SigningState(
            document_id=row.id,
            agency_id=principal.agency_id,
            user_id=user_id,
            state_sha256=state_blob.sha256,
            draft_sha256=draft_sha,
            created_at=datetime.now(UTC),
        )
        session.add(state)
        await session.flush()
        await audit.record(
            session,
            actor=principal.actor,
            action="document.sign_prepare",
            agency=principal.organ_id,
            document=f"document:{row.public_id}",
            details={
                "state": state.public_id,
                "certificate": cert.subject.human_friendly[:200],
            },
        )
        return SigningRequestView(
            document_id=row.public_id,
            state_id=state.public_id,
            digest_algorithm=request.digest_algorithm,
            signature_algorithm=request.signature_algorithm,
            to_be_signed=base64.b64encode(request.to_be_signed).decode("ascii"),
            digest=base64.b64encode(request.digest).decode("ascii"),
        )


SIGNING_REQUEST_LIFETIME = timedelta(days=1)
"""How long phase one's request stays usable: the signing time it carries, and the
timestamp it will get, must not drift far apart."""


async def _usable_state(
    session: AsyncSession, principal: Principal, row: Document, state_id: str, user_id: int
) -> SigningState:
    state = await session.scalar(
        select(SigningState).where(
            SigningState.public_id == state_id,
            SigningState.document_id == row.id,
            SigningState.agency_id == principal.agency_id,
            SigningState.user_id == user_id,
        )
    )
    if state is None:
        raise NotFound("No such signing request.", "Không có yêu cầu ký này.")
    if state.finished_at is not None:
        raise Conflict("This signing request was already used.", "Yêu cầu ký này đã được sử dụng.")
    if datetime.now(UTC) - state.created_at > SIGNING_REQUEST_LIFETIME:
        raise Conflict(
            "This signing request has expired (older than a day): prepare it again.",
            "Yêu cầu ký này đã hết hạn (quá một ngày): hãy chuẩn bị ký lại.",
        )
    if row.state != "draft" or row.current_sha256 != state.draft_sha256:
        raise Conflict(
            "The draft changed since the signing request was made: prepare it again.",
            "Bản dự thảo đã thay đổi sau khi tạo yêu cầu ký: hãy chuẩn bị ký lại.",
        )
    return state


async def finish_personal(
    services: Services,
    principal: Principal,
    document_id: str,
    *,
    state_id: str,
    signature_value: bytes,
) -> DocumentView:
    """Phase two: embed the signature value (checked by the signing room against the
    certificate first) and move the draft to ``signed``, only if it is still the draft the
    request was prepared for and the request was not used yet."""
    user_id = _person(principal)
    async with services.transaction(read_only=True) as session:
        row = await _row(session, principal, document_id)
        state = await _usable_state(session, principal, row, state_id, user_id)
        state_sha = state.state_sha256
    state_file = await _read_blob(services.blobs, state_sha)
    with tempfile.TemporaryDirectory(prefix="lienthong-finish-") as name:
        work = Path(name)
        await asyncio.to_thread((work / "state.json").write_bytes, state_file)
        try:
            await finish_pdf(work / "state.json", signature_value, work / "signed.pdf")
        except SigningError as exc:
            if exc.code == SIGNATURE_VALUE_INVALID:  # the caller's value, not the service
                raise BadRequest(exc.en, exc.vi, field="signature") from exc
            raise SigningFailed(exc.en, exc.vi) from exc
        blob = await services.blobs.put_bytes((work / "signed.pdf").read_bytes())
    async with services.transaction() as session:
        row = await _row(session, principal, document_id)
        state = await _usable_state(session, principal, row, state_id, user_id)
        now = datetime.now(UTC)
        state.finished_at = now
        row.state, row.current_sha256, row.updated_at = "signed", blob.sha256, now
        await audit.record(
            session,
            actor=principal.actor,
            action="document.sign",
            agency=principal.organ_id,
            document=f"document:{row.public_id}",
            details={"sha256": blob.sha256, "key": "two-phase", "state": state.public_id},
        )
        return await _full_view(session, row)


# -- issuing: number and date, then the agency signature -----------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Seal:
    """The agency's key and seal image (from the agency's configuration)."""

    reference: str
    pin_env: str | None
    pin_file: str | None
    chain: str | None
    seal_png: bytes
    seal_diameter_mm: float


def seal_of(agencies: Mapping[str, AgencyConfig], principal: Principal) -> Seal:
    config = agencies.get(principal.organ_id)
    entry = config.seal if config else None
    if entry is None:
        raise SigningFailed(
            "No agency signing key is configured on this node for this agency.",
            "Nút này chưa cấu hình khóa ký số của cơ quan.",
        )
    try:
        image = entry.seal_image.read_bytes()
    except OSError as exc:
        raise SigningFailed(
            "The seal image cannot be read.", "Không đọc được hình con dấu."
        ) from exc
    return Seal(
        reference=entry.key,
        pin_env=entry.pin_env,
        pin_file=str(entry.pin_file) if entry.pin_file else None,
        chain=str(entry.chain) if entry.chain else None,
        seal_png=image,
        seal_diameter_mm=entry.seal_diameter_mm,
    )


async def _seal_all(
    main: bytes,
    attachments: Sequence[bytes],
    seal: Seal,
    number_text: str,
    tsa_urls: tuple[str, ...],
    package: Callable[[bytes, list[bytes]], Edoc],
) -> tuple[bytes, list[bytes], bytes]:
    """The agency signature at B-LT: the seal image on the main document, the number and the
    time top right of page 1 of every separate attachment (App. I items 8a, 8b); then the
    main document's validation data for every signature; then the edXML package of them all,
    signed (enveloped XMLDSig) by the same agency key."""
    main_spec = PadesSpec(
        level=Level.B_LT,
        tsa_urls=tsa_urls,
        appearance=AppearanceSpec(
            profile=Profile.AGENCY,
            image_png=seal.seal_png,
            seal_diameter_mm=seal.seal_diameter_mm,
        ),
    )
    attachment_spec = PadesSpec(
        level=Level.B_LT,
        tsa_urls=tsa_urls,
        appearance=AppearanceSpec(profile=Profile.ATTACHMENT, text_lines=(number_text,)),
    )
    pins = PinOptions(env=seal.pin_env, file=Path(seal.pin_file) if seal.pin_file else None)
    chain = Path(seal.chain) if seal.chain else None
    try:
        async with open_key(seal.reference, pins, chain=chain) as key:
            sealed, _ = await PadesSigner(key, main_spec).sign_bytes(main)
            # the personal signature's validation data too, so that the document as issued
            # verifies offline (a DSS-only update keeps both signatures valid)
            roots = [c for c in key.chain if c.self_signed != "no"]
            sealed = await add_validation_data(sealed, trust_roots=roots)
            sealed_attachments = [
                (await PadesSigner(key, attachment_spec).sign_bytes(data))[0]
                for data in attachments
            ]
            signed_package = await build_signed(package(sealed, sealed_attachments), key)
    except SigningError as exc:  # an EdxmlError is the exchange room's own already
        raise SigningFailed(exc.en, exc.vi) from exc
    return sealed, sealed_attachments, signed_package


async def issue(
    services: Services,
    principal: Principal,
    document_id: str,
    *,
    seal: Seal,
    tsa_urls: tuple[str, ...],
    now: datetime | None = None,
    change: Change | None = None,
) -> DocumentView:
    """Number, date and seal a signed document, in one transaction.

    With ``change``, the document updates or replaces an issued one (:class:`Change`): an
    update keeps that document's number, date and DocumentId (it is the same document,
    corrected), a replacement gets its own; the earlier document is marked ``updated`` or
    ``replaced`` in the same commit, and the package says so (``Bussiness``).

    The number is taken from the register (its row locked) and used for the filled fields
    and the attachments' seal text before anything is committed; the document becomes
    ``issued`` in the same commit. A failure anywhere (the timestamp authority, the token,
    the process killed) rolls the number back: no hole in the register, no half-issued
    document. Issues of one register therefore take turns; in this process they wait for
    their turn before taking a database connection (:func:`_turn_of`).
    """
    if not tsa_urls:
        raise SigningFailed(
            "The agency signature is made at B-LT, which needs a timestamp authority.",
            "Chữ ký số của cơ quan ở mức B-LT cần máy chủ cấp dấu thời gian.",
        )
    async with services.transaction(read_only=True) as session:
        row = await _row(session, principal, document_id)
        register_code = str(json.loads(row.metadata_json)["register"])
    async with _turn_of(services, principal.agency_id, register_code):
        return await _issue(services, principal, document_id, seal, tsa_urls, now, change)


_turns: weakref.WeakKeyDictionary[AsyncEngine, dict[tuple[int, str], asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)
"""Per engine (one database), per (agency, register): the lock an issue takes its turn on."""


def _turn_of(services: Services, agency_id: int, register_code: str) -> asyncio.Lock:
    """The in-process turn of one register's issues.

    An issue keeps the register row locked (``SELECT … FOR UPDATE``; on SQLite the database
    lock) while it seals, for seconds, so that a failure leaves no hole. Without this turn,
    every waiting issue would hold a pooled connection while it waits on that row lock: a
    burst of issues (200 at once) empties the pool, and the waiters and every other request
    of the node then fail with a pool timeout instead of being served. Waiting here holds no
    connection: one issue per register and process uses one, the rest of the pool stays free.
    The row lock still decides between processes (several workers or nodes on one
    database); the number is still taken inside the sealing transaction, so a failed issue
    still rolls its number back and no two issues get one number. (The register is read from
    the signed document's metadata, which no longer changes; were it to, the row lock would
    still keep the numbers right, only the turn would be another register's.)
    """
    locks = _turns.setdefault(services.engine, {})
    return locks.setdefault((agency_id, register_code), asyncio.Lock())


async def _issue(
    services: Services,
    principal: Principal,
    document_id: str,
    seal: Seal,
    tsa_urls: tuple[str, ...],
    now: datetime | None,
    change: Change | None = None,
) -> DocumentView:
    async with services.transaction() as session:
        row = await session.scalar(
            select(Document)
            .where(Document.public_id == document_id, Document.agency_id == principal.agency_id)
            .with_for_update()
        )
        if row is None:
            raise NotFound("No such document.", "Không có văn bản này.")
        if row.state != "signed":
            raise Conflict(
                "Only a document with its personal signature can be issued.",
                "Chỉ văn bản đã có chữ ký số cá nhân mới được ban hành.",
            )
        meta = json.loads(row.metadata_json)
        earlier, trace = None, None
        if change is not None:
            earlier, trace = await _changed(session, principal, change, row, meta)
        if (
            earlier is not None
            and change is not None
            and change.doc_type == BussinessDocType.UPDATE
        ):
            # the same document corrected: its number and date stay, no new register entry
            old = json.loads(earlier.metadata_json)
            meta.update(register=old["register"], code_notation=old["code_notation"])
            number = registers.Number(
                register=old["register"],
                year=int(old["year"]),
                number=int(old["code_number"]),
                notation=old["code_notation"],
                issued_at=(now or datetime.now(UTC)).astimezone(UTC),
            )
            day = date.fromisoformat(old["issued_date"])
        else:
            number = await registers.allocate(
                session,
                principal,
                register=meta["register"],
                notation=meta["code_notation"],
                subject=meta["subject"],
                now=now,
            )
            day = number.issued_at.astimezone(VIETNAM).date()
        signed = await _read_blob(services.blobs, row.current_sha256)
        try:
            filled = await asyncio.to_thread(
                fill_text_fields, signed, {"so": number.number_text, **decree30_date_parts(day)}
            )
        except SigningError as exc:
            raise SigningFailed(exc.en, exc.vi) from exc
        links = (
            await session.scalars(
                select(DocumentAttachment)
                .where(DocumentAttachment.document_id == row.id)
                .order_by(DocumentAttachment.ordinal)
            )
        ).all()
        originals = [await files.file_row(session, principal, link.file_id) for link in links]
        contents = [await _read_blob(services.blobs, view.sha256) for view in originals]
        edoc = await _package_builder(session, principal, meta, number, day, originals, trace)
        sealed, sealed_attachments, package = await _seal_all(
            filled, contents, seal, number.text, tsa_urls, edoc
        )
        blob = await services.blobs.put_bytes(sealed)
        package_blob = await services.blobs.put_bytes(package)
        for link, view, data in zip(links, originals, sealed_attachments, strict=True):
            stored = await files.store_file(
                session,
                services.blobs,
                principal,
                chunks=_one(data),
                filename=view.filename,
                media_type="application/pdf",
                max_size=services.settings.max_upload_bytes,
            )
            link.file_id = stored.id  # the upload stays in stored_files and the audit log
        meta.update(code_number=number.number, issued_date=day.isoformat(), year=number.year)
        row.metadata_json = json.dumps(meta, ensure_ascii=False)
        row.state, row.current_sha256 = "issued", blob.sha256
        row.package_sha256 = package_blob.sha256
        row.edxml_document_id = document_id_for(
            principal.organ_id, day, Code(number=number.number_text, notation=meta["code_notation"])
        )
        row.updated_at = datetime.now(UTC)
        if earlier is not None and change is not None:
            row.change_type, row.supersedes_id = int(change.doc_type), earlier.id
            earlier.state = "updated" if change.doc_type == BussinessDocType.UPDATE else "replaced"
            earlier.updated_at = row.updated_at
        # one delivery per recipient, in the issue's own transaction: issued means on its way
        for recipient in meta["recipients"]:
            await outbox.enqueue(
                session,
                agency_id=principal.agency_id,
                to_organ_id=recipient,
                kind="edoc",
                payload_sha256=package_blob.sha256,
                payload_size=package_blob.size,
                document_id=row.id,
            )
        await audit.record(
            session,
            actor=principal.actor,
            action="document.issue",
            agency=principal.organ_id,
            document=f"document:{row.public_id}",
            details={
                "number": number.text,
                "sha256": blob.sha256,
                "package_sha256": package_blob.sha256,
            },
        )
        if earlier is not None and change is not None:
            await audit.record(
                session,
                actor=principal.actor,
                action=f"document.{_CHANGE_ACTIONS[change.doc_type]}",
                agency=principal.organ_id,
                document=f"document:{earlier.public_id}",
                details={"by": row.public_id, "reason": change.reason[:200]},
            )
        await session.flush()
        issued = await _full_view(session, row)
    outbox.wake()
    return issued


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """What issuing a document does to an issued one of the same agency."""

    doc_type: BussinessDocType
    """:attr:`BussinessDocType.UPDATE` or :attr:`BussinessDocType.REPLACE`."""
    original: str
    """The public id of the document updated or replaced."""
    reason: str = ""
    """``BussinessDocReason``."""


_CHANGE_ACTIONS = {BussinessDocType.UPDATE: "update", BussinessDocType.REPLACE: "replace"}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Trace:
    """The ``Bussiness`` of a change package, less the staff (the builder knows them)."""

    doc_type: BussinessDocType
    document_id: str
    reason: str
    update: DocumentUpdate | None = None
    replacements: tuple[Replacement, ...] = ()


async def _changed(
    session: AsyncSession,
    principal: Principal,
    change: Change,
    row: Document,
    meta: Mapping[str, Any],
) -> tuple[Document, _Trace]:
    """The issued document ``row`` updates or replaces, locked, and what the package says."""
    if change.doc_type not in _CHANGE_ACTIONS:
        raise _bad("BussinessDocType", "must be 2 or 3", "phải là 2 hoặc 3")
    earlier = await session.scalar(
        select(Document)
        .where(Document.public_id == change.original, Document.agency_id == principal.agency_id)
        .with_for_update()
    )
    if earlier is None or earlier.id == row.id:
        raise NotFound("No such document to change.", "Không có văn bản cần thay đổi này.")
    if earlier.state != "issued" or earlier.edxml_document_id is None:
        state_vi = _STATE_VI.get(earlier.state, earlier.state)
        raise Conflict(
            "Only an issued and sent document, not revoked, updated or replaced since, can be "
            f"updated or replaced (this one is {earlier.state}).",
            "Chỉ văn bản đã ban hành và đã gửi, chưa bị thu hồi, cập nhật hay thay thế, mới "
            f"cập nhật hoặc thay thế được (văn bản này: {state_vi}).",
        )
    old = json.loads(earlier.metadata_json)
    if sorted(old["recipients"]) != sorted(meta["recipients"]):
        raise _bad(
            "To",
            "the new document must go to the same recipients as the one it changes ("
            + ", ".join(old["recipients"])
            + ")",
            "văn bản mới phải gửi đúng các nơi nhận của văn bản được thay đổi ("
            + ", ".join(old["recipients"])
            + ")",
        )
    reason = change.reason.strip()[:500]
    if change.doc_type == BussinessDocType.UPDATE:
        fields = (
            *("type_name", "subject", "signer_position", "signer_full_name", "priority"),
            *("due_date", "language", "page_amount", "issued_amount", "description"),
        )
        return earlier, _Trace(
            doc_type=change.doc_type,
            document_id=earlier.edxml_document_id,
            reason=reason or "Cập nhật văn bản điện tử",
            update=DocumentUpdate(
                document_info=any(old.get(f) != meta.get(f) for f in fields),
                document_receiver=False,
            ),
        )
    return earlier, _Trace(
        doc_type=change.doc_type,
        document_id=earlier.edxml_document_id,
        reason=reason or "Thay thế văn bản điện tử",
        replacements=(
            Replacement(document_id=earlier.edxml_document_id, organ_ids=tuple(old["recipients"])),
        ),
    )


_STATE_VI = {
    "draft": "dự thảo",
    "signed": "đã ký",
    "issued": "đã ban hành",
    "revoked": "đã thu hồi",
    "updated": "đã được cập nhật",
    "replaced": "đã được thay thế",
}


def _organ(spec: AgencySpec) -> Organ:
    return Organ(
        organ_id=spec.organ_id,
        organ_name=spec.name,
        organization_in_charge=spec.organization_in_charge,
        organ_add=spec.address,
        email=spec.email,
        telephone=spec.telephone,
        fax=spec.fax,
        website=spec.website,
    )


async def _package_builder(
    session: AsyncSession,
    principal: Principal,
    meta: Mapping[str, Any],
    number: registers.Number,
    day: date,
    originals: Sequence[StoredFile],
    trace: _Trace | None = None,
) -> Callable[[bytes, list[bytes]], Edoc]:
    """What the edXML package of the issued document says (QCVN 102:2016 §6.1: From/To from
    the directory, DocumentId, Code, the App. VI metadata, one TraceHeader), waiting for the
    sealed files."""
    sender = _organ(await directory.entry(session, principal.organ_id))
    recipients = tuple([_organ(await directory.entry(session, r)) for r in meta["recipients"]])
    code = Code(number=number.number_text, notation=meta["code_notation"])
    staff_name = principal.actor.name.split(":", 1)[-1]
    if principal.user_id is not None:
        user = await session.get(User, principal.user_id)
        if user is not None and user.full_name:
            staff_name = user.full_name
    staff = StaffInfo(
        department="Văn thư",
        staff=staff_name,
        mobile=sender.telephone,
        email=sender.email,
    )
    names = [f"{number.number_text}-{meta['code_notation']}.pdf", *[o.filename for o in originals]]

    def build(main: bytes, attachments: list[bytes]) -> Edoc:
        return Edoc(
            from_=sender,
            to=recipients,
            document_id=document_id_for(sender.organ_id, day, code),
            code=code,
            subject=meta["subject"],
            promulgation=PromulgationInfo(date=day),
            document_type=DocumentType(type=1, type_name=meta["type_name"]),
            signer=SignerInfo(full_name=meta["signer_full_name"], position=meta["signer_position"]),
            due_date=date.fromisoformat(meta["due_date"]) if meta.get("due_date") else None,
            other_info=OtherInfo(priority=Priority(meta["priority"])),
            trace=TraceHeaderList(
                headers=(TraceHeader(organ_id=sender.organ_id, timestamp=number.issued_at),),
                bussiness=Bussiness(doc_type=BussinessDocType.NEW, staff_info=staff)
                if trace is None
                else Bussiness(
                    doc_type=trace.doc_type,
                    document_id=trace.document_id,
                    reason=trace.reason,
                    staff_info=staff,
                    update=trace.update,
                    replacements=trace.replacements,
                ),
            ),
            attachments=tuple(
                Attachment(
                    content_id=str(i),
                    name=name,
                    data=data,
                    content_type="application/pdf",
                )
                for i, (name, data) in enumerate(zip(names, [main, *attachments], strict=True), 1)
            ),
        )

    return build


async def open_package(
    session: AsyncSession, blobs: BlobStore, principal: Principal, document_id: str
) -> AsyncIterator[bytes]:
    """The signed edXML package of an issued document."""
    row = await _row(session, principal, document_id)
    if row.package_sha256 is None:
        raise NotFound(
            "The document has no package yet: it is not issued.",
            "Văn bản chưa có gói tin edXML: văn bản chưa được ban hành.",
        )
    await audit.record(
        session,
        actor=principal.actor,
        action="document.read_package",
        agency=principal.organ_id,
        document=f"document:{row.public_id}",
    )
    return blobs.read(row.package_sha256)


async def as_user(
    session: AsyncSession, principal: Principal, username: str, origin: str
) -> Principal:
    """A person of ``principal``'s agency, for the command line: the personal signature is
    made by a person (a signer), whoever runs the command on the node."""
    user = await session.scalar(
        select(User).where(User.agency_id == principal.agency_id, User.username == username)
    )
    if user is None or user.disabled_at is not None:
        raise NotFound(
            f"This agency has no active user {username}.",
            f"Cơ quan này không có người dùng {username} đang hoạt động.",
        )
    return Principal(
        agency_id=principal.agency_id,
        organ_id=principal.organ_id,
        roles=frozenset(Role(r) for r in user.roles.split()),
        actor=audit.Actor(name=f"user:{user.username}", origin=origin),
        user_id=user.id,
        username=user.username,
    )
