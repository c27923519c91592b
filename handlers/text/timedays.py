"""Resolving the day part of a time phrase (日期推算) for :mod:`handlers.text.timephrase`.

Takes the named groups of :data:`handlers.text.timegrammar.PHRASE` and works out the calendar:
ISO weeks (本周/下周/上周, Monday first), month ends (月底), the nearest month-day or weekday in
the preferred direction, offsets (3天后, 两小时后, 三个月内).  The rules are listed in
:mod:`handlers.text.timephrase`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from handlers.text import timegrammar as grammar
from handlers.text.normalize import parse_int, parse_number

__all__ = ["DayPart", "resolve_day"]

Prefer = Literal["past", "future"]


@dataclass(frozen=True, slots=True)
class DayPart:
    """The day a phrase names; ``exact`` for offsets in hours (两小时后), ``period`` for the
    part of the day a word implies (今晚 -> 晚上), ``within`` for 内 deadlines (本周内, 3天内)."""

    day: date
    exact: datetime | None = None
    period: str | None = None
    within: bool = False


def resolve_day(g: dict[str, str | None], now: datetime, prefer: Prefer) -> DayPart | None:
    """Resolve the DAY groups of one match of :data:`handlers.text.timegrammar.PHRASE`."""
    today = now.date()
    if g["rd"] is not None:
        offset, implied = grammar.RELATIVE_DAYS[g["rd"]]
        return DayPart(today + timedelta(days=offset), period=implied)
    if g["wd"] is not None:
        weekday = grammar.WEEKDAYS[g["wd"]]
        if g["wk6"] is None:
            return DayPart(_nearest_weekday(today, weekday, prefer))
        return DayPart(_monday(today, g["wk6"]) + timedelta(days=weekday))
    if g["wi"] is not None:
        return DayPart(_monday(today, g["wk5"]) + timedelta(days=6), within=True)
    if g["rn"] is not None:
        return _offset(g, now)
    day: date | None
    if g["me"] is not None:
        day = _month_end(g, today, prefer)
    elif g["ye"] is not None:
        day = date(today.year + {"明": 1, "去": -1}.get(g["ry4"] or "", 0), 12, 31)
    elif g["y1"] is not None:
        day = _date(int(g["y1"]), int(g["m1"] or 0), int(g["d1"] or 0))
    elif g["m2"] is not None:
        day = _month_day(g["y2"] or g["ry2"], g["m2"], g["d2"], today, prefer)
    elif g["m8"] is not None:
        day = _month_day(None, g["m8"], g["d8"], today, prefer)
    elif g["d7"] is not None:
        month = _shift_month(today.replace(day=1), _MONTH_SHIFT[_bare(g["rm7"])])
        day = _date(month.year, month.month, parse_int(g["d7"] or "") or 0)
    else:
        day = _nearest_day_of_month(today, parse_int(g["d9"] or "") or 0, prefer)
    return None if day is None else DayPart(day)


_MONTH_SHIFT = {"本": 0, "这": 0, "当": 0, "": 0, "下": 1, "上": -1}
_WEEK_SHIFT = {"上上": -2, "上": -1, "": 0, "本": 0, "这": 0, "下": 1, "下下": 2}
_UNIT_SECONDS = {"小时": 3600, "钟头": 3600, "分钟": 60, "天": 86400, "日": 86400, "周": 604800,
                 "星期": 604800, "礼拜": 604800}  # fmt: skip


def _bare(prefix: str | None) -> str:
    """下个 -> 下, 这个 -> 这, None -> ""."""
    return (prefix or "").removesuffix("个")


def _monday(today: date, prefix: str | None) -> date:
    """Monday of the ISO week named by 上上/上/本/这/下/下下 (个 is optional)."""
    shift = _WEEK_SHIFT[_bare(prefix)]
    return today - timedelta(days=today.weekday()) + timedelta(weeks=shift)


def _nearest_weekday(today: date, weekday: int, prefer: Prefer) -> date:
    ahead = (weekday - today.weekday()) % 7
    if prefer == "future":
        return today + timedelta(days=ahead)
    return today - timedelta(days=(7 - ahead) % 7)


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _shift_month(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_day(
    year_text: str | None,
    month_text: str | None,
    day_text: str | None,
    today: date,
    prefer: Prefer,
) -> date | None:
    month, day = parse_int(month_text or ""), parse_int(day_text or "")
    if month is None or day is None:
        return None
    if year_text:
        relative = {"今年": 0, "明年": 1, "去年": -1}
        year = today.year + relative[year_text] if year_text in relative else parse_int(year_text)
        return None if year is None else _date(year, month, day)
    step = 1 if prefer == "future" else -1
    for years in range(9):  # 2月29日 may be up to 8 years away
        candidate = _date(today.year + step * years, month, day)
        if candidate is not None and (candidate - today).days * step >= 0:
            return candidate
    return None


def _nearest_day_of_month(today: date, day: int, prefer: Prefer) -> date | None:
    step = 1 if prefer == "future" else -1
    first = today.replace(day=1)
    for months in range(13):
        month = _shift_month(first, step * months)
        candidate = _date(month.year, month.month, day)
        if candidate is not None and (candidate - today).days * step >= 0:
            return candidate
    return None


def _month_end(g: dict[str, str | None], today: date, prefer: Prefer) -> date | None:
    first = today.replace(day=1)
    if g["m3"] is not None:
        month = parse_int(g["m3"])
        if month is None or not 1 <= month <= 12:
            return None
        year = int(g["y3"]) if g["y3"] else today.year + (1 if g["ry3"] == "明年" else 0)
        if not (g["y3"] or g["ry3"]):
            if prefer == "future" and month < today.month:
                year += 1
            elif prefer == "past" and month > today.month:
                year -= 1
        first = date(year, month, 1)
    else:
        first = _shift_month(first, _MONTH_SHIFT[_bare(g["rm3"])])
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _offset(g: dict[str, str | None], now: datetime) -> DayPart | None:
    amount = parse_number(g["rn"] or "")
    unit = (g["ru"] or g["ru2"] or "").removeprefix("个")
    direction = g["rdir"] or g["rdir2"] or ""
    if amount is None or amount > 999:
        return None
    sign = -1 if direction.endswith("前") else 1
    within = direction.endswith("内")
    if unit == "月":
        whole = int(amount)
        first = _shift_month(now.date().replace(day=1), sign * whole)
        last = calendar.monthrange(first.year, first.month)[1]
        return DayPart(first.replace(day=min(now.day, last)), within=within)
    seconds = amount * _UNIT_SECONDS[unit]
    moment = now + sign * timedelta(seconds=seconds)
    if seconds % 86400 == 0:  # whole days: a day, not a moment (3天后 -> that day)
        return DayPart(moment.date(), within=within)
    return DayPart(moment.date(), exact=moment, within=within)
