"""the archive: a sealed record of each dossier's composition

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

After each ingest the archive records which documents (names, digests) the dossier holds, as
a row of ``archive_documents`` with ``role = 'composition'``: it is sealed and renewed like a
document, and an exported package carries it with its evidence record, so that the package's
composition is proven, not only each document.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("archive_documents") as batch:
        batch.add_column(
            sa.Column(
                "role", sa.String(length=12), server_default="document", nullable=False
            )
        )
        batch.create_check_constraint(
            op.f("ck_archive_documents_role"), "role IN ('document', 'composition')"
        )


def downgrade() -> None:
    with op.batch_alter_table("archive_documents") as batch:
        batch.drop_constraint(op.f("ck_archive_documents_role"), type_="check")
        batch.drop_column("role")
