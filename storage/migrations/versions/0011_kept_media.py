"""Proposal and activity attachments are fetched from WeCom and kept, as reports' are — issue 20

Revision ID: 0011_kept_media
Revises: 0010_proposals
Create Date: 2026-12-02 10:30:00

WeCom keeps a media id 3 days; only 社情民意 attachments were fetched into the media store.

- proposal_attachments gains the media columns (status, stored_ref, attempts, last_error,
  fetched_at): an existing attachment becomes ``pending`` (the media job fetches it), or
  ``expired`` when it arrived more than 3 days before this upgrade (WeCom no longer has it);
- activity_attachments replaces the ``activities.attachments`` JSON list, one row per
  attachment with the same columns and the same rule for the existing ones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.base import UTCDateTime

revision = "0011_kept_media"
down_revision = "0010_proposals"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
LIFETIME = timedelta(days=3)
EXPIRED = "WeCom 媒体文件已超过3天有效期"


def _media_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("stored_ref", sa.String(500), nullable=False, server_default=""),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(500), nullable=False, server_default=""),
        sa.Column("fetched_at", TS, nullable=True),
    ]


def upgrade() -> None:
    now = datetime.now(UTC)  # the upgrade's moment: media older than 3 days is gone already
    with op.batch_alter_table("proposal_attachments") as batch:
        for column in _media_columns():
            batch.add_column(column)
        batch.create_index(
            "ix_proposal_attachments_status", ["status", "received_at"], unique=False
        )
    proposal_media = sa.table(
        "proposal_attachments",
        sa.column("received_at", UTCDateTime()),
        sa.column("status", sa.String()),
        sa.column("last_error", sa.String()),
    )
    op.get_bind().execute(
        proposal_media.update()
        .where(proposal_media.c.received_at < now - LIFETIME)
        .values(status="expired", last_error=EXPIRED)
    )

    bind = op.get_bind()
    activities = sa.table(
        "activities",
        sa.column("id", ID),
        sa.column("attachments", sa.JSON()),
        sa.column("created_at", UTCDateTime()),
    )
    kept = sa.table(
        "activity_attachments",
        sa.column("activity_id", ID),
        sa.column("kind", sa.String()),
        sa.column("media_id", sa.String()),
        sa.column("filename", sa.String()),
        sa.column("received_at", UTCDateTime()),
        sa.column("status", sa.String()),
        sa.column("stored_ref", sa.String()),
        sa.column("attempts", sa.Integer()),
        sa.column("last_error", sa.String()),
    )
    rows = []
    for activity_id, items, created_at in bind.execute(
        sa.select(activities.c.id, activities.c.attachments, activities.c.created_at)
    ):
        for item in items or []:
            at = str(item.get("at") or "")
            received = datetime.fromisoformat(at) if at else created_at
            if received.tzinfo is None:
                received = received.replace(tzinfo=UTC)
            old = now - received > LIFETIME
            rows.append(
                {
                    "activity_id": activity_id,
                    "kind": str(item.get("kind", "file"))[:16],
                    "media_id": str(item.get("media_id", ""))[:200],
                    "filename": str(item.get("filename", ""))[:200],
                    "received_at": received,
                    "status": "expired" if old else "pending",
                    "stored_ref": "",
                    "attempts": 0,
                    "last_error": EXPIRED if old else "",
                }
            )
    # Dropped before the new table exists: SQLite rebuilds the table, and dropping the old
    # one would cascade to rows pointing at it.
    with op.batch_alter_table("activities") as batch:
        batch.drop_column("attachments")
    op.create_table(
        "activity_attachments",
        sa.Column("id", ID, nullable=False),
        sa.Column("activity_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("media_id", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stored_ref", sa.String(length=500), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("fetched_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_attachments_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_attachments")),
    )
    op.create_index(
        "ix_activity_attachments_status",
        "activity_attachments",
        ["status", "received_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_activity_attachments_activity_id"),
        "activity_attachments",
        ["activity_id"],
        unique=False,
    )
    if rows:
        bind.execute(kept.insert(), rows)


def downgrade() -> None:
    bind = op.get_bind()
    kept = sa.table(
        "activity_attachments",
        sa.column("id", ID),
        sa.column("activity_id", ID),
        sa.column("kind", sa.String()),
        sa.column("media_id", sa.String()),
        sa.column("filename", sa.String()),
        sa.column("received_at", UTCDateTime()),
    )
    lists: dict[int, list[dict[str, str]]] = {}
    for row in bind.execute(sa.select(kept).order_by(kept.c.id)):
        lists.setdefault(row.activity_id, []).append(
            {
                "kind": row.kind,
                "media_id": row.media_id,
                "filename": row.filename,
                "at": row.received_at.isoformat(),
            }
        )
    # The table goes before SQLite rebuilds ``activities`` (which would cascade to it).
    op.drop_index(op.f("ix_activity_attachments_activity_id"), table_name="activity_attachments")
    op.drop_index("ix_activity_attachments_status", table_name="activity_attachments")
    op.drop_table("activity_attachments")
    with op.batch_alter_table("activities") as batch:
        batch.add_column(sa.Column("attachments", sa.JSON(), nullable=False, server_default="[]"))
    activities = sa.table("activities", sa.column("id", ID), sa.column("attachments", sa.JSON()))
    for activity_id, items in lists.items():
        bind.execute(
            activities.update().where(activities.c.id == activity_id).values(attachments=items)
        )
    with op.batch_alter_table("proposal_attachments") as batch:
        batch.drop_index("ix_proposal_attachments_status")
        for name in ("fetched_at", "last_error", "attempts", "stored_ref", "status"):
            batch.drop_column(name)
