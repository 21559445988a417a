"""The tables of the incoming flow (flow 2): packages received for an agency of this node, the
documents they carried with their verdicts, and the status messages answering them.

Every row belongs to the receiving agency (``agency_id``); the services filter on it. A row
names blobs (package, report, evidence, attachments, status messages) that were completely
written before it.
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


class IncomingDocument(Base):
    """One package received for an agency: registered with an arrival number (Art. 22) or
    rejected with a reason (Art. 21(2)).

    The same package is recognised by its SHA-256 and, once its signature is known to be the
    sender's, by the sender's DocumentId: each is unique among the receiving agency's
    registered documents, so a package is registered once however often (and however
    concurrently) it arrives, and a forged package naming another's DocumentId cannot stand
    in for the genuine one. Rejected packages sent again are judged again: a new answer gets
    its own row, the same refusal answers with the first one."""

    __tablename__ = "incoming_documents"
    __table_args__ = (
        UniqueConstraint("agency_id", "registered_sha256"),
        Index("ix_incoming_documents_agency_package", "agency_id", "package_sha256"),
        UniqueConstraint(
            "agency_id",
            "sender_organ_id",
            "authentic_document_id",
            name="uq_incoming_documents_authentic_document",
        ),
        CheckConstraint(
            "state IN ('registered', 'rejected', 'recalled', 'revoked', 'updated', 'replaced')",
            name="state",
        ),
        CheckConstraint("doc_type IN (0, 1, 2, 3)", name="doc_type"),
        Index("ix_incoming_documents_agency_received", "agency_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True, default=new_public_id)
    """What the API and the command line call it (see :mod:`exchange.ids`)."""
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    package_sha256: Mapped[str] = mapped_column(String(64))
    registered_sha256: Mapped[str | None] = mapped_column(String(64))
    """The package's SHA-256 again when it was registered (None when rejected, and NULLs
    never collide): the same bytes are registered once, while a rejected package sent again
    is judged anew (an outage may have made its first answer indeterminate)."""
    package_size: Mapped[int] = mapped_column(BigInteger)
    sender_organ_id: Mapped[str] = mapped_column(String(35))
    sender_name: Mapped[str] = mapped_column(String(200))
    document_id: Mapped[str] = mapped_column(String(200))
    """The sender's edXML DocumentId."""
    authentic_document_id: Mapped[str | None] = mapped_column(String(200))
    """The DocumentId again when the package signature passed and is the sender's (None
    otherwise, and NULLs never collide): the key that recognises a document sent twice. An
    accepted update (same DocumentId) takes it over from the copy it updates, so the key
    always names the current copy."""
    code: Mapped[str] = mapped_column(String(42))
    """Number and notation as the sender issued them (``125/UBND-VP``)."""
    subject: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(10))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason_en: Mapped[str | None] = mapped_column(Text)
    reason_vi: Mapped[str | None] = mapped_column(Text)
    package_indication: Mapped[str] = mapped_column(String(20))
    """The package signature's ETSI indication."""
    indication: Mapped[str | None] = mapped_column(String(20))
    """The documents' overall indication (the worst of them); None when none was judged."""
    sub_indication: Mapped[str | None] = mapped_column(String(64))
    legal_valid: Mapped[bool | None] = mapped_column(Boolean)
    """The main document's Decree 30 Art. 5 check; None when it was not judged."""
    report_sha256: Mapped[str] = mapped_column(String(64))
    evidence_sha256: Mapped[str] = mapped_column(String(64))
    register_entry_id: Mapped[int | None] = mapped_column(ForeignKey("register_entries.id"))
    arrival_year: Mapped[int | None] = mapped_column(Integer)
    arrival_number: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_by: Mapped[str] = mapped_column(String(200))
    destroyed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When a recall or a revocation the agency accepted destroyed the copy (the package and
    the files; the metadata, the report and the statuses stay). Decree 30 Art. 18(4b)."""
    doc_type: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    """The package's ``BussinessDocType``: 0 new, 1 revocation, 2 update, 3 replacement."""
    changes_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id"))
    """For a revocation, update or replacement: the copy it is about (when one was found)."""


class IncomingAttachment(Base):
    """A file the package carried, its bytes in the blob store, with its own verdict."""

    __tablename__ = "incoming_attachments"
    __table_args__ = (UniqueConstraint("incoming_id", "ordinal"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incoming_id: Mapped[int] = mapped_column(
        ForeignKey("incoming_documents.id", ondelete="CASCADE")
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    indication: Mapped[str | None] = mapped_column(String(20))
    sub_indication: Mapped[str | None] = mapped_column(String(64))
    legal_valid: Mapped[bool | None] = mapped_column(Boolean)


class IncomingStatus(Base):
    """A status message the receiving agency answers with (01 arrived, 02 rejected,
    03 registered), stored for delivery (the edXML in the blob store)."""

    __tablename__ = "incoming_statuses"
    __table_args__ = (UniqueConstraint("incoming_id", "status_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incoming_id: Mapped[int] = mapped_column(
        ForeignKey("incoming_documents.id", ondelete="CASCADE")
    )
    status_code: Mapped[str] = mapped_column(String(2))
    description: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64))
    signed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
