"""The receiving agency's later answers about a registered incoming document (§1.4, §6.1):
04 (assigned, phân công), 05 (in progress, đang xử lý), 06 (done, hoàn thành).

They only move forward: 04 → 05 → 06, a step may be skipped (a document done at once is
06 straight after 03), none is given twice and none goes back. Each one is a status message
made like the first answers (:func:`exchange.edxml.status_for` on the package as it was
received, signed with the agency's seal key when the node configures one), kept in the blob
store, and in one transaction recorded with the document and put in the outbox for the
sender, with its audit line.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange import audit, incoming, outbox
from exchange.accounts import Principal, Role
from exchange.db.incoming_models import IncomingDocument, IncomingStatus
from exchange.db.models import Agency
from exchange.edxml import (
    VIETNAM,
    EdxmlError,
    Limits,
    Organ,
    StaffInfo,
    StatusCode,
    build_message,
    parse_package,
    sign_package,
    status_for,
)
from exchange.errors import BadRequest, Conflict, InputUnreadable, NotFound, SigningFailed
from exchange.incoming import IncomingView
from exchange.service import Services
from signing import SigningError

REPORTERS = (Role.CLERK, Role.SIGNER)
"""Who reports the work on an incoming document: the văn thư or a leader."""

PROGRESS = (StatusCode.ASSIGNED, StatusCode.IN_PROGRESS, StatusCode.COMPLETED)
"""The codes this module makes, in the order they are given."""

_WORDS = {
    StatusCode.ASSIGNED: "assigned",
    StatusCode.IN_PROGRESS: "in progress",
    StatusCode.COMPLETED: "done",
}
MAX_DESCRIPTION = 1000


def progress_code(value: str) -> StatusCode:
    """``value`` as one of the codes 04, 05, 06, else :class:`BadRequest`."""
    for code in PROGRESS:
        if value == code.value:
            return code
    raise BadRequest(
        f"The status must be 04 (assigned), 05 (in progress) or 06 (done), not {value!r}.",
        f"Trạng thái phải là 04 (phân công), 05 (đang xử lý) hoặc 06 (hoàn thành), "
        f"không phải {value!r}.",
    )


async def report(
    svc: Services,
    principal: Principal,
    incoming_id: str,
    code: str | StatusCode,
    description: str = "",
    staff: StaffInfo | None = None,
    *,
    now: datetime | None = None,
) -> IncomingView:
    """Answer the sender of the registered incoming document ``incoming_id`` (its public
    identifier) with the status ``code`` (04, 05 or 06); an empty ``description`` says the
    status's name. Returns the document with all its statuses."""
    principal.require(*REPORTERS)
    status = progress_code(str(code))
    text = description.strip() or status.vietnamese
    if len(text) > MAX_DESCRIPTION:
        raise BadRequest(
            f"The description has {len(text)} characters; at most {MAX_DESCRIPTION} are allowed.",
            f"Nội dung dài {len(text)} ký tự; tối đa {MAX_DESCRIPTION} ký tự.",
        )
    moment = (now or datetime.now(UTC)).astimezone(UTC)

    # checked before anything is signed: a refused step costs no signature
    async with svc.transaction(read_only=True) as session:
        row = await _row(session, principal, incoming_id)
        _check(row, await _given(session, row), status)
        agency = await session.get(Agency, principal.agency_id)
        if agency is None:  # the principal was made from this row
            raise NotFound("No such agency.", "Không có cơ quan này.")
        us = Organ(organ_id=agency.organ_id, organ_name=agency.name)
        package_sha256, sender = row.package_sha256, row.sender_organ_id

    data = b"".join([chunk async for chunk in svc.blobs.read(package_sha256)])
    try:
        parsed = await asyncio.to_thread(parse_package, data, limits=Limits())
        message = status_for(
            parsed,
            sender=us,
            code=status,
            description=text,
            staff=staff,
            timestamp=moment.astimezone(VIETNAM).replace(microsecond=0),
        )
    except EdxmlError as exc:  # it was read when it arrived: the stored copy is not it
        raise InputUnreadable(
            f"The stored package of this document cannot be read: {exc.en}",
            f"Không đọc được gói tin đã lưu của văn bản này: {exc.vi}",
        ) from exc
    body = build_message(message)
    async with incoming.agency_key(svc.settings.agencies, principal.organ_id) as key:
        if key is not None:
            try:
                body = await sign_package(body, key, signing_time=moment)
            except SigningError as exc:
                raise SigningFailed(exc.en, exc.vi) from exc
    blob = await svc.blobs.put_bytes(body)  # durable before the row that names it

    async with svc.transaction() as session:
        # the document's row is locked (PostgreSQL): two reports about it take turns, so the
        # order is checked against what the other one wrote
        row = await _row(session, principal, incoming_id, lock=True)
        _check(row, await _given(session, row), status)
        session.add(
            IncomingStatus(
                incoming_id=row.id,
                status_code=status.value,
                description=message.description,
                sha256=blob.sha256,
                signed=key is not None,
                created_at=moment,
            )
        )
        await session.flush()
        await outbox.enqueue(
            session,
            agency_id=principal.agency_id,
            to_organ_id=sender,
            kind="status",
            payload_sha256=blob.sha256,
            payload_size=blob.size,
            incoming_public_id=row.public_id,
            status_code=status.value,
            now=moment,
        )
        await audit.record(
            session,
            actor=principal.actor,
            action="incoming.status",
            agency=principal.organ_id,
            document=f"incoming:{row.public_id}",
            details={"status": status.value, "message": blob.sha256, "signed": key is not None},
        )
        view = await incoming.get_incoming(session, principal, row.public_id)
    outbox.wake()
    return view


