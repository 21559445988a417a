"""dossiers: an agency's dossier list and the documents filed in each

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

A clerk files outgoing and incoming documents into a dossier (hồ sơ, Decree 30 App. VI
Part III) and closes it into the archive.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dossiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=20), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("file_catalog", sa.Integer(), nullable=False),
        sa.Column("file_notation", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("maintenance", sa.String(length=2), nullable=False),
        sa.Column("rights", sa.String(length=2), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("creator", sa.String(length=30), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=6), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint("state IN ('open', 'closed')", name=op.f("ck_dossiers_state")),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_dossiers_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossiers")),
        sa.UniqueConstraint("agency_id", "code", name=op.f("uq_dossiers_agency_id_code")),
        sa.UniqueConstraint("public_id", name=op.f("uq_dossiers_public_id")),
    )
    op.create_index(op.f("ix_dossiers_agency_id"), "dossiers", ["agency_id"])
    op.create_table(
        "dossier_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("incoming_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "(document_id IS NULL) <> (incoming_id IS NULL)",
            name=op.f("ck_dossier_items_one_document"),
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_items_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_dossier_items_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["incoming_id"],
            ["incoming_documents.id"],
            name=op.f("fk_dossier_items_incoming_id_incoming_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_items")),
        sa.UniqueConstraint(
            "dossier_id", "ordinal", name=op.f("uq_dossier_items_dossier_id_ordinal")
        ),
        sa.UniqueConstraint(
            "dossier_id", "document_id", name=op.f("uq_dossier_items_dossier_id_document_id")
        ),
        sa.UniqueConstraint(
            "dossier_id", "incoming_id", name=op.f("uq_dossier_items_dossier_id_incoming_id")
        ),
    )
    op.create_index(op.f("ix_dossier_items_dossier_id"), "dossier_items", ["dossier_id"])
    op.create_index(op.f("ix_dossier_items_document_id"), "dossier_items", ["document_id"])
    op.create_index(op.f("ix_dossier_items_incoming_id"), "dossier_items", ["incoming_id"])


def downgrade() -> None:
    op.drop_table("dossier_items")
    op.drop_table("dossiers")
