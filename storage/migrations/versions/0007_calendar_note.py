"""Calendar years remember where the office's entry came from

Revision ID: 0007_calendar_note
Revises: 0006_delivery_target
Create Date: 2026-12-02 06:00:00

A year the package does not cover is derived from the law (provisional) until the office
enters the State Council's notice; ``note`` keeps the notice's title and number, and a year's
``source`` may now also be ``provisional`` (the office accepted the derived days as they are).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_calendar_note"
down_revision = "0006_delivery_target"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calendar_years") as batch:
        batch.add_column(sa.Column("note", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("calendar_years") as batch:
        batch.drop_column("note")
