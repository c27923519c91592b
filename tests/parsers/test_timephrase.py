"""Chinese time phrases against a fixed clock: Tuesday 2025-11-25 10:00, Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.text.timephrase import (
    SHANGHAI,
    Deadline,
    TimePhrase,
    find_time_phrase,
    find_time_phrases,
    parse_date,
    parse_datetime,
    parse_deadline,
)

NOW = datetime(2025, 11, 25, 10, 0, tzinfo=SHANGHAI)  # a Tuesday; its week is 11-24 .. 11-30
NEW_YEARS_EVE = datetime(2025, 12, 31, 22, 0, tzinfo=SHANGHAI)  # a Wednesday
JAN_31 = datetime(2026, 1, 31, 9, 0, tzinfo=SHANGHAI)  # a Saturday
LEAP_FEB = datetime(2028, 2, 10, 9, 0, tzinfo=SHANGHAI)


def at(y: int, mo: int, d: int, h: int = 9, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "prefer", "expected"),
    [
        ("今天", "future", date(2025, 11, 25)),
        ("明天", "future", date(2025, 11, 26)),
        ("后天", "future", date(2025, 11, 27)),
        ("大后天", "future", date(2025, 11, 28)),
        ("昨天", "past", date(2025, 11, 24)),
        ("前天", "past", date(2025, 11, 23)),
        ("大前天", "past", date(2025, 11, 22)),
        ("下周五", "future", date(2025, 12, 5)),
        ("下周五", "past", date(2025, 12, 5)),  # written relative to the week: as written
        ("本周三", "future", date(2025, 11, 26)),
        ("这周一", "future", date(2025, 11, 24)),
        ("上周三", "future", date(2025, 11, 19)),
        ("上上周五", "past", date(2025, 11, 14)),
        ("下下周一", "future", date(2025, 12, 8)),
        ("下个星期五", "future", date(2025, 12, 5)),
        ("周日", "future", date(2025, 11, 30)),
        ("星期天", "future", date(2025, 11, 30)),
        ("礼拜天", "future", date(2025, 11, 30)),
        ("周日", "past", date(2025, 11, 23)),
        ("周二", "future", date(2025, 11, 25)),
        ("周二", "past", date(2025, 11, 25)),
        ("周一", "future", date(2025, 12, 1)),
        ("周一", "past", date(2025, 11, 24)),
        ("11月18日", "past", date(2025, 11, 18)),
        ("11月18日", "future", date(2026, 11, 18)),
        ("11月18号", "past", date(2025, 11, 18)),
        ("11月30日", "past", date(2024, 11, 30)),
        ("11月30日", "future", date(2025, 11, 30)),
        ("十一月十八日", "past", date(2025, 11, 18)),
        ("12.10", "future", date(2025, 12, 10)),
        ("12.10", "past", date(2024, 12, 10)),
        ("2025-11-17", "future", date(2025, 11, 17)),
        ("2025/11/17", "future", date(2025, 11, 17)),
        ("2025.11.17", "future", date(2025, 11, 17)),
        ("2025年11月17日", "future", date(2025, 11, 17)),
        ("二〇二五年十一月十七日", "future", date(2025, 11, 17)),
        ("２０２５－１１－１７", "future", date(2025, 11, 17)),
        ("明年1月5日", "past", date(2026, 1, 5)),
        ("18号", "future", date(2025, 12, 18)),
        ("18号", "past", date(2025, 11, 18)),
        ("31号", "future", date(2025, 12, 31)),  # November has no 31st
        ("31号", "past", date(2025, 10, 31)),
        ("下个月3号", "future", date(2025, 12, 3)),
        ("2月29日", "future", date(2028, 2, 29)),
        ("2月29日", "past", date(2024, 2, 29)),
        ("3天后", "future", date(2025, 11, 28)),
        ("3天前", "future", date(2025, 11, 22)),
        ("一周后", "future", date(2025, 12, 2)),
        ("三个月后", "future", date(2026, 2, 25)),
        ("请于明天上午提交", "future", date(2025, 11, 26)),
        ("2月30日", "future", None),
        ("2025-13-01", "future", None),
        ("", "future", None),
        ("好的，收到", "future", None),
        ("每周三次集中学习", "future", None),
        ("学习1.5小时", "future", None),
        ("学习党章第3.2节", "future", None),
        ("根据〔2025〕18号文件", "future", None),
    ],
)
def test_parse_date(text: str, prefer: str, expected: date | None) -> None:
    assert parse_date(text, NOW, prefer) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明天上午9点", at(2025, 11, 26, 9)),
        ("下周一8:30", at(2025, 12, 1, 8, 30)),
        ("11月25日18:00", at(2025, 11, 25, 18)),
        ("11月25日 18:00", at(2025, 11, 25, 18)),
        ("2025-12-01 14:30", at(2025, 12, 1, 14, 30)),
        ("12月10日（周三）下午2点", at(2025, 12, 10, 14)),
        ("9点", at(2025, 11, 26, 9)),  # gone today, so tomorrow
        ("上午9点", at(2025, 11, 26, 9)),
        ("上午11点", at(2025, 11, 25, 11)),
        ("下午3点半", at(2025, 11, 25, 15, 30)),
        ("下午3点一刻", at(2025, 11, 25, 15, 15)),
        ("晚上8点", at(2025, 11, 25, 20)),
        ("中午12点", at(2025, 11, 25, 12)),
        ("中午1点", at(2025, 11, 25, 13)),
        ("凌晨2点", at(2025, 11, 26, 2)),
        ("晚上12点", at(2025, 11, 25, 23, 59, 59)),
        ("18:00", at(2025, 11, 25, 18)),
        ("18：00", at(2025, 11, 25, 18)),
        ("8:30", at(2025, 11, 26, 8, 30)),
        ("九点十五分", at(2025, 11, 26, 9, 15)),
        ("十点零五分", at(2025, 11, 25, 10, 5)),
        ("20点", at(2025, 11, 25, 20)),
        ("20时", at(2025, 11, 25, 20)),
        ("三点开会", at(2025, 11, 25, 15)),  # 1-5 o'clock without 凌晨/早上 is afternoon
        ("明天下午", at(2025, 11, 26, 15)),
        ("今晚8点", at(2025, 11, 25, 20)),
        ("明晚", at(2025, 11, 26, 20)),
        ("两小时后", at(2025, 11, 25, 12)),
        ("半小时后", at(2025, 11, 25, 10, 30)),
        ("一个半小时后", at(2025, 11, 25, 11, 30)),
        ("30分钟后", at(2025, 11, 25, 10, 30)),
        ("3天后", at(2025, 11, 28, 9)),
        ("早一点到", None),
        ("提出三点意见", None),
        ("学习一点五小时", None),
    ],
)
def test_parse_datetime(text: str, expected: datetime | None) -> None:
    assert parse_datetime(text, NOW) == expected


def test_parse_datetime_default_time_and_past() -> None:
    assert parse_datetime("明天", NOW, default_time=time(8, 0)) == at(2025, 11, 26, 8)
    assert parse_datetime("9点", NOW, prefer="past") == at(2025, 11, 25, 9)
    assert parse_datetime("下午3点", NOW, prefer="past") == at(2025, 11, 24, 15)


def test_now_in_another_zone_is_read_in_shanghai() -> None:
    utc_now = datetime(2025, 11, 25, 17, 0, tzinfo=UTC)  # 2025-11-26 01:00 in Shanghai
    result = parse_datetime("明天上午9点", utc_now)
    assert result == at(2025, 11, 27, 9)
    assert result is not None and result.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12月10日前", Deadline(at(2025, 12, 10, 23, 59, 59), (0, 7), "12月10日前", False)),
        ("12月10日之前", Deadline(at(2025, 12, 10, 23, 59, 59), (0, 8), "12月10日之前", False)),
        ("本周内", Deadline(at(2025, 11, 30, 23, 59, 59), (0, 3), "本周内", False)),
        ("下周内", Deadline(at(2025, 12, 7, 23, 59, 59), (0, 3), "下周内", False)),
        ("月底前", Deadline(at(2025, 11, 30, 23, 59, 59), (0, 3), "月底前", False)),
        ("本月底", Deadline(at(2025, 11, 30, 23, 59, 59), (0, 3), "本月底", False)),
        ("下月底", Deadline(at(2025, 12, 31, 23, 59, 59), (0, 3), "下月底", False)),
        ("12月底前", Deadline(at(2025, 12, 31, 23, 59, 59), (0, 5), "12月底前", False)),
        ("年底前", Deadline(at(2025, 12, 31, 23, 59, 59), (0, 3), "年底前", False)),
        ("下周五前", Deadline(at(2025, 12, 5, 23, 59, 59), (0, 4), "下周五前", False)),
        ("3天内", Deadline(at(2025, 11, 28, 23, 59, 59), (0, 3), "3天内", False)),
        ("18号前", Deadline(at(2025, 12, 18, 23, 59, 59), (0, 4), "18号前", False)),
        ("截止12月10日", Deadline(at(2025, 12, 10, 23, 59, 59), (0, 8), "截止12月10日", False)),
        ("完成时限：12月10日", Deadline(at(2025, 12, 10, 23, 59, 59), (5, 11), "12月10日", False)),
        ("12.10前", Deadline(at(2025, 12, 10, 23, 59, 59), (0, 6), "12.10前", False)),
        ("12月10日18:00前", Deadline(at(2025, 12, 10, 18), (0, 12), "12月10日18:00前", True)),
        (
            "12月10日24时前",
            Deadline(at(2025, 12, 10, 23, 59, 59), (0, 10), "12月10日24时前", True),
        ),
        ("两小时后", Deadline(at(2025, 11, 25, 12), (0, 4), "两小时后", True)),
        (
            "请各位委员于12月10日前提交年度履职报告",
            Deadline(at(2025, 12, 10, 23, 59, 59), (5, 13), "于12月10日前", False),
        ),
        (
            "11月25日18:00前回执",
            Deadline(at(2025, 11, 25, 18), (0, 12), "11月25日18:00前", True),
        ),
        (
            "12月10日召开全体会议，请于12月5日前回执",
            Deadline(at(2025, 12, 5, 23, 59, 59), (14, 21), "于12月5日前", False),
        ),
        (
            "关于12月10日前完成调研的通知",  # 于 of 关于 is not cut
            Deadline(at(2025, 12, 10, 23, 59, 59), (2, 9), "12月10日前", False),
        ),
        (
            "十二月十日前往昆明",
            Deadline(at(2025, 12, 10, 23, 59, 59), (0, 5), "十二月十日", False),
        ),
        ("请尽快提交", None),
    ],
)
def test_parse_deadline(text: str, expected: Deadline | None) -> None:
    assert parse_deadline(text, NOW) == expected


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        (NEW_YEARS_EVE, "明天", at(2026, 1, 1)),
        (NEW_YEARS_EVE, "下周一", at(2026, 1, 5)),
        (NEW_YEARS_EVE, "本周内", at(2026, 1, 4, 23, 59, 59)),
        (NEW_YEARS_EVE, "月底前", at(2025, 12, 31, 23, 59, 59)),
        (NEW_YEARS_EVE, "下月底", at(2026, 1, 31, 23, 59, 59)),
        (NEW_YEARS_EVE, "1月5日", at(2026, 1, 5)),
        (NEW_YEARS_EVE, "年底前", at(2025, 12, 31, 23, 59, 59)),
        (NEW_YEARS_EVE, "明年底", at(2026, 12, 31, 23, 59, 59)),
        (NEW_YEARS_EVE, "两小时后", at(2026, 1, 1, 0)),
        (JAN_31, "下月底", at(2026, 2, 28, 23, 59, 59)),
        (JAN_31, "一个月后", at(2026, 2, 28)),
        (JAN_31, "下个月3号", at(2026, 2, 3)),
        (JAN_31, "上周三", at(2026, 1, 21)),
        (JAN_31, "周日", at(2026, 2, 1)),
        (JAN_31, "本周内", at(2026, 2, 1, 23, 59, 59)),
        (LEAP_FEB, "月底前", at(2028, 2, 29, 23, 59, 59)),
    ],
)
def test_across_month_and_year_ends(now: datetime, text: str, expected: datetime) -> None:
    assert parse_datetime(text, now) == expected


def test_find_every_phrase_with_spans_into_the_raw_text() -> None:
    text = "请于１２月１０日前提交，\u300012月15日下午3点开会"
    first = TimePhrase(
        (1, 9), "于１２月１０日前", date(2025, 12, 10), None, at(2025, 12, 10, 23, 59, 59), True
    )
    second = TimePhrase(
        (13, 23), "12月15日下午3点", date(2025, 12, 15), time(15, 0), at(2025, 12, 15, 15), False
    )
    assert find_time_phrases(text, NOW) == (first, second)


def test_find_time_phrase_lets_callers_cut_the_phrase_out() -> None:
    text = "请各位委员于12月10日前提交年度履职报告"
    phrase = find_time_phrase(text, NOW)
    assert phrase == TimePhrase(
        (5, 13), "于12月10日前", date(2025, 12, 10), None, at(2025, 12, 10, 23, 59, 59), True
    )
    start, end = phrase.span
    assert text[:start] + text[end:] == "请各位委员提交年度履职报告"


def test_find_time_phrase_past_preference_for_make_up() -> None:
    assert find_time_phrase("补卡 上周三 读书", NOW, prefer="past") == TimePhrase(
        (3, 6), "上周三", date(2025, 11, 19), None, at(2025, 11, 19), False
    )


_ALPHABET = st.one_of(
    st.characters(exclude_categories=()),
    st.sampled_from(
        list("0123456789一二两三十百半点时分月日号周年天前后内底:.-/@# 上下午晚明今昨")
    ),
)


@settings(max_examples=200, deadline=timedelta(seconds=2), database=None)
@given(st.text(_ALPHABET, max_size=300))
def test_no_text_makes_the_parsers_raise(text: str) -> None:
    for prefer in ("past", "future"):
        for phrase in find_time_phrases(text, NOW, prefer=prefer):
            start, end = phrase.span
            assert text[start:end] == phrase.text
            assert phrase.at.tzinfo is SHANGHAI
    parse_deadline(text, NOW)


@settings(
    max_examples=20,
    deadline=timedelta(seconds=5),
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.text(_ALPHABET, min_size=1, max_size=20))
def test_very_long_input_does_not_hang(seed: str) -> None:
    text = (seed * (10_000 // len(seed) + 1))[:10_000]
    find_time_phrases(text, NOW)
    parse_deadline(text, NOW)


@pytest.mark.parametrize("word", ["内容", "内部"])
def test_nei_starting_a_word_marks_no_deadline(word: str) -> None:
    """``时间：12月3日上午8:30 内容：…`` (a meeting block): 内 begins 内容, it ends no deadline."""
    phrase = find_time_phrase(f"时间：12月3日上午8:30 {word}：学习", NOW)
    assert phrase is not None and not phrase.is_deadline
    assert phrase.at == at(2025, 12, 3, 8, 30)
    assert find_time_phrase("3天内完成", NOW).is_deadline  # type: ignore[union-attr]
