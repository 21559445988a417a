"""incoming documents, their attachments and status answers

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

The incoming flow (flow 2): each package received for a hosted agency, registered with an
arrival number or rejected with a reason; the files it carried with their verdicts; the
status messages (01, 02, 03) answering it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incoming_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("package_sha256", sa.String(length=64), nullable=False),
        sa.Column("package_size", sa.BigInteger(), nullable=False),
        sa.Column("sender_organ_id", sa.String(length=35), nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=False),
        sa.Column("document_id", sa.String(length=200), nullable=False),
        sa.Column("authentic_document_id", sa.String(length=200), nullable=True),
        sa.Column("code", sa.String(length=42), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("reason_en", sa.Text(), nullable=True),
        sa.Column("reason_vi", sa.Text(), nullable=True),
        sa.Column("package_indication", sa.String(length=20), nullable=False),
        sa.Column("indication", sa.String(length=20), nullable=True),
        sa.Column("sub_indication", sa.String(length=64), nullable=True),
        sa.Column("legal_valid", sa.Boolean(), nullable=True),
        sa.Column("report_sha256", sa.String(length=64), nullable=False),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=False),
        sa.Column("register_entry_id", sa.Integer(), nullable=True),
        sa.Column("arrival_year", sa.Integer(), nullable=True),
        sa.Column("arrival_number", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "state IN ('registered', 'rejected')", name=op.f("ck_incoming_documents_state")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_incoming_documents_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["register_entry_id"],
            ["register_entries.id"],
            name=op.f("fk_incoming_documents_register_entry_id_register_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incoming_documents")),
        sa.UniqueConstraint(
            "agency_id",
            "package_sha256",
            name=op.f("uq_incoming_documents_agency_id_package_sha256"),
        ),
        sa.UniqueConstraint(
            "agency_id",
            "sender_organ_id",
            "authentic_document_id",
            name="uq_incoming_documents_authentic_document",
        ),
    )
    op.create_index(
        "ix_incoming_documents_agency_received",
        "incoming_documents",
        ["agency_id", "received_at"],
        unique=False,
    )

    op.create_table(
        "incoming_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incoming_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("indication", sa.String(length=20), nullable=True),
        sa.Column("sub_indication", sa.String(length=64), nullable=True),
        sa.Column("legal_valid", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incoming_id"],
            ["incoming_documents.id"],
            name=op.f("fk_incoming_attachments_incoming_id_incoming_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incoming_attachments")),
        sa.UniqueConstraint(
            "incoming_id", "ordinal", name=op.f("uq_incoming_attachments_incoming_id_ordinal")
        ),
    )

    op.create_table(
        "incoming_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incoming_id", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.String(length=2), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("signed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incoming_id"],
            ["incoming_documents.id"],
            name=op.f("fk_incoming_statuses_incoming_id_incoming_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incoming_statuses")),
        sa.UniqueConstraint(
            "incoming_id",
            "status_code",
            name=op.f("uq_incoming_statuses_incoming_id_status_code"),
        ),
    )


def downgrade() -> None:
    op.drop_table("incoming_statuses")
    op.drop_table("incoming_attachments")
    op.drop_index("ix_incoming_documents_agency_received", table_name="incoming_documents")
    op.drop_table("incoming_documents")
