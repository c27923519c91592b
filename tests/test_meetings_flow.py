"""A meeting notice with changes of answer, a live headcount, reminders before the reply
deadline and the start, a passed deadline, and a restart in the middle."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import openpyxl
import pytest

from bot.clock import FakeClock
from bot.config import Config
from handlers.exports import EXPORTS
from handlers.meetings.parse import meeting_title
from tests.conftest import make_config
from tests.harness import running_bot, shanghai

MEETING = (
    "会议通知 第3学习小组、第5学习小组：12月3日下午3点在市政协三楼会议室召开专题协商会，"
    "请于12月1日18:00前回复。"
)
LINE = "HY-1 专题协商会（12月3日（周三）15:00，市政协三楼会议室）"


@pytest.fixture
def cfg(db_url: str) -> Config:
    return make_config(db_url)


async def test_meeting_answers_headcount_reminders_and_deadline(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await bot.add_member("mishu", "王秘书", role="secretary")
        for n in range(1, 4):
            await bot.add_member(f"m{n}", f"委员{n}", group="第3学习小组")
        await bot.add_member("m4", "委员4", group="第5学习小组")
        await bot.add_member("other", "委员9", group="第7学习小组")
        sent = await bot.say("mishu", MEETING)
        assert sorted(sent) == sorted(
            [
                f"已发出会议通知 {LINE}至第3学习小组、第5学习小组，共 4 人。"
                "回执截止 12月1日18:00，发送「会议情况 HY-1」查看回执。",
            ]
            + [
                "【会议通知 HY-1】专题协商会\n时间：12月3日（周三）15:00\n地点：市政协三楼会议室\n"
                "12月3日下午3点在市政协三楼会议室召开专题协商会，请于12月1日18:00前回复。\n"
                "请于12月1日18:00前回复「参加」或「请假 理由」。"
            ]
            * 2
        )
        assert await bot.say("m1", "参加", group="第3学习小组") == [
            f"已登记：您将参加{LINE}。回执截止 12月1日18:00前可更改。"
        ]
        assert await bot.say("m2", "请假 出差在外") == [
            f"已为您登记请假（理由：出差在外）：{LINE}。回执截止 12月1日18:00前可更改。"
        ]
        assert await bot.say("m2", "准时参加") == [
            f"已将您的回执由「请假」改为「参加」：{LINE}。回执截止 12月1日18:00前可更改。"
        ]
        assert await bot.say("m2", "参加") == [f"您已回复「参加」{LINE}，无需重复回复。"]
        assert await bot.say("m3", "不能参加，身体不适") == [
            f"已为您登记请假（理由：身体不适）：{LINE}。回执截止 12月1日18:00前可更改。"
        ]
        assert await bot.say("other", "参加") == ["目前没有需要您回复的会议通知。"]
        [count] = await bot.say("mishu", "会议情况 HY-1")
        assert count == (
            f"{LINE}\n应到 4 人：参加 2，请假 1，未回复 1（回执截止 12月1日18:00）\n"
            "参加：委员1、委员2\n请假：委员3（身体不适）\n未回复：委员4"
        )
        sent_before = await bot.run_until(shanghai(2025, 11, 30, 12, 0), timedelta(hours=3))
        assert sent_before == []

    async with running_bot(cfg, clock) as bot:  # restart before the reply reminder
        sent = await bot.run_until(shanghai(2025, 12, 1, 21, 0), timedelta(hours=1))
        fired = sorted((at, m.address.kind, m.address.value, m.text[:6]) for at, m in sent)
        assert fired == [
            (shanghai(2025, 11, 30, 18, 0), "group", "2", "【回执提醒】"),
            (shanghai(2025, 11, 30, 18, 0), "member", "m4", "委员4您好，"),
            (shanghai(2025, 12, 1, 18, 0), "member", "mishu", "【回执汇总】"),
        ]
        group_chase = next(m for _, m in sent if m.address.kind == "group")
        assert group_chase.mentions == ("m4",)
        assert group_chase.text == (
            f"【回执提醒】{LINE}请于12月1日18:00前回复「参加」或「请假 理由」，尚未回复：委员4"
        )
        summary = next(m for _, m in sent if m.address.value == "mishu")
        assert summary.text.startswith(f"【回执汇总】{LINE}\n应到 4 人：参加 2，请假 1，未回复 1")
        assert await bot.say("m1", "请假 临时有事", key="late") == [
            f"{LINE}的回执已于12月1日18:00截止，无法再更改。如有变化，请直接联系会务秘书。"
        ]
        sent = await bot.run_until(shanghai(2025, 12, 4, 0, 0), timedelta(hours=1))
        assert sorted((at, m.address.value, m.text) for at, m in sent) == [
            (
                shanghai(2025, 12, 3, 13, 0),
                user,
                f"【会议提醒】{name}您好，{LINE}即将召开，请准时参加。",
            )
            for user, name in (("m1", "委员1"), ("m2", "委员2"))
        ]
        assert await bot.say("m1", "参加", key="after") == ["目前没有需要您回复的会议通知。"]


async def test_meeting_needs_a_time_and_an_office_sender(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await bot.add_member("mishu", "王秘书", role="secretary")
        await bot.add_member("m1", "委员1", group="第3学习小组")
        [no_time] = await bot.say("mishu", "会议通知 第3学习小组：在三楼召开座谈会")
        assert no_time.startswith("请写明会议时间")
        [past] = await bot.say("mishu", "会议通知 第3学习小组：昨天上午9点召开座谈会")
        assert past == "会议时间11月24日09:00已经过去，请检查。"
        assert await bot.say("m1", MEETING) == [
            "抱歉，发布会议通知仅限机关秘书。收到会议通知请回复「参加」或「请假 理由」。"
        ]
        assert await bot.say("m1", "会议情况 HY-1") == [
            "抱歉，会议回执情况仅限机关秘书查看。收到会议通知请回复「参加」或「请假 理由」。"
        ]
        # No 回执 given: replies close a day before the start.
        sent = await bot.say(
            "mishu", "会议通知 第3学习小组：常委会 时间：11月28日15:00 地点：二楼"
        )
        assert (
            "已发出会议通知 HY-1 常委会（11月28日（周五）15:00，二楼）至第3学习小组，共 1 人。"
            "回执截止 11月27日15:00，发送「会议情况 HY-1」查看回执。"
        ) in sent


async def test_a_meeting_keeps_its_name_and_the_export_lists_who_answered(cfg: Config) -> None:
    """The notice's own name (民主评议座谈会), not its kind (座谈会), in every answer; who
    attends and who is excused with the reason, in chat and in the 会议出勤情况 workbook."""
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await bot.add_member("mishu", "王秘书", role="secretary")
        for n in range(1, 4):
            await bot.add_member(f"m{n}", f"委员{n}", group="第3学习小组")
        line = "HY-1 民主评议座谈会（12月3日（周三）15:00，政协三楼会议室）"
        sent = await bot.say(
            "mishu",
            "会议通知 第3学习小组：定于12月3日下午3点在政协三楼会议室召开民主评议座谈会，"
            "请于12月1日前回复是否参加",
        )
        assert sent[0].startswith(f"已发出会议通知 {line}至第3学习小组，共 3 人。")
        assert sent[1].startswith("【会议通知 HY-1】民主评议座谈会\n")
        await bot.say("m1", "参加")
        await bot.say("m2", "请假 单位有接待任务")
        assert await bot.say("mishu", "会议情况 HY-1") == [
            f"{line}\n应到 3 人：参加 1，请假 1，未回复 1（回执截止 12月1日23:59）\n"
            "参加：委员1\n请假：委员2（单位有接待任务）\n未回复：委员3"
        ]
        data = await EXPORTS["meetings"].build(bot.db, cfg, 2025, now=clock.now())
    book = openpyxl.load_workbook(io.BytesIO(data))
    meetings = list(book["会议"].iter_rows(values_only=True))
    assert meetings[0] == ("编号", "会议名称", "时间", "地点", "应到", "参加", "请假", "未回复")
    assert meetings[1:] == [
        ("HY-1", "民主评议座谈会", datetime(2025, 12, 3, 15, 0), "政协三楼会议室", 3, 1, 1, 1)
    ]
    answers = [row[3:7] for row in book["回执明细"].iter_rows(min_row=2, values_only=True)]
    assert answers == [
        ("委员1", None, "参加", None),
        ("委员2", None, "请假", "单位有接待任务"),
        ("委员3", None, "未回复", None),
    ]


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (
            "定于下周三下午三点在政协三楼会议室召开民主评议座谈会请于周一前回复是否参加",
            "民主评议座谈会",
        ),
        (
            "兹定于12月5日召开政协第十二届委员会第三次常务委员会议，请准时出席",
            "政协第十二届委员会第三次常务委员会议",
        ),
        ("会议名称：2025年度委员述职会 时间：12月20日上午9点", "2025年度委员述职会"),
        ("定于周五在县政协举行乡村振兴专题协商座谈会。", "乡村振兴专题协商座谈会"),
        ("明天下午3点开会，请准时参加", "会议"),
        ("12月3日下午在三楼会议室召开，请回复", "会议"),
    ],
)
def test_meeting_title_is_the_name_the_notice_gives(text: str, title: str) -> None:
    assert meeting_title(text, "会议") == title
