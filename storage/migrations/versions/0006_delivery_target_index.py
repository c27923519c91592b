"""Deliveries by target: a target's pending messages are held back together

Revision ID: 0006_delivery_target
Revises: 0005_wechat
Create Date: 2026-11-26 12:00:00

When a target's rate gate closes, the worker moves all of that target's due messages to the
time it opens again (so they go in the order they were queued); this index finds them without
reading every due delivery.
"""

from __future__ import annotations

from alembic import op

revision = "0006_delivery_target"
down_revision = "0005_wechat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_target", "deliveries", ["channel", "target", "status"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_target", table_name="deliveries")
