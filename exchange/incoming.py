"""Incoming documents (flow 2): a package arrives for an agency of this node, is verified, and
is either registered with an arrival number or rejected with a reason.

:func:`receive` does, in order:

1. the package is streamed to the blob store, bounded by the reader's package limit;
2. a package seen before (the same SHA-256; or, once its signature is known to be the
   sender's, the same DocumentId from that sender) gets the first answer again, and nothing
   else is kept;
3. the package is read into typed objects (:mod:`exchange.edxml`); one it refuses, or one not
   addressed to the receiving agency, is a coded error and nothing is kept but the audit line;
4. the package signature is judged and its certificate compared with those the directory lists
   for the sending agency; every signed file it carries is validated by the validation room
   (concurrently; the validator runs its CPU work in threads), under the receiving agency's
   policy;
5. in one transaction, the record, an arrival number from the agency's incoming register
   (Art. 22(2): :func:`exchange.registers.allocate`, which holds the register's lock, so
   concurrent arrivals never share or skip a number) and the audit lines; the package, the
   reports (JSON), their evidence, the files and the status messages are written to the blob
   store concurrently (while the transaction looks for the package and takes the number),
   each complete and fsynced before the row that names it is added.

What the database knows before judging (the same bytes seen before, the receiving agency, the
sender's certificates, its DocumentId claimed already) is asked in one reading transaction,
while the package is parsed.

A package is rejected (Art. 21(2)) when the sender is not in the directory, the package
signature does not pass, its certificate is not one of the sender's, a signed file does not
pass, or the main document fails the Decree 30 Art. 5 check. The answers are status messages
built with :func:`exchange.edxml.status_for`: 01 (arrived), then 02 (rejected, with the reason)
or 03 (registered, with the arrival number), signed by the receiving agency's key when one is
given. They are stored for delivery (a later step sends them).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pyhanko.sign.ades.report import AdESStatus
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange import audit, registers
from exchange.accounts import Principal
from exchange.blobs import CHUNK, BlobRef, BlobStore
from exchange.db.incoming_models import IncomingAttachment, IncomingDocument, IncomingStatus
from exchange.db.models import (
    Agency,
    AgencyCertificate,
    Document,
    Register,
    RegisterEntry,
    StoredFile,
)
from exchange.directory import check_organ_id
from exchange.edxml import (
    VIETNAM,
    BussinessDocType,
    Edoc,
    EdxmlBadValue,
    EdxmlError,
    Limits,
    Organ,
    PackageVerdict,
    ParsedPackage,
    StatusCode,
    build_message,
    parse_package,
    sign_package,
    status_for,
    verify_package,
)
from exchange.errors import (
    ConfigurationError,
    Conflict,
    NotFound,
    PayloadTooLarge,
    SigningFailed,
)
from exchange.service import Services
from exchange.settings import AgencyConfig
from signing import KeySigner, PinOptions, SigningError, open_key
from validation import (
    SCHEMA,
    DocumentKind,
    DocumentReport,
    Evidence,
    Finding,
    Role,
    TrustAnchors,
    ValidationError,
    ValidationPolicy,
    detect_format,
    report_json,
    validate_bytes,
)

TRUST_DIR = "trust"
"""Under the data directory: the node's trust anchors (files), and in a sub-directory named
after an agency's OrganId, that agency's own."""
CERTIFICATE_SUFFIXES = frozenset({".pem", ".crt", ".cer", ".der"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Receiving:
    """How an agency judges what it receives."""

    policy: ValidationPolicy
    """Trust anchors, revocation, validation time: for the package and every document."""
    status_key: KeySigner | None = None
    """The receiving agency's key for its status messages; None: they are stored unsigned."""
    limits: Limits = field(default_factory=Limits)
    """Bounds on the package (size, attachments, ZIP payloads)."""


def trust_policy(data_dir: Path, organ_id: str, extra: Sequence[Path] = ()) -> ValidationPolicy:
    """The receiving policy of ``organ_id`` on a node: the certificate files in
    ``<data_dir>/trust`` and ``<data_dir>/trust/<OrganId>`` (and ``extra``) are its trust
    anchors; revocation is checked strictly (a certificate whose status cannot be learnt
    does not pass)."""
    check_organ_id(organ_id)  # it names a directory
    root = data_dir / TRUST_DIR
    files: list[Path] = []
    for folder in (root, root / organ_id):
        if folder.is_dir():
            files.extend(
                sorted(
                    p for p in folder.iterdir() if p.is_file() and p.suffix in CERTIFICATE_SUFFIXES
                )
            )
    files.extend(extra)
    try:
        anchors = TrustAnchors.from_files({"public": files})
    except ValidationError as exc:
        raise ConfigurationError(
            f"The trust anchors of {organ_id} cannot be read: {exc.message('en')}.",
            f"Không đọc được chứng thư tin cậy của {organ_id}: {exc.message('vi')}.",
        ) from exc
    return ValidationPolicy(anchors=anchors)


@asynccontextmanager
async def agency_key(
    agencies: Mapping[str, AgencyConfig], organ_id: str
) -> AsyncIterator[KeySigner | None]:
    """The key the node's configuration gives ``organ_id`` for its agency signature (its
    seal), open for the block, to sign its status messages; None when none is configured."""
    config = agencies.get(organ_id)
    seal = config.seal if config else None
    if seal is None:
        yield None
        return
    async with AsyncExitStack() as stack:
        try:
            key = await stack.enter_async_context(
                open_key(
                    seal.key, PinOptions(env=seal.pin_env, file=seal.pin_file), chain=seal.chain
                )
            )
        except SigningError as exc:
            raise SigningFailed(exc.en, exc.vi) from exc
        yield key


