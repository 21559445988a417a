"""Recalling a sent document (status 13) and answering a recall (15 accepted, 16 refused).

The sender asks each recipient with a status message 13 about its own document, signed by its
agency key, naming the very package it delivered (the lienthong SHA-256 extension). The
recipient accepts while it has not started work on the document (no 04, 05 or 06 yet) and
refuses otherwise, answering 15 or 16 the same way; on an accepted recall the incoming copy
is destroyed (the package and its files), its metadata, report and statuses kept (Decree 30
Art. 18(4b)). The answer travels back like every status and joins the sender's timeline.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import select

from exchange import audit, incoming, outbox
from exchange.accounts import Principal, Role
from exchange.db.incoming_models import IncomingAttachment, IncomingDocument, IncomingStatus
from exchange.db.models import Agency, Document
from exchange.edxml import (
    VIETNAM,
    Organ,
    ResponseFor,
    StatusCode,
    StatusMessage,
    build_message,
    sign_package,
)
from exchange.errors import Conflict, NodeRefused, NotFound, SigningFailed
from exchange.service import Services
from signing import SigningError

_PROGRESS = ("04", "05", "06")


async def _signed_status(
    svc: Services, organ_id: str, message: StatusMessage, moment: datetime
) -> tuple[str, int]:
    data = build_message(message)
    async with incoming.agency_key(svc.settings.agencies, organ_id) as key:
        if key is None:
            raise SigningFailed(
                "No agency signing key is configured on this node for this agency: "
                "status messages are signed with it.",
                "Nút này chưa cấu hình khóa ký số của cơ quan: thông điệp trạng thái cần được "
                "ký bằng khóa đó.",
            )
        try:
            data = await sign_package(data, key, signing_time=moment)
        except SigningError as exc:
            raise SigningFailed(exc.en, exc.vi) from exc
    ref = await svc.blobs.put_bytes(data)
    return ref.sha256, ref.size


# -- the sender ------------------------------------------------------------------------------


async def request_recall(
    svc: Services, principal: Principal, document_id: str, reason: str
) -> list[str]:
    """Ask every recipient of an issued document to give it back (13). Returns the
    recipients asked; their answers (15, 16) arrive on the document's timeline."""
    principal.require(Role.CLERK, Role.SIGNER)
    async with svc.transaction(read_only=True) as session:
        row = await session.scalar(
            select(Document).where(
                Document.public_id == document_id, Document.agency_id == principal.agency_id
            )
        )
        if row is None:
            raise NotFound("No such document.", "Không có văn bản này.")
        if row.state != "issued" or row.edxml_document_id is None or row.package_sha256 is None:
            raise Conflict(
                "Only an issued and sent document can be recalled.",
                "Chỉ văn bản đã ban hành và đã gửi mới lấy lại được.",
            )
        agency = await session.get(Agency, principal.agency_id)
        meta = json.loads(row.metadata_json)
        doc_pk, package_sha = row.id, row.package_sha256
        ours = Organ(organ_id=principal.organ_id, organ_name=agency.name if agency else "")
        about = ResponseFor(
            organ_id=principal.organ_id,
            document_id=row.edxml_document_id,
            code=f"{int(meta['code_number']):02d}/{meta['code_notation']}",
            promulgation_date=date.fromisoformat(meta["issued_date"]),
        )
    moment = datetime.now(UTC)
    message = StatusMessage(
        from_=ours,
        response_for=about,
        status_code=StatusCode.RECALL,
        description=(reason.strip() or "Đề nghị lấy lại văn bản")[:1000],
        timestamp=moment.astimezone(VIETNAM).replace(microsecond=0),
        received_package_sha256=package_sha,
    )
    sha256, size = await _signed_status(svc, principal.organ_id, message, moment)
    async with svc.transaction() as session:
        for recipient in meta["recipients"]:
            await outbox.enqueue(
                session,
                agency_id=principal.agency_id,
                to_organ_id=recipient,
                kind="status",
                payload_sha256=sha256,
                payload_size=size,
                document_id=doc_pk,
                status_code=StatusCode.RECALL.value,
            )
        await audit.record(
            session,
            actor=principal.actor,
            action="document.recall",
            agency=principal.organ_id,
            document=f"document:{document_id}",
            details={"message": sha256, "reason": message.description[:200]},
        )
    outbox.wake()
    return list(meta["recipients"])


