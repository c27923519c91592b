"""Slot extractors of the understanding (handlers/text/slots.py) and written durations."""

from __future__ import annotations

import pytest

from handlers.text.body import minutes_in
from handlers.text.slots import find_numbers


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("第5个通知有多少人收到了", "TZ", "5"),
        ("第三个会有多少人报名了", "HY", "3"),
        ("第2个任务交了", "DB", "2"),
        ("第8个督办任务还有几个人没完成", "DB", "8"),
        ("看看通知8的已读未读名单", "TZ", "8"),
    ],
)
def test_an_ordinal_names_a_number(text: str, kind: str, value: str) -> None:
    assert [(n.kind, n.value) for n in find_numbers(text)] == [(kind, value)]


@pytest.mark.parametrize(
    "text", ["第3次会议在北京召开", "第二个会议室", "发通知8点前", "TZ-4 第2个通知"]
)
def test_no_ordinal_where_none_is_meant(text: str) -> None:
    """A session (第3次), a room, a clock time, or a number already written as TZ-4."""
    assert [n for n in find_numbers(text) if n.value in ("2", "3", "8")] == []


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("早上6:20-7:00 读书", 40), ("19:30到20:15", 45), ("用时：35′", 35), ("比分3:2", None)],
)
def test_a_clock_range_or_the_prime_sign_is_minutes(text: str, minutes: int | None) -> None:
    assert minutes_in(text) == minutes