# -- what the callers see -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason:
    """Why a package was rejected: a stable code and the sentence in both languages."""

    code: str
    en: str
    vi: str

    def message(self, lang: str) -> str:
        return self.vi if lang == "vi" else self.en


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingFileView:
    ordinal: int
    name: str
    media_type: str
    sha256: str
    size: int
    indication: str | None
    """ETSI indication (``TOTAL-PASSED``…); None for a file that carries no signature format
    the validator knows (a spreadsheet, a picture)."""
    sub_indication: str | None
    legal_valid: bool | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusView:
    status_code: str
    description: str
    sha256: str
    """The status message's edXML in the blob store."""
    signed: bool
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingView:
    id: str
    """The public identifier (:mod:`exchange.ids`)."""
    agency: str
    """The receiving agency's OrganId."""
    sender: str
    sender_name: str
    document_id: str
    code: str
    subject: str
    state: str
    """``registered`` or ``rejected``; later ``recalled``, ``revoked`` (the copy destroyed),
    ``updated`` or ``replaced`` (a newer copy took its place)."""
    arrival_number: int | None
    arrival_year: int | None
    reason: Reason | None
    package_sha256: str
    package_indication: str
    indication: str | None
    """The documents' overall indication (the worst one); None when none was judged."""
    sub_indication: str | None
    legal_valid: bool | None
    """The main document's Decree 30 Art. 5 check; None when it was not judged."""
    report_sha256: str
    evidence_sha256: str
    received_at: datetime
    files: tuple[IncomingFileView, ...] = ()
    statuses: tuple[StatusView, ...] = ()
    doc_type: int = 0
    """The package's ``BussinessDocType``: 0 new, 1 revocation, 2 update, 3 replacement."""
    changes: str | None = None
    """For a revocation, update or replacement: the public id of the copy it is about."""


# -- receiving --------------------------------------------------------------------------------


async def _one(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


async def _collect(package: AsyncIterable[bytes] | bytes, limit: int) -> bytes:
    """The whole package (it is parsed and verified in memory), refused past ``limit``."""
    parts: list[bytes] = []
    size = 0
    async for chunk in _one(package) if isinstance(package, bytes) else package:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"The package is larger than the {limit} bytes allowed.",
                f"Gói tin lớn hơn mức cho phép ({limit} byte).",
            )
        parts.append(chunk)
    return b"".join(parts)


