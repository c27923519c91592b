"""委员履职档案 (the ``members`` export): one row per member with the year's record, score and
grade, 合计 and 平均; then the same by sector and by committee, each item's points, and the
rules themselves (so that a printed table says how it was scored)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook

from bot.config import Config
from bot.planner import load_calendar
from handlers.duty import DutyRecord, year_records
from handlers.duty.facts import FACTS, YearWindow, fact_label
from handlers.duty.rules import ScoringRules, load_rules
from handlers.exports.sheets import DATE, DECIMAL, Column, add_table, new_workbook, to_bytes
from storage import Database
from storage.models import Member
from storage.models_proposals import Activity, ActivityAttachment

MEMBER_COLUMNS = (
    Column("序号", 6),
    Column("姓名"),
    Column("界别"),
    Column("专委会"),
    Column("学习小组"),
)


async def build_members(db: Database, config: Config, year: int, now: datetime) -> bytes:
    rules = load_rules(config.duty.rules_file)
    window = YearWindow.of(year, now, config.time.zone)
    calendar = await load_calendar(db, seed=False)
    async with db.read() as tx:
        members = await tx.duty.roster()
        records = await year_records(tx, window, calendar, rules, members)
        activities = await tx.activities.year_rows(window.first_day, window.last_day)
        kept = await tx.media.of_owners("activity", (a.id for a, _ in activities))
    book = new_workbook()
    _members_sheet(book, records, window)
    for title, key in (("按界别", "sector"), ("按专委会", "committee")):
        _breakdown_sheet(book, title, key, records, rules)
    _points_sheet(book, records, rules)
    _rules_sheet(book, rules)
    _activities_sheet(book, activities, kept, config)
    return to_bytes(book)


def _activities_sheet(
    book: Workbook,
    activities: Sequence[tuple[Activity, Member]],
    kept: Mapping[int, Sequence[ActivityAttachment]],
    config: Config,
) -> None:
    """履职活动: every registered activity of the year (confirmed ones count in the record)."""
    states = {"pending": "待确认", "confirmed": "已确认", "returned": "已退回"}
    sources = {
        "chat": "本人登记",
        "console": "后台录入",
        "import": "批量导入",
        "meeting": "会议出席",
    }
    columns = [
        Column("姓名"),
        Column("界别"),
        Column("日期", format=DATE),
        Column("类型"),
        Column("内容"),
        Column("状态"),
        Column("来源"),
        Column("附件"),
        Column("意见"),
    ]
    rows = [
        [
            m.name,
            m.sector,
            a.day,
            a.kind,
            a.text,
            states.get(a.state, a.state),
            sources.get(a.source, a.source),
            len(kept.get(a.id, ())),
            a.comment,
        ]
        for a, m in activities
    ]
    add_table(book, "履职活动", columns, rows, freeze_columns=1)


def _members_sheet(book: Workbook, records: Sequence[DutyRecord], window: YearWindow) -> None:
    columns = [
        *MEMBER_COLUMNS,
        *(Column(label) for label in FACTS.values()),
        Column("平均确认用时（小时）", format=DECIMAL),
        Column("得分", format=DECIMAL),
        Column("等次"),
        Column("未达要求"),
    ]
    rows = [
        [
            n,
            r.member.name,
            r.member.sector,
            r.member.committee,
            r.member.study_group,
            *(getattr(r.facts, key) for key in FACTS),
            r.facts.notice_ack_hours,
            r.score.total,
            r.score.grade,
            "；".join(r.score.unmet),
        ]
        for n, r in enumerate(records, start=1)
    ]
    title = f"{window.year}年委员履职档案"
    add_table(book, title, columns, rows, freeze_columns=2, totals=_member_totals(records))


def _member_totals(records: Sequence[DutyRecord]) -> list[list[Any]]:
    """合计 (counts added up; the rate over everyone's required periods) and 平均."""
    n = len(records) or 1
    sums = {key: sum(getattr(r.facts, key) for r in records) for key in FACTS}
    due = sum(r.facts.checkins_due for r in records)
    on_due = sum(r.facts.checkins_on_due for r in records)
    sums["checkin_rate"] = round(100 * on_due / due) if due else 0
    hours = [r.facts.notice_ack_hours for r in records if r.facts.notice_ack_hours is not None]
    total = ["合计", f"{len(records)}人", "", "", "", *sums.values(), None, None, "", ""]
    average = [
        "平均",
        "",
        "",
        "",
        "",
        *(round(sums[key] / n, 1) if key != "checkin_rate" else sums[key] for key in FACTS),
        round(sum(hours) / len(hours), 1) if hours else None,
        round(sum(r.score.total for r in records) / n, 1),
        "",
        "",
    ]
    return [total, average]


def _breakdown_sheet(
    book: Workbook, title: str, key: str, records: Sequence[DutyRecord], rules: ScoringRules
) -> None:
    """按界别 / 按专委会: head count, average score, grades, and the main counts."""
    by: dict[str, list[DutyRecord]] = defaultdict(list)
    for record in records:
        by[getattr(record.member, key) or "未填"].append(record)
    grades = [g.name for g in rules.grades]
    extra = [rules.unmet_grade] if rules.unmet_grade and rules.unmet_grade not in grades else []
    main = ("checkins", "reports_submitted", "reports_adopted", "meetings_attended")
    columns = [
        Column(title.removeprefix("按")),
        Column("人数"),
        Column("平均得分", format=DECIMAL),
        *(Column(g) for g in (*grades, *extra)),
        Column("未达要求人数"),
        *(Column(FACTS[k]) for k in main),
    ]

    def row(name: str, group: Sequence[DutyRecord]) -> list[Any]:
        return [
            name,
            len(group),
            round(sum(r.score.total for r in group) / len(group), 1) if group else 0,
            *(sum(r.score.grade == g for r in group) for g in (*grades, *extra)),
            sum(bool(r.score.unmet) for r in group),
            *(sum(getattr(r.facts, k) for r in group) for k in main),
        ]

    rows = [row(name, by[name]) for name in sorted(by)]
    add_table(book, title, columns, rows, freeze_columns=1, totals=[row("合计", records)])


def _points_sheet(book: Workbook, records: Sequence[DutyRecord], rules: ScoringRules) -> None:
    columns = [
        Column("姓名"),
        Column("界别"),
        *(Column(item.label) for item in rules.items),
        Column("得分", format=DECIMAL),
        Column("等次"),
    ]
    rows = [
        [
            r.member.name,
            r.member.sector,
            *(p for _, p in r.score.points),
            r.score.total,
            r.score.grade,
        ]
        for r in records
    ]
    add_table(book, "各项得分", columns, rows, freeze_columns=1)


def _rules_sheet(book: Workbook, rules: ScoringRules) -> None:
    columns = [
        Column("类别"),
        Column("名称"),
        Column("履职事实"),
        Column("分值/要求"),
        Column("上限"),
    ]
    rows: list[list[Any]] = [["规则", rules.name, rules.source, "", rules.max_total]]
    for item in rules.items:
        facts = "＋".join(fact_label(f) for f in item.facts)
        if item.at_least is not None:
            rows.append(
                [
                    "计分项",
                    item.label,
                    facts,
                    f"达到 {item.at_least:g} 得 {item.points:g} 分",
                    None,
                ]
            )
        else:
            rows.append(["计分项", item.label, facts, f"每次 {item.points:g} 分", item.cap])
    for req in rules.requirements:
        facts = "＋".join(fact_label(f) for f in req.facts)
        rows.append(["基本要求", req.label, facts, f"不少于 {req.at_least:g}", None])
    for grade in rules.grades:
        rows.append(["等次", grade.name, "得分", f"不低于 {grade.at_least:g}", None])
    if rules.unmet_grade:
        rows.append(["等次", rules.unmet_grade, "基本要求", "有未达到的基本要求", None])
    add_table(book, "评分规则", columns, rows)
