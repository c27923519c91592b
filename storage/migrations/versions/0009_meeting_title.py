"""Meetings keep their own name, not only their kind

Revision ID: 0009_meeting_title
Revises: 0008_security_review
Create Date: 2026-12-02 09:30:00

``会议通知 …召开民主评议座谈会…`` was shown as its kind (座谈会). ``title`` is the name the
notice gives (会议名称); meetings announced before this keep their kind as their name.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_meeting_title"
down_revision = "0008_security_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("title", sa.String(64), nullable=False, server_default=""))
    op.execute("UPDATE meetings SET title = kind")


def downgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("title")