async def receive(
    svc: Services,
    principal: Principal,
    package: AsyncIterable[bytes] | bytes,
    receiving: Receiving,
    *,
    now: datetime | None = None,
) -> IncomingView:
    """Receive one package for ``principal``'s agency (see the module docstring). The same
    package received again answers what it answered the first time."""
    # read (bounded) and parsed before anything is stored: a refused upload leaves nothing
    data = await _collect(package, receiving.limits.max_package_bytes)
    package_sha256 = hashlib.sha256(data).hexdigest()
    # parsed in a thread while the database says what it knows of these bytes; one reading
    # transaction asks everything the judgment needs (it waits for no writer)
    parsing = asyncio.ensure_future(asyncio.to_thread(_read, data, receiving.limits, principal))
    try:
        async with svc.transaction(read_only=True) as session:
            seen = await _seen(session, principal, package_sha256)
            receiver = await _agency(session, principal)
            try:
                parsed, edoc = await parsing
            except EdxmlError as exc:
                refused: EdxmlError | None = exc
            else:
                refused = None
                sender_certificates = await _sender_certificates(session, edoc.from_.organ_id)
                # by DocumentId, used only once the package proves to be the sender's own
                claimed = await _known(
                    session, principal, sender=edoc.from_.organ_id, document_id=_key_of(edoc)
                )
    finally:
        parsing.cancel()  # done already, unless the database failed first
    if seen is not None and seen.registered_sha256 is not None:
        return await _answer_again(svc, principal, seen)
    earlier = seen if seen is not None and seen.state == "rejected" else None
    if refused is not None:
        async with svc.transaction() as session:
            await audit.record(
                session,
                actor=principal.actor,
                action="incoming.refuse",
                agency=principal.organ_id,
                details={"package": package_sha256, "code": refused.code, "error": refused.en},
            )
        raise refused

    judged = await _judge(data, edoc, receiving.policy)
    # only a package the sender really signed may claim its DocumentId: a forgery naming it
    # must not stand in for the genuine document (it is recorded apart, and rejected)
    authentic = sender_certificates is not None and judged.package.signed_by_one_of(
        sender_certificates
    )
    document_id = _key_of(edoc) if authentic else None
    doc_type = _doc_type(edoc)
    if document_id is not None and claimed is not None:
        return await _answer_again(svc, principal, claimed)
    signer = judged.package.signer_certificate
    owner_of_signer = None
    if sender_certificates is not None and judged.package.passed and not authentic and signer:
        # signed by someone the directory does not list for the sender: by whom, if anyone
        async with svc.transaction(read_only=True) as session:
            owner_of_signer = await _owner(session, hashlib.sha256(signer).hexdigest())
    reason = _decide(edoc, judged, sender_certificates, owner_of_signer)
    if reason is not None and doc_type == BussinessDocType.REVOKE and _files_only(reason):
        # a revocation delivers no document (ours carry none): only its package signature,
        # the sender's own, is what makes it genuine
        reason = None
    if earlier is not None and reason is not None and reason.code == earlier.reason_code:
        # the same bytes, judged again (an outage may have made the first answer
        # indeterminate) and refused for the same reason: the first answer stands
        return await _answer_again(svc, principal, earlier)

    moment = (now or datetime.now(UTC)).astimezone(UTC)
    us = Organ(organ_id=receiver.organ_id, organ_name=receiver.name)
    doomed: list[str] = []

    async def write_blobs() -> tuple[list[BlobRef], list[_Stored]]:
        refs, stored = await asyncio.gather(
            asyncio.gather(
                svc.blobs.put_bytes(data),
                svc.blobs.put_bytes(_report_bytes(judged)),
                svc.blobs.put_bytes(_evidence_bytes(judged)),
                *(svc.blobs.put_bytes(a.data) for a in edoc.attachments),
            ),
            asyncio.gather(
                *(
                    [
                        _status(
                            svc.blobs, parsed, us, StatusCode.DELIVERED, _ARRIVED, receiving, moment
                        )
                    ]
                    if doc_type == BussinessDocType.NEW
                    else []
                ),
                *(
                    [
                        _status(
                            svc.blobs, parsed, us, StatusCode.REJECTED, reason.vi, receiving, moment
                        )
                    ]
                    if reason is not None and doc_type == BussinessDocType.NEW
                    else []
                ),
            ),
        )
        return refs, stored

    try:
        async with svc.transaction() as session:
            # the blobs depend neither on one another nor on the database: written at once
            # (their fsyncs overlap) while the transaction looks for the package and takes
            # its number; every one is durable before a row naming it is added
            (refs, statuses), (known, number) = await _both(
                write_blobs(),
                _prepare(
                    session,
                    principal,
                    sha256=package_sha256,
                    sender=edoc.from_.organ_id,
                    document_id=document_id,
                    subject=edoc.subject
                    if reason is None and doc_type == BussinessDocType.NEW
                    else None,
                    moment=moment,
                ),
            )
            if known is not None:  # the same package, registered meanwhile by another request
                return await _repeat(session, principal, known)
            change = None
            if doc_type != BussinessDocType.NEW:
                change = await _change(session, principal, edoc, reason)
                reason = change.refusal
                if (
                    earlier is not None
                    and reason is not None
                    and reason.code == earlier.reason_code
                ):
                    again = await session.get(IncomingDocument, earlier.id)
                    assert again is not None  # noqa: S101 (incoming documents are never deleted)
                    return await _repeat(session, principal, again)
                if reason is None and doc_type != BussinessDocType.REVOKE:
                    number = await _arrival(session, principal, edoc.subject, moment)
            ref, report_ref, evidence_ref, *file_refs = refs
            row = IncomingDocument(
                agency_id=principal.agency_id,
                package_sha256=ref.sha256,
                registered_sha256=ref.sha256 if reason is None else None,
                package_size=ref.size,
                sender_organ_id=edoc.from_.organ_id,
                sender_name=edoc.from_.organ_name[:200],
                document_id=edoc.document_id,
                # a rejected package does not keep its DocumentId: the sender's corrected
                # package (or the same one after an outage made it indeterminate) is judged
                # anew; a revocation names a document, it is none
                authentic_document_id=(edoc.document_id if authentic else None)
                if reason is None and doc_type != BussinessDocType.REVOKE
                else None,
                code=str(edoc.code),
                subject=edoc.subject,
                state="rejected" if reason else "registered",
                reason_code=reason.code if reason else None,
                reason_en=reason.en if reason else None,
                reason_vi=reason.vi if reason else None,
                package_indication=judged.package_summary.indication,
                indication=judged.indication,
                sub_indication=judged.sub_indication,
                legal_valid=judged.legal_valid,
                report_sha256=report_ref.sha256,
                evidence_sha256=evidence_ref.sha256,
                received_at=moment,
                received_by=principal.actor.name,
                doc_type=int(doc_type),
                changes_id=change.original.id if change and change.original else None,
            )
            if change is not None and change.original is not None and reason is None:
                # the copy gives way before its successor is added: an update takes over its
                # DocumentId (the key that names the current copy)
                doomed = await _apply_change(session, change.original, doc_type, moment)
                await session.flush()
            if change is not None:
                if number is not None:
                    row.arrival_year, row.arrival_number = number.year, number.number
                    row.register_entry_id = number.entry_id
                session.add(row)
                answer, _ = await _both(
                    _status(
                        svc.blobs,
                        parsed,
                        us,
                        _answer_code(doc_type, accepted=reason is None),
                        _answer_text(doc_type, reason, number),
                        receiving,
                        moment,
                    ),
                    session.flush(),
                )
                statuses.append(answer)
            elif number is not None:
                row.arrival_year, row.arrival_number = number.year, number.number
                row.register_entry_id = number.entry_id
                session.add(row)
                # its status message names the number: written while the row is inserted,
                # durable before the commit
                registered, _ = await _both(
                    _status(
                        svc.blobs,
                        parsed,
                        us,
                        StatusCode.REGISTERED,
                        f"Đã vào sổ văn bản đến, số đến {number.number}/{number.year}",
                        receiving,
                        moment,
                    ),
                    session.flush(),
                )
                statuses.append(registered)
            else:
                session.add(row)
                await session.flush()
            files = [
                IncomingAttachment(
                    incoming_id=row.id,
                    ordinal=ordinal,
                    name=attachment.name,
                    media_type=attachment.content_type[:100],
                    sha256=blob.sha256,
                    size=blob.size,
                    indication=None if summary is None else summary.indication,
                    sub_indication=None if summary is None else summary.sub_indication,
                    legal_valid=None if summary is None else summary.legal_valid,
                )
                for ordinal, (attachment, blob, summary) in enumerate(
                    zip(edoc.attachments, file_refs, judged.summaries, strict=True), start=1
                )
            ]
            status_rows = [
                IncomingStatus(
                    incoming_id=row.id,
                    status_code=status.status_code,
                    description=status.description,
                    sha256=status.sha256,
                    signed=status.signed,
                    created_at=moment,
                )
                for status in statuses
            ]
            session.add_all([*files, *status_rows])
            await session.flush()
            label = _label(row)
            await audit.record(
                session,
                actor=principal.actor,
                action="incoming.receive",
                agency=principal.organ_id,
                document=label,
                details={
                    "package": ref.sha256,
                    "sender": row.sender_organ_id,
                    "status": StatusCode.DELIVERED.value,
                },
            )
            await audit.record(
                session,
                actor=principal.actor,
                action="incoming.reject" if reason else "incoming.register",
                agency=principal.organ_id,
                document=label,
                details={
                    "package": ref.sha256,
                    "reason": reason.code if reason else None,
                    "arrival_number": row.arrival_number,
                    "arrival_year": row.arrival_year,
                    "report": report_ref.sha256,
                },
            )
            # what was just written, not read back
            view = _view_of(
                row,
                principal.organ_id,
                files,
                status_rows,
                changes=change.original.public_id if change and change.original else None,
            )
        if doomed:
            await destroy_copy(svc, doomed, moment)
        return view
    except Conflict:
        # another request inserted the same package between our check and our insert (its
        # unique key stopped us, and our number went back with the rollback): its answer
        async with svc.transaction() as session:
            known = await _known(
                session,
                principal,
                sha256=package_sha256,
                sender=edoc.from_.organ_id,
                document_id=document_id,
            )
            if known is None:
                raise
            return await _view(session, known, principal.organ_id)


