"""学习打卡统计 (the ``checkins`` export): per study group and period, how many should have and
did check in; then one sheet per group, a member per row and a period per column (✓, 补 for a
make-up). Group sizes are today's rosters (membership history is not kept)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook

from bot.config import Config
from bot.planner import load_calendar
from handlers.duty.facts import YearWindow, campaign_year
from handlers.exports.sheets import DATE, PERCENT, Column, add_table, new_workbook, to_bytes
from handlers.text.periods import Period
from storage import Database
from storage.repos.duty import CheckInRow, RosterRow

CHECKIN_COLUMNS = (
    Column("小组"),
    Column("打卡周期"),
    Column("开始日期", format=DATE),
    Column("结束日期", format=DATE),
    Column("应打卡人数"),
    Column("已打卡人数"),
    Column("打卡率", format=PERCENT),
    Column("其中补卡"),
    Column("学习时长（分钟）"),
)


@dataclass(frozen=True, slots=True)
class _GroupYear:
    """One campaign's group in the year: the periods shown and who belongs to it."""

    name: str
    campaign_id: int
    periods: tuple[Period, ...]
    members: tuple[RosterRow, ...]


async def build_checkins(db: Database, config: Config, year: int, now: datetime) -> bytes:
    window = YearWindow.of(year, now, config.time.zone)
    calendar = await load_calendar(db, seed=False)
    async with db.read() as tx:
        campaigns = [c for c in await tx.campaigns.all() if c.starts_on <= window.last_day]
        names = {g.id: g.name for g in await tx.groups.all()}
        people = {m.id: m for m in await tx.duty.roster(members_only=False)}
        memberships = await tx.duty.campaign_members()
        hits = _hits(await tx.duty.checkins(window.first_day, window.last_day))
    members_of: dict[int, list[RosterRow]] = defaultdict(list)
    for campaign_id, member_id in memberships:
        if member_id in people:
            members_of[campaign_id].append(people[member_id])
    groups = []
    for campaign in campaigns:
        periods = tuple(
            period
            for period, required, closed in campaign_year(campaign, window, calendar).periods
            if (required and closed) or (campaign.id, period.start) in hits.by_period
        )
        name = names.get(campaign.group_id, f"小组{campaign.group_id}")
        groups.append(_GroupYear(name, campaign.id, periods, tuple(members_of[campaign.id])))
    book = new_workbook()
    _checkin_summary(book, groups, hits)
    for group in groups:
        _group_sheet(book, group, hits)
    return to_bytes(book)


def _checkin_summary(book: Workbook, groups: Sequence[_GroupYear], hits: _Hits) -> None:
    """按小组和周期: each group's periods, with a 合计 row."""
    rows = [_period_row(g, period, hits) for g in groups for period in g.periods]
    due, done = sum(r[4] for r in rows), sum(r[5] for r in rows)
    total = [
        "合计",
        f"{len(groups)}个小组",
        None,
        None,
        due,
        done,
        done / due if due else 0,
        sum(r[7] for r in rows),
        sum(r[8] for r in rows),
    ]
    add_table(book, "按小组和周期", CHECKIN_COLUMNS, rows, freeze_columns=2, totals=[total])


@dataclass
class _Hits:
    """Check-ins by (campaign, period start): member id → (make-up?, minutes)."""

    by_period: dict[tuple[int, date], dict[int, tuple[bool, int]]] = field(
        default_factory=lambda: defaultdict(dict)
    )


def _hits(rows: Iterable[CheckInRow]) -> _Hits:
    hits = _Hits()
    for row in rows:
        if row.campaign_id is not None:
            hits.by_period[(row.campaign_id, row.period_start)][row.member_id] = (
                row.makeup,
                row.minutes,
            )
    return hits


def _period_row(group: _GroupYear, period: Period, hits: _Hits) -> list[Any]:
    found = hits.by_period.get((group.campaign_id, period.start), {})
    mine = [found[m.id] for m in group.members if m.id in found]
    size = len(group.members)
    return [
        group.name,
        period.label,
        period.start,
        period.end,
        size,
        len(mine),
        len(mine) / size if size else 0,
        sum(makeup for makeup, _ in mine),
        sum(minutes for _, minutes in mine),
    ]


def _group_sheet(book: Workbook, group: _GroupYear, hits: _Hits) -> None:
    """One group: a member per row, a period per column (✓ checked in, 补 made up)."""
    marks = [hits.by_period.get((group.campaign_id, p.start), {}) for p in group.periods]
    columns = [
        Column("姓名"),
        Column("界别"),
        *(Column(_short(p), 6) for p in group.periods),
        Column("已打卡"),
        Column("应打卡"),
        Column("打卡率", format=PERCENT),
    ]
    due = len(group.periods)
    rows = []
    for m in group.members:
        cells = [("补" if found[m.id][0] else "✓") if m.id in found else None for found in marks]
        done = sum(bool(c) for c in cells)
        rows.append([m.name, m.sector, *cells, done, due, done / due if due else 0])
    counts = [sum(m.id in found for m in group.members) for found in marks]
    due_all = due * len(group.members)
    rate = sum(counts) / due_all if due_all else 0
    total = ["合计", "", *counts, sum(counts), due_all, rate]
    add_table(book, group.name, columns, rows, freeze_columns=2, totals=[total])


def _short(period: Period) -> str:
    if period.cadence == "monthly":
        return f"{period.start.month}月"
    return f"{period.start.month}/{period.start.day}"
