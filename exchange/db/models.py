"""The tables of the exchange room. Each row that belongs to an agency carries ``agency_id``;
every query the services make filters on it (one agency never reads another's rows)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from exchange.db.base import Base, UtcDateTime
from exchange.ids import new_public_id


class Agency(Base):
    """An agency of the directory: hosted on this node (a tenant) or reached elsewhere."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organ_id: Mapped[str] = mapped_column(String(35), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    organization_in_charge: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    email: Mapped[str] = mapped_column(String(100), default="")
    telephone: Mapped[str] = mapped_column(String(20), default="")
    fax: Mapped[str] = mapped_column(String(20), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    node_url: Mapped[str | None] = mapped_column(String(500))
    mail_address: Mapped[str | None] = mapped_column(String(254))
    hosted: Mapped[bool] = mapped_column(Boolean, default=False)
    """True when the agency's users, registers and documents live on this node."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AgencyCertificate(Base):
    """A certificate an agency signs its packages and documents with (DER)."""

    __tablename__ = "agency_certificates"
    __table_args__ = (UniqueConstraint("agency_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    der: Mapped[bytes] = mapped_column(LargeBinary)
    subject: Mapped[str] = mapped_column(String(1000))
    not_after: Mapped[datetime] = mapped_column(UtcDateTime)


class User(Base):
    """A person who logs in: one agency, one or more roles (space-separated, see
    :class:`exchange.accounts.Role`)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    """Lower case; unique on the node, since a login names no agency."""
    full_name: Mapped[str] = mapped_column(String(100), default="")
    roles: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A bearer token: a machine's (own roles, issued by an administrator) or a login
    session's (the user's roles). Only the SHA-256 of the secret is kept."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("kind IN ('machine', 'session')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    roles: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LoginThrottle(Base):
    """Failed logins per account name and per address, shared by every API process."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime)


class Register(Base):
    """A register (sổ đăng ký) with its yearly sequence: outgoing numbers or arrival numbers.

    ``year`` is the Vietnam-time year ``next_number`` belongs to; the first allocation in a
    new year starts again at 1 (Art. 15(1), Art. 22(2))."""

    __tablename__ = "registers"
    __table_args__ = (
        UniqueConstraint("agency_id", "code"),
        CheckConstraint("kind IN ('outgoing', 'incoming')", name="kind"),
        CheckConstraint("next_number >= 1", name="next_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))
    year: Mapped[int] = mapped_column(Integer)
    next_number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RegisterEntry(Base):
    """One number given out by a register. Number and notation are unique in the agency and
    year (NULL notations, the arrival numbers, are kept apart by the register's own
    constraint)."""

    __tablename__ = "register_entries"
    __table_args__ = (
        UniqueConstraint("register_id", "year", "number"),
        UniqueConstraint("agency_id", "year", "number", "notation"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    register_id: Mapped[int] = mapped_column(ForeignKey("registers.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    notation: Mapped[str | None] = mapped_column(String(30))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    subject: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(200))


class StoredFile(Base):
    """A file an agency keeps, its bytes in the blob store under ``sha256``. The row is
    written only after the blob is complete."""

    __tablename__ = "stored_files"
    __table_args__ = (Index("ix_stored_files_agency_sha256", "agency_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True, default=new_public_id)
    """What the API and the command line call it (see :mod:`exchange.ids`)."""
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class AuditEntry(Base):
    """One line of the append-only audit log (see :mod:`exchange.audit`)."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("agency", "agency_seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    agency: Mapped[str | None] = mapped_column(String(35), index=True)
    """The OrganId of the agency the action belongs to (None: the node itself)."""
    agency_seq: Mapped[int | None] = mapped_column(Integer)
    """The entry's number among its agency's entries (1, 2, 3, …): what the agency sees,
    since ``seq`` counts every agency's entries on the node. Not part of the hash (it follows
    from the chain's order)."""
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    document: Mapped[str | None] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(100))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class Document(Base):
    """An agency's document on its way out (flow 1): a draft, then signed, then issued.

    ``current_sha256`` names the blob of the PDF as it stands now (the draft with its empty
    number/date fields, later the signed and issued versions); ``metadata_json`` holds the
    Decree 30 App. VI metadata as checked by :class:`exchange.documents.OutgoingMetadata`.
    """

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint(
            "state IN ('draft', 'signed', 'issued', 'revoked', 'updated', 'replaced')",
            name="state",
        ),
        CheckConstraint("change_type IN (0, 2, 3)", name="change_type"),
        Index("ix_documents_agency_state", "agency_id", "state"),
        # not unique: an update (BussinessDocType 2) keeps the DocumentId of the document it
        # corrects; which package a status answers is told by its SHA-256 (the outbox)
        Index("ix_documents_agency_edxml_document_id", "agency_id", "edxml_document_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True, default=new_public_id)
    """What the API and the command line call it (see :mod:`exchange.ids`)."""
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    register_id: Mapped[int] = mapped_column(ForeignKey("registers.id"))
    state: Mapped[str] = mapped_column(String(8))
    metadata_json: Mapped[str] = mapped_column(Text)
    main_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    """The PDF as the clerk uploaded it."""
    current_sha256: Mapped[str] = mapped_column(String(64))
    package_sha256: Mapped[str | None] = mapped_column(String(64))
    """The signed edXML package of the issued document, ready for delivery."""
    edxml_document_id: Mapped[str | None] = mapped_column(String(200))
    """The package's ``DocumentId`` once issued: the key the recipients' statuses name."""
    change_type: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    """The package's ``BussinessDocType``: 0 a new document, 2 an update of
    :attr:`supersedes_id` (same number, date and DocumentId), 3 its replacement (its own)."""
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    """The document this one updates or replaces (that one is ``updated``/``replaced``)."""
    revocation_sha256: Mapped[str | None] = mapped_column(String(64))
    """The signed revocation package (BussinessDocType 1) sent for this document, which is
    ``revoked`` (frozen) since."""
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DocumentAttachment(Base):
    """A separate attachment file of a document (it gets its own agency signature)."""

    __tablename__ = "document_attachments"
    __table_args__ = (UniqueConstraint("document_id", "ordinal"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    ordinal: Mapped[int] = mapped_column(Integer)


class SigningState(Base):
    """Phase one of a two-phase personal signature: the signing room's state file (a blob),
    for the draft as it stood then (``draft_sha256``); used once, by the signer who asked."""

    __tablename__ = "signing_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True, default=new_public_id)
    """What the API and the command line call it (see :mod:`exchange.ids`)."""
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state_sha256: Mapped[str] = mapped_column(String(64))
    draft_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