A = TypeVar("A")
B = TypeVar("B")


async def _both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Both results, the two awaited concurrently. When one fails the other still runs to its
    end (nothing is left using the session when the transaction closes), then the failure
    is raised."""
    one, two = await asyncio.gather(first, second, return_exceptions=True)
    if isinstance(one, BaseException):
        raise one
    if isinstance(two, BaseException):
        raise two
    return one, two


@dataclass(frozen=True, slots=True, kw_only=True)
class _Arrival:
    """The arrival number taken for a package, and its entry in the register."""

    year: int
    number: int
    entry_id: int | None


async def _prepare(
    session: AsyncSession,
    principal: Principal,
    *,
    sha256: str,
    sender: str,
    document_id: str | None,
    subject: str | None,
    moment: datetime,
) -> tuple[IncomingDocument | None, _Arrival | None]:
    """In the registering transaction: the package if it was registered meanwhile, else
    (when ``subject`` is given: it is to be registered) its arrival number."""
    known = await _known(session, principal, sha256=sha256, sender=sender, document_id=document_id)
    if known is not None or subject is None:
        return known, None
    return None, await _arrival(session, principal, subject, moment)


async def _arrival(
    session: AsyncSession, principal: Principal, subject: str, moment: datetime
) -> _Arrival:
    """An arrival number from the agency's incoming register (Art. 22(2))."""
    number = await registers.allocate(
        session,
        principal,
        register=await _incoming_register(session, principal),
        subject=subject,
        now=moment,
    )
    entry_id = await _entry_id(session, principal, number)
    return _Arrival(year=number.year, number=number.number, entry_id=entry_id)


def _read(data: bytes, limits: Limits, principal: Principal) -> tuple[ParsedPackage, Edoc]:
    parsed = parse_package(data, limits=limits)
    return parsed, _addressed(parsed, principal)


_ARRIVED = "Văn bản đã đến hệ thống của cơ quan nhận"


def _addressed(parsed: ParsedPackage, principal: Principal) -> Edoc:
    edoc = parsed.message
    if not isinstance(edoc, Edoc):
        raise EdxmlBadValue(
            "MessageHeader",
            "this is a status message, not a document package",
            "đây là thông điệp trạng thái, không phải gói văn bản",
        )
    if all(organ.organ_id != principal.organ_id for organ in edoc.to):
        raise EdxmlBadValue(
            "MessageHeader.To",
            f"the package is not addressed to {principal.organ_id}",
            f"gói tin không gửi đến {principal.organ_id}",
        )
    return edoc


def _label(row: IncomingDocument) -> str:
    return f"incoming:{row.public_id}"


async def _known(
    session: AsyncSession,
    principal: Principal,
    *,
    sha256: str | None = None,
    sender: str | None = None,
    document_id: str | None = None,
) -> IncomingDocument | None:
    conditions = []
    if sha256 is not None:  # a rejected package may be sent again and judged anew
        conditions.append(IncomingDocument.registered_sha256 == sha256)
    if sender is not None and document_id is not None:
        conditions.append(
            (IncomingDocument.sender_organ_id == sender)
            & (IncomingDocument.authentic_document_id == document_id)
        )
    if not conditions:  # a revocation or an update claims no DocumentId of its own
        return None
    found = await session.scalars(
        select(IncomingDocument)
        .where(IncomingDocument.agency_id == principal.agency_id, or_(*conditions))
        .order_by(IncomingDocument.id)
        .limit(1)
    )
    return found.first()


async def _seen(
    session: AsyncSession, principal: Principal, sha256: str
) -> IncomingDocument | None:
    """What these exact bytes got before: their registration (a package is registered once),
    else their latest rejection, else None."""
    found = await session.scalars(
        select(IncomingDocument)
        .where(
            IncomingDocument.agency_id == principal.agency_id,
            IncomingDocument.package_sha256 == sha256,
        )
        .order_by(IncomingDocument.registered_sha256.is_(None), IncomingDocument.id.desc())
        .limit(1)
    )
    return found.first()


async def _answer_again(svc: Services, principal: Principal, row: IncomingDocument) -> IncomingView:
    """The answer ``row`` gave, with its own audit line."""
    async with svc.transaction() as session:
        again = await session.get(IncomingDocument, row.id)
        assert again is not None  # noqa: S101 (incoming documents are never deleted)
        return await _repeat(session, principal, again)


async def _repeat(
    session: AsyncSession, principal: Principal, row: IncomingDocument
) -> IncomingView:
    await audit.record(
        session,
        actor=principal.actor,
        action="incoming.repeat",
        agency=principal.organ_id,
        document=_label(row),
        details={"package": row.package_sha256},
    )
    return await _view(session, row, principal.organ_id)


