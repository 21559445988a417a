"""the signed edXML package of an issued document

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

An issued outgoing document names the blob of its signed edXML package (QCVN 102:2016),
ready for delivery. SQLite drops a column by copying the table (batch mode).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("package_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("package_sha256")
