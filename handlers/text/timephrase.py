"""Chinese date and time phrases (时间短语) relative to an aware ``now`` in Asia/Shanghai.

Understands days (今天 明天 后天 昨天 前天 大前天, 下周五 本周三 上周三 周日/星期天/礼拜天
下下周一, 11月18日/号, 2025-11-17, 2025/11/17, 2025年11月17日, 12.10, 18号, 下个月3号), times
(9点 上午9点 下午3点半 晚上8点 中午12点 18:00 8:30 九点十五分 20点/20时), deadlines (12月10日前
/之前, 本周内, 月底前, 本月底, 年底前, 下周五前, 截止12月10日) and offsets (3天后, 两小时后,
3天内, 3天前).  Full grammar: :mod:`handlers.text.timegrammar`.

Rules (also in docs/parsing.md):

* A phrase that names its week, month or year is taken as written: 上周三 is in the past,
  下周五 in the future.  本周/下周/上周 are ISO weeks, Monday to Sunday.
* A bare month-day (11月18日, 12.10), bare day of month (18号) or bare weekday (周五) is
  resolved by ``prefer``: ``"future"`` takes the next occurrence on or after today (notices,
  deadlines), ``"past"`` the latest occurrence on or before today (补卡 make-up check-ins).
* A time with no day (下午3点) is today; with ``prefer="future"`` a time already gone today
  is tomorrow, with ``prefer="past"`` a time still to come is yesterday.
* A deadline (前/之前/以前/截止/为止/内, 月底, 年底, 本周内) without a clock time ends the day at
  23:59:59; 24时 and 晚上12点 also mean 23:59:59 of that day.
* A part of the day without a clock time uses its usual hour: 明天下午 is 15:00.  A clock
  hour 1-5 with no part of the day is in the afternoon (三点开会 is 15:00): say 凌晨 or 早上
  for the small hours.  A bare Chinese "N点" counts only before words such as 开会/前/整
  (三点意见 and 早一点 are not times).

Why hand-written rules and not ``jionlp.parse_time`` (measured 2025-11-25 on this 2-core
machine, Python 3.11, jionlp 1.5.31 in a separate venv, on the 42 phrases of the brief; the
full table is in docs/parsing.md):

* correctness: jionlp raised on 3 (``12.10``, ``九点十五分``, ``月底前``) and, lacking a
  past/future preference, put 5 more on a day already gone (``11月18日`` this year, ``9点``,
  ``上午9点``, ``8:30`` this morning); it agrees with these rules on 34 of 42.  It returns
  ranges (``12月10日前`` is "now .. 12-10 23:59:59") and reads a naive local timestamp, so
  the server's TZ leaks in.  These rules: 42 of 42, spans included.
* size: jionlp pulls jiojio, numpy, pyyaml and requests: 121 MB of wheels, ~290 MB
  installed; jiojio is GPL-3.0 (this project is MIT).  cn2an (already pinned): 0.5 MB.
* time: ``import jionlp`` 240 ms, its first parse 88 ms more (dictionary load), then 117 us a
  phrase; it prints a banner to stdout on import.  This module: 140 ms to import, 110 ms of
  which is cn2an, then 30 us a phrase.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from handlers.text import timegrammar as grammar
from handlers.text.normalize import fold, parse_int
from handlers.text.timedays import resolve_day

__all__ = [
    "SHANGHAI",
    "Deadline",
    "Prefer",
    "TimePhrase",
    "find_time_phrase",
    "find_time_phrases",
    "parse_date",
    "parse_datetime",
    "parse_deadline",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
Prefer = Literal["past", "future"]
END_OF_DAY = time(23, 59, 59)
# 于/在 just before a phrase belongs to it ("请于12月10日前提交" -> "请提交"), unless it ends
# a word such as 关于, 由于, 对于, 存在.
_YU = re.compile(r"(?<![关由对等属基鉴至归终处过善乐易难便利适勇敢存现正实所])[于在] ?$")

# A bare "N点" is a clock time only before words like these (3点开会, 9点前, 20点整) ...
_CLOCK_AFTER = re.compile(
    r"$|[\s,.;:!?，。；：！？、)）]|钟|整|前|之前|以前|开|召|到|在|准时|左右|截止|举行|出发|集合"
    r"|报到|参加|上线|结束|见|等|后"
)
# ... and not after words like these (早一点, 多一点, 有点).
_NOT_CLOCK_BEFORE = re.compile(r"[早晚快多少慢好大小高低有这差些一点再]")


@dataclass(frozen=True, slots=True)
class TimePhrase:
    """A time phrase found in a text.

    ``span`` indexes the text as passed in (start inclusive, end exclusive); ``at`` is aware,
    in Asia/Shanghai; ``time_of_day`` is ``None`` when the phrase named no clock time.
    """

    span: tuple[int, int]
    text: str
    day: date
    time_of_day: time | None
    at: datetime
    is_deadline: bool


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline (完成时限): ``at`` is the last moment that still counts as on time."""

    at: datetime
    span: tuple[int, int]
    text: str
    has_time: bool