async def _agency(session: AsyncSession, principal: Principal) -> Agency:
    agency = await session.get(Agency, principal.agency_id)
    if agency is None:  # the principal was made from this row
        raise NotFound("No such agency.", "Không có cơ quan này.")
    return agency


async def _sender_certificates(session: AsyncSession, sender: str) -> frozenset[bytes] | None:
    """The certificates the directory lists for the sender; None: no such agency in it."""
    rows = (
        await session.execute(
            select(Agency.id, AgencyCertificate.der)
            .outerjoin(AgencyCertificate, AgencyCertificate.agency_id == Agency.id)
            .where(Agency.organ_id == sender)
        )
    ).all()
    if not rows:
        return None
    return frozenset(der for _, der in rows if der is not None)


async def _owner(session: AsyncSession, sha256: str) -> str | None:
    """The agency the directory lists the certificate under (by its SHA-256), if any."""
    return await session.scalar(
        select(Agency.organ_id)
        .join(AgencyCertificate, AgencyCertificate.agency_id == Agency.id)
        .where(AgencyCertificate.sha256 == sha256)
        .order_by(AgencyCertificate.id)
        .limit(1)
    )


async def _incoming_register(session: AsyncSession, principal: Principal) -> str:
    code = await session.scalar(
        select(Register.code)
        .where(Register.agency_id == principal.agency_id, Register.kind == "incoming")
        .order_by(Register.code)
        .limit(1)
    )
    if code is None:
        raise Conflict(
            "The agency has no register of incoming documents: an administrator creates one.",
            "Cơ quan chưa có sổ văn bản đến: quản trị viên cần tạo sổ trước.",
        )
    return code


async def _entry_id(
    session: AsyncSession, principal: Principal, number: registers.Number
) -> int | None:
    return await session.scalar(
        select(RegisterEntry.id)
        .join(Register, Register.id == RegisterEntry.register_id)
        .where(
            RegisterEntry.agency_id == principal.agency_id,
            Register.code == number.register,
            RegisterEntry.year == number.year,
            RegisterEntry.number == number.number,
        )
    )


# -- revocation, update, replacement (BussinessDocType 1, 2, 3) -------------------------------


def _doc_type(edoc: Edoc) -> BussinessDocType:
    bussiness = edoc.trace.bussiness
    return BussinessDocType.NEW if bussiness is None else bussiness.doc_type


def _key_of(edoc: Edoc) -> str | None:
    """The DocumentId that recognises the package sent twice: a new document's or a
    replacement's own. An update keeps the DocumentId of the document it corrects and a
    revocation names it: neither may be taken for that document (the same bytes are still
    recognised by their SHA-256)."""
    if _doc_type(edoc) in (BussinessDocType.NEW, BussinessDocType.REPLACE):
        return edoc.document_id
    return None


def _target(edoc: Edoc, organ_id: str) -> str | None:
    """The DocumentId of the document the change is about (as the sender issued it)."""
    bussiness = edoc.trace.bussiness
    if bussiness is None:
        return None
    if bussiness.doc_type == BussinessDocType.REPLACE:
        for replacement in bussiness.replacements:
            if not replacement.organ_ids or organ_id in replacement.organ_ids:
                return replacement.document_id
        return None
    return bussiness.document_id or edoc.document_id


# Why the checks of the files do not hold back a revocation: it carries no document to judge.
_FILE_REASONS = frozenset(
    {
        "incoming.no_document",
        "incoming.document_signature",
        "incoming.no_main_document",
        "incoming.legal_check",
        "incoming.sealed_by_other_agency",
    }
)


def _files_only(reason: Reason) -> bool:
    return reason.code in _FILE_REASONS


_CHANGE_WORDS = {
    BussinessDocType.REVOKE: ("revoke", "thu hồi"),
    BussinessDocType.UPDATE: ("update", "cập nhật"),
    BussinessDocType.REPLACE: ("replace", "thay thế"),
}
_STATE_WORDS = {
    "rejected": ("rejected", "đã bị từ chối"),
    "recalled": ("recalled", "đã được lấy lại"),
    "revoked": ("revoked", "đã bị thu hồi"),
    "updated": ("updated already", "đã được cập nhật"),
    "replaced": ("replaced already", "đã được thay thế"),
}
_PROGRESS = frozenset({"04", "05", "06"})


@dataclass(frozen=True, slots=True, kw_only=True)
class _Change:
    original: IncomingDocument | None
    """The copy the change is about, locked for the transaction (None: none found)."""
    refusal: Reason | None


async def _change(
    session: AsyncSession, principal: Principal, edoc: Edoc, reason: Reason | None
) -> _Change:
    """Whether the change can be made to the copy it names, in the registering transaction.

    Only a package that is genuinely the sender's (``reason`` None) is looked at, and the copy
    is looked for among that sender's own documents only: a forged change, or one naming
    another agency's document, finds nothing and changes nothing. An update or a replacement
    is refused once work started on the copy (04, 05, 06), as a recall is; a revocation is
    not (Decree 30 Art. 18(4b): a revoked document is destroyed on the receiving side)."""
    if reason is not None:
        return _Change(original=None, refusal=reason)
    doc_type = _doc_type(edoc)
    en, vi = _CHANGE_WORDS[doc_type]
    sender = edoc.from_.organ_id
    target = _target(edoc, principal.organ_id)
    if target is None:
        return _Change(
            original=None,
            refusal=Reason(
                code="incoming.change_target_missing",
                en=f"the package asks to {en} a document but names none for {principal.organ_id}",
                vi=f"gói tin đề nghị {vi} văn bản nhưng không nêu văn bản nào của "
                f"{principal.organ_id}",
            ),
        )
    original = await session.scalar(
        select(IncomingDocument)
        .where(
            IncomingDocument.agency_id == principal.agency_id,
            IncomingDocument.sender_organ_id == sender,
            IncomingDocument.authentic_document_id == target,
        )
        .with_for_update()
    )
    if original is None:
        return _Change(
            original=None,
            refusal=Reason(
                code="incoming.change_unknown_document",
                en=f"{principal.organ_id} registered no document {target} from {sender}: "
                f"there is nothing to {en}",
                vi=f"{principal.organ_id} không có văn bản {target} của {sender} đã vào sổ: "
                f"không có gì để {vi}",
            ),
        )
    if original.state != "registered":
        state_en, state_vi = _STATE_WORDS.get(original.state, (original.state, original.state))
        return _Change(
            original=original,
            refusal=Reason(
                code="incoming.change_not_current",
                en=f"the document {target} was {state_en}: it cannot be {en}d now",
                vi=f"văn bản {target} {state_vi}: không {vi} được nữa",
            ),
        )
    if doc_type != BussinessDocType.REVOKE:
        codes = set(
            await session.scalars(
                select(IncomingStatus.status_code).where(IncomingStatus.incoming_id == original.id)
            )
        )
        started = sorted(codes & _PROGRESS)
        if started:
            return _Change(
                original=original,
                refusal=Reason(
                    code="incoming.change_work_started",
                    en=f"work has started on the document {target} (status "
                    f"{', '.join(started)}): it cannot be {en}d",
                    vi=f"văn bản {target} đã được xử lý (trạng thái {', '.join(started)}): "
                    f"không {vi} được",
                ),
            )
    return _Change(original=original, refusal=None)


