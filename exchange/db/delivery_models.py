"""The tables of delivery between agencies: the outbox of messages (packages and status
messages) each hosted agency sends, the statuses that came back for the documents it sent,
and the request nonces a node has seen (replay protection).

An outbox row is written in the same transaction as the change that makes the message (the
issue of a document, the registration of an incoming one), so a message is never lost and
never made twice; the worker delivers it (:mod:`exchange.delivery`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from exchange.db.base import Base, UtcDateTime
from exchange.ids import new_public_id


class OutboxMessage(Base):
    """One message for one recipient agency: an edXML package or a status message.

    ``route`` says how it travels: ``local`` (the recipient is hosted on this node), ``http``
    (to the recipient's node), ``mail`` (a mail-only agency: waits for the mail gateway).
    ``state`` is ``pending`` (to be sent, at ``next_attempt_at``), ``delivered`` (the
    recipient's node answered 2xx) or ``failed`` (refused for good, or out of attempts; the
    reason in ``last_error``). A worker claims a row by setting ``claim_token`` and
    ``claimed_until``; a claim that outlives its worker (a process killed mid-delivery)
    expires and the row is sent again: the receiver recognises the same bytes."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("agency_id", "to_organ_id", "payload_sha256"),
        CheckConstraint("kind IN ('edoc', 'status')", name="kind"),
        CheckConstraint("route IN ('local', 'http', 'mail')", name="route"),
        CheckConstraint("state IN ('pending', 'delivered', 'failed')", name="state"),
        Index("ix_outbox_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True, default=new_public_id)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    """The sending agency (hosted here)."""
    to_organ_id: Mapped[str] = mapped_column(String(35))
    kind: Mapped[str] = mapped_column(String(6))
    route: Mapped[str] = mapped_column(String(5))
    payload_sha256: Mapped[str] = mapped_column(String(64))
    payload_size: Mapped[int] = mapped_column(BigInteger)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    """The sender's document the message carries or is about."""
    incoming_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id"))
    """The received document a status message answers."""
    status_code: Mapped[str | None] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(9))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DocumentStatus(Base):
    """A status message a recipient sent about one of the agency's documents, checked (its
    signature is the recipient's, it answers the very package delivered to it) and kept as
    evidence (the message's bytes in the blob store)."""

    __tablename__ = "document_statuses"
    __table_args__ = (UniqueConstraint("document_id", "message_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    recipient_organ_id: Mapped[str] = mapped_column(String(35))
    status_code: Mapped[str] = mapped_column(String(2))
    description: Mapped[str] = mapped_column(String(1000))
    stated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    """The message's own ``Timestamp``."""
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    message_sha256: Mapped[str] = mapped_column(String(64))
    signed: Mapped[bool] = mapped_column(Boolean)
    change_type: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    """The ``BussinessDocType`` of the package the status answers: 0 the document itself,
    1 its revocation, 2 or 3 the document as an update or a replacement."""


class NodeNonce(Base):
    """A request nonce seen from another node, kept as long as the request's date would
    still be accepted: the same signed request sent again is refused."""

    __tablename__ = "node_nonces"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    """``<sender OrganId>:<nonce>``."""
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
