"""Group commit: steps queued together share a transaction; one failing step fails alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

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


async def test_a_step_queued_as_the_last_flush_ends_is_not_left_waiting(db: Database) -> None:
    """Back-to-back steps: each is queued the moment the previous one's flusher finds the queue
    empty and ends, which must start a new flusher rather than count the ending one."""
    group = GroupCommit(db)
    async with asyncio.timeout(20):
        for n in range(30):
            assert await group.run(add(f"s{n}")) == f"s{n}"
    assert len(await userids(db)) == 30


async def test_batches_locking_the_same_gates_in_opposite_orders_never_deadlock(
    pg_url: str,
) -> None:
    """Two processes' batches reserving slots of the same two gates, their steps queued in
    opposite orders and slow enough to overlap: each batch takes its gates' locks together, in
    one order, so one waits for the other instead of PostgreSQL aborting one as a deadlock
    (which would show as a failed batch retried step by step)."""
    window = timedelta(minutes=1)

    def reserve(gate: str):
        async def step(tx: Tx) -> datetime | None:
            opened = await tx.gates.reserve(gate, limit=1000, window=window, now=NOW)
            await asyncio.sleep(0.05)  # hold the locks while the other batch starts
            return opened

        return step

    databases = [Database(pg_url), Database(pg_url)]
    try:
        groups = [GroupCommit(d, parallel=1) for d in databases]
        orders = [("gate-a", "gate-b"), ("gate-b", "gate-a")]
        async with asyncio.timeout(30):
            for _ in range(5):
                results = await asyncio.gather(
                    *(
                        group.run(reserve(gate), locks=(gate,))
                        for group, order in zip(groups, orders, strict=True)
                        for gate in order
                    )
                )
                assert results == [None] * 4  # every slot taken, none refused or failed
        assert [g.commits for g in groups] == [5, 5]  # one transaction per batch: none retried
        async with databases[0].read() as tx:
            sends = await tx.gates.sends_between("gate-a", NOW - window, NOW + window)
            sends += await tx.gates.sends_between("gate-b", NOW - window, NOW + window)
        assert len(sends) == 20
    finally:
        for database in databases:
            await database.dispose()
