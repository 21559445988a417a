"""delivery between agencies: the outbox, the statuses that came back, request nonces

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Each hosted agency's messages (packages and status messages) wait in the outbox until a worker
delivers them; the statuses recipients send about a document are kept with it; a node keeps the
nonces of the signed requests it accepted. Documents keep their edXML DocumentId once issued.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("edxml_document_id", sa.String(length=200), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_documents_agency_id_edxml_document_id"), ["agency_id", "edxml_document_id"]
        )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=20), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("to_organ_id", sa.String(length=35), nullable=False),
        sa.Column("kind", sa.String(length=6), nullable=False),
        sa.Column("route", sa.String(length=5), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("payload_size", sa.BigInteger(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("incoming_id", sa.Integer(), nullable=True),
        sa.Column("status_code", sa.String(length=2), nullable=True),
        sa.Column("state", sa.String(length=9), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claimed_until", TZ, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("delivered_at", TZ, nullable=True),
        sa.CheckConstraint("kind IN ('edoc', 'status')", name=op.f("ck_outbox_kind")),
        sa.CheckConstraint("route IN ('local', 'http', 'mail')", name=op.f("ck_outbox_route")),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'failed')", name=op.f("ck_outbox_state")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_outbox_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_outbox_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["incoming_id"],
            ["incoming_documents.id"],
            name=op.f("fk_outbox_incoming_id_incoming_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint(
            "agency_id",
            "to_organ_id",
            "payload_sha256",
            name=op.f("uq_outbox_agency_id_to_organ_id_payload_sha256"),
        ),
        sa.UniqueConstraint("public_id", name=op.f("uq_outbox_public_id")),
    )
    op.create_index("ix_outbox_due", "outbox", ["state", "next_attempt_at"], unique=False)
    op.create_index(op.f("ix_outbox_agency_id"), "outbox", ["agency_id"], unique=False)
    op.create_index(op.f("ix_outbox_document_id"), "outbox", ["document_id"], unique=False)
    op.create_table(
        "document_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("recipient_organ_id", sa.String(length=35), nullable=False),
        sa.Column("status_code", sa.String(length=2), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("stated_at", TZ, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("message_sha256", sa.String(length=64), nullable=False),
        sa.Column("signed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_document_statuses_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_statuses_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_statuses")),
        sa.UniqueConstraint(
            "document_id",
            "message_sha256",
            name=op.f("uq_document_statuses_document_id_message_sha256"),
        ),
    )
    op.create_index(
        op.f("ix_document_statuses_document_id"),
        "document_statuses",
        ["document_id"],
        unique=False,
    )
    op.create_table(
        "node_nonces",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("seen_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_node_nonces")),
    )
    op.create_index(op.f("ix_node_nonces_seen_at"), "node_nonces", ["seen_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_node_nonces_seen_at"), table_name="node_nonces")
    op.drop_table("node_nonces")
    op.drop_index(op.f("ix_document_statuses_document_id"), table_name="document_statuses")
    op.drop_table("document_statuses")
    op.drop_index(op.f("ix_outbox_document_id"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_agency_id"), table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
    with op.batch_alter_table("documents") as batch:
        batch.drop_constraint(op.f("uq_documents_agency_id_edxml_document_id"), type_="unique")
        batch.drop_column("edxml_document_id")
