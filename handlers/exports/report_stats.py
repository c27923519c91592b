"""The 社情民意 statistics workbook: 汇总, 按类别, 按界别, 按委员 and 明细 sheets of
:mod:`handlers.reports.stats`, in the offices' common look (:mod:`handlers.exports.sheets`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from openpyxl import Workbook

from handlers.exports.sheets import Column, add_table, new_workbook
from handlers.reports.parse import ENDORSE_LEVELS, FORWARD_LEVELS
from handlers.reports.stats import COLUMNS, KEYS, YearStats, outcome
from handlers.reports.workflow import STATE_NAMES
from storage.repos.reports import ReportFacts


def add_stats_sheets(book: Workbook, stats: YearStats) -> None:
    """汇总, 按类别, 按界别 and 按委员 sheets, every count a number cell (also used by the
    yearly reports export, :mod:`handlers.exports.reports`)."""
    counts = [Column(label) for _, label in COLUMNS]
    add_table(book, "汇总", [Column("年度"), *counts], [[stats.year, *_row(stats.total)]])
    for title, first, table in (
        ("按类别", "类别", stats.by_category),
        ("按界别", "界别", stats.by_sector),
    ):
        add_table(
            book,
            title,
            [Column(first), *counts],
            ([name, *_row(row)] for name, row in table.items()),
            freeze_columns=1,
            totals=[["合计", *_row(stats.total)]],
        )
    add_table(
        book,
        "按委员",
        [Column("委员"), *counts, Column("联名")],
        ([name, *_row(row), row["co_signed"]] for name, row in stats.by_member.items()),
        freeze_columns=1,
    )


def _row(counts: dict[str, int]) -> list[int]:
    return [counts[k] for k in KEYS]


DETAIL_HEADERS = (
    "编号",
    "标题",
    "类别",
    "界别",
    "提交人",
    "联名",
    "状态",
    "报送",
    "批示",
    "办理反馈",
)
DETAIL_COLUMNS = tuple(Column(header) for header in DETAIL_HEADERS)


def detail_row(facts: ReportFacts) -> list[str]:
    keys = outcome(facts)
    return [
        facts.number,
        facts.title,
        facts.category,
        facts.sector,
        facts.submitter,
        "、".join(facts.co_submitters),
        STATE_NAMES.get(facts.state, facts.state),
        "、".join(lv for lv in FORWARD_LEVELS if f"forwarded:{lv}" in keys),
        "、".join(lv for lv in ENDORSE_LEVELS if f"endorsed:{lv}" in keys),
        "是" if "answered" in keys else "",
    ]


def write_xlsx(stats: YearStats, reports: Iterable[ReportFacts], path: Path) -> None:
    """汇总, 按类别, 按界别, 按委员 and 明细 sheets, in the offices' common look
    (:mod:`handlers.exports.sheets`)."""
    book = new_workbook()
    add_stats_sheets(book, stats)
    add_table(book, "明细", DETAIL_COLUMNS, (detail_row(f) for f in reports), freeze_columns=1)
    book.save(path)
