"""Text normalisation and Chinese numerals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.text.normalize import (
    fold,
    normalize,
    parse_int,
    parse_number,
    strip_mention,
    widen_punct,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("打卡：３０分钟", "打卡:30分钟"),
        ("＃打卡＃　今日学习", "#打卡# 今日学习"),
        ("１８：００前", "18:00前"),
        ("《乡土中国》、〈论语〉。【打卡】", "《乡土中国》、〈论语〉。【打卡】"),
        ("  打卡 \t\n 读书  ", "打卡 读书"),
        ("打\u200b卡\ufeff 读书\u2060", "打卡 读书"),
        ("打卡\xa0\xa0半小时", "打卡 半小时"),
        ("打卡\x07\x1b读书", "打卡 读书"),
        ("@履职助手 打卡", "打卡"),
        ("@履职助手\u2005打卡 读书", "打卡 读书"),
        ("＠履职助手　打卡", "打卡"),
        ("@张三 @履职助手 打卡", "打卡"),
        ("@履职助手", "@履职助手"),  # no space: cannot tell a mention from text
        ("请 @张三 收到", "请 @张三 收到"),
        ("打卡📚👍", "打卡📚👍"),
        ("", ""),
        ("\u3000\u3000", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_can_keep_lines_and_mentions() -> None:
    raw = "社情民意：关于加强农村饮水工程管护的建议\r\n\r\n基本情况：  ……\n\n\n建议：……"
    assert normalize(raw, keep_newlines=True) == (
        "社情民意:关于加强农村饮水工程管护的建议\n基本情况: ……\n建议:……"
    )
    assert normalize("@履职助手 打卡", mention=False) == "@履职助手 打卡"


def test_strip_mention_with_known_bot_name_and_no_space() -> None:
    assert strip_mention("@履职助手打卡", ("履职助手",)) == "打卡"
    assert strip_mention("@履职助手打卡") == "@履职助手打卡"  # unknown where the name ends
    assert normalize("@履职助手", bot_names=("履职助手",)) == ""


def test_fold_keeps_length_for_spans() -> None:
    raw = "请于１２月１０日前\u3000提交\u200b。"
    assert fold(raw) == "请于12月10日前 提交 。"
    assert len(fold(raw)) == len(raw)


def test_widen_punct_only_next_to_chinese() -> None:
    assert widen_punct("学习党章,十分受益!") == "学习党章，十分受益！"
    assert widen_punct("Chapter 3, part 2: ok") == "Chapter 3, part 2: ok"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25", 25),
        ("二十五", 25),
        ("一百零二", 102),
        ("两", 2),
        ("两百", 200),
        ("十", 10),
        ("廿五", 25),
        ("零五", 5),
        ("二〇二五", 2025),
        ("九十九", 99),
        ("1.5", None),
        ("半", None),
        ("十十", None),
        ("百", None),
        ("abc", None),
        ("", None),
    ],
)
def test_parse_int(text: str, expected: int | None) -> None:
    assert parse_int(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5", 1.5),
        ("一点五", 1.5),
        ("半", 0.5),
        ("一个半", 1.5),
        ("1个半", 1.5),
        ("两个半", 2.5),
        ("40", 40.0),
        ("四十", 40.0),
        (" 30 ", 30.0),
        ("个半", None),
        ("1.5.2", None),
    ],
)
def test_parse_number(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected


@settings(max_examples=200, deadline=timedelta(seconds=2), database=None)
@given(st.text(st.characters(exclude_categories=()), max_size=300))
def test_normalize_never_raises_and_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert len(fold(text)) == len(text)
    parse_number(text)
    parse_int(text)