# -- the recipient ---------------------------------------------------------------------------


async def answer_recall(
    svc: Services, principal: Principal, sender: str, message: StatusMessage
) -> str:
    """The recipient's side: 15 (the copy destroyed) or 16 (work has started on it), signed
    and sent back. ``message`` is a verified 13 from ``sender`` about its own document."""
    async with svc.transaction() as session:
        row = await session.scalar(
            select(IncomingDocument)
            .where(
                IncomingDocument.agency_id == principal.agency_id,
                IncomingDocument.sender_organ_id == sender,
                IncomingDocument.authentic_document_id == message.response_for.document_id,
            )
            .with_for_update()
        )
        if row is None or row.package_sha256 != message.received_package_sha256:
            raise NodeRefused(
                f"{principal.organ_id} holds no document {message.response_for.document_id} "
                f"from {sender} as delivered",
                f"{principal.organ_id} không có văn bản {message.response_for.document_id} "
                f"của {sender} như đã gửi",
                reason="unknown_document",
            )
        codes = set(
            await session.scalars(
                select(IncomingStatus.status_code).where(IncomingStatus.incoming_id == row.id)
            )
        )
        if codes & {"15", "16"}:  # answered before: the same answer again
            return "15" if "15" in codes else "16"
        started = sorted(codes & set(_PROGRESS))
        incoming_pk, package_sha = row.id, row.package_sha256
        public_id = row.public_id
        receiver = await session.get(Agency, principal.agency_id)
        receiver_name = receiver.name if receiver else ""
    accept = not started
    code = StatusCode.RECALL_ACCEPTED if accept else StatusCode.RECALL_REFUSED
    description = (
        "Đồng ý lấy lại: bản văn bản đến đã được hủy, siêu dữ liệu được giữ lại"
        if accept
        else f"Từ chối lấy lại: văn bản đã được xử lý (trạng thái {', '.join(started)})"
    )
    moment = datetime.now(UTC)
    answer = StatusMessage(
        from_=Organ(organ_id=principal.organ_id, organ_name=receiver_name),
        response_for=message.response_for,
        status_code=code,
        description=description,
        timestamp=moment.astimezone(VIETNAM).replace(microsecond=0),
        received_package_sha256=package_sha,
    )
    sha256, size = await _signed_status(svc, principal.organ_id, answer, moment)
    doomed: list[str] = []
    async with svc.transaction() as session:
        row = await session.get(IncomingDocument, incoming_pk, with_for_update=True)
        if row is None:  # pragma: no cover - rows are never deleted
            raise NotFound("No such incoming document.", "Không có văn bản đến này.")
        # again under the row lock: work may have started (04) or another copy of the 13
        # been answered while this answer was being signed; then that state holds
        now_codes = set(
            await session.scalars(
                select(IncomingStatus.status_code).where(IncomingStatus.incoming_id == row.id)
            )
        )
        if now_codes & {"15", "16"}:
            return "15" if "15" in now_codes else "16"
        raced = accept and bool(now_codes & set(_PROGRESS))
        if not raced:
            session.add(
                IncomingStatus(
                    incoming_id=incoming_pk,
                    status_code=code.value,
                    description=description,
                    sha256=sha256,
                    signed=True,
                    created_at=moment,
                )
            )
            if accept:
                row.state, row.destroyed_at = "recalled", moment
                files = await session.scalars(
                    select(IncomingAttachment.sha256).where(
                        IncomingAttachment.incoming_id == incoming_pk
                    )
                )
                doomed = [package_sha, *files]
            await outbox.enqueue(
                session,
                agency_id=principal.agency_id,
                to_organ_id=sender,
                kind="status",
                payload_sha256=sha256,
                payload_size=size,
                incoming_public_id=public_id,
                status_code=code.value,
            )
            await audit.record(
                session,
                actor=principal.actor,
                action="incoming.recall_accepted" if accept else "incoming.recall_refused",
                agency=principal.organ_id,
                document=f"incoming:{public_id}",
                details={"status": code.value, "message": sha256},
            )
    if raced:  # work started (04) while this answer was signed: answer again, now 16
        return await answer_recall(svc, principal, sender, message)
    if doomed:
        await incoming.destroy_copy(svc, doomed, moment)
    outbox.wake()
    return code.value
