"""The sender's view of a document on its way: per recipient, how its delivery stands and
every status the recipient sent back (checked and kept as evidence by :mod:`exchange.inbox`),
with the answers to its revocation, and to the documents that updated or replaced it (each
event says which package it answers)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounts import Principal
from exchange.db.delivery_models import DocumentStatus, OutboxMessage
from exchange.db.models import Document
from exchange.errors import NotFound

# Statuses given in the same second are put in the order the exchange makes them (a status
# message's time has whole seconds, and messages may arrive in any order).
_CHANGES = {1: "revoke", 2: "update", 3: "replace"}
_STEP = {"01": 1, "02": 2, "03": 2, "04": 3, "05": 4, "06": 5, "13": 6, "15": 7, "16": 7}


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusEvent:
    status_code: str
    description: str
    stated_at: datetime
    """The time the recipient's message gives."""
    received_at: datetime
    message_sha256: str
    """The signed status message, kept in the blob store."""
    change: str | None = None
    """The package the status answers: None the document itself, else ``revoke`` (its
    revocation), ``update`` or ``replace`` (the document :attr:`document` that changed it)."""
    document: str | None = None
    """The public id of the document the answered package carried."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientView:
    recipient: str
    delivery: str
    """``pending``, ``delivered``, ``failed``, or ``none`` (not sent: not issued yet)."""
    route: str | None
    attempts: int
    last_error: str | None
    delivered_at: datetime | None
    status_code: str | None
    """The latest status the recipient sent (None: none yet)."""
    timeline: tuple[StatusEvent, ...]


async def recipients_of(
    session: AsyncSession, principal: Principal, document_id: str
) -> list[RecipientView]:
    """The delivery and status timeline of each recipient of the agency's document."""
    row = await session.scalar(
        select(Document).where(
            Document.public_id == document_id, Document.agency_id == principal.agency_id
        )
    )
    if row is None:
        raise NotFound("No such document.", "Không có văn bản này.")
    deliveries = {
        m.to_organ_id: m
        for m in await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.document_id == row.id,
                OutboxMessage.agency_id == principal.agency_id,
                OutboxMessage.kind == "edoc",
                OutboxMessage.payload_sha256 == row.package_sha256,
            )
        )
    }
    # the documents that updated or replaced this one, and in turn theirs
    names = {row.id: row.public_id}
    frontier = [row.id]
    while frontier:
        later = (
            await session.execute(
                select(Document.id, Document.public_id).where(
                    Document.agency_id == principal.agency_id,
                    Document.supersedes_id.in_(frontier),
                    Document.id.not_in(list(names)),
                )
            )
        ).all()
        names.update({pk: public for pk, public in later})
        frontier = [pk for pk, _ in later]
    events: dict[str, list[StatusEvent]] = {}
    for s in await session.scalars(
        select(DocumentStatus)
        .where(
            DocumentStatus.document_id.in_(list(names)),
            DocumentStatus.agency_id == principal.agency_id,
        )
        .order_by(DocumentStatus.stated_at, DocumentStatus.id)
    ):
        events.setdefault(s.recipient_organ_id, []).append(
            StatusEvent(
                status_code=s.status_code,
                description=s.description,
                stated_at=s.stated_at,
                received_at=s.received_at,
                message_sha256=s.message_sha256,
                change=_CHANGES.get(s.change_type),
                document=names[s.document_id],
            )
        )
    views = []
    for recipient in json.loads(row.metadata_json).get("recipients", []):
        message = deliveries.get(recipient)
        timeline = tuple(
            sorted(
                events.get(recipient, ()),
                key=lambda e: (e.stated_at, _STEP.get(e.status_code, 99), e.received_at),
            )
        )
        views.append(
            RecipientView(
                recipient=recipient,
                delivery=message.state if message else "none",
                route=message.route if message else None,
                attempts=message.attempts if message else 0,
                last_error=message.last_error if message else None,
                delivered_at=message.delivered_at if message else None,
                status_code=timeline[-1].status_code if timeline else None,
                timeline=timeline,
            )
        )
    return views
