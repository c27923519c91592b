"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from storage import Database
from storage.base import UTCDateTime
from storage.migrate import current_revision, upgrade
from storage.models import Base, Member
from storage.models_proposals import Proposal
from tests.conftest import create_pg_database, drop_pg_database, requires_postgres


async def test_models_and_migrations_agree(db: Database) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with db.write_engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_upgrade_is_idempotent(db: Database) -> None:
    before = await current_revision(db)
    await upgrade(db)
    assert await current_revision(db) == before


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=requires_postgres)])
async def empty_url(request: pytest.FixtureRequest, empty_sqlite_url: str) -> AsyncIterator[str]:
    """An empty database on each backend, for migrating step by step."""
    url = empty_sqlite_url if request.param == "sqlite" else await create_pg_database()
    try:
        yield url
    finally:
        if request.param == "postgres":
            await drop_pg_database(url)


async def test_0011_keeps_existing_attachments(empty_url: str) -> None:
    """Proposal attachments and the activities' JSON lists from before 0011 become attachments
    the media job fetches: pending, or expired when they arrived more than 3 days before the
    upgrade (2025 is long past; 2999 is not yet)."""
    db = Database(empty_url)
    try:
        await upgrade(db, "0010_proposals")
        old, new = datetime(2025, 11, 25, 2, tzinfo=UTC), datetime(2999, 1, 1, tzinfo=UTC)
        async with db.transaction() as tx:
            member = await tx.members.add(
                Member(userid="m1", name="张三", role="member", created_at=old, updated_at=old)
            )
            proposal = Proposal(
                number="TA-2025-0001",
                year=2025,
                seq=1,
                title="关于建设社区食堂的建议",
                submitter_id=member.id,
                state="submitted",
                state_since=old,
                submitted_at=old,
                updated_at=old,
            )
            tx.session.add(proposal)
            await tx.flush()
            attachments = sa.table(
                "proposal_attachments",
                sa.column("proposal_id", sa.Integer()),
                sa.column("stage", sa.String()),
                sa.column("kind", sa.String()),
                sa.column("media_id", sa.String()),
                sa.column("filename", sa.String()),
                sa.column("received_at", UTCDateTime()),
            )
            for media_id, at in (("p-old", old), ("p-new", new)):
                await tx.session.execute(
                    attachments.insert().values(
                        proposal_id=proposal.id,
                        stage="submit",
                        kind="image",
                        media_id=media_id,
                        filename="",
                        received_at=at,
                    )
                )
            activities = sa.table(
                "activities",
                *(sa.column(c, sa.String()) for c in ("kind", "text", "state", "source")),
                *(sa.column(c, sa.String()) for c in ("reviewer", "comment")),
                sa.column("member_id", sa.Integer()),
                sa.column("day", sa.Date()),
                sa.column("attachments", sa.JSON()),
                sa.column("created_at", UTCDateTime()),
            )
            listed = [
                {"kind": "image", "media_id": "a-old", "filename": "", "at": old.isoformat()},
                {
                    "kind": "file",
                    "media_id": "a-new",
                    "filename": "记录.docx",
                    "at": new.isoformat(),
                },
            ]
            for attached in (listed, []):
                await tx.session.execute(
                    activities.insert().values(
                        member_id=member.id,
                        kind="调研",
                        day=date(2025, 11, 24),
                        text="参加调研",
                        state="pending",
                        source="chat",
                        reviewer="",
                        comment="",
                        attachments=attached,
                        created_at=old,
                    )
                )
        await upgrade(db)
        async with db.read() as tx:
            kept = await tx.proposals.attachments(proposal.id)
            first = await tx.activities.attachments(1)
            second = await tx.activities.attachments(2)
        assert [(a.media_id, a.status, a.attempts, a.stored_ref) for a in kept] == [
            ("p-old", "expired", 0, ""),
            ("p-new", "pending", 0, ""),
        ]
        assert [(a.kind, a.media_id, a.filename, a.received_at, a.status) for a in first] == [
            ("image", "a-old", "", old, "expired"),
            ("file", "a-new", "记录.docx", new, "pending"),
        ]
        assert second == []
    finally:
        await db.dispose()
