"""The callback's and the worker's hot path (issue 19): what the set-based and one-query
shortcuts must keep of the behaviour of the statements they replace."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.dispatcher import Context, Dispatcher, Router
from bot.errors import UserFacingError
from bot.pipeline import Pipeline
from handlers import routers
from storage import Database, Tx
from storage.repos.delivery import SlotRequest
from tests.conftest import make_config
from tests.test_pipeline import add_member, message, outbox_texts

NOW = datetime(2025, 11, 25, 2, 0, tzinfo=UTC)


# -- gate slots: many at once, as one at a time ------------------------------------------------


async def test_reserving_slots_together_grants_what_one_at_a_time_would(db: Database) -> None:
    """``reserve_slots`` (a worker round's reservations in three statements) gives each gate
    the slots, and the reopening time, that as many ``reserve`` calls in a row would."""
    rng = random.Random(19)
    gates = {
        f"g{n}": (rng.randint(1, 4), timedelta(seconds=rng.choice((10, 60)))) for n in range(6)
    }
    async with db.transaction() as tx:
        await tx.gates.cool_down("g5", NOW + timedelta(seconds=7))
    at = NOW
    for _ in range(8):
        at += timedelta(seconds=rng.randint(0, 6))
        asks = {gate: rng.randint(1, 3) for gate in rng.sample(sorted(gates), 3)}
        # One at a time, in a transaction rolled back: what the old way would have granted.
        async with db.session() as session, session.begin():
            tx = Tx(session, db.dialect)
            expected = {}
            for gate, count in asks.items():
                limit, window = gates[gate]
                granted, opens = 0, None
                for _ in range(count):
                    opens = await tx.gates.reserve(gate, limit=limit, window=window, now=at)
                    if opens is not None:
                        break
                    granted += 1
                expected[gate] = (granted, opens)
            await session.rollback()
        async with db.transaction() as tx:
            slots = await tx.gates.reserve_slots(
                [SlotRequest(g, *gates[g], count) for g, count in asks.items()], now=at
            )
        assert {g: (len(s.ids), s.opens_at) for g, s in slots.items()} == expected
        assert all(len(set(s.ids)) == len(s.ids) for s in slots.values())


async def test_settling_slots_moves_them_later_only(db: Database) -> None:
    async with db.transaction() as tx:
        slots = await tx.gates.reserve_slots(
            [SlotRequest("m:a", 5, timedelta(seconds=60), 2)], now=NOW
        )
    ids = slots["m:a"].ids
    async with db.transaction() as tx:
        await tx.gates.settle_slots(ids[:1], sent_at=NOW + timedelta(seconds=2))
        await tx.gates.settle_slots(ids[1:], sent_at=NOW - timedelta(seconds=2))  # never back
    async with db.read() as tx:
        sends = await tx.gates.sends_between(
            "m:a", NOW - timedelta(hours=1), NOW + timedelta(hours=1)
        )
    assert sends == [NOW, NOW + timedelta(seconds=2)]


# -- the sender and their dialog in one query ----------------------------------------------------


async def test_the_senders_member_comes_with_whether_a_dialog_is_open(db: Database) -> None:
    await add_member(db, "zhangwei")
    async with db.transaction() as tx:
        member, open_ = await tx.members.sender("zhangwei", "single:zhangwei")
        assert member is not None and member.userid == "zhangwei" and not open_
        await tx.dialogs.save(
            "single:zhangwei",
            "zhangwei",
            kind="ask",
            state="s",
            data={},
            now=NOW,
            lifetime=timedelta(minutes=5),
        )
        assert (await tx.members.sender("zhangwei", "single:zhangwei"))[1]
        assert not (await tx.members.sender("zhangwei", "group-1"))[1]  # per chat
        assert await tx.members.sender("nobody", "single:nobody") == (None, False)


async def test_a_member_read_as_columns_is_the_transactions_own_entity(db: Database) -> None:
    """The sender's member, built from a row (storage/fast.py ``entity``), is the object the
    session then returns for that row, and a change to it is written like any loaded one's; a
    second read of the row gives the same object."""
    await add_member(db, "zhangwei")
    async with db.transaction() as tx:
        member, _ = await tx.members.sender("zhangwei", "single:zhangwei")
        assert member is not None
        assert (await tx.members.sender("zhangwei", "single:zhangwei"))[0] is member
        assert await tx.members.get(member.id) is member  # opens the session on SQLite
        assert (await tx.members.by_userids(["zhangwei"]))["zhangwei"] is member
        member.name = "张伟"
    async with db.read() as tx:
        stored = await tx.members.get(member.id)
        assert stored is not None and stored.name == "张伟"
        assert await tx.members.count() == 1  # nothing inserted twice


async def test_a_dialog_known_absent_is_found_once_saved(db: Database) -> None:
    async with db.transaction() as tx:
        tx.dialogs.known_absent("c", "u")
        assert await tx.dialogs.get("c", "u", NOW) is None
        await tx.dialogs.save(
            "c", "u", kind="k", state="s", data={}, now=NOW, lifetime=timedelta(minutes=5)
        )
        found = await tx.dialogs.get("c", "u", NOW)
        assert found is not None and found.kind == "k"


# -- a handler that fails rolls back without a savepoint ----------------------------------------


@dataclass(frozen=True, slots=True)
class HalfDone:
    intent: ClassVar[str] = "half"


def refusing_router() -> Router:
    router = Router("refusing")

    @router.message(lambda text, _: HalfDone() if text == "半途" else None)
    async def half(_: HalfDone, ctx: Context) -> None:
        await ctx.tx.audit.record(at=ctx.now, actor="t", action="half-done", entity="x")
        await ctx.start_dialog("ask", "name", {})
        ctx.reply("不会发出的回答")
        raise UserFacingError("这件事现在办不了。")

    return router


@pytest.fixture
def cfg(db_url: str) -> Config:
    return make_config(db_url)


async def test_a_refusal_after_writes_keeps_the_message_and_none_of_the_writes(
    db: Database, cfg: Config, clock: FakeClock
) -> None:
    pipeline = Pipeline(db, Dispatcher([refusing_router(), *routers()]), cfg, clock)
    await add_member(db, "zhangwei")
    handled = await pipeline.handle(message("半途"))
    assert not handled.duplicate
    assert await outbox_texts(db) == [("zhangwei", "这件事现在办不了。")]
    async with db.read() as tx:
        assert await tx.inbound.count() == 1
        assert [e.action for e in await tx.audit.recent()] == []
        assert await tx.dialogs.get("single:zhangwei", "zhangwei", NOW) is None
    again = await pipeline.handle(message("半途"))  # WeCom's retry of the same message
    assert again.duplicate
    assert len(await outbox_texts(db)) == 1
