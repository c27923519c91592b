"""The 社情民意 state machine, every allowed and every refused transition, and tracking numbers
under concurrent submissions (SQLite, and PostgreSQL with its row lock)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime

import pytest

from bot.clock import FakeClock
from bot.messages import Incoming
from handlers.reports.workflow import (
    STATES,
    TRANSITIONS,
    Actor,
    TransitionRefused,
    apply_action,
    submit_report,
)
from storage import Database
from storage.models import Member
from tests.conftest import make_config
from tests.harness import running_bot, shanghai

NOW = datetime(2025, 11, 25, 2, 0, tzinfo=UTC)

ALLOWED = {
    ("draft", "submit"),
    ("returned", "resubmit"),
    ("submitted", "review"),
    ("submitted", "adopt"),
    ("under_review", "adopt"),
    ("submitted", "return"),
    ("under_review", "return"),
    ("submitted", "reject"),
    ("under_review", "reject"),
    ("adopted", "forward"),
    ("forwarded", "forward"),
    ("forwarded", "endorse"),
    ("endorsed", "endorse"),
    ("endorsed", "assign"),
    ("assigned", "assign"),
    ("assigned", "answer"),
    ("answered", "answer"),
    ("answered", "close"),
}


async def add_members(db: Database, count: int) -> list[Member]:
    async with db.transaction() as tx:
        return [
            await tx.members.add(
                Member(userid=f"u{n}", name=f"委员{n}", created_at=NOW, updated_at=NOW)
            )
            for n in range(count)
        ]


def test_the_table_is_the_documented_life_cycle() -> None:
    table = {(state, a) for a, t in TRANSITIONS.items() for state in t.sources}
    assert table == ALLOWED
    assert {t.target for t in TRANSITIONS.values()} == set(STATES) - {"draft"}
    assert not any(a in ("closed", "rejected") for a, _ in ALLOWED)  # final states


async def test_every_transition_allowed_or_refused(db: Database) -> None:
    [submitter, cosigner] = await add_members(db, 2)
    outcomes: dict[tuple[str, str], str] = {}
    async with db.transaction() as tx:
        for state, action in itertools.product(STATES, TRANSITIONS):
            report, _ = await submit_report(
                tx,
                submitter=submitter,
                title=f"关于{state}{action}的建议",
                category="其他",
                content="正文",
                cosigners=[cosigner],
                attachments=[],
                now=NOW,
            )
            report.state = state
            before = len(await tx.reports.history(report.id))
            try:
                entry, notes = await apply_action(
                    tx, report, action, actor=Actor("cli"), now=NOW, comment="意见", level="市政协"
                )
            except TransitionRefused as exc:
                outcomes[(state, action)] = "refused"
                assert report.state == state
                assert len(await tx.reports.history(report.id)) == before
                assert exc.message.startswith(f"{report.number}目前为「")
                continue
            outcomes[(state, action)] = "allowed"
            assert (entry.from_state, entry.to_state) == (state, TRANSITIONS[action].target)
            assert (entry.actor, entry.comment, entry.level) == ("cli", "意见", "市政协")
            assert report.state == TRANSITIONS[action].target
            assert [n.key for n in notes] == [
                f"report:{report.id}:{entry.id}:u0",
                f"report:{report.id}:{entry.id}:u1",
            ]
    assert {pair for pair, result in outcomes.items() if result == "allowed"} == ALLOWED
    assert len(outcomes) == len(STATES) * len(TRANSITIONS)


async def test_numbers_restart_each_year_and_a_rollback_burns_none(db: Database) -> None:
    [member] = await add_members(db, 1)

    async def submit(now: datetime, fail: bool = False) -> str:
        async with db.transaction() as tx:
            report, _ = await submit_report(
                tx,
                submitter=member,
                title="关于X的建议",
                category="其他",
                content="正文",
                cosigners=[],
                attachments=[],
                now=now,
            )
            if fail:
                raise RuntimeError("the handler failed after numbering")
            return report.number

    assert await submit(NOW) == "SQ-2025-0001"
    with pytest.raises(RuntimeError):
        await submit(NOW, fail=True)
    assert await submit(NOW) == "SQ-2025-0002"
    new_year = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert await submit(new_year) == "SQ-2026-0001"
    assert await submit(NOW) == "SQ-2025-0003"


async def test_fifty_concurrent_submissions_through_the_bot(db_url: str) -> None:
    """On SQLite and (when configured) PostgreSQL: 50 members submit at the same moment."""
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(make_config(db_url), clock) as bot:
        for n in range(50):
            await bot.add_member(f"m{n}", f"委员{n}")
        await asyncio.gather(
            *(
                bot.runtime.pipeline.handle(
                    Incoming(
                        "sandbox",
                        f"m{n}",
                        f"社情民意：关于第{n}件事的建议\n正文{n}",
                        clock.now(),
                        f"concurrent:{n}",
                    )
                )
                for n in range(50)
            )
        )
        replies = {m.address.value: m.text for m in await bot.flush()}
        async with bot.db.read() as tx:
            reports = await tx.reports.listing(year=2025)
        assert sorted(r.seq for r in reports) == list(range(1, 51))
        assert len({r.number for r in reports}) == 50
        assert len(replies) == 50
        for report in reports:  # each member was told the number stored for their report
            n = int(report.title.removeprefix("关于第").removesuffix("件事的建议"))
            assert report.content == f"正文{n}"
            assert replies[f"m{n}"].startswith(
                f"已提交社情民意《{report.title}》，编号 {report.number}。"
            )


async def test_fifty_concurrent_transactions_on_postgres(pg_url: str) -> None:
    """Straight at the database: 50 transactions at once, every fifth rolled back after it
    took its number. The counter's row lock serialises them; the rollbacks leave no gap."""
    db = Database(pg_url, pool_size=25)
    try:
        [member] = await add_members(db, 1)

        async def submit(n: int) -> str | None:
            try:
                async with db.transaction() as tx:
                    report, _ = await submit_report(
                        tx,
                        submitter=member,
                        title=f"关于{n}的建议",
                        category="其他",
                        content="正文",
                        cosigners=[],
                        attachments=[],
                        now=NOW,
                    )
                    await asyncio.sleep(0.001 * (n % 3))  # hold the lock a little, unevenly
                    if n % 5 == 0:
                        raise RuntimeError("rolled back")
                    return report.number
            except RuntimeError:
                return None

        numbers = [n for n in await asyncio.gather(*(submit(n) for n in range(50))) if n]
        assert len(numbers) == 40
        assert sorted(numbers) == [f"SQ-2025-{seq:04d}" for seq in range(1, 41)]
        async with db.read() as tx:
            assert sorted(r.seq for r in await tx.reports.listing()) == list(range(1, 41))
    finally:
        await db.dispose()
