"""Check-in scenarios with an injected clock: answers, periods, make-ups, reminders and
summaries over the 2025 National Day holiday, restarts, and two planners at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.config import Config
from tests.conftest import make_config
from tests.harness import Bot, running_bot, shanghai

GROUP = "第3学习小组"


@pytest.fixture
def cfg(db_url: str) -> Config:
    return make_config(db_url)


async def seed(bot: Bot, members: int = 3) -> None:
    await bot.add_member("mishu", "王秘书", role="secretary")
    for n in range(1, members + 1):
        await bot.add_member(f"m{n}", f"委员{n}", group=GROUP)


async def test_check_in_answer_merge_and_progress(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))  # a Tuesday
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        [started] = await bot.say("mishu", f"开启打卡 {GROUP} 每周 周五20:00提醒 周日21:00汇总")
        assert started.startswith(
            f"已开启{GROUP}的每周打卡：周五20:00提醒未打卡的委员，周日21:00汇总"
        )
        [answer] = await bot.say("m1", "#打卡# 今日学习《习近平谈治国理政》第四卷第三章，30分钟")
        assert answer == (
            "打卡成功（《习近平谈治国理政》，30分钟）！已计入本周（11月24日—11月30日）。\n"
            "已连续打卡 1 周。\n"
            f"{GROUP}本周已打卡 1/3"
        )
        [again] = await bot.say("m1", "打卡 读《乡土中国》 半小时")
        assert again.startswith("已补充到本周的打卡记录（《乡土中国》，30分钟），本周仍计 1 次。")
        assert again.endswith(f"{GROUP}本周已打卡 1/3")
        [other] = await bot.say("m2", "打卡", group=GROUP)
        assert other.endswith(f"{GROUP}本周已打卡 2/3")
        [mine] = await bot.say("m1", "我的打卡")
        assert "2025年累计打卡 1 次，学习 60 分钟" in mine
        assert "· 11月24日—11月30日 《习近平谈治国理政》、《乡土中国》 60分钟" in mine
        [stats] = await bot.say("mishu", f"本周打卡情况 {GROUP}")
        assert stats == f"{GROUP}本周（11月24日—11月30日）已打卡 2/3（66%）\n未打卡：委员3"
        assert await bot.say("mishu", "本周打卡情况 第三学习小组") == [stats]  # 三 = 3
        [member_view] = await bot.say("m3", "本周打卡情况")
        assert member_view == f"{GROUP}本周（11月24日—11月30日）已打卡 2/3（66%）"


async def test_without_campaign_it_is_a_personal_record(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        [answer] = await bot.say("m1", "打卡 读《乡土中国》40min")
        assert answer == (
            "已记录您的学习（《乡土中国》，40分钟）。第3学习小组目前没有进行中的打卡活动，"
            "本次作为个人学习记录保存。"
        )


async def test_member_cannot_open_a_campaign(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        assert await bot.say("m1", f"开启打卡 {GROUP} 每周") == [
            "抱歉，开启或关闭打卡活动仅限机关秘书。参加学习打卡请发送「打卡 学习内容 时长」。"
        ]


async def test_a_check_in_in_another_group_s_chat_says_why_it_did_not_count(
    cfg: Config,
) -> None:
    """The group has a campaign; the member is not on its roster: the answer says so and what
    to do, instead of claiming the group has no campaign."""
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.add_member("guest", "客人", group="第5学习小组")
        await bot.say("mishu", f"开启打卡 {GROUP} 每周 周五20:00提醒 周一09:00汇总")
        [answer] = await bot.say("guest", "打卡 读《乡土中国》40min", group=GROUP)
        assert answer == (
            "已记录您的学习（《乡土中国》，40分钟）。您不在第3学习小组的名单中，这次没有计入"
            "该组的打卡，已作为您的个人学习记录保存。要计入您所在小组的打卡，"
            "请在本组群里或私信我发送「打卡 学习内容 时长」。"
        )
        [makeup] = await bot.say("guest", "补卡 昨天 学习党章", group=GROUP)
        assert makeup == (
            "您不在第3学习小组的名单中，不能在这里补该组的卡。补您所在小组的打卡，"
            "请在本组群里或私信我发送「补卡 日期 学习内容」。"
        )
        [progress] = await bot.say("m1", "打卡 学习党章 半小时", group=GROUP)
        assert progress.endswith(f"{GROUP}本周已打卡 1/3")  # the guest is not counted


async def test_duplicate_callbacks_count_once(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("mishu", f"开启打卡 {GROUP}")
        answers = await asyncio.gather(
            *(bot.say("m1", "打卡 30分钟", key="same") for _ in range(4))
        )
        assert sum(len(a) for a in answers) == 1
        [stats] = await bot.say("mishu", f"本周打卡情况 {GROUP}")
        assert "已打卡 1/3" in stats


async def test_make_up_window_and_monthly_limit(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 4, 10, 0))  # Tuesday; last week closed Sunday 11-02
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("mishu", f"开启打卡 {GROUP} 每周")
        async with bot.db.transaction() as tx:  # the campaign has run since October
            campaign = (await tx.campaigns.active())[0]
            campaign.starts_on = campaign.starts_on.replace(month=10, day=1)
        [ok] = await bot.say("m1", "补卡 上周三 读《乡土中国》40分钟")
        assert ok.startswith(
            "补卡成功（《乡土中国》，40分钟）！已计入10月27日—11月2日。本月已补卡 1/2 次。"
        )
        [late] = await bot.say("m2", "补卡 10月22日 学习党章")
        assert late == "补卡未成功：10月20日—10月26日已结束9天，超过了补卡期限（结束后3天内）。"
        [future] = await bot.say("m2", "补卡 2025-11-20 学习党章")
        assert future == "补卡未成功：不能为将来的日期补卡。"
        [nodate] = await bot.say("m2", "补卡 学习党章")
        assert nodate.startswith("请写明补哪一天")
        clock.advance(timedelta(days=7))  # Tuesday 11-11: week 11-03..09 closed 2 days ago
        [second] = await bot.say("m1", "补卡 11月5日 学习党章")
        assert "本月已补卡 2/2 次" in second
        async with bot.db.transaction() as tx:  # pretend one more closed week is open to make up
            campaign = (await tx.campaigns.active())[0]
            campaign.makeup_days = 30
        [third] = await bot.say("m1", "补卡 10月22日 学习党章")
        assert third == "补卡未成功：本月补卡次数已用完（每月最多2次）。"
        [current] = await bot.say("m3", "补卡 今天 学习党章")
        assert current.startswith("11月10日—11月16日还在进行中，已按正常打卡计入")


async def test_six_weeks_over_national_day(cfg: Config) -> None:
    """Weekly campaign, reminders Friday 20:00, summary Monday 09:00, from 2025-09-15.

    National Day 2025: holidays 10-01..10-08, 调休 workdays Sunday 09-28 and Saturday 10-11.
    Friday 10-03 is a holiday: no reminder that week. Monday 10-06 is a holiday: that summary
    waits for Thursday 10-09, the first day back.
    """
    clock = FakeClock(shanghai(2025, 9, 15, 8, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("mishu", f"开启打卡 {GROUP} 每周 周五20:00提醒 周一09:00汇总")
        await bot.say("m1", "打卡 30分钟")
        sent = await bot.run_until(shanghai(2025, 10, 27, 12, 0), timedelta(hours=1))
        posts = [(at, m) for at, m in sent if m.address.kind == "group"]
        fired = [(at, m.text[:6]) for at, m in posts if m.image is None]
        expected = [
            (shanghai(2025, 9, 19, 20, 0), "【打卡提醒】"),
            (shanghai(2025, 9, 22, 9, 0), "【打卡汇总】"),
            (shanghai(2025, 9, 26, 20, 0), "【打卡提醒】"),
            (shanghai(2025, 9, 29, 9, 0), "【打卡汇总】"),
            # no reminder on Friday 10-03 (国庆节)
            (shanghai(2025, 10, 9, 9, 0), "【打卡汇总】"),  # deferred from Monday 10-06
            (shanghai(2025, 10, 10, 20, 0), "【打卡提醒】"),
            (shanghai(2025, 10, 13, 9, 0), "【打卡汇总】"),
            (shanghai(2025, 10, 17, 20, 0), "【打卡提醒】"),
            (shanghai(2025, 10, 20, 9, 0), "【打卡汇总】"),
            (shanghai(2025, 10, 24, 20, 0), "【打卡提醒】"),
            (shanghai(2025, 10, 27, 9, 0), "【打卡汇总】"),
        ]
        assert fired == expected
        # 打卡周图: each weekly summary is followed by the group's chart (handlers/checkin_chart)
        charts = [at for at, m in posts if m.image is not None]
        assert charts == [at for at, text in expected if text == "【打卡汇总】"]
        # The first reminder @s the two who had not checked in, and each gets a private nudge.
        first = [m for at, m in sent if at == shanghai(2025, 9, 19, 20, 0)]
        assert sorted((m.address.kind, m.mentions) for m in first) == [
            ("group", ("m2", "m3")),
            ("member", ()),
            ("member", ()),
        ]
        # Each summary also reaches the secretary once, with who missed.
        office = [m.text for _, m in sent if m.address.value == "mishu"]
        assert len(office) == 6
        assert office[0] == f"【打卡汇总】{GROUP} 9月15日—9月21日 未打卡 2 人：委员2、委员3"


async def test_daily_campaign_works_on_tiaoxiu_days_only(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 9, 26, 8, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot, members=1)
        await bot.say("mishu", f"开启打卡 {GROUP} 每天 20:00提醒 22:00汇总")
        sent = await bot.run_until(shanghai(2025, 10, 12, 8, 0), timedelta(hours=1))
        reminder_days = sorted(
            {
                at.astimezone(cfg.time.zone).date().isoformat()
                for at, m in sent
                if m.address.kind == "group" and m.text.startswith("【打卡提醒】")
            }
        )
        # Working days only: Fri 9-26, 调休 Sun 9-28, Mon 9-29, Tue 9-30, then Thu 10-09,
        # Fri 10-10 and 调休 Sat 10-11; none on the weekend 9-27 nor during 10-01..10-08.
        assert reminder_days == [
            "2025-09-26",
            "2025-09-28",
            "2025-09-29",
            "2025-09-30",
            "2025-10-09",
            "2025-10-10",
            "2025-10-11",
        ]


async def test_restart_between_reminder_and_summary(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 24, 8, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("mishu", f"开启打卡 {GROUP} 每周 周五20:00提醒 周一09:00汇总")
        sent = await bot.run_until(shanghai(2025, 11, 28, 21, 0), timedelta(hours=1))
        assert [m.text[:6] for _, m in sent if m.address.kind == "group"] == ["【打卡提醒】"]
    async with running_bot(cfg, clock) as bot:  # a new process on the same database
        for _ in range(3):
            assert not [m for m in await bot.tick() if m.address.kind == "group"]
        sent = await bot.run_until(shanghai(2025, 12, 1, 12, 0), timedelta(hours=1))
        posts = [m.text[:6] for _, m in sent if m.address.kind == "group" and m.image is None]
        assert posts == ["【打卡汇总】"]


async def test_two_planners_send_each_reminder_once(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 28, 19, 0))
    async with running_bot(cfg, clock) as first, running_bot(cfg, clock) as second:
        await seed(first)
        await first.say("mishu", f"开启打卡 {GROUP} 每周 周五20:00提醒 周一09:00汇总")
        clock.advance(timedelta(minutes=90))
        counts = await asyncio.gather(*(p.runtime.planner.tick() for p in (first, second) * 3))
        assert sum(counts) == 1
        async with first.db.read() as tx:
            keys = [d.idempotency_key for d in await tx.deliveries.list()]
        reminder_keys = [k for k in keys if ":remind0:" in k]
        assert sorted(reminder_keys) == sorted(
            [
                "checkin:1:remind0:2025-11-24:group",
                "checkin:1:remind0:2025-11-24:member:m1",
                "checkin:1:remind0:2025-11-24:member:m2",
                "checkin:1:remind0:2025-11-24:member:m3",
            ]
        )
