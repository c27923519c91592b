"""security review (issue 16): report versions, callback nonces

Revision ID: 0008_security_review
Revises: 0007_calendar_note
Create Date: 2026-12-02 06:00:00

- report_versions: every submission of a report is kept (重新提交 no longer overwrites).
  Existing reports get their current text as version 1 (what was overwritten before is gone).
- callback_nonces: the Official Account's signed nonces, kept for the freshness window, so a
  nonce seen once cannot be replayed with another body.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_security_review"
down_revision = "0007_calendar_note"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "report_versions",
        sa.Column("id", ID, nullable=False),
        sa.Column("report_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("author_id", ID, nullable=True),
        sa.Column("submitted_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_versions_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["members.id"],
            name=op.f("fk_report_versions_author_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_versions")),
        sa.UniqueConstraint(
            "report_id", "version", name=op.f("uq_report_versions_report_id_version")
        ),
    )
    op.create_index(
        op.f("ix_report_versions_report_id"), "report_versions", ["report_id"], unique=False
    )
    op.execute(
        "INSERT INTO report_versions "
        "(report_id, version, title, category, content, author_id, submitted_at) "
        "SELECT id, 1, title, category, content, submitter_id, submitted_at FROM reports"
    )
    op.create_table(
        "callback_nonces",
        sa.Column("endpoint", sa.String(length=16), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("seen_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("endpoint", "nonce", name=op.f("pk_callback_nonces")),
    )
    op.create_index(
        op.f("ix_callback_nonces_seen_at"), "callback_nonces", ["seen_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_callback_nonces_seen_at"), table_name="callback_nonces")
    op.drop_table("callback_nonces")
    op.drop_index(op.f("ix_report_versions_report_id"), table_name="report_versions")
    op.drop_table("report_versions")
