"""opinion reports (社情民意信息): reports, submitters, history, attachments, counters

Revision ID: 0003_reports
Revises: 0002
Create Date: 2026-11-26 10:00:00

Hand-written (a parallel 0003 branch adds other tables); only this feature's tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_reports"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "report_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_report_counters")),
    )
    op.create_table(
        "reports",
        sa.Column("id", ID, nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("submitter_id", ID, nullable=False),
        sa.Column("sector", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_since", TS, nullable=False),
        sa.Column("submitted_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["submitter_id"],
            ["members.id"],
            name=op.f("fk_reports_submitter_id_members"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("number", name=op.f("uq_reports_number")),
        sa.UniqueConstraint("year", "seq", name=op.f("uq_reports_year_seq")),
    )
    op.create_index("ix_reports_state_since", "reports", ["state", "state_since"], unique=False)
    op.create_index(op.f("ix_reports_submitter_id"), "reports", ["submitter_id"], unique=False)
    op.create_index(op.f("ix_reports_submitted_at"), "reports", ["submitted_at"], unique=False)
    op.create_table(
        "report_submitters",
        sa.Column("report_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_submitters_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_report_submitters_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "member_id", name=op.f("pk_report_submitters")),
    )
    op.create_index(
        op.f("ix_report_submitters_member_id"), "report_submitters", ["member_id"], unique=False
    )
    op.create_table(
        "report_history",
        sa.Column("id", ID, nullable=False),
        sa.Column("report_id", ID, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=96), nullable=False),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_history_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["members.id"],
            name=op.f("fk_report_history_actor_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_history")),
    )
    op.create_index(
        op.f("ix_report_history_report_id"), "report_history", ["report_id"], unique=False
    )
    op.create_table(
        "report_attachments",
        sa.Column("id", ID, nullable=False),
        sa.Column("report_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("media_id", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stored_ref", sa.String(length=500), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("fetched_at", TS, nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_attachments_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_attachments")),
    )
    op.create_index(
        "ix_report_attachments_status",
        "report_attachments",
        ["status", "received_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_report_attachments_report_id"),
        "report_attachments",
        ["report_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("report_attachments")
    op.drop_table("report_history")
    op.drop_table("report_submitters")
    op.drop_index("ix_reports_state_since", table_name="reports")
    op.drop_table("reports")
    op.drop_table("report_counters")
