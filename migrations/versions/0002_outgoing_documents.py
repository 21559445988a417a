"""outgoing documents and their attachments

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Outgoing documents (flow 1): the draft's metadata, its uploaded PDF, the blob of its
current version, and its separate attachments.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("metadata_json", sa.Text(), nullable=False),
        sa.Column("main_file_id", sa.Integer(), nullable=False),
        sa.Column("current_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('draft', 'signed', 'issued')", name=op.f("ck_documents_state")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_documents_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["main_file_id"],
            ["stored_files.id"],
            name=op.f("fk_documents_main_file_id_stored_files"),
        ),
        sa.ForeignKeyConstraint(
            ["register_id"], ["registers.id"], name=op.f("fk_documents_register_id_registers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index("ix_documents_agency_state", "documents", ["agency_id", "state"], unique=False)

    op.create_table(
        "document_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_attachments_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["stored_files.id"],
            name=op.f("fk_document_attachments_file_id_stored_files"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_attachments")),
        sa.UniqueConstraint(
            "document_id", "ordinal", name=op.f("uq_document_attachments_document_id_ordinal")
        ),
    )


def downgrade() -> None:
    op.drop_table("document_attachments")
    op.drop_table("documents")
