"""The archive's catalog: dossiers, their documents, the archive timestamps that cover them,
and every preservation event.

The bytes live in the two-copy store (:mod:`archive.store`); the catalog holds what they are,
their digests and how each one is proven. An evidence record is not stored whole: it is put
together from the catalog when asked (:mod:`archive.service`), from the archive timestamps
that cover the document (:class:`ArchiveStamp`, one token shared by every document of a
seal or renewal, with the leaves of its hash tree kept in the store) and the document's own
leaf in each one's tree (:class:`StampLink`). That keeps one seal of 100,000 documents at one
token and 32 bytes a document, not 100,000 copies of the token.

The archive's tables are declared on their own metadata (this room does not import the
exchange room); the exchange room's migrations create them with its own tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""The same naming convention as the exchange room's tables, so constraint names agree."""

metadata = MetaData(naming_convention=NAMING)


class Base(DeclarativeBase):
    metadata = metadata


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC (SQLite keeps no zone; PostgreSQL ``timestamptz``)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"the database returned {type(value).__name__} for a timestamp")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StoredItem(Base):
    """Every object the archive put in its store, with its size: what the fixity audit
    checks (documents, their originals, reports, evidence, hash-tree leaves)."""

    __tablename__ = "archive_objects"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Dossier(Base):
    """A closed dossier (hồ sơ) in the archive, with its TT 05/2025 EAD fields."""

    __tablename__ = "archive_dossiers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    """The dossier's code (fileCode / arcFileCode)."""
    objid: Mapped[str] = mapped_column(String(36), unique=True)
    """The UUID of its information package (OBJID ``urn:uuid:…``)."""
    title: Mapped[str] = mapped_column(String(1000))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The other EAD fields (maintenance, mode, language, dates, …) by their TT 05 name."""
    maintenance: Mapped[str] = mapped_column(String(2))
    """Retention code 01–07 (01 permanent)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    disposed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    disposal_approved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ArchivedDocument(Base):
    """One file of a dossier, byte-exact in the store, with its validation report."""

    __tablename__ = "archive_documents"
    __table_args__ = (
        UniqueConstraint("dossier_id", "ordinal"),
        UniqueConstraint("dossier_id", "name"),
        CheckConstraint("state IN ('kept', 'disposed')", name="state"),
        CheckConstraint("role IN ('document', 'composition')", name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("archive_dossiers.id"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    """The file name in the package (``representations/rep1/data/NAME``)."""
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    original_sha256: Mapped[str] = mapped_column(String(64))
    """The file as it was handed in (before the validation data and archive timestamp were
    added); equal to ``sha256`` when nothing was added."""
    media_type: Mapped[str] = mapped_column(String(100))
    indication: Mapped[str] = mapped_column(String(20))
    """The overall ETSI indication at ingest (TOTAL-PASSED, TOTAL-FAILED, INDETERMINATE)."""
    legal: Mapped[str | None] = mapped_column(String(20), nullable=True)
    report_sha256: Mapped[str] = mapped_column(String(64))
    """The validation report at ingest (JSON), in the store."""
    report_html_sha256: Mapped[str] = mapped_column(String(64))
    evidence_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The evidence the report rests on (certificates, CRLs, OCSP, timestamps), in the store."""
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The EAD_doc fields (typeName, codeNumber, issuedDate, …)."""
    trace_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The processing trail: the edXML trace (TraceHeaderList) as exchanged, in the store."""
    status_history: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, nullable=True)
    """The processing trail: the statuses the document went through (``code``, ``time`` in
    ISO 8601, ``organ``, ``description``), oldest first."""
    state: Mapped[str] = mapped_column(String(10), default="kept")
    role: Mapped[str] = mapped_column(String(12), default="document", server_default="document")
    """``document``: a file of the dossier; ``composition``: the archive's own record of which
    documents (names, digests) the dossier held after an ingest, sealed like a document so
    that an exported package's composition is proven too (named ``composition/N``, ordinal
    ``-N``; never in ``data/``)."""
    ingested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sealed: Mapped[bool] = mapped_column(default=False, index=True)


class ArchiveStamp(Base):
    """One archive timestamp (RFC 4998 ArchiveTimeStamp's token) and what it was made for."""

    __tablename__ = "archive_stamps"
    __table_args__ = (CheckConstraint("kind IN ('seal', 'timestamp', 'hashtree')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    """``seal``: the first timestamp over new documents; ``timestamp``: a timestamp renewal
    (appended to each covered chain); ``hashtree``: a hash-tree renewal (a new chain)."""
    algorithm: Mapped[str] = mapped_column(String(20))
    root: Mapped[str] = mapped_column(String(128))
    """The hash-tree root the token's message imprint carries (hex)."""
    token: Mapped[bytes] = mapped_column(LargeBinary)
    """The RFC 3161 token (DER ContentInfo)."""
    gen_time: Mapped[datetime] = mapped_column(UtcDateTime())
    tsa_not_after: Mapped[datetime] = mapped_column(UtcDateTime())
    """When the TSA's certificate expires: the token must be renewed before then."""
    leaves: Mapped[int] = mapped_column(Integer)
    leaves_sha256: Mapped[str] = mapped_column(String(64))
    """The tree's leaves (``leaves`` digests, concatenated) in the store: the tree, and every
    covered document's reduced hash tree, are rebuilt from them when asked."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class StampLink(Base):
    """A document covered by an archive timestamp, and its leaf in that timestamp's tree."""

    __tablename__ = "archive_stamp_links"
    __table_args__ = (Index("ix_archive_stamp_links_stamp", "stamp_id"),)

    document_id: Mapped[int] = mapped_column(ForeignKey("archive_documents.id"), primary_key=True)
    stamp_id: Mapped[int] = mapped_column(ForeignKey("archive_stamps.id"), primary_key=True)
    leaf: Mapped[int] = mapped_column(Integer)
    """The index of the document's leaf (for a timestamp renewal: of its previous timestamp's
    leaf; documents that share a previous timestamp share a leaf)."""


class ArchiveEvent(Base):
    """A preservation event (PREMIS): ingest, seal, renewal, audit, repair, export, disposal."""

    __tablename__ = "archive_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int | None] = mapped_column(
        ForeignKey("archive_dossiers.id"), nullable=True, index=True
    )
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("archive_documents.id"), nullable=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    type: Mapped[str] = mapped_column(String(50))
    outcome: Mapped[str] = mapped_column(String(20))
    """``success``, ``failure`` or ``warning``."""
    detail: Mapped[str] = mapped_column(Text)
    agent: Mapped[str] = mapped_column(String(200))


__all__ = [
    "ArchiveEvent",
    "ArchiveStamp",
    "ArchivedDocument",
    "Base",
    "Dossier",
    "StampLink",
    "StoredItem",
    "metadata",
]
