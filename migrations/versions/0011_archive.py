"""the archive: dossiers, their documents, archive timestamps and preservation events

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

The archive room's catalog (archive/catalog.py). The bytes live in its two-copy store; these
tables say what they are and how each document is proven: every archive timestamp once, and
per document its leaf in the tree of each timestamp that covers it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_objects",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_archive_objects")),
    )
    op.create_table(
        "archive_dossiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("objid", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=1000), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("maintenance", sa.String(length=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disposed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disposal_approved_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_dossiers")),
        sa.UniqueConstraint("code", name=op.f("uq_archive_dossiers_code")),
        sa.UniqueConstraint("objid", name=op.f("uq_archive_dossiers_objid")),
    )
    op.create_table(
        "archive_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("original_sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("indication", sa.String(length=20), nullable=False),
        sa.Column("legal", sa.String(length=20), nullable=True),
        sa.Column("report_sha256", sa.String(length=64), nullable=False),
        sa.Column("report_html_sha256", sa.String(length=64), nullable=False),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "state IN ('kept', 'disposed')", name=op.f("ck_archive_documents_state")
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["archive_dossiers.id"],
            name=op.f("fk_archive_documents_dossier_id_archive_dossiers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_documents")),
        sa.UniqueConstraint(
            "dossier_id", "ordinal", name=op.f("uq_archive_documents_dossier_id_ordinal")
        ),
        sa.UniqueConstraint("dossier_id", "name", name=op.f("uq_archive_documents_dossier_id_name")),
    )
    with op.batch_alter_table("archive_documents") as batch:
        batch.create_index(batch.f("ix_archive_documents_dossier_id"), ["dossier_id"])
        batch.create_index(batch.f("ix_archive_documents_sha256"), ["sha256"])
        batch.create_index(batch.f("ix_archive_documents_sealed"), ["sealed"])
    op.create_table(
        "archive_stamps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("algorithm", sa.String(length=20), nullable=False),
        sa.Column("root", sa.String(length=128), nullable=False),
        sa.Column("token", sa.LargeBinary(), nullable=False),
        sa.Column("gen_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tsa_not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leaves", sa.Integer(), nullable=False),
        sa.Column("leaves_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('seal', 'timestamp', 'hashtree')", name=op.f("ck_archive_stamps_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_stamps")),
    )
    op.create_table(
        "archive_stamp_links",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("stamp_id", sa.Integer(), nullable=False),
        sa.Column("leaf", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["archive_documents.id"],
            name=op.f("fk_archive_stamp_links_document_id_archive_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["stamp_id"],
            ["archive_stamps.id"],
            name=op.f("fk_archive_stamp_links_stamp_id_archive_stamps"),
        ),
        sa.PrimaryKeyConstraint("document_id", "stamp_id", name=op.f("pk_archive_stamp_links")),
    )
    op.create_index("ix_archive_stamp_links_stamp", "archive_stamp_links", ["stamp_id"])
    op.create_table(
        "archive_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["archive_dossiers.id"],
            name=op.f("fk_archive_events_dossier_id_archive_dossiers"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["archive_documents.id"],
            name=op.f("fk_archive_events_document_id_archive_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_events")),
    )
    op.create_index(op.f("ix_archive_events_dossier_id"), "archive_events", ["dossier_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_archive_events_dossier_id"), table_name="archive_events")
    op.drop_table("archive_events")
    op.drop_index("ix_archive_stamp_links_stamp", table_name="archive_stamp_links")
    op.drop_table("archive_stamp_links")
    op.drop_table("archive_stamps")
    op.drop_table("archive_documents")
    op.drop_table("archive_dossiers")
    op.drop_table("archive_objects")
