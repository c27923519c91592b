"""A year's holiday arrangement as an office types it in from the State Council's notice
(国务院办公厅关于XXXX年部分节假日安排的通知), read and checked before anything is stored.

TOML (the documented form; ``days`` and ``workdays`` take a date or a ``from/to`` range)::

    year = 2027
    source = "国办发明电〔2026〕7号"

    [[holidays]]
    name = "春节"
    days = ["2027-02-05/2027-02-11"]
    workdays = ["2027-02-14", "2027-02-20"]   # 调休上班

CSV (UTF-8, with a header): ``日期,类型,名称`` — 类型 is 放假/休 or 上班/班 (or holiday/workday).

Checks: every date in the one year; a 调休 workday is a Saturday or Sunday; no day both off and
on; and every statutory day that falls on Monday–Friday is a day off (a notice never works on
one; a missing one is a typo). Pure: no database, no clock.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.workcalendar import SpecialDay, statutory_days

WEEKDAYS = "一二三四五六日"
_KINDS = {"放假": "holiday", "休": "holiday", "holiday": "holiday"}
_KINDS |= {"上班": "workday", "班": "workday", "调休上班": "workday", "workday": "workday"}
LAW_IN_FORCE_FROM = 2025  # the 2024 revision of 全国年节及纪念日放假办法


class ArrangementError(ValueError):
    """The file cannot be used; the message (Chinese) says where and why."""


@dataclass(frozen=True, slots=True)
class Arrangement:
    year: int
    source: str
    days: tuple[SpecialDay, ...]

    @property
    def holidays(self) -> list[SpecialDay]:
        return [d for d in self.days if d.kind == "holiday"]

    @property
    def workdays(self) -> list[SpecialDay]:
        return [d for d in self.days if d.kind == "workday"]


def read_arrangement(
    name: str, data: bytes, *, source: str = "", force: bool = False
) -> Arrangement:
    """The arrangement in a ``.toml`` or ``.csv`` file; :class:`ArrangementError` if unusable."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ArrangementError("文件不是 UTF-8 编码，请另存为 UTF-8 后再导入。") from None
    if name.lower().endswith(".toml"):
        year, noted, days = _from_toml(text)
    elif name.lower().endswith(".csv"):
        year, noted, days = None, "", _from_csv(text)
    else:
        raise ArrangementError("只能导入 .toml 或 .csv 文件（格式见 docs/calendar.md）。")
    return checked(year, source or noted, days, force=force)


def checked(
    year: int | None, source: str, days: list[SpecialDay], *, force: bool = False
) -> Arrangement:
    if not days:
        raise ArrangementError("文件里没有任何放假或调休日期。")
    years = {d.day.year for d in days}
    if year is None and len(years) == 1:
        year = years.pop()
    if year is None or any(d.day.year != year for d in days):
        found = "、".join(str(y) for y in sorted({d.day.year for d in days}))
        raise ArrangementError(f"一个文件只能是同一年的安排（文件里有 {found} 年的日期）。")
    seen: dict[date, SpecialDay] = {}
    for d in days:
        if d.kind == "workday" and d.day.weekday() < 5:
            raise ArrangementError(f"{describe(d.day)}本来就是工作日，调休上班日应是周六或周日。")
        earlier = seen.get(d.day)
        if earlier is not None and earlier.kind != d.kind:
            raise ArrangementError(f"{describe(d.day)}既写成放假又写成上班。")
        seen.setdefault(d.day, d)
    if not any(d.kind == "holiday" for d in seen.values()):
        raise ArrangementError("文件里只有调休上班日，没有放假日。")
    missing = [] if force else missing_statutory(year, seen.values())
    if missing:
        listed = "、".join(f"{describe(d.day)}（{d.name}）" for d in missing)
        raise ArrangementError(
            f"{year}年的法定假日 {listed} 在文件里不是放假日。请对照通知补上；"
            f"若当年放假办法已修订，可加 --force 照文件导入。"
        )
    return Arrangement(year, source.strip(), tuple(sorted(seen.values(), key=lambda d: d.day)))


def missing_statutory(year: int, days: Iterable[SpecialDay]) -> list[SpecialDay]:
    """Statutory days on Monday–Friday that ``days`` does not give off (the law's check)."""
    if year < LAW_IN_FORCE_FROM:
        return []
    off = {d.day for d in days if d.kind == "holiday"}
    return [d for d in statutory_days(year).values() if d.day.weekday() < 5 and d.day not in off]


def describe(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）"


def _from_toml(text: str) -> tuple[int, str, list[SpecialDay]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ArrangementError(f"TOML 格式有误：{exc}") from None
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool):
        raise ArrangementError("缺少 year（四位数年份，如 year = 2027）。")
    entries = data.get("holidays")
    if not isinstance(entries, list) or not entries:
        raise ArrangementError("缺少 [[holidays]]（每个节日一段：name、days、workdays）。")
    days: list[SpecialDay] = []
    for n, entry in enumerate(entries, 1):
        where = f"第{n}个 [[holidays]]"
        if not isinstance(entry, dict) or not str(entry.get("name", "")).strip():
            raise ArrangementError(f'{where}缺少 name（节日名称，如 "春节"）。')
        name = str(entry["name"]).strip()
        for key, kind in (("days", "holiday"), ("workdays", "workday")):
            for day in _dates(entry.get(key, []), f"{where}（{name}）的 {key}"):
                days.append(SpecialDay(day, kind, name))
    return year, str(data.get("source", "")), days


def _dates(value: Any, where: str) -> list[date]:
    if isinstance(value, str | date):
        value = [value]
    if not isinstance(value, list):
        raise ArrangementError(f'{where} 应是日期列表，如 ["2027-02-05/2027-02-11"]。')
    found: list[date] = []
    for item in value:
        first, _, last = str(item).partition("/")
        start, end = _date(first, where), _date(last or first, where)
        if end < start or (end - start).days > 31:
            raise ArrangementError(f"{where} 的区间 {item} 不对（应是 开始/结束，最长一个月）。")
        found.extend(start + timedelta(days=n) for n in range((end - start).days + 1))
    return found


def _date(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ArrangementError(f"{where} 里的 {text.strip()!r} 不是 YYYY-MM-DD 日期。") from None


def _from_csv(text: str) -> list[SpecialDay]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [c.strip() for c in rows[0][:2]] != ["日期", "类型"]:
        raise ArrangementError("CSV 第1行应是表头：日期,类型,名称")
    days: list[SpecialDay] = []
    for number, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"第{number}行"
        cells = [*row, "", ""]
        kind = _KINDS.get(cells[1].strip())
        if kind is None:
            raise ArrangementError(f"{where}的类型 {cells[1].strip()!r} 应是 放假 或 上班。")
        days.append(SpecialDay(_date(cells[0], where), kind, cells[2].strip()))
    return days
