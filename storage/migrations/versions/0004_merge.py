"""merge the reports, notices and console branches

Revision ID: 0004
Revises: 0003_console, 0003_notices, 0003_reports
Create Date: 2026-11-26 09:00:00

The three features were built side by side, each adding its own tables on top of 0002; this
revision only joins the branches so that later migrations have one parent.
"""

from __future__ import annotations

revision = "0004"
down_revision = ("0003_console", "0003_notices", "0003_reports")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