async def _apply_change(
    session: AsyncSession, original: IncomingDocument, doc_type: BussinessDocType, moment: datetime
) -> list[str]:
    """The accepted change made to the copy; returns the blobs to destroy (a revocation)."""
    if doc_type == BussinessDocType.UPDATE:
        # the newer copy takes over the DocumentId (the key naming the current copy)
        original.state, original.authentic_document_id = "updated", None
        return []
    if doc_type == BussinessDocType.REPLACE:
        original.state = "replaced"
        return []
    original.state, original.destroyed_at = "revoked", moment
    files = await session.scalars(
        select(IncomingAttachment.sha256).where(IncomingAttachment.incoming_id == original.id)
    )
    return [original.package_sha256, *files]


def _answer_code(doc_type: BussinessDocType, *, accepted: bool) -> StatusCode:
    """§6.1: a revocation is answered 03 or 02, an update or a replacement 15 or 16."""
    if doc_type == BussinessDocType.REVOKE:
        return StatusCode.REGISTERED if accepted else StatusCode.REJECTED
    return StatusCode.RECALL_ACCEPTED if accepted else StatusCode.RECALL_REFUSED


def _answer_text(doc_type: BussinessDocType, reason: Reason | None, number: _Arrival | None) -> str:
    _, vi = _CHANGE_WORDS[doc_type]
    if reason is not None:
        return f"Từ chối {vi}: {reason.vi}"
    if doc_type == BussinessDocType.REVOKE:
        return "Đồng ý thu hồi: bản văn bản đến đã được hủy, siêu dữ liệu được giữ lại"
    arrival = f", số đến {number.number}/{number.year}" if number is not None else ""
    return f"Đồng ý {vi}: văn bản đã vào sổ văn bản đến{arrival}"


async def _still_named(session: AsyncSession, sha256: str) -> bool:
    """Whether any row other than a destroyed copy still names the blob."""
    live = IncomingDocument.destroyed_at.is_(None)
    checks = (
        select(IncomingDocument.id).where(IncomingDocument.package_sha256 == sha256, live),
        select(IncomingAttachment.id)
        .join(IncomingDocument, IncomingDocument.id == IncomingAttachment.incoming_id)
        .where(IncomingAttachment.sha256 == sha256, live),
        select(StoredFile.id).where(StoredFile.sha256 == sha256),
        select(Document.id).where(
            (Document.current_sha256 == sha256)
            | (Document.package_sha256 == sha256)
            | (Document.revocation_sha256 == sha256)
        ),
    )
    for check in checks:
        if await session.scalar(check.limit(1)) is not None:
            return True
    return False


async def destroy_copy(svc: Services, digests: Sequence[str], since: datetime) -> None:
    """Delete a destroyed copy's blobs that nothing else names (the same bytes may be another
    agency's, or the sender's own when both are hosted here). Decree 30 Art. 18(4b)."""
    for sha256 in dict.fromkeys(digests):
        async with svc.transaction(read_only=True) as session:
            if await _still_named(session, sha256):
                continue
        await svc.blobs.delete(sha256, unless_written_after=since)