def find_time_phrases(
    text: str, now: datetime, *, prefer: Prefer = "future", default_time: time = time(9, 0)
) -> tuple[TimePhrase, ...]:
    """Every time phrase in ``text``, left to right.  ``now`` must be timezone-aware."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (Asia/Shanghai)")
    now = now.astimezone(SHANGHAI)
    folded = fold(text)
    found: list[TimePhrase] = []
    for match in grammar.PHRASE.finditer(folded):
        if match.start() == match.end():
            continue
        try:
            phrase = _resolve(match, now, prefer, default_time)
        except (ValueError, OverflowError):  # only past year 9999: 明年 said on 9999-12-31
            continue
        if phrase is None:
            continue
        start, end = match.span()
        while start < end and folded[start] == " ":
            start += 1
        while end > start and folded[end - 1] == " ":
            end -= 1
        yu = _YU.search(folded, max(0, start - 3), start)
        if yu is not None:
            start = yu.start()
        found.append(_with_span(phrase, text, start, end))
    return tuple(found)


def find_time_phrase(
    text: str, now: datetime, *, prefer: Prefer = "future", default_time: time = time(9, 0)
) -> TimePhrase | None:
    """The first time phrase in ``text`` with its span, so callers can cut it out."""
    phrases = find_time_phrases(text, now, prefer=prefer, default_time=default_time)
    return phrases[0] if phrases else None


def parse_date(text: str, now: datetime, prefer: Prefer = "future") -> date | None:
    """The day named by the first time phrase in ``text`` (``"上周三"``, ``"11月18号"``)."""
    phrase = find_time_phrase(text, now, prefer=prefer)
    return None if phrase is None else phrase.day


def parse_datetime(
    text: str, now: datetime, *, default_time: time = time(9, 0), prefer: Prefer = "future"
) -> datetime | None:
    """The moment named by the first time phrase (``"明天上午9点"``), aware, Asia/Shanghai.

    A day without a clock time gets ``default_time`` (a deadline gets 23:59:59).
    """
    phrase = find_time_phrase(text, now, prefer=prefer, default_time=default_time)
    return None if phrase is None else phrase.at


def parse_deadline(text: str, now: datetime) -> Deadline | None:
    """The deadline in ``text``: the first phrase marked as one (12月10日前, 本周内, 月底前),
    else the first time phrase at all (完成时限：12月10日).  Dates resolve to the future."""
    phrases = find_time_phrases(text, now, prefer="future")
    if not phrases:
        return None
    chosen = next((p for p in phrases if p.is_deadline), phrases[0])
    if chosen.time_of_day is None:
        at = datetime.combine(chosen.day, END_OF_DAY, SHANGHAI)
        return Deadline(at, chosen.span, chosen.text, has_time=False)
    return Deadline(chosen.at, chosen.span, chosen.text, has_time=True)


def _with_span(phrase: TimePhrase, text: str, start: int, end: int) -> TimePhrase:
    return dataclasses.replace(phrase, span=(start, end), text=text[start:end])


def _resolve(
    match: re.Match[str], now: datetime, prefer: Prefer, default_time: time
) -> TimePhrase | None:
    """Turn one grammar match into a phrase, or ``None`` if it names no valid moment."""
    g = match.groupdict()
    if g["day"] is None and g["time"] is None:
        return None
    today = now.date()
    day: date | None = None
    exact: datetime | None = None
    period: str | None = g["per"]
    period = grammar.SHORT_PERIODS.get(period, period) if period else None  # 周五晚7点: 晚上
    deadline = bool(g["pre"] or g["suf"] or g["me"] or g["ye"] or g["wi"])
    if g["day"] is not None:
        resolved = resolve_day(g, now, prefer)
        if resolved is None:
            return None
        day, exact = resolved.day, resolved.exact
        period = period or resolved.period
        deadline = deadline or resolved.within
    clock = _clock(g, period)
    if g["time"] is not None and (clock is None or _is_not_clock(match, period)):
        return None
    if exact is not None:  # 两小时后: a moment, not a day
        return TimePhrase(
            match.span(), match.group(0), exact.date(), exact.time(), exact, deadline
        )
    if day is None:  # a time alone: today, or the next/previous day by preference
        day = today
        candidate = datetime.combine(day, clock or END_OF_DAY, SHANGHAI)
        if prefer == "future" and candidate < now:
            day = today + timedelta(days=1)
        elif prefer == "past" and candidate > now:
            day = today - timedelta(days=1)
    if clock is None and period is not None:
        clock = time(grammar.PERIOD_DEFAULT_HOUR[period])
    at = datetime.combine(day, clock or (END_OF_DAY if deadline else default_time), SHANGHAI)
    return TimePhrase(match.span(), match.group(0), at.date(), clock, at, deadline)


def _is_not_clock(match: re.Match[str], period: str | None) -> bool:
    """True for 早一点, 三点意见, 两点体会: a bare "N点" that is not a clock time."""
    g = match.groupdict()
    if g["day"] or period or g["hh"] or g["half"] or g["qt"] or g["cm"]:
        return False
    start, end = match.start("time"), match.end()
    if _NOT_CLOCK_BEFORE.match(match.string, max(0, start - 1), start):
        return True
    return _CLOCK_AFTER.match(match.string, end) is None


def _clock(g: dict[str, str | None], period: str | None) -> time | None:
    """The clock time of the phrase, with 下午/晚上 applied; 24:00 becomes 23:59:59."""
    if g["time"] is None:
        return None
    if g["hh"] is not None:
        hour, minute = int(g["hh"]), int(g["mi"] or 0)
    else:
        parsed_hour = parse_int(g["ch"] or "")
        if parsed_hour is None:
            return None
        hour, minute = parsed_hour, 0
        if g["half"]:
            minute = 30
        elif g["qt"]:
            minute = 15 if g["qt"] == "一刻" else 45
        elif g["cm"]:
            parsed_minute = parse_int(g["cm"])
            if parsed_minute is None:
                return None
            minute = parsed_minute
    if period is None and 1 <= hour <= 5:
        hour += 12  # 三点开会 is 15:00; the small hours need 凌晨 or 早上
    if period in ("下午", "傍晚", "晚上", "晚间", "夜里", "夜间") and hour < 12:
        hour += 12
    elif period in ("晚上", "晚间", "夜里", "夜间") and hour == 12:
        hour = 24
    elif period == "中午" and hour <= 3:
        hour += 12
    elif period == "凌晨" and hour == 12:
        hour = 0
    if hour == 24 and minute == 0:
        return END_OF_DAY
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)
