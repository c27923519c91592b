"""Many members' activities at once (履职登记批量录入): ``lvzhi activities import FILE`` and the
console's bulk entry. A table with a header row — 姓名 (or 企业微信账号 / 手机号), 日期, 类型,
内容 — is checked row by row; a row that cannot be used is refused with its row number and
the reason, the others are entered as confirmed (the office entered them). Nothing here
writes: :func:`check_rows` is pure, the caller stores what it accepts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.roster.columns import clean_text
from storage.models import Member

TEXT_LIMIT = 500
HEADERS = {
    "name": ("姓名", "委员", "委员姓名"),
    "userid": ("企业微信账号", "userid", "账号"),
    "mobile": ("手机号", "手机", "手机号码"),
    "day": ("日期", "活动日期", "时间"),
    "kind": ("类型", "活动类型", "类别"),
    "text": ("内容", "活动内容", "事项", "活动名称"),
}


@dataclass(frozen=True, slots=True)
class Entry:
    row: int  # the spreadsheet's row number
    member: Member
    day: date
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class Refused:
    row: int
    reason: str


@dataclass(frozen=True, slots=True)
class Checked:
    entries: tuple[Entry, ...]
    refused: tuple[Refused, ...]


def header_of(table: Sequence[Sequence[object]]) -> tuple[int, dict[str, int]] | None:
    for index, cells in enumerate(table[:10]):
        found: dict[str, int] = {}
        for column, cell in enumerate(cells):
            text = clean_text(cell).lower()
            for key, names in HEADERS.items():
                if text in names and key not in found:
                    found[key] = column
        if {"day", "kind", "text"} <= set(found) and found.keys() & {"name", "userid", "mobile"}:
            return index, found
    return None


def parse_day(value: object, today: date) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = clean_text(value)
    full = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    short = re.fullmatch(r"(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    try:
        if full:
            return date(int(full[1]), int(full[2]), int(full[3]))
        if short:  # no year: this year's, or last year's if it would be in the future
            day = date(today.year, int(short[1]), int(short[2]))
            return day if day <= today else date(today.year - 1, day.month, day.day)
    except ValueError:
        return None
    return None


def check_rows(
    table: Sequence[Sequence[object]],
    members: Sequence[Member],
    kinds: Sequence[str],
    today: date,
) -> Checked:
    """Each data row: the member (by userid, mobile, or a name only one active member has),
    a date not in the future, one of ``kinds``, a text; repeats within the file refused."""
    found = header_of(table)
    if found is None:
        return Checked(
            (),
            (
                Refused(
                    1,
                    "找不到表头：需要「姓名」（或企业微信账号、手机号）「日期」「类型」「内容」列",
                ),
            ),
        )
    index, columns = found
    active = [m for m in members if m.active]
    entries: list[Entry] = []
    refused: list[Refused] = []
    seen: set[tuple[int, date, str, str]] = set()
    for number, cells in enumerate(table[index + 1 :], start=index + 2):
        cell = {
            key: clean_text(cells[col]) if col < len(cells) else "" for key, col in columns.items()
        }
        raw_day = cells[columns["day"]] if columns["day"] < len(cells) else None
        if not any(cell.values()):
            continue
        member, why = _member(cell, active)
        day = parse_day(raw_day, today)
        reason = (
            why
            or ("日期看不懂：" + (cell["day"] or "（空）") if day is None else "")
            or ("日期在今天之后" if day is not None and day > today else "")
            or (
                ""
                if cell["kind"] in kinds
                else f"类型「{cell['kind']}」不在 {'、'.join(kinds)} 之中"
            )
            or ("内容为空" if not cell["text"] else "")
            or (f"内容超过 {TEXT_LIMIT} 字" if len(cell["text"]) > TEXT_LIMIT else "")
        )
        if reason or member is None or day is None:
            refused.append(Refused(number, reason))
            continue
        key = (member.id, day, cell["kind"], cell["text"])
        if key in seen:
            refused.append(Refused(number, "与前面的行重复"))
            continue
        seen.add(key)
        entries.append(Entry(number, member, day, cell["kind"], cell["text"]))
    return Checked(tuple(entries), tuple(refused))


def _member(cell: dict[str, str], active: Sequence[Member]) -> tuple[Member | None, str]:
    if cell.get("userid"):
        match = [m for m in active if m.userid == cell["userid"]]
        return (match[0], "") if match else (None, f"名册中没有企业微信账号「{cell['userid']}」")
    if cell.get("mobile"):
        match = [m for m in active if m.mobile == cell["mobile"]]
        return (match[0], "") if match else (None, f"名册中没有手机号「{cell['mobile']}」")
    name = cell.get("name", "")
    match = [m for m in active if m.name == name]
    if not match:
        return None, f"名册中没有「{name}」" if name else "没有写姓名"
    if len(match) > 1:
        return None, f"名册中有 {len(match)} 位「{name}」，请填写企业微信账号或手机号"
    return match[0], ""