# -- judging ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Summary:
    """What the records keep of one report (read from its JSON form, made once)."""

    json: dict[str, Any]
    indication: str
    sub_indication: str | None
    legal_valid: bool

    @classmethod
    def of(cls, report: DocumentReport) -> _Summary:
        body = report_json(report)
        sub = body["sub_indication"]
        return cls(
            json=body,
            indication=str(body["indication"]),
            sub_indication=None if sub is None else str(sub),
            legal_valid=report.legal.valid,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Judged:
    package: PackageVerdict
    documents: tuple[DocumentReport | None, ...]
    """One per attachment; None for a file in no signature format."""
    main: int | None
    """The index of the main document: the first PDF."""
    package_summary: _Summary
    summaries: tuple[_Summary | None, ...]
    """One per attachment, as ``documents``."""

    @property
    def judged(self) -> list[DocumentReport]:
        return [r for r in self.documents if r is not None]

    @property
    def indication(self) -> str | None:
        worst = self._worst()
        return None if worst is None else worst.indication

    @property
    def sub_indication(self) -> str | None:
        worst = self._worst()
        return None if worst is None else worst.sub_indication

    @property
    def legal_valid(self) -> bool | None:
        if self.main is None:
            return None
        report = self.documents[self.main]
        return None if report is None else report.legal.valid

    def _worst(self) -> _Summary | None:
        order = {AdESStatus.FAILED: 0, AdESStatus.INDETERMINATE: 1, AdESStatus.PASSED: 2}
        judged = [
            (r, s)
            for r, s in zip(self.documents, self.summaries, strict=True)
            if r is not None and s is not None
        ]
        return min(judged, key=lambda pair: order[pair[0].indication])[1] if judged else None


async def _judge(data: bytes, edoc: Edoc, policy: ValidationPolicy) -> Judged:
    """Every attachment is judged by the validation room, whatever its format: a file it
    cannot read (a PDF whose header sits where only lenient readers look, a ZIP of several
    files, an unsigned office file) is TOTAL-FAILED there and the package is returned, never
    registered with a file nobody checked."""
    formats = [detect_format(a.data) for a in edoc.attachments]
    main = next((i for i, f in enumerate(formats) if f == "pdf"), None)

    async def one(index: int) -> DocumentReport | None:
        attachment = edoc.attachments[index]
        kind: DocumentKind = "main" if index == main else "attachment"
        return await validate_bytes(attachment.data, policy, name=attachment.name, kind=kind)

    package, *results = await asyncio.gather(
        verify_package(data, policy), *(one(i) for i in range(len(edoc.attachments)))
    )
    assert isinstance(package, PackageVerdict)  # noqa: S101 (the first awaitable's result)
    documents = tuple(d for d in results if d is None or isinstance(d, DocumentReport))
    return Judged(
        package=package,
        documents=documents,
        main=main,
        package_summary=_Summary.of(package.report),
        summaries=tuple(None if d is None else _Summary.of(d) for d in documents),
    )


def _indication(report: DocumentReport) -> str:
    return str(report_json(report)["indication"])


def _first(findings: Sequence[Finding]) -> tuple[str, str]:
    for finding in findings:
        if finding.severity == "error":
            return finding.en, finding.vi
    if findings:
        return findings[0].en, findings[0].vi
    return "no reason was given", "không có lý do cụ thể"


_WORDS = {
    AdESStatus.FAILED: ("is not valid", "không hợp lệ"),
    AdESStatus.INDETERMINATE: ("cannot be determined", "chưa xác định được"),
}


def _decide(
    edoc: Edoc,
    judged: Judged,
    sender_certificates: frozenset[bytes] | None,
    owner_of_signer: str | None,
) -> Reason | None:
    """Why the package must be returned (Art. 21(2)), or None to register it."""
    sender = edoc.from_.organ_id
    package = judged.package
    if sender_certificates is None:
        return Reason(
            code="incoming.sender_unknown",
            en=f"the sending agency {sender} is not in the agency directory",
            vi=f"cơ quan gửi {sender} không có trong danh bạ cơ quan",
        )
    if not package.passed:
        en, vi = _first(package.reasons)
        word_en, word_vi = _WORDS[package.indication]
        return Reason(
            code="incoming.package_signature",
            en=f"the package signature {word_en} ({package.report.indication.name}): {en}",
            vi=f"chữ ký của gói tin {word_vi}: {vi}",
        )
    if not package.signed_by_one_of(sender_certificates):
        if owner_of_signer is not None and owner_of_signer != sender:
            return Reason(
                code="incoming.signed_by_other_agency",
                en=f"the package is signed with the certificate of {owner_of_signer}, "
                f"not of the sender {sender}",
                vi=f"gói tin được ký bằng chứng thư số của {owner_of_signer}, "
                f"không phải của cơ quan gửi {sender}",
            )
        return Reason(
            code="incoming.sender_certificate",
            en=f"the package is signed with a certificate the directory does not list for {sender}",
            vi=f"gói tin được ký bằng chứng thư số không có trong danh bạ của {sender}",
        )
    if not judged.judged:
        return Reason(
            code="incoming.no_document",
            en="the package carries no signed document",
            vi="gói tin không có văn bản được ký số",
        )
    for attachment, report in zip(edoc.attachments, judged.documents, strict=True):
        if report is None or report.indication == AdESStatus.PASSED:
            continue
        en, vi = _first([*report.findings, *(f for s in report.signatures for f in s.findings)])
        word_en, word_vi = _WORDS[report.indication]
        return Reason(
            code="incoming.document_signature",
            en=f"{attachment.name}: the signature {word_en} ({_indication(report)}): {en}",
            vi=f"{attachment.name}: chữ ký số {word_vi}: {vi}",
        )
    if judged.main is None:
        return Reason(
            code="incoming.no_main_document",
            en="the package carries no main document (a signed PDF)",
            vi="gói tin không có văn bản chính (tệp PDF được ký số)",
        )
    # Decree 30 Art. 5 for the main document; every separate attachment carries the agency
    # signature too (the outgoing flow seals each one): each file is checked, not only one.
    for attachment, report in zip(edoc.attachments, judged.documents, strict=True):
        if report is not None and not report.legal.valid:
            en, vi = _first(report.legal.reasons)
            return Reason(
                code="incoming.legal_check",
                en=f"{attachment.name} fails the Decree 30 Art. 5 check: {en}",
                vi=f"{attachment.name} không đạt kiểm tra theo Điều 5 Nghị định 30: {vi}",
            )
    # The agency whose signature makes a file valid is the one that sends it: a document
    # sealed by another agency, wrapped in this sender's genuine package, is not its own.
    senders = {hashlib.sha256(der).hexdigest() for der in sender_certificates}
    for attachment, report in zip(edoc.attachments, judged.documents, strict=True):
        if report is None:
            continue
        sealed_by = [
            s.signer
            for s in report.signatures
            if s.role == Role.AGENCY and s.passed and s.signer is not None
        ]
        if not any(cert.sha256 in senders for cert in sealed_by):
            names = ", ".join(sorted({c.common_name for c in sealed_by})) or "?"
            return Reason(
                code="incoming.sealed_by_other_agency",
                en=f"{attachment.name} carries the agency signature of {names}, not of the "
                f"sender {sender}",
                vi=f"{attachment.name} mang chữ ký số của cơ quan {names}, không phải của cơ quan "
                f"gửi {sender}",
            )
    return None


def _report_bytes(judged: Judged) -> bytes:
    """The reports of the package signature and of every judged file, as one JSON."""
    body: dict[str, Any] = {
        "schema": SCHEMA,
        "package": judged.package_summary.json,
        "documents": [None if r is None else r.json for r in judged.summaries],
    }
    return json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")


def _evidence_bytes(judged: Judged) -> bytes:
    """Every certificate, CRL, OCSP response and timestamp token the validations used
    (DER, base64), so the verdict can be checked again later without the network."""
    evidence = judged.package.report.evidence
    for report in judged.judged:
        evidence = evidence.merge(report.evidence)
    return _evidence_json(evidence)


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


@dataclass(frozen=True, slots=True, kw_only=True)
class _Stored:
    status_code: str
    description: str
    sha256: str
    signed: bool


async def _status(
    blobs: BlobStore,
    parsed: ParsedPackage,
    us: Organ,
    code: StatusCode,
    description: str,
    receiving: Receiving,
    moment: datetime,
) -> _Stored:
    message = status_for(
        parsed,
        sender=us,
        code=code,
        description=description[:1000],
        timestamp=moment.astimezone(VIETNAM).replace(microsecond=0),
    )
    data = build_message(message)
    if receiving.status_key is not None:
        try:
            data = await sign_package(data, receiving.status_key, signing_time=moment)
        except SigningError as exc:
            raise SigningFailed(exc.en, exc.vi) from exc
    ref = await blobs.put_bytes(data)
    return _Stored(
        status_code=code.value,
        description=message.description,
        sha256=ref.sha256,
        signed=receiving.status_key is not None,
    )


# -- reading ----------------------------------------------------------------------------------


async def _view(session: AsyncSession, row: IncomingDocument, organ_id: str) -> IncomingView:
    files = await session.scalars(
        select(IncomingAttachment).where(IncomingAttachment.incoming_id == row.id)
    )
    statuses = await session.scalars(
        select(IncomingStatus).where(IncomingStatus.incoming_id == row.id)
    )
    changes = None
    if row.changes_id is not None:
        changes = await session.scalar(
            select(IncomingDocument.public_id).where(IncomingDocument.id == row.changes_id)
        )
    return _view_of(row, organ_id, files, statuses, changes=changes)


def _view_of(
    row: IncomingDocument,
    organ_id: str,
    files: Iterable[IncomingAttachment],
    statuses: Iterable[IncomingStatus],
    *,
    changes: str | None = None,
) -> IncomingView:
    """The view of ``row`` with its files and status messages (in any order)."""
    return IncomingView(
        doc_type=row.doc_type,
        changes=changes,
        id=row.public_id,
        agency=organ_id,
        sender=row.sender_organ_id,
        sender_name=row.sender_name,
        document_id=row.document_id,
        code=row.code,
        subject=row.subject,
        state=row.state,
        arrival_number=row.arrival_number,
        arrival_year=row.arrival_year,
        reason=(
            None
            if row.reason_code is None
            else Reason(code=row.reason_code, en=row.reason_en or "", vi=row.reason_vi or "")
        ),
        package_sha256=row.package_sha256,
        package_indication=row.package_indication,
        indication=row.indication,
        sub_indication=row.sub_indication,
        legal_valid=row.legal_valid,
        report_sha256=row.report_sha256,
        evidence_sha256=row.evidence_sha256,
        received_at=row.received_at,
        files=tuple(
            IncomingFileView(
                ordinal=f.ordinal,
                name=f.name,
                media_type=f.media_type,
                sha256=f.sha256,
                size=f.size,
                indication=f.indication,
                sub_indication=f.sub_indication,
                legal_valid=f.legal_valid,
            )
            for f in sorted(files, key=lambda f: f.ordinal)
        ),
        statuses=tuple(
            StatusView(
                status_code=s.status_code,
                description=s.description,
                sha256=s.sha256,
                signed=s.signed,
                created_at=s.created_at,
            )
            for s in sorted(statuses, key=lambda s: s.status_code)
        ),
    )


async def _row(session: AsyncSession, principal: Principal, incoming_id: str) -> IncomingDocument:
    row = await session.scalar(
        select(IncomingDocument).where(
            IncomingDocument.public_id == incoming_id,
            IncomingDocument.agency_id == principal.agency_id,
        )
    )
    if row is None:  # another agency's document answers like a missing one
        raise NotFound("No such incoming document.", "Không có văn bản đến này.")
    return row


async def list_incoming(session: AsyncSession, principal: Principal) -> list[IncomingView]:
    """What arrived for the principal's agency, oldest first."""
    rows = await session.scalars(
        select(IncomingDocument)
        .where(IncomingDocument.agency_id == principal.agency_id)
        .order_by(IncomingDocument.received_at, IncomingDocument.id)
    )
    return [await _view(session, row, principal.organ_id) for row in rows]


async def get_incoming(
    session: AsyncSession, principal: Principal, incoming_id: str
) -> IncomingView:
    return await _view(session, await _row(session, principal, incoming_id), principal.organ_id)


async def open_report(
    session: AsyncSession, blobs: BlobStore, principal: Principal, incoming_id: str
) -> AsyncIterator[bytes]:
    """The validation report (JSON) of one incoming document, in chunks."""
    row = await _row(session, principal, incoming_id)
    return blobs.read(row.report_sha256)


__all__ = [
    "IncomingFileView",
    "IncomingView",
    "Reason",
    "Receiving",
    "StatusView",
    "agency_key",
    "destroy_copy",
    "get_incoming",
    "list_incoming",
    "open_report",
    "receive",
    "trust_policy",
]
