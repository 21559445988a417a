"""recalled incoming documents: their copy destroyed, their metadata kept

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

A recall the receiving agency accepts (status 15) destroys the incoming copy and keeps its
metadata (Decree 30 Art. 18(4b)): the row stays, in the new state ``recalled``, with the
time its files were destroyed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incoming_documents") as batch:
        batch.add_column(sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint(op.f("ck_incoming_documents_state"), type_="check")
        batch.create_check_constraint(
            op.f("ck_incoming_documents_state"), "state IN ('registered', 'rejected', 'recalled')"
        )


def downgrade() -> None:
    op.execute("UPDATE incoming_documents SET state = 'registered' WHERE state = 'recalled'")
    with op.batch_alter_table("incoming_documents") as batch:
        batch.drop_constraint(op.f("ck_incoming_documents_state"), type_="check")
        batch.create_check_constraint(
            op.f("ck_incoming_documents_state"), "state IN ('registered', 'rejected')"
        )
        batch.drop_column("destroyed_at")
