"""revocation, update and replacement of a sent document (BussinessDocType 1, 2, 3)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

The sender's document may be revoked (frozen, with the revocation package it sent), updated
(a corrected document keeping the number, the date and the DocumentId: that DocumentId is no
longer unique per agency) or replaced (a new document naming the one it replaces). The
receiver keeps what each package did (``doc_type``) and which copy it was about
(``changes_id``); the copy is then revoked (destroyed, metadata kept), updated or replaced.
The statuses that come back say which package they answer.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
_OLD_DOCUMENT_STATES = "state IN ('draft', 'signed', 'issued')"
_OLD_INCOMING_STATES = "state IN ('registered', 'rejected', 'recalled')"


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(
            sa.Column("change_type", sa.SmallInteger(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("supersedes_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("revocation_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("revoked_at", TZ, nullable=True))
        batch.drop_constraint(op.f("uq_documents_agency_id_edxml_document_id"), type_="unique")
        batch.drop_constraint(op.f("ck_documents_state"), type_="check")
        batch.create_check_constraint(
            op.f("ck_documents_state"),
            "state IN ('draft', 'signed', 'issued', 'revoked', 'updated', 'replaced')",
        )
        batch.create_check_constraint(op.f("ck_documents_change_type"), "change_type IN (0, 2, 3)")
        batch.create_foreign_key(
            op.f("fk_documents_supersedes_id_documents"), "documents", ["supersedes_id"], ["id"]
        )
        batch.create_index(op.f("ix_documents_supersedes_id"), ["supersedes_id"], unique=False)
        batch.create_index(
            "ix_documents_agency_edxml_document_id",
            ["agency_id", "edxml_document_id"],
            unique=False,
        )
    with op.batch_alter_table("incoming_documents") as batch:
        batch.add_column(
            sa.Column("doc_type", sa.SmallInteger(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("changes_id", sa.Integer(), nullable=True))
        batch.drop_constraint(op.f("ck_incoming_documents_state"), type_="check")
        batch.create_check_constraint(
            op.f("ck_incoming_documents_state"),
            "state IN ('registered', 'rejected', 'recalled', 'revoked', 'updated', 'replaced')",
        )
        batch.create_check_constraint(
            op.f("ck_incoming_documents_doc_type"), "doc_type IN (0, 1, 2, 3)"
        )
        batch.create_foreign_key(
            op.f("fk_incoming_documents_changes_id_incoming_documents"),
            "incoming_documents",
            ["changes_id"],
            ["id"],
        )
    with op.batch_alter_table("document_statuses") as batch:
        batch.add_column(
            sa.Column("change_type", sa.SmallInteger(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("document_statuses") as batch:
        batch.drop_column("change_type")
    # a revoked copy was destroyed as a recalled one is; an updated or replaced one stays
    op.execute("UPDATE incoming_documents SET state = 'recalled' WHERE state = 'revoked'")
    op.execute(
        "UPDATE incoming_documents SET state = 'registered' WHERE state IN ('updated', 'replaced')"
    )
    with op.batch_alter_table("incoming_documents") as batch:
        batch.drop_constraint(
            op.f("fk_incoming_documents_changes_id_incoming_documents"), type_="foreignkey"
        )
        batch.drop_constraint(op.f("ck_incoming_documents_doc_type"), type_="check")
        batch.drop_constraint(op.f("ck_incoming_documents_state"), type_="check")
        batch.create_check_constraint(op.f("ck_incoming_documents_state"), _OLD_INCOMING_STATES)
        batch.drop_column("changes_id")
        batch.drop_column("doc_type")
    op.execute(
        "UPDATE documents SET state = 'issued' WHERE state IN ('revoked', 'updated', 'replaced')"
    )
    # an update shares its DocumentId with the document it corrects: only one may keep it
    op.execute("UPDATE documents SET edxml_document_id = NULL WHERE change_type = 2")
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_agency_edxml_document_id")
        batch.drop_index(op.f("ix_documents_supersedes_id"))
        batch.drop_constraint(op.f("fk_documents_supersedes_id_documents"), type_="foreignkey")
        batch.drop_constraint(op.f("ck_documents_change_type"), type_="check")
        batch.drop_constraint(op.f("ck_documents_state"), type_="check")
        batch.create_check_constraint(op.f("ck_documents_state"), _OLD_DOCUMENT_STATES)
        batch.create_unique_constraint(
            op.f("uq_documents_agency_id_edxml_document_id"), ["agency_id", "edxml_document_id"]
        )
        batch.drop_column("revoked_at")
        batch.drop_column("revocation_sha256")
        batch.drop_column("supersedes_id")
        batch.drop_column("change_type")
