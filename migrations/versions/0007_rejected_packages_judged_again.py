"""a rejected package sent again is judged again

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

The same bytes were recognised by their SHA-256 whatever the first answer was, so a package
rejected because a revocation server was down got that answer for ever. The SHA-256 stays
unique only among registered packages (``registered_sha256``); rejected ones may have
several rows, one per different answer.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incoming_documents") as batch:
        batch.add_column(sa.Column("registered_sha256", sa.String(length=64), nullable=True))
        batch.drop_constraint(
            op.f("uq_incoming_documents_agency_id_package_sha256"), type_="unique"
        )
        batch.create_unique_constraint(
            op.f("uq_incoming_documents_agency_id_registered_sha256"),
            ["agency_id", "registered_sha256"],
        )
        batch.create_index(
            "ix_incoming_documents_agency_package", ["agency_id", "package_sha256"]
        )
    op.execute(
        "UPDATE incoming_documents SET registered_sha256 = package_sha256"
        " WHERE state = 'registered'"
    )


def downgrade() -> None:
    # rejected twins, if any, cannot stay: the older unique key allows one row per package
    op.execute(
        "DELETE FROM incoming_documents WHERE state = 'rejected' AND id NOT IN"
        " (SELECT MIN(id) FROM incoming_documents GROUP BY agency_id, package_sha256)"
    )
    with op.batch_alter_table("incoming_documents") as batch:
        batch.drop_index("ix_incoming_documents_agency_package")
        batch.drop_constraint(
            op.f("uq_incoming_documents_agency_id_registered_sha256"), type_="unique"
        )
        batch.create_unique_constraint(
            op.f("uq_incoming_documents_agency_id_package_sha256"),
            ["agency_id", "package_sha256"],
        )
        batch.drop_column("registered_sha256")
