"""社情民意办理情况 (the ``reports`` export): every report of the year with its state and dates,
every step of its history (办理记录), and the yearly statistics of
:mod:`handlers.reports.stats`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from bot.config import Config
from handlers.exports.report_stats import add_stats_sheets
from handlers.exports.sheets import DATETIME, Column, add_table, local, new_workbook, to_bytes
from handlers.reports.stats import compute_stats
from handlers.reports.workflow import ACTION_NAMES, STATE_NAMES
from storage import Database
from storage.repos.reports import ReportFacts, ReportRow


async def build_reports(db: Database, config: Config, year: int, now: datetime) -> bytes:
    zone = config.time.zone
    async with db.read() as tx:
        reports = await tx.reports.year_reports(year)
        history = await tx.reports.year_history(year)
        versions = await tx.reports.year_versions(year)
    by_id = {r.id: r for r in reports}
    steps: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for h in history:
        steps[h.report_id].append((h.action, h.level))
    facts = [_facts_of(r, steps[r.id]) for r in reports]
    book = new_workbook()
    columns = [
        Column("编号"),
        Column("标题", 40),
        Column("类别"),
        Column("提交人"),
        Column("联名"),
        Column("界别"),
        Column("提交时间", format=DATETIME),
        Column("当前状态"),
        Column("状态时间", format=DATETIME),
        Column("采用"),
        Column("报送"),
        Column("批示"),
        Column("办理反馈"),
        Column("办理步数"),
    ]
    rows = []
    for r in reports:
        actions = [action for action, _ in steps[r.id]]
        forwarded = [lv for a, lv in steps[r.id] if a == "forward" and lv]
        endorsed = [lv for a, lv in steps[r.id] if a == "endorse" and lv]
        rows.append(
            [
                r.number,
                r.title,
                r.category,
                r.submitter,
                "、".join(r.co_submitters),
                r.sector,
                local(r.submitted_at, zone),
                STATE_NAMES.get(r.state, r.state),
                local(r.state_since, zone),
                "是" if "adopt" in actions else "",
                "、".join(dict.fromkeys(forwarded)),
                "、".join(dict.fromkeys(endorsed)),
                "是" if "answer" in actions else "",
                len(actions),
            ]
        )
    add_table(book, "社情民意", columns, rows, freeze_columns=2)
    history_columns = [
        Column("编号"),
        Column("标题", 30),
        Column("时间", format=DATETIME),
        Column("操作"),
        Column("原状态"),
        Column("新状态"),
        Column("操作人"),
        Column("级别"),
        Column("对象"),
        Column("意见", 50),
    ]
    history_rows = [
        [
            by_id[h.report_id].number,
            by_id[h.report_id].title,
            local(h.at, zone),
            ACTION_NAMES.get(h.action, h.action),
            STATE_NAMES.get(h.from_state, h.from_state),
            STATE_NAMES.get(h.to_state, h.to_state),
            "命令行" if h.actor == "cli" else h.actor,
            h.level,
            h.target,
            h.comment,
        ]
        for h in history
        if h.report_id in by_id
    ]
    add_table(book, "办理记录", history_columns, history_rows, freeze_columns=1)
    version_columns = [
        Column("编号"),
        Column("版本"),
        Column("提交时间", format=DATETIME),
        Column("标题", 30),
        Column("类别"),
        Column("内容", 80),
    ]
    version_rows = [  # every submission's text: a resubmission never erases the one before
        [number, v.version, local(v.submitted_at, zone), v.title, v.category, v.content]
        for number, v in versions
    ]
    add_table(book, "各版本内容", version_columns, version_rows, freeze_columns=1)
    add_stats_sheets(book, compute_stats(year, facts))
    return to_bytes(book)


def _facts_of(report: ReportRow, steps: Sequence[tuple[str, str]]) -> ReportFacts:
    """What :func:`handlers.reports.stats.compute_stats` counts, from the rows read here."""
    return ReportFacts(
        number=report.number,
        title=report.title,
        category=report.category,
        sector=report.sector,
        submitter=report.submitter,
        co_submitters=report.co_submitters,
        state=report.state,
        steps=tuple(steps),
    )
