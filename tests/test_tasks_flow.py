"""A task (督办) going blue, yellow and red, nudged at 3 days, 1 day and on the day, on the
secretaries' red/yellow list on working days only, and ticked off (销号), with a restart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.config import Config
from tests.conftest import make_config
from tests.harness import running_bot, shanghai

GROUP = "第3学习小组"
TASK = f"督办 {GROUP}：请各位委员于12月10日前提交年度履职报告 牵头：办公室 责任处室：研究室"


@pytest.fixture
def cfg(db_url: str) -> Config:
    return make_config(db_url)


async def test_task_colours_nudges_daily_list_and_tick_off(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 9, 0))
    async with running_bot(cfg, clock) as bot:
        await bot.add_member("mishu", "王秘书", role="secretary")
        for n in range(1, 4):
            await bot.add_member(f"m{n}", f"委员{n}", group=GROUP)
        sent = await bot.say("mishu", TASK)
        assert sorted(sent) == sorted(
            [
                "已交办督办 DB-1 至第3学习小组，承办 3 人，完成时限 12月10日（周三）。"
                "截止前会提醒未完成的委员，红黄督办清单每个工作日推送给秘书。",
                "【督办 DB-1】请各位委员于12月10日前提交年度履职报告\n完成时限：12月10日（周三）\n"
                "牵头：办公室　责任处室：研究室\n完成后请回复「完成 DB-1」。",
            ]
        )
        status = "DB-1「请各位委员于12月10日前提交年度履…」完成时限12月10日（周三）"
        assert await bot.say("mishu", "督办情况 DB-1") == [
            f"{status}，已完成 0/3，未完成：委员1、委员2、委员3"
        ]
        sent = await bot.run_until(shanghai(2025, 12, 8, 9, 0), timedelta(hours=3))
        assert sorted((at, m.address.value) for at, m in sent) == [
            (shanghai(2025, 12, 7, 9, 0), user) for user in ("m1", "m2", "m3")
        ]
        assert sent[0][1].text.startswith("【督办提醒】委员")
        assert "完成时限12月10日（周三）（还有3天截止）" in sent[0][1].text
        assert await bot.say("mishu", "督办情况 DB-1") == [
            f"🔵蓝色 {status}，已完成 0/3，未完成：委员1、委员2、委员3"
        ]
        [done] = await bot.say("m1", "完成 DB-1")
        assert done == "已登记：您已完成督办 DB-1「请各位委员于12月10日前提交年度履…」。谢谢！"
        assert await bot.say("m1", "DB-1 已完成") == [
            "您已于12月8日09:00报告完成督办 DB-1，无需重复。"
        ]
        assert await bot.say("m2", "督办情况") == [
            f"未销号的督办任务（1项）：\n🔵蓝色 {status}，已完成 1/3"
        ]
        sent = await bot.run_until(shanghai(2025, 12, 9, 12, 0), timedelta(hours=3))
        assert sorted((at, m.address.value) for at, m in sent) == [
            (shanghai(2025, 12, 9, 9, 0), "m2"),
            (shanghai(2025, 12, 9, 9, 0), "m3"),
        ]

    async with running_bot(cfg, clock) as bot:  # restart between the nudges
        sent = await bot.run_until(shanghai(2025, 12, 10, 12, 0), timedelta(hours=3))
        assert sorted((at, m.address.value, m.text[:6]) for at, m in sent) == [
            (shanghai(2025, 12, 10, 9, 0), "m2", "【督办提醒】"),
            (shanghai(2025, 12, 10, 9, 0), "m3", "【督办提醒】"),
            (shanghai(2025, 12, 10, 9, 0), "mishu", "【三色督办】"),
        ]
        nudge = next(m for _, m in sent if m.address.value == "m2")
        assert "（今天截止）" in nudge.text
        daily = next(m for _, m in sent if m.address.value == "mishu")
        assert daily.text == (
            "【三色督办】12月10日 红黄督办清单（1项）：\n"
            f"🟡黄色 {status}，未完成 2/3：委员2、委员3"
        )
        sent = await bot.run_until(shanghai(2025, 12, 12, 12, 0), timedelta(hours=3))
        red = f"🔴红色（已逾期） {status}，未完成 2/3：委员2、委员3"
        assert [(at, m.address.value, m.text.splitlines()[1]) for at, m in sent] == [
            (shanghai(2025, 12, 11, 9, 0), "mishu", red),
            (shanghai(2025, 12, 12, 9, 0), "mishu", red),
        ]
        [tick] = await bot.say("mishu", "销号 DB-1 委员2", key="tick")
        assert tick == "已为委员2销号督办 DB-1。还有 1 人未完成。"
        assert await bot.say("m2", "销号 DB-1 委员3", key="denied") == [
            "抱歉，督办任务销号仅限机关秘书。完成交办给您的任务后，请回复「完成 DB-任务号」。"
        ]
        [last] = await bot.say("m3", "已完成 1", key="last")
        assert last == (
            "已登记：您已完成督办 DB-1「请各位委员于12月10日前提交年度履…」"
            "（已超过完成时限 12月10日（周三））。谢谢！全部承办人均已完成，DB-1 已销号。"
        )
        # Weekend 12-13/14: no list; Monday 12-15: nothing red or yellow left.
        assert await bot.run_until(shanghai(2025, 12, 16, 12, 0), timedelta(hours=3)) == []
        assert await bot.say("mishu", "督办情况", key="end") == ["目前没有未销号的督办任务。"]


async def test_whole_task_tick_off_and_wrong_numbers(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 9, 0))
    async with running_bot(cfg, clock) as bot:
        await bot.add_member("mishu", "王秘书", role="secretary")
        await bot.add_member("m1", "委员1", group=GROUP)
        await bot.add_member("m2", "委员2", group="第5学习小组")
        await bot.say("mishu", f"督办 {GROUP}、委员2：本周内完成调研问卷")
        await bot.say("mishu", "交办 委员2：月底前提交提案")
        [which] = await bot.say("m2", "完成")
        assert which == (
            "您有 2 项未完成的督办任务：DB-1「本周内完成调研问卷」、DB-2「月底前提交提案」。"
            "请回复「完成 编号」。"
        )
        assert await bot.say("m1", "完成 DB-2") == ["您不在督办 DB-2 的承办名单中。"]
        assert await bot.say("m1", "完成 DB-9") == ["没有找到督办 DB-9。"]
        [closed] = await bot.say("mishu", "销号 DB-1")
        assert (
            closed == "已销号督办 DB-1「本周内完成调研问卷」（销号时未完成 2 人：委员1、委员2）。"
        )
        assert await bot.say("m1", "完成 DB-1") == ["督办 DB-1 已经销号，无需再报告。"]
        [one] = await bot.say("m2", "完成")
        assert one.startswith("已登记：您已完成督办 DB-2「月底前提交提案」。谢谢！全部承办人")
        [no_deadline] = await bot.say("mishu", f"督办 {GROUP}：提交年度履职报告")
        assert no_deadline.startswith("请写明完成时限")
