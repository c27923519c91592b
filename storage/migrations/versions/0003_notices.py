"""notices, recurring notices, meetings, tasks (通知、会议、督办)

Revision ID: 0003_notices
Revises: 0002
Create Date: 2026-11-26 10:00:00

Hand-written (a parallel 0003 branch adds other tables); only this feature's tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_notices"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _member_fk(table: str, column: str = "author_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["members.id"], name=op.f(f"fk_{table}_{column}_members"), ondelete="SET NULL"
    )


def upgrade() -> None:
    op.create_table(
        "notice_rules",
        sa.Column("id", ID, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("cadence", sa.String(length=24), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("at", sa.String(length=5), nullable=False),
        sa.Column("skip_holidays", sa.Boolean(), nullable=False),
        sa.Column("needs_ack", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("author_id", ID, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _member_fk("notice_rules"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_rules")),
    )
    op.create_table(
        "notices",
        sa.Column("id", ID, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("group_ids", sa.JSON(), nullable=False),
        sa.Column("needs_ack", sa.Boolean(), nullable=False),
        sa.Column("send_at", TS, nullable=False),
        sa.Column("chase_at", TS, nullable=True),
        sa.Column("author_id", ID, nullable=True),
        sa.Column("rule_id", ID, nullable=True),
        sa.Column("occasion", sa.Date(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        _member_fk("notices"),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["notice_rules.id"],
            name=op.f("fk_notices_rule_id_notice_rules"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("rule_id", "occasion", name=op.f("uq_notices_rule_id_occasion")),
    )
    op.create_index(op.f("ix_notices_send_at"), "notices", ["send_at"], unique=False)
    op.create_index(op.f("ix_notices_chase_at"), "notices", ["chase_at"], unique=False)
    op.create_table(
        "notice_recipients",
        sa.Column("notice_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("acked_at", TS, nullable=True),
        sa.Column("ack_via", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_notice_recipients_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_notice_recipients_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notice_id", "member_id", name=op.f("pk_notice_recipients")),
    )
    op.create_index(
        op.f("ix_notice_recipients_member_id"), "notice_recipients", ["member_id"], unique=False
    )
    op.create_table(
        "notice_prefs",
        sa.Column("member_id", ID, nullable=False),
        sa.Column("private_copy", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_notice_prefs_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_notice_prefs")),
    )
    op.create_table(
        "meetings",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("place", sa.String(length=128), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("reply_by", TS, nullable=False),
        sa.Column("group_ids", sa.JSON(), nullable=False),
        sa.Column("author_id", ID, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        _member_fk("meetings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    op.create_index(op.f("ix_meetings_starts_at"), "meetings", ["starts_at"], unique=False)
    op.create_table(
        "meeting_invitees",
        sa.Column("meeting_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("answer", sa.String(length=8), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("answered_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_invitees_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_meeting_invitees_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("meeting_id", "member_id", name=op.f("pk_meeting_invitees")),
    )
    op.create_index(
        op.f("ix_meeting_invitees_member_id"), "meeting_invitees", ["member_id"], unique=False
    )
    op.create_table(
        "tasks",
        sa.Column("id", ID, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("deadline", TS, nullable=False),
        sa.Column("has_time", sa.Boolean(), nullable=False),
        sa.Column("lead", sa.String(length=64), nullable=False),
        sa.Column("office", sa.String(length=64), nullable=False),
        sa.Column("group_ids", sa.JSON(), nullable=False),
        sa.Column("author_id", ID, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
        _member_fk("tasks"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index("ix_tasks_open_deadline", "tasks", ["closed_at", "deadline"], unique=False)
    op.create_table(
        "task_assignees",
        sa.Column("task_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("done_at", TS, nullable=True),
        sa.Column("done_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_task_assignees_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_task_assignees_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "member_id", name=op.f("pk_task_assignees")),
    )
    op.create_index(
        op.f("ix_task_assignees_member_id"), "task_assignees", ["member_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_task_assignees_member_id"), table_name="task_assignees")
    op.drop_table("task_assignees")
    op.drop_index("ix_tasks_open_deadline", table_name="tasks")
    op.drop_table("tasks")
    op.drop_index(op.f("ix_meeting_invitees_member_id"), table_name="meeting_invitees")
    op.drop_table("meeting_invitees")
    op.drop_index(op.f("ix_meetings_starts_at"), table_name="meetings")
    op.drop_table("meetings")
    op.drop_table("notice_prefs")
    op.drop_index(op.f("ix_notice_recipients_member_id"), table_name="notice_recipients")
    op.drop_table("notice_recipients")
    op.drop_index(op.f("ix_notices_chase_at"), table_name="notices")
    op.drop_index(op.f("ix_notices_send_at"), table_name="notices")
    op.drop_table("notices")
    op.drop_table("notice_rules")
