"""The tables of the agency's dossiers (hồ sơ, Decree 30 App. VI Part III): the dossier list
and the documents filed in each, until the dossier is closed into the archive.

A document may belong to several dossiers without being copied (archive.md §2): an item names
the outgoing or the incoming row, never its bytes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange.db.base import Base, UtcDateTime
from exchange.ids import new_public_id


class Dossier(Base):
    """One dossier of an agency's dossier list, with its App. VI metadata."""

    __tablename__ = "dossiers"
    __table_args__ = (
        UniqueConstraint("agency_id", "code"),
        CheckConstraint("state IN ('open', 'closed')", name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True, default=new_public_id)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    code: Mapped[str] = mapped_column(String(100))
    """FileCode: OrganId.FileCatalog.FileNotation (App. VI), the archive's fileCode too."""
    file_catalog: Mapped[int] = mapped_column(Integer)
    """FileCatalog (N4): the year of the dossier list."""
    file_notation: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    maintenance: Mapped[str] = mapped_column(String(2))
    """The retention period as a TT 05 code (01 permanent … 06 ten years, 07 other)."""
    rights: Mapped[str] = mapped_column(String(2))
    """Rights as a TT 05 ``mode``: 01 public, 02 conditional, 03 secret."""
    language: Mapped[str] = mapped_column(String(2))
    """A TT 05 language code (01 Vietnamese)."""
    creator: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(6), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(200))


class DossierItem(Base):
    """A document filed in a dossier: an outgoing or an incoming one, numbered in the dossier
    (DocOrdinal)."""

    __tablename__ = "dossier_items"
    __table_args__ = (
        UniqueConstraint("dossier_id", "ordinal"),
        UniqueConstraint("dossier_id", "document_id"),
        UniqueConstraint("dossier_id", "incoming_id"),
        CheckConstraint("(document_id IS NULL) <> (incoming_id IS NULL)", name="one_document"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    incoming_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)
    added_by: Mapped[str] = mapped_column(String(200))
