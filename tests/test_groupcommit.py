"""Group commit: steps queued together share a transaction; one failing step fails alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.delivery.groupcommit import GroupCommit
from storage import Database, Tx
from storage.models import Member

NOW = datetime(2025, 11, 25, 2, 0, tzinfo=UTC)


def add(userid: str, *, fail: bool = False):
    async def step(tx: Tx) -> str:
        await tx.members.add(Member(userid=userid, name=userid, created_at=NOW, updated_at=NOW))
        if fail:
            raise ValueError(f"step {userid} fails")
        return userid

    return step


async def userids(db: Database) -> list[str]:
    async with db.read() as tx:
        return sorted(m.userid or "" for m in await tx.members.all())


async def test_steps_arriving_together_share_one_commit(db: Database) -> None:
    group = GroupCommit(db)
    results = await asyncio.gather(*(group.run(add(f"u{n}")) for n in range(20)))
    assert results == [f"u{n}" for n in range(20)]
    assert group.commits == 1  # all twenty were queued before the first transaction began
    assert await userids(db) == sorted(f"u{n}" for n in range(20))


async def test_a_failing_step_fails_alone_and_the_others_are_kept(db: Database) -> None:
    group = GroupCommit(db)
    outcomes = await asyncio.gather(
        group.run(add("a")),
        group.run(add("b", fail=True)),
        group.run(add("c")),
        return_exceptions=True,
    )
    assert outcomes[0] == "a" and outcomes[2] == "c"
    assert isinstance(outcomes[1], ValueError)
    assert await userids(db) == ["a", "c"]  # b's insert was rolled back, the others retried


async def test_a_result_arrives_only_after_its_commit(db: Database) -> None:
    group = GroupCommit(db)
    result = await group.run(add("z"))
    assert result == "z"
    assert await userids(db) == ["z"]  # visible to another session at once
    with pytest.raises(ValueError):
        await group.run(add("y", fail=True))
    assert await userids(db) == ["z"]
