"""Changing a document already sent (QCVN 102:2016 ``Bussiness``, ``standards/edxml.md`` §1.3,
§6.1): revoke it (BussinessDocType 1), update it (2) or replace it (3).

- A **revocation** is a package about the original, signed by the agency key, with the
  original's DocumentId, number, metadata and recipients and ``BussinessDocType`` 1, and no
  files: it delivers no document, it names one (the recipient matches it to its copy by
  DocumentId and sender), and sending the files again to an agency that is to destroy them
  would serve nothing. The original is frozen (``revoked``) at once (Decree 30 Art. 18(4b));
  each recipient answers 03 (its copy destroyed, the metadata kept) or 02 (refused).
- An **update** is a corrected document, drafted and personally signed as any, issued with
  the original's number, date and DocumentId (it is the same document, corrected):
  ``BussinessDocType`` 2 and ``BussinessDocumentInfo`` saying whether the metadata changed.
- A **replacement** is a new document, drafted, signed and issued with its own number, whose
  package names the original in ``ReplacementInfoList``.

Both go through :func:`exchange.documents.issue` (the same signatures, the same one
transaction), to the original's recipients only, and mark the original ``updated`` or
``replaced``; the recipients answer 15 (accepted) or 16 (refused). Every package travels
through the outbox like any other; the answers join the original's timeline
(:mod:`exchange.tracking`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime

from sqlalchemy import select

from exchange import audit, documents, incoming, outbox
from exchange.accounts import Principal, Role
from exchange.db.models import Document
from exchange.documents import Change, DocumentView
from exchange.edxml import (
    Bussiness,
    BussinessDocType,
    Edoc,
    EdxmlError,
    TraceHeader,
    TraceHeaderList,
    build_signed,
    parse_package,
)
from exchange.errors import BadRequest, Conflict, NotFound, SigningFailed
from exchange.service import Services
from signing import SigningError

_NOT_SENT = (
    "Only an issued and sent document, not revoked, updated or replaced since, can be revoked.",
    "Chỉ văn bản đã ban hành và đã gửi, chưa bị thu hồi, cập nhật hay thay thế, mới thu hồi được.",
)


def _revocation(original: Edoc, organ_id: str, reason: str, moment: datetime) -> Edoc:
    """The original's package turned into its revocation: the same header, no files, one
    more trace header, ``Bussiness`` saying what it does."""
    before = original.trace.bussiness
    return dataclasses.replace(
        original,
        attachments=(),
        trace=TraceHeaderList(
            headers=(*original.trace.headers, TraceHeader(organ_id=organ_id, timestamp=moment)),
            bussiness=Bussiness(
                doc_type=BussinessDocType.REVOKE,
                document_id=original.document_id,
                reason=reason,
                paper=before.paper if before else False,
                staff_info=before.staff_info if before else None,
            ),
        ),
    )


async def revoke(
    svc: Services, principal: Principal, document_id: str, reason: str
) -> DocumentView:
    """Revoke an issued document: frozen here, a signed revocation to each recipient."""
    principal.require(Role.CLERK)
    text = reason.strip()
    if not text:
        raise BadRequest(
            "reason: a revocation needs its reason", "reason: cần nêu lý do thu hồi", field="reason"
        )
    async with svc.transaction(read_only=True) as session:
        row = await session.scalar(
            select(Document).where(
                Document.public_id == document_id, Document.agency_id == principal.agency_id
            )
        )
        if row is None:
            raise NotFound("No such document.", "Không có văn bản này.")
        if row.state != "issued" or row.package_sha256 is None:
            raise Conflict(*_NOT_SENT)
        package_sha = row.package_sha256
    data = b"".join([chunk async for chunk in svc.blobs.read(package_sha)])
    try:
        parsed = await asyncio.to_thread(parse_package, data)
    except EdxmlError as exc:  # our own package: this node wrote it
        raise Conflict(
            f"The document's own package cannot be read again: {exc.en}",
            f"Không đọc lại được gói tin của chính văn bản: {exc.vi}",
        ) from exc
    if not isinstance(parsed.message, Edoc):  # pragma: no cover - an issue stores an edoc
        raise Conflict(*_NOT_SENT)
    moment = datetime.now(UTC).replace(microsecond=0)
    revocation = _revocation(parsed.message, principal.organ_id, text[:500], moment)
    async with incoming.agency_key(svc.settings.agencies, principal.organ_id) as key:
        if key is None:
            raise SigningFailed(
                "No agency signing key is configured on this node for this agency: a "
                "revocation is signed with it.",
                "Nút này chưa cấu hình khóa ký số của cơ quan: thông báo thu hồi cần được ký "
                "bằng khóa đó.",
            )
        try:
            signed = await build_signed(revocation, key, now=moment)
        except SigningError as exc:
            raise SigningFailed(exc.en, exc.vi) from exc
    blob = await svc.blobs.put_bytes(signed)
    async with svc.transaction() as session:
        row = await session.scalar(
            select(Document)
            .where(Document.public_id == document_id, Document.agency_id == principal.agency_id)
            .with_for_update()
        )
        # again under the lock: another revocation, update or replacement may have won
        if row is None or row.state != "issued":
            raise Conflict(*_NOT_SENT)
        row.state, row.revoked_at, row.revocation_sha256 = "revoked", moment, blob.sha256
        row.updated_at = moment
        recipients = json.loads(row.metadata_json)["recipients"]
        for recipient in recipients:
            await outbox.enqueue(
                session,
                agency_id=principal.agency_id,
                to_organ_id=recipient,
                kind="edoc",
                payload_sha256=blob.sha256,
                payload_size=blob.size,
                document_id=row.id,
            )
        await audit.record(
            session,
            actor=principal.actor,
            action="document.revoke",
            agency=principal.organ_id,
            document=f"document:{document_id}",
            details={"package_sha256": blob.sha256, "reason": text[:200]},
        )
        await session.flush()
        view = await documents.get_document(session, principal, document_id)
    outbox.wake()
    return view


async def update(
    svc: Services, principal: Principal, document_id: str, *, by: str, reason: str = ""
) -> DocumentView:
    """Issue ``by`` (a personally signed draft) as the corrected ``document_id``: the same
    number, date and DocumentId, sent to the same recipients as an update."""
    return await _issue_change(svc, principal, document_id, by, reason, BussinessDocType.UPDATE)


async def replace(
    svc: Services, principal: Principal, document_id: str, *, by: str, reason: str = ""
) -> DocumentView:
    """Issue ``by`` (a personally signed draft) with its own number, replacing
    ``document_id`` for the same recipients."""
    return await _issue_change(svc, principal, document_id, by, reason, BussinessDocType.REPLACE)


async def _issue_change(
    svc: Services,
    principal: Principal,
    document_id: str,
    by: str,
    reason: str,
    doc_type: BussinessDocType,
) -> DocumentView:
    principal.require(Role.CLERK)
    seal = documents.seal_of(svc.settings.agencies, principal)
    return await documents.issue(
        svc,
        principal,
        by,
        seal=seal,
        tsa_urls=svc.settings.tsa_urls,
        change=Change(doc_type=doc_type, original=document_id, reason=reason),
    )


__all__ = ["replace", "revoke", "update"]