async def _row(
    session: AsyncSession, principal: Principal, incoming_id: str, *, lock: bool = False
) -> IncomingDocument:
    query = select(IncomingDocument).where(
        IncomingDocument.public_id == incoming_id,
        IncomingDocument.agency_id == principal.agency_id,
    )
    if lock:
        query = query.with_for_update()
    row = await session.scalar(query)
    if row is None:  # another agency's document answers like a missing one
        raise NotFound("No such incoming document.", "Không có văn bản đến này.")
    return row


async def _given(session: AsyncSession, row: IncomingDocument) -> set[str]:
    return set(
        await session.scalars(
            select(IncomingStatus.status_code).where(IncomingStatus.incoming_id == row.id)
        )
    )


def _check(row: IncomingDocument, given: set[str], status: StatusCode) -> None:
    """The step fits the document: it is registered, and the step comes after every one
    given before."""
    if row.state != "registered":
        raise Conflict(
            "Only a registered incoming document is assigned, in progress or done; "
            f"this one is {row.state}.",
            "Chỉ văn bản đến đã vào sổ mới được phân công, xử lý hoặc hoàn thành; "
            f"văn bản này {_STATE_VI.get(row.state, row.state)}.",
        )
    latest = max((c for c in PROGRESS if c.value in given), key=PROGRESS.index, default=None)
    if latest is None:
        return
    if latest == status:
        raise Conflict(
            f"The document is already {_WORDS[status]} ({status.value}): a status is given once.",
            f"Văn bản đã ở trạng thái {status.vietnamese.lower()} ({status.value}): "
            "mỗi trạng thái chỉ báo một lần.",
        )
    if PROGRESS.index(latest) > PROGRESS.index(status):
        raise Conflict(
            f"The document is already {_WORDS[latest]} ({latest.value}): it cannot go back to "
            f"{_WORDS[status]} ({status.value}).",
            f"Văn bản đã ở trạng thái {latest.vietnamese.lower()} ({latest.value}): không thể "
            f"quay lại trạng thái {status.vietnamese.lower()} ({status.value}).",
        )


_STATE_VI = {"rejected": "đã bị từ chối", "recalled": "đã bị thu hồi"}

__all__ = ["PROGRESS", "REPORTERS", "progress_code", "report"]
