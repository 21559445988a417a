"""public identifiers, and audit entries numbered per agency

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

The integer keys count every agency's rows on the node, so an agency that saw them would
learn how much the others do. Documents, files, signing requests and incoming documents get
a random public identifier (what the API and the command line now use), and audit entries a
number among their agency's entries. Existing rows are given theirs here.
"""

from __future__ import annotations

import base64
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("stored_files", "documents", "signing_states", "incoming_documents")


def _public_id() -> str:
    # the same form as exchange.ids.new_public_id, written out: a migration does not change
    # when the application does
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()[:20]


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        op.add_column(table, sa.Column("public_id", sa.String(length=20), nullable=True))
        ids = bind.execute(sa.text(f"SELECT id FROM {table}")).scalars().all()
        for row_id in ids:
            bind.execute(
                sa.text(f"UPDATE {table} SET public_id = :p WHERE id = :i"),
                {"p": _public_id(), "i": row_id},
            )
        with op.batch_alter_table(table) as batch:
            batch.alter_column("public_id", existing_type=sa.String(length=20), nullable=False)
            batch.create_unique_constraint(op.f(f"uq_{table}_public_id"), ["public_id"])

    op.add_column("audit_log", sa.Column("agency_seq", sa.Integer(), nullable=True))
    rows = bind.execute(
        sa.text("SELECT seq, agency FROM audit_log WHERE agency IS NOT NULL ORDER BY seq")
    ).all()
    counts: dict[str, int] = {}
    for seq, agency in rows:
        counts[agency] = counts.get(agency, 0) + 1
        bind.execute(
            sa.text("UPDATE audit_log SET agency_seq = :n WHERE seq = :s"),
            {"n": counts[agency], "s": seq},
        )
    with op.batch_alter_table("audit_log") as batch:
        batch.create_unique_constraint(
            op.f("uq_audit_log_agency_agency_seq"), ["agency", "agency_seq"]
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint(op.f("uq_audit_log_agency_agency_seq"), type_="unique")
        batch.drop_column("agency_seq")
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"uq_{table}_public_id"), type_="unique")
            batch.drop_column("public_id")
