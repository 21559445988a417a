"""Messages that arrive from other agencies (over HTTP from another node, or handed over
locally by this node's worker): document packages go to the incoming flow, status messages to
the sent document they are about.

The caller has authenticated the sending agency (:mod:`exchange.nodeauth` for another node;
this node itself for a local delivery). Here each message is also held to that agency: a
package's ``From`` must be it, a status message must be signed by it, answer a document its
recipient really got (``ResponseFor`` and the SHA-256 of the very package delivered), and
come from one of that document's recipients. Anything else is refused with a reason and an
audit line, and changes nothing.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from exchange import accounts, audit, incoming, outbox, recall
from exchange.accounts import Principal
from exchange.db.delivery_models import DocumentStatus, OutboxMessage
from exchange.db.models import Agency, AgencyCertificate, Document
from exchange.edxml import (
    BussinessDocType,
    EdxmlError,
    Limits,
    StatusCode,
    StatusMessage,
    parse_package,
    verify_package,
)
from exchange.errors import NodeRefused, NotFound
from exchange.service import Services


@dataclass(frozen=True, slots=True, kw_only=True)
class Accepted:
    """What the receiving node answers (nothing of its internals: no identifiers)."""

    kind: str
    """``edoc`` or ``status``."""
    state: str
    """For a package: ``registered`` or ``rejected``; for a status: ``recorded``."""
    status_code: str | None = None

    def to_record(self) -> dict[str, str | None]:
        return {"kind": self.kind, "state": self.state, "status_code": self.status_code}


async def _read(svc: Services, sha256: str) -> bytes:
    return b"".join([chunk async for chunk in svc.blobs.read(sha256)])


def _refuse(reason: str, en: str, vi: str) -> NodeRefused:
    return NodeRefused(en, vi, reason=reason)


async def _hosted(session: AsyncSession, organ_id: str, sender: str) -> Principal:
    try:
        return await accounts.operator(
            session, organ_id, audit.Actor(name=f"node:{sender}", origin="node")
        )
    except NotFound:
        raise _refuse(
            "not_hosted",
            f"this node hosts no agency {organ_id}",
            f"nút này không phục vụ cơ quan {organ_id}",
        ) from None


async def certificates_of(session: AsyncSession, organ_id: str) -> frozenset[bytes] | None:
    """The certificates the directory lists for ``organ_id`` (None: not in the directory)."""
    agency_id = await session.scalar(select(Agency.id).where(Agency.organ_id == organ_id))
    if agency_id is None:
        return None
    ders = await session.scalars(
        select(AgencyCertificate.der).where(AgencyCertificate.agency_id == agency_id)
    )
    return frozenset(ders)


async def record_refusal(
    svc: Services, *, sender: str | None, recipient: str | None, error: NodeRefused, origin: str
) -> None:
    """An audit line for a refused message (in the recipient's log when it is hosted here)."""
    async with svc.transaction() as session:
        hosted = None
        if recipient is not None:
            hosted = await session.scalar(
                select(Agency.organ_id).where(Agency.organ_id == recipient, Agency.hosted.is_(True))
            )
        await audit.record(
            session,
            actor=audit.Actor(name=f"node:{sender or '?'}"[:200], origin=origin[:100]),
            action="node.refuse",
            agency=hosted,
            details={"reason": error.details.get("reason"), "error": error.en[:500]},
        )


async def accept(
    svc: Services, *, sender: str, recipient: str, body: bytes, origin: str = "node"
) -> Accepted:
    """Take one message from ``sender`` (already authenticated) for ``recipient``."""
    limits = Limits(
        max_package_bytes=min(svc.settings.max_upload_bytes, Limits().max_package_bytes)
    )
    try:
        parsed = await asyncio.to_thread(parse_package, body, limits=limits)
    except EdxmlError:
        parsed = None
    if parsed is not None and isinstance(parsed.message, StatusMessage):
        return await _status(svc, sender, recipient, body, parsed.message)
    claimed = parsed.message.from_.organ_id if parsed is not None else sender
    if claimed != sender:  # a status message was handled above; this is a package
        raise _refuse(
            "not_the_sender",
            f"the package says it comes from {claimed}, the request from {sender}",
            f"gói tin ghi cơ quan gửi là {claimed}, còn yêu cầu do {sender} gửi",
        )
    async with svc.transaction(read_only=True) as session:
        principal = await _hosted(session, recipient, sender)
    policy = incoming.trust_policy(svc.settings.data_dir, recipient)
    async with incoming.agency_key(svc.settings.agencies, recipient) as key:
        receiving = incoming.Receiving(policy=policy, status_key=key, limits=limits)
        view = await incoming.receive(svc, principal, body, receiving)
    # the answers go back to the sender: at least once (the same statuses, written again
    # after a repeat, are recognised by the outbox)
    async with svc.transaction() as session:
        for status in view.statuses:
            await outbox.enqueue(
                session,
                agency_id=principal.agency_id,
                to_organ_id=sender,
                kind="status",
                payload_sha256=status.sha256,
                payload_size=len(await _read(svc, status.sha256)),
                incoming_public_id=view.id,
                status_code=status.status_code,
            )
    outbox.wake()
    return Accepted(kind="edoc", state=view.state)


async def _verified(svc: Services, sender: str, recipient: str, body: bytes) -> None:
    """The status message is validly signed by one of ``sender``'s directory certificates."""
    async with svc.transaction(read_only=True) as session:
        certificates = await certificates_of(session, sender)
    verdict = await verify_package(
        body, incoming.trust_policy(svc.settings.data_dir, recipient), name="status.edxml"
    )
    if certificates is None or not verdict.signed_by_one_of(certificates):
        raise _refuse(
            "status_signature",
            f"the status message is not validly signed by {sender} ({verdict.indication.name})",
            f"thông điệp trạng thái không được {sender} ký số hợp lệ",
        )


async def _recall(
    svc: Services, sender: str, recipient: str, body: bytes, message: StatusMessage
) -> Accepted:
    """A sender asks for its own document back (13)."""
    if message.response_for.organ_id != sender:
        raise _refuse(
            "not_about_theirs",
            f"{sender} can only recall its own documents, not one of "
            f"{message.response_for.organ_id}",
            f"{sender} chỉ lấy lại được văn bản của chính mình, không phải của "
            f"{message.response_for.organ_id}",
        )
    async with svc.transaction(read_only=True) as session:
        principal = await _hosted(session, recipient, sender)
    await _verified(svc, sender, recipient, body)
    answer = await recall.answer_recall(svc, principal, sender, message)
    return Accepted(kind="status", state="answered", status_code=answer)


async def _status(
    svc: Services, sender: str, recipient: str, body: bytes, message: StatusMessage
) -> Accepted:
    if message.from_.organ_id != sender:
        raise _refuse(
            "not_the_sender",
            f"the status message says it comes from {message.from_.organ_id}, "
            f"the request from {sender}",
            f"thông điệp trạng thái ghi cơ quan gửi là {message.from_.organ_id}, "
            f"còn yêu cầu do {sender} gửi",
        )
    if message.status_code == StatusCode.RECALL:
        return await _recall(svc, sender, recipient, body, message)
    if message.response_for.organ_id != recipient:
        raise _refuse(
            "not_about_ours",
            f"the status message is about a document of {message.response_for.organ_id}, "
            f"not of {recipient}",
            f"thông điệp trạng thái nói về văn bản của {message.response_for.organ_id}, "
            f"không phải của {recipient}",
        )
    async with svc.transaction(read_only=True) as session:
        principal = await _hosted(session, recipient, sender)
        # the package the status answers, as it was delivered to ``sender``: the document
        # itself, its revocation, or (the same DocumentId) an update of it
        document = None
        if message.received_package_sha256 is not None:
            document = await session.scalar(
                select(Document)
                .join(OutboxMessage, OutboxMessage.document_id == Document.id)
                .where(
                    Document.agency_id == principal.agency_id,
                    Document.edxml_document_id == message.response_for.document_id,
                    OutboxMessage.agency_id == principal.agency_id,
                    OutboxMessage.to_organ_id == sender,
                    OutboxMessage.kind == "edoc",
                    OutboxMessage.payload_sha256 == message.received_package_sha256,
                )
                .limit(1)
            )
    # one refusal for all three, so that a status message cannot probe which documents an
    # agency of this node sent, and to whom
    recipients = json.loads(document.metadata_json).get("recipients", []) if document else []
    if document is None or sender not in recipients:
        raise _refuse(
            "not_a_recipient",
            f"{sender} was delivered no such package by {recipient}: the status message "
            "answers nothing it received (its DocumentId, recipient or package SHA-256)",
            f"{sender} không nhận gói tin nào như vậy từ {recipient}: thông điệp trạng thái "
            "không trả lời gói tin nào đã nhận (DocumentId, nơi nhận hoặc mã SHA-256 gói tin)",
        )
    if message.received_package_sha256 == document.revocation_sha256:
        change_type = BussinessDocType.REVOKE
    else:
        change_type = BussinessDocType(document.change_type)
    answers_change = change_type in (BussinessDocType.UPDATE, BussinessDocType.REPLACE)
    if (
        message.status_code in (StatusCode.RECALL_ACCEPTED, StatusCode.RECALL_REFUSED)
        and not answers_change  # 15/16 answer an update or a replacement unasked
    ):
        async with svc.transaction(read_only=True) as session:
            asked = await session.scalar(
                select(OutboxMessage.id).where(
                    OutboxMessage.document_id == document.id,
                    OutboxMessage.to_organ_id == sender,
                    OutboxMessage.kind == "status",
                    OutboxMessage.status_code == StatusCode.RECALL.value,
                )
            )
        if asked is None:
            raise _refuse(
                "not_asked",
                f"{sender} answers a recall of {message.response_for.document_id} that "
                f"{recipient} never asked for",
                f"{sender} trả lời đề nghị lấy lại văn bản {message.response_for.document_id} "
                f"mà {recipient} chưa hề gửi",
            )
    await _verified(svc, sender, recipient, body)
    blob = await svc.blobs.put_bytes(body)
    now = datetime.now(UTC)
    # the sender's own time, but never after it reached us: a status dated in the future
    # would stay the "latest" on the timeline for ever
    stated = min(message.timestamp.astimezone(UTC), now)
    async with svc.transaction() as session:
        try:
            async with session.begin_nested():
                session.add(
                    DocumentStatus(
                        document_id=document.id,
                        agency_id=principal.agency_id,
                        recipient_organ_id=sender,
                        status_code=message.status_code.value,
                        description=message.description[:1000],
                        stated_at=stated,
                        received_at=now,
                        message_sha256=blob.sha256,
                        signed=True,
                        change_type=int(change_type),
                    )
                )
                await session.flush()
        except IntegrityError:  # the same message again: recorded once
            return Accepted(kind="status", state="recorded", status_code=message.status_code.value)
        await audit.record(
            session,
            actor=principal.actor,
            action="document.status",
            agency=principal.organ_id,
            document=f"document:{document.public_id}",
            details={
                "recipient": sender,
                "status": message.status_code.value,
                "message": blob.sha256,
            },
        )
    return Accepted(kind="status", state="recorded", status_code=message.status_code.value)
