"""Quiet hours (免打扰, ``[scheduler] quiet_hours``): no scheduled push at night — it waits for
their end, or goes before they begin when waiting would miss its deadline; answers to a
member's own message and (if the office says so) its own alerts are not held."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.config import Config, ConfigError
from bot.quiet import QuietHours
from tests.conftest import make_config
from tests.harness import Bot, running_bot, shanghai

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = QuietHours(time(21, 30), time(7, 30), SHANGHAI)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def test_the_window_a_time_falls_in() -> None:
    assert NIGHT.window(local(2025, 12, 1, 23, 59)) == (
        local(2025, 12, 1, 21, 30),
        local(2025, 12, 2, 7, 30),
    )
    assert NIGHT.window(local(2025, 12, 2, 3, 0)) == (
        local(2025, 12, 1, 21, 30),
        local(2025, 12, 2, 7, 30),
    )
    assert NIGHT.window(local(2025, 12, 2, 7, 30)) is None  # the end is no longer quiet
    assert NIGHT.window(local(2025, 12, 2, 21, 29)) is None
    assert NIGHT.next_window(local(2025, 12, 2, 21, 30)) == (
        local(2025, 12, 3, 21, 30),
        local(2025, 12, 4, 7, 30),
    )
    lunch = QuietHours(time(12, 0), time(14, 0), SHANGHAI)  # a window within one day
    assert lunch.window(local(2025, 12, 2, 13, 0)) == (
        local(2025, 12, 2, 12, 0),
        local(2025, 12, 2, 14, 0),
    )


def test_a_push_waits_or_goes_early_by_its_deadline() -> None:
    due = local(2025, 11, 30, 23, 59)
    assert NIGHT.place(due, local(2025, 12, 1, 23, 59)) == local(2025, 12, 1, 7, 30)
    assert NIGHT.place(due, None) == local(2025, 12, 1, 7, 30)
    assert NIGHT.place(due, local(2025, 12, 1, 0, 0)) == local(2025, 11, 30, 21, 0)
    assert NIGHT.place(local(2025, 11, 30, 20, 0), None) == local(2025, 11, 30, 20, 0)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("21:30", "必须写成 HH:MM-HH:MM（如 21:30-07:30），不设免打扰时段则留空"),
        ("25:00-07:00", "中的 '25:00' 不是一天中的时刻（时 0—23，分 0—59）"),
        ("8:00-x", "中的 'x' 不是 HH:MM 格式的时间"),
        ("8:00-8:00", "开始和结束时间不能相同"),
    ],
)
def test_a_bad_setting_stops_start_up(sqlite_url: str, text: str, said: str) -> None:
    with pytest.raises(ConfigError) as raised:
        make_config(sqlite_url, scheduler={"quiet_hours": text})
    assert str(raised.value) == f"[scheduler] quiet_hours {said}"
    assert make_config(sqlite_url, scheduler={"quiet_hours": ""}).scheduler.quiet_hours == ""


@pytest.fixture
def cfg(sqlite_url: str) -> Config:
    return make_config(sqlite_url)


async def seed(bot: Bot) -> None:
    await bot.add_member("mishu", "王秘书", role="secretary")
    for n, name in enumerate(("张伟", "李娜", "王芳"), 1):
        await bot.add_member(f"m{n}", name, group="第3学习小组")


def sent_to(sent: list, kind: str, start: str) -> list[datetime]:
    return [at for at, m in sent if m.address.kind == kind and m.text.startswith(start)]


async def test_a_reply_reminder_due_at_night_waits_for_the_morning(cfg: Config) -> None:
    """The reply deadline is 12月1日 23:59:59, so the reminder (24 hours before) would land at
    23:59:59 the night before; it goes at 07:30 instead, to those still silent then."""
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say(
            "mishu",
            "会议通知 第3学习小组：12月3日下午3点在三楼会议室召开专题协商会，请于12月1日前回复",
        )
        await bot.say("m1", "参加")
        sent = await bot.fast_forward(shanghai(2025, 12, 2, 12, 0))
    chased = [(at, m.address.value) for at, m in sent if m.address.value != "mishu"]
    assert {at for at, _ in chased} == {shanghai(2025, 12, 1, 7, 30)}
    assert {who for _, who in chased} >= {"m2", "m3"} and "m1" not in {w for _, w in chased}
    # The headcount at the deadline (23:59:59) is the office's: it waits for the morning too.
    office = [(at, m.text[:6]) for at, m in sent if m.address.value == "mishu"]
    assert office == [(shanghai(2025, 12, 2, 7, 30), "【回执汇总】")]
    assert [at for at, _ in sent if NIGHT.window(at) is not None] == []


async def test_a_late_reminder_goes_before_quiet_hours_begin(cfg: Config) -> None:
    """A daily campaign reminding at 22:00: the day's period closes at midnight, before quiet
    hours end, so the reminder goes at 21:00 — naming who has not checked in by then."""
    clock = FakeClock(shanghai(2025, 12, 1, 8, 0))  # a Monday
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("mishu", "开启打卡 第3学习小组 每天 22:00提醒 次日09:00汇总")
        await bot.say("m2", "打卡 学习党章 半小时")
        sent = await bot.fast_forward(shanghai(2025, 12, 3, 10, 0))
    reminders = sent_to(sent, "group", "【打卡提醒】")
    assert reminders == [shanghai(2025, 12, 1, 21, 0), shanghai(2025, 12, 2, 21, 0)]
    first = next(m for at, m in sent if at == reminders[0] and m.address.kind == "group")
    assert set(first.mentions) == {"m1", "m3"}
    summaries = sent_to(sent, "group", "【打卡汇总】")
    assert summaries == [shanghai(2025, 12, 2, 9, 0), shanghai(2025, 12, 3, 9, 0)]


async def test_an_answer_at_night_is_never_held(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 12, 1, 23, 30))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        [answer] = await bot.say("m1", "打卡 读《乡土中国》半小时")  # answered at once
        assert answer.startswith("已记录您的学习（《乡土中国》，30分钟）。")


@pytest.mark.parametrize("office_keeps_quiet", [True, False])
async def test_the_office_may_take_its_own_alerts_at_night(
    sqlite_url: str, office_keeps_quiet: bool
) -> None:
    """The review nudge set for 22:30: held for the morning, or let through when
    ``quiet_hours_office`` is off; members' pushes are held either way."""
    config = make_config(
        sqlite_url,
        scheduler={"quiet_hours_office": office_keeps_quiet},
        reports={"review_nudge_time": "22:30", "review_nudge_hours": 1},
    )
    clock = FakeClock(shanghai(2025, 12, 1, 10, 0))
    async with running_bot(config, clock) as bot:
        await seed(bot)
        await bot.say(
            "m1", "社情民意：关于加强农村饮水工程管护的建议\n目前部分村的饮水设施缺少管护。"
        )
        await bot.say("m1", "确认提交")
        sent = await bot.fast_forward(shanghai(2025, 12, 2, 12, 0))
    nudges = [at for at, m in sent if m.text.startswith("【审核提醒】")]
    # Due 22:30 and stale at midnight: pulled forward to 21:00, or sent at 22:30 as set.
    at = (21, 0) if office_keeps_quiet else (22, 30)
    assert nudges == [shanghai(2025, 12, 1, *at)]


async def test_a_push_found_late_inside_quiet_hours_waits_too(cfg: Config) -> None:
    """The server was down at Friday 20:00; back at 23:00, the week's reminder (useful until
    Sunday midnight) waits for Saturday 07:30 instead of going out at once."""
    clock = FakeClock(shanghai(2025, 11, 24, 9, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("mishu", "开启打卡 第3学习小组 每周 周五20:00提醒 周一09:00汇总")
        clock.set(shanghai(2025, 11, 28, 23, 0))
        assert await bot.tick() == []
        sent = await bot.fast_forward(shanghai(2025, 11, 29, 12, 0))
    assert sent_to(sent, "group", "【打卡提醒】") == [shanghai(2025, 11, 29, 7, 30)]
