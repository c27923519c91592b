"""Pure parsers of notices, meetings and tasks with plain strings, the colour rule, and the
``lvzhi parse`` contract for ack / rsvp / notice / meeting / task."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from handlers.meetings.parse import parse_meeting, parse_rsvp
from handlers.notices.parse import (
    Ack,
    parse_ack,
    parse_notice,
    parse_recurring,
)
from handlers.tasks.parse import nudge_offsets, parse_task, parse_task_done, task_colour

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 11, 25, 10, 0, tzinfo=SH)  # a Tuesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("收到", Ack()),
        ("收到。", Ack()),
        ("收到！", Ack()),
        ("收到，谢谢", Ack()),
        ("收到谢谢", Ack()),
        ("已收到", Ack()),
        ("已经收到", Ack()),
        ("好的收到", Ack()),
        ("好的，收到！", Ack()),
        ("收到收到", Ack()),
        ("收到了", Ack()),
        ("收到啦~", Ack()),
        ("收到👍", Ack()),
        ("👌收到", Ack()),
        ("确认收到", Ack()),
        ("已阅", Ack()),
        ("收悉", Ack()),
        ("OK 收到", Ack()),
        ("ｏｋ，收到", Ack()),
        ("收到，谢谢王秘书", Ack()),
        ("收到，辛苦了", Ack()),
        ("收到，会按时完成", Ack()),
        # Attending answers a meeting: left to the understanding, which reads it as a 回执
        # (every independent writer expected that, tests/parsers/corpus).
        ("收到，会按时参加", None),
        ("@履职助手 收到", Ack()),
        ("收到 TZ-12", Ack(12)),
        ("TZ12 收到", Ack(12)),
        ("收到tz-3，谢谢", Ack(3)),
        ("收到了吗？", None),
        ("收到?", None),
        ("没收到", None),
        ("还没有收到", None),
        ("我没有收到通知", None),
        ("收到的材料有问题", None),
        ("收到通知后请尽快回复", None),
        ("好的", None),
        ("谢谢", None),
        ("打卡", None),
        ("", None),
    ],
)
def test_ack(text: str, expected: Ack | None) -> None:
    assert parse_ack(text) == expected


@pytest.mark.parametrize(
    ("text", "groups", "body", "send_at", "needs_ack"),
    [
        (
            "通知 第3学习小组、第5学习小组：明天上午9点在三楼学习",
            ("第3学习小组", "第5学习小组"),
            "明天上午9点在三楼学习",  # a time after the colon belongs to the notice
            None,
            True,
        ),
        (
            "通知 第3学习小组 明天上午9点：请准时参加",
            ("第3学习小组",),
            "请准时参加",
            datetime(2025, 11, 26, 9, 0, tzinfo=SH),
            True,
        ),
        (
            "下周一8:30通知 全体委员：本周安排",
            ("全体委员",),
            "本周安排",
            datetime(2025, 12, 1, 8, 30, tzinfo=SH),
            True,
        ),
        (
            "通知 第3学习小组 11月25日18:00发送：会议材料已上传",
            ("第3学习小组",),
            "会议材料已上传",
            datetime(2025, 11, 25, 18, 0, tzinfo=SH),
            True,
        ),
        (
            "发通知 第一学习小组，第二学习小组：停电",
            ("第一学习小组", "第二学习小组"),
            "停电",
            None,
            True,
        ),
        ("通知 全体（无需回复）：元旦放假", ("全体委员",), "元旦放假", None, False),
    ],
)
def test_notice(
    text: str, groups: tuple[str, ...], body: str, send_at: datetime | None, needs_ack: bool
) -> None:
    value = parse_notice(text, NOW)
    assert value is not None
    assert (value.groups, value.text, value.send_at, value.needs_ack) == (
        groups,
        body,
        send_at,
        needs_ack,
    )


@pytest.mark.parametrize(
    "text", ["通知：明天开会", "会议通知 第3学习小组：x", "他们通知：x", "通知一下大家"]
)
def test_not_a_notice(text: str) -> None:
    assert parse_notice(text, NOW) is None


def test_recurring_schedules() -> None:
    weekly = parse_recurring("定期通知 第3学习小组 每周一8:00：本周学习安排", NOW)
    assert weekly is not None
    assert (weekly.cadence, weekly.weekday, weekly.at.isoformat()) == ("weekly", 0, "08:00:00")
    monthly = parse_recurring("定期通知 全体委员 每月第一个工作日上午9点：月度安排", NOW)
    assert monthly is not None
    assert (monthly.cadence, monthly.groups, monthly.at.isoformat()) == (
        "monthly_first_workday",
        ("全体委员",),
        "09:00:00",
    )
    workdays = parse_recurring("定期通知 第5学习小组 每个工作日 8:30：早读", NOW)
    assert workdays is not None and workdays.cadence == "workdays"


@pytest.mark.parametrize(
    ("text", "answer", "reason", "meeting"),
    [
        ("参加", "attend", "", None),
        ("准时参加", "attend", "", None),
        ("我准时参加。", "attend", "", None),
        ("参会", "attend", "", None),
        ("参加 HY-3", "attend", "", 3),
        ("请假 出差在外", "leave", "出差在外", None),
        ("请假：在外地调研", "leave", "在外地调研", None),
        ("不能参加，身体不适", "leave", "身体不适", None),
        ("请假 HY-2 家中有事", "leave", "家中有事", 2),
        ("请假", "leave", "", None),
    ],
)
def test_rsvp(text: str, answer: str, reason: str, meeting: int | None) -> None:
    value = parse_rsvp(text)
    assert value is not None
    assert (value.answer, value.reason, value.meeting) == (answer, reason, meeting)


@pytest.mark.parametrize(
    "text",
    [
        "参加学习打卡",
        "我参加了培训，收获很大",
        "请假条模板在哪",
        "请假手续怎么办",
        "不参加可以吗？",
    ],
)
def test_not_rsvp(text: str) -> None:
    assert parse_rsvp(text) is None


def test_meeting_fields() -> None:
    value = parse_meeting(
        "会议通知 全体委员：常委会 时间：12月3日15:00 地点：三楼会议室 回执：12月1日前", NOW
    )
    assert value is not None
    assert (value.kind, value.starts_at, value.place, value.reply_by) == (
        "常委会",
        datetime(2025, 12, 3, 15, 0, tzinfo=SH),
        "三楼会议室",
        datetime(2025, 12, 1, 23, 59, 59, tzinfo=SH),
    )


@pytest.mark.parametrize(
    ("text", "deadline"),
    [
        (
            "督办 第3学习小组：请各位委员于12月10日前提交年度履职报告",
            datetime(2025, 12, 10, 23, 59, 59, tzinfo=SH),
        ),
        ("督办 全体委员：本周内完成调研问卷", datetime(2025, 11, 30, 23, 59, 59, tzinfo=SH)),
        ("任务 张三、李四：月底前提交提案", datetime(2025, 11, 30, 23, 59, 59, tzinfo=SH)),
        ("交办 经济委：完成时限：12月5日18:00", datetime(2025, 12, 5, 18, 0, tzinfo=SH)),
    ],
)
def test_task_deadline(text: str, deadline: datetime) -> None:
    value = parse_task(text, NOW)
    assert value is not None and value.deadline == deadline


def test_task_lead_office_and_done() -> None:
    value = parse_task("督办 第3学习小组：于12月10日前提交报告 牵头：办公室 责任处室：研究室", NOW)
    assert value is not None
    assert (value.text, value.lead, value.office) == ("于12月10日前提交报告", "办公室", "研究室")
    assert [parse_task_done(t, True) for t in ("完成", "完成学习")] == [None, None]
    done = [parse_task_done(t, False) for t in ("完成 DB-4", "DB-4 已完成", "已完成 4", "完成")]
    assert [d.task if d else "x" for d in done] == [4, 4, 4, None]


def test_colours_and_offsets() -> None:
    deadline = datetime(2025, 12, 10, 23, 59, 59, tzinfo=SH)
    windows = {"blue_window": timedelta(days=3), "yellow_window": timedelta(days=1)}

    def colour(at: datetime, closed: bool = False) -> str | None:
        return task_colour(deadline, at, closed=closed, **windows)

    assert colour(datetime(2025, 12, 7, 9, 0, tzinfo=SH)) is None
    assert colour(datetime(2025, 12, 8, 9, 0, tzinfo=SH)) == "blue"
    assert colour(datetime(2025, 12, 10, 0, 0, tzinfo=SH)) == "yellow"
    assert colour(datetime(2025, 12, 11, 0, 0, tzinfo=SH)) == "red"
    assert colour(datetime(2025, 12, 11, 0, 0, tzinfo=SH), closed=True) is None
    assert nudge_offsets("3d,1d,0d") == (3, 1, 0)
    assert nudge_offsets(" 0d, 7d") == (7, 0)


CLI_NOW = "2025-11-25T10:00:00+08:00"


def cli(capsys: pytest.CaptureFixture[str], text: str, *extra: str) -> dict[str, object]:
    assert main(["parse", "--now", CLI_NOW, *extra, text]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("text", "role", "expected"),
    [
        ("收到", "member", {"intent": "ack", "notice": None}),
        ("好的，收到！", "member", {"intent": "ack"}),
        ("参加", "member", {"intent": "rsvp", "answer": "attend", "reason": ""}),
        ("请假 出差在外", "member", {"intent": "rsvp", "answer": "leave", "reason": "出差在外"}),
        (
            "通知 第3学习小组、第5学习小组 明天上午9点：请准时参加学习",
            "secretary",
            {
                "intent": "notice",
                "groups": ["第3学习小组", "第5学习小组"],
                "text": "请准时参加学习",
                "send_at": "2025-11-26T09:00:00+08:00",
            },
        ),
        (
            "通知 全体委员：元旦放假安排",
            "secretary",
            {"intent": "notice", "groups": ["全体委员"], "send_at": None},
        ),
        ("通知 全体委员：元旦放假安排", "member", {"intent": "unknown"}),
        (
            "会议通知 第3学习小组：12月3日下午3点在市政协三楼会议室召开专题协商会，"
            "请于12月1日18:00前回复",
            "secretary",
            {
                "intent": "meeting",
                "kind": "专题协商会",
                "starts_at": "2025-12-03T15:00:00+08:00",
                "place": "市政协三楼会议室",
                "reply_by": "2025-12-01T18:00:00+08:00",
            },
        ),
        (
            "督办 第3学习小组：请各位委员于12月10日前提交年度履职报告",
            "secretary",
            {
                "intent": "task",
                "text": "请各位委员于12月10日前提交年度履职报告",
                "deadline": "2025-12-10T23:59:59+08:00",
            },
        ),
        ("完成 DB-4", "member", {"intent": "task_done", "task": 4}),
    ],
)
def test_parse_contract(
    capsys: pytest.CaptureFixture[str], text: str, role: str, expected: dict[str, object]
) -> None:
    result = cli(capsys, text, "--role", role)
    assert {key: result.get(key) for key in expected} == expected
