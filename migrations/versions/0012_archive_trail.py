"""the archive: each document's processing trail (edXML trace, status history)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

A dossier the exchange room closes into the archive carries, per document, the edXML trace
it was exchanged with (in the store) and the statuses it went through; the package's EAD_doc
says ``process=1`` and attaches both.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "archive_documents", sa.Column("trace_sha256", sa.String(length=64), nullable=True)
    )
    op.add_column("archive_documents", sa.Column("status_history", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("archive_documents") as batch:
        batch.drop_column("status_history")
        batch.drop_column("trace_sha256")
