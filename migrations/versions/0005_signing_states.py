"""two-phase personal signatures: the state of phase one

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Phase one of a two-phase personal signature stores the signing room's state file as a blob;
this row names it, the draft it was prepared for, the signer who asked, and when phase two
used it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state_sha256", sa.String(length=64), nullable=False),
        sa.Column("draft_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_signing_states_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_signing_states_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_signing_states_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_states")),
    )
    op.create_index(
        op.f("ix_signing_states_document_id"), "signing_states", ["document_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_signing_states_document_id"), table_name="signing_states")
    op.drop_table("signing_states")
