"""Retention: old operational rows go after their ``[retention]`` period; the office's records
never do, whatever their age (both backends)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.config import Config, ConfigError
from bot.maintenance.retention import prune
from bot.wecom.callback import DEFAULT_MAX_SKEW
from storage import Database
from storage.backup import table_counts
from storage.models import Alert, DialogState, SendLogEntry
from storage.models_wechat import CustomerGroupSend
from storage.repos.retention import KINDS
from tests.conftest import make_config
from tests.harness import Bot, running_bot, shanghai

# What retention may delete from; every other table must keep every row.
PRUNABLE = {
    "inbound_messages",
    "callback_nonces",
    "deliveries",
    "customer_group_sends",  # only with their delivery, of a month that is over
    "send_log",
    "gate_cooldowns",
    "dialogs",
    "alerts",
}

REPORT = (
    "社情民意：关于加强社区养老服务的建议\n建议在社区设立日间照料中心，解决老人无人照看的问题。"
)


async def office_year(bot: Bot) -> None:
    """A little of everything the office records, and the traffic it causes."""
    await bot.add_member("mishu", "王秘书", role="secretary")
    await bot.add_member("m1", "张三", group="第1学习小组")
    await bot.add_member("m2", "李四", group="第1学习小组")
    await bot.say("mishu", "开启打卡 第1学习小组 每周 周五20:00提醒 周一09:00汇总")
    await bot.say("m1", "打卡 读《乡土中国》30分钟")
    await bot.say("m2", "打卡 学习党章 四十分钟")
    await bot.say("m1", REPORT)
    await bot.say("mishu", "采用 SQ-2025-0001")
    await bot.say("mishu", "通知 第1学习小组：周五下午学习会")
    await bot.say("m1", "收到")
    await bot.say("mishu", "督办 第1学习小组：请于12月10日前提交年度履职报告")
    await bot.say("m2", "提交社情民意")  # a draft left to expire


async def add_edge_cases(db: Database, bot: Bot) -> None:
    """Rows the traffic alone does not make: a pending and an awaiting delivery, customer
    group sends of this month and of an earlier one, an old alert, old send-log rows."""
    now = bot.clock.now()
    old = now - timedelta(days=200)
    async with db.transaction() as tx:
        for key, status in (("old-pending", "pending"), ("old-awaiting", "awaiting")):
            await tx.deliveries.enqueue(
                key=key, channel="member", target="m1", payload={"text": "x"}, now=old
            )
            row = await tx.deliveries.by_key(key)
            assert row is not None
            row.status = status
        for key, month in (("cg-this-month", now.strftime("%Y-%m")), ("cg-old", "2025-05")):
            await tx.deliveries.enqueue(
                key=key, channel="customer_group", target="wrx", payload={}, now=old
            )
            row = await tx.deliveries.by_key(key)
            assert row is not None
            row.status = "sent"
            tx.session.add(
                CustomerGroupSend(
                    delivery_id=row.id,
                    chat_id="wrx",
                    owner="mishu",
                    month=month,
                    status="sent",
                    created_at=old,
                    next_check_at=old,
                )
            )
        tx.session.add(Alert(at=now - timedelta(days=400), kind="dead", message="x"))
        tx.session.add(Alert(at=now - timedelta(days=10), kind="dead", message="y"))
        tx.session.add(SendLogEntry(gate="member:m1", at=old))


async def remaining(db: Database) -> dict[str, set[str]]:
    async with db.read() as tx:
        deliveries = {d.idempotency_key for d in await tx.deliveries.list(limit=10_000)}
        dialogs = set(await tx.session.scalars(select(DialogState.userid)))
        alerts = {a.message for a in await tx.alerts.since(EPOCH)}
    return {"deliveries": deliveries, "dialogs": dialogs, "alerts": alerts}


EPOCH = shanghai(2020, 1, 1, 0, 0)


@pytest.fixture
def cfg(db_url: str) -> Config:
    return make_config(db_url)


async def test_retention_prunes_old_operational_rows_and_never_a_record(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await office_year(bot)
        await bot.flush()
        clock.advance(timedelta(days=120))  # past every default period but the alerts'
        await bot.say("m2", "打卡 学习党章 一小时")  # fresh traffic, kept
        await bot.flush()
        await add_edge_cases(bot.db, bot)
        before = await table_counts(bot.db)
        old_keys = (await remaining(bot.db))["deliveries"]

        would = await prune(bot.db, cfg, clock.now(), dry_run=True)
        assert await table_counts(bot.db) == before  # a dry run deletes nothing
        pruned = await prune(bot.db, cfg, clock.now())
        after = await table_counts(bot.db)
        left = await remaining(bot.db)
        again = await prune(bot.db, cfg, clock.now())

    assert pruned == would
    assert set(pruned) == set(KINDS)
    assert all(count == 0 for count in again.values())
    for table, count in before.items():
        if table not in PRUNABLE:
            assert after[table] == count, f"{table} lost rows"
    assert before["checkins"] >= 3 and before["reports"] == 1 and before["audit_log"] > 0
    assert before["report_history"] >= 2 and before["notices"] == 1 and before["tasks"] == 1

    # Old inbound rows went, the fresh check-in's stayed.
    assert pruned["inbound"] == 9 and after["inbound_messages"] == 1  # office_year's 9
    deliveries = left["deliveries"]
    assert {"old-pending", "old-awaiting", "cg-this-month"} <= deliveries
    assert "cg-old" in old_keys and "cg-old" not in deliveries
    assert after["customer_group_sends"] == 1
    # The fresh check-in's reply is younger than 90 days: kept; everything older went.
    assert len(deliveries) == 3 + after["inbound_messages"]
    assert left["dialogs"] == set()  # the draft expired long ago
    assert after["send_log"] <= before["send_log"] - 1
    assert left["alerts"] == {"y"}


def test_inbound_rows_outlive_the_callback_freshness_window() -> None:
    """A callback replayed after its de-duplication row was pruned must be refused for its
    stale timestamp: the shortest inbound retention allowed is longer than the window."""
    config = make_config("sqlite+aiosqlite:///x.db", retention={"inbound_days": 1})
    assert timedelta(days=config.retention.inbound_days) > DEFAULT_MAX_SKEW
    with pytest.raises(ConfigError, match=r"\[retention\] inbound_days"):
        make_config("sqlite+aiosqlite:///x.db", retention={"inbound_days": 0})


async def test_prune_deletes_in_batches(cfg: Config) -> None:
    """Many rows go in several short transactions, all of them."""
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        old = clock.now() - timedelta(days=30)
        async with bot.db.transaction() as tx:
            tx.session.add_all(SendLogEntry(gate=f"g{n % 7}", at=old) for n in range(250))
        done = await prune(bot.db, cfg, clock.now(), batch=100)
        async with bot.db.read() as tx:
            left = await tx.gates.sends_between("g1", old - timedelta(days=1), clock.now())
    assert done["send_log"] == 250 and left == []
