"""proposals (提案) and registered activities (履职登记) — issue 20

Revision ID: 0010_proposals
Revises: 0009_meeting_title
Create Date: 2026-12-02 09:30:00

- proposals, proposal_counters, proposal_signers (联名 with each co-proposer's 附议),
  proposal_history (every step), proposal_attachments (with the submission or the answer);
- activities: a member's registered duty activities (调研, 视察 …), pending until confirmed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_proposals"
down_revision = "0009_meeting_title"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "proposal_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_proposal_counters")),
    )
    op.create_table(
        "proposals",
        sa.Column("id", ID, nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("situation", sa.Text(), nullable=False),
        sa.Column("suggestion", sa.Text(), nullable=False),
        sa.Column("submitter_id", ID, nullable=False),
        sa.Column("sector", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_since", TS, nullable=False),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("key", sa.Boolean(), nullable=False),
        sa.Column("leader", sa.String(length=64), nullable=False),
        sa.Column("lead_unit", sa.String(length=100), nullable=False),
        sa.Column("co_units", sa.String(length=300), nullable=False),
        sa.Column("classification", sa.String(length=32), nullable=False),
        sa.Column("satisfaction", sa.String(length=16), nullable=False),
        sa.Column("merged_into", sa.String(length=24), nullable=False),
        sa.Column("converted_to", sa.String(length=32), nullable=False),
        sa.Column("submitted_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["submitter_id"],
            ["members.id"],
            name=op.f("fk_proposals_submitter_id_members"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
        sa.UniqueConstraint("number", name=op.f("uq_proposals_number")),
        sa.UniqueConstraint("year", "seq", name=op.f("uq_proposals_year_seq")),
    )
    op.create_index("ix_proposals_state_due", "proposals", ["state", "due_at"], unique=False)
    op.create_index(op.f("ix_proposals_submitted_at"), "proposals", ["submitted_at"], unique=False)
    op.create_index(op.f("ix_proposals_submitter_id"), "proposals", ["submitter_id"], unique=False)
    op.create_table(
        "activities",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("meeting_id", ID, nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("reviewed_at", TS, nullable=True),
        sa.Column("reviewer", sa.String(length=96), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_activities_meeting_id_meetings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_activities_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    op.create_index("ix_activities_member_day", "activities", ["member_id", "day"], unique=False)
    op.create_index("ix_activities_state", "activities", ["state", "created_at"], unique=False)
    op.create_table(
        "proposal_attachments",
        sa.Column("id", ID, nullable=False),
        sa.Column("proposal_id", ID, nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("media_id", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_attachments_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_attachments")),
    )
    op.create_index(
        op.f("ix_proposal_attachments_proposal_id"),
        "proposal_attachments",
        ["proposal_id"],
        unique=False,
    )
    op.create_table(
        "proposal_history",
        sa.Column("id", ID, nullable=False),
        sa.Column("proposal_id", ID, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=96), nullable=False),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["members.id"],
            name=op.f("fk_proposal_history_actor_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_history_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_history")),
    )
    op.create_index(
        op.f("ix_proposal_history_proposal_id"), "proposal_history", ["proposal_id"], unique=False
    )
    op.create_table(
        "proposal_signers",
        sa.Column("proposal_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("confirmed_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_proposal_signers_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_signers_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", "member_id", name=op.f("pk_proposal_signers")),
    )
    op.create_index(
        op.f("ix_proposal_signers_member_id"), "proposal_signers", ["member_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_proposal_signers_member_id"), table_name="proposal_signers")
    op.drop_table("proposal_signers")
    op.drop_index(op.f("ix_proposal_history_proposal_id"), table_name="proposal_history")
    op.drop_table("proposal_history")
    op.drop_index(op.f("ix_proposal_attachments_proposal_id"), table_name="proposal_attachments")
    op.drop_table("proposal_attachments")
    op.drop_index("ix_activities_state", table_name="activities")
    op.drop_index("ix_activities_member_day", table_name="activities")
    op.drop_table("activities")
    op.drop_index(op.f("ix_proposals_submitter_id"), table_name="proposals")
    op.drop_index(op.f("ix_proposals_submitted_at"), table_name="proposals")
    op.drop_index("ix_proposals_state_due", table_name="proposals")
    op.drop_table("proposals")
    op.drop_table("proposal_counters")
