"""社情民意 yearly statistics, as the offices report them, and their xlsx export.

统计口径 (what is counted): the reports *submitted in the year* (their number's year), with
everything that has happened to them since, read from the history (not the current state, so
a report adopted and then forwarded still counts as adopted):

* 提交 submitted; 采用 adopted (ever ``adopt``);
* 报送 forwarded, per level (市政协 / 省政协 / 全国政协; a report sent to two levels counts
  once at each);
* 批示 endorsed, per level (县/市/省/国家领导; two endorsements at one level count once);
* 办理反馈 answered (ever ``answer``).

By category (类别), by sector (界别, the submitter's at submission) and by member (the
submitter; ``联名`` counts the reports a member co-signed, which are not in their 提交).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

from handlers.exports.sheets import Column, add_table, new_workbook
from handlers.reports.parse import CATEGORIES, ENDORSE_LEVELS, FORWARD_LEVELS
from handlers.reports.workflow import STATE_NAMES
from storage.repos.reports import ReportFacts

COLUMNS: tuple[tuple[str, str], ...] = (
    ("submitted", "提交"),
    ("adopted", "采用"),
    *((f"forwarded:{level}", f"报送{level}") for level in FORWARD_LEVELS),
    *((f"endorsed:{level}", f"{level}批示") for level in ENDORSE_LEVELS),
    ("answered", "办理反馈"),
)
KEYS = tuple(key for key, _ in COLUMNS)


@dataclass(frozen=True, slots=True)
class YearStats:
    year: int
    total: dict[str, int]
    by_category: dict[str, dict[str, int]]
    by_sector: dict[str, dict[str, int]]
    by_member: dict[str, dict[str, int]]  # member name → counts (+ "co_signed")


def outcome(facts: ReportFacts) -> set[str]:
    """The column keys one report counts in."""
    keys = {"submitted"}
    for action, level in facts.steps:
        if action == "adopt":
            keys.add("adopted")
        elif action == "forward" and level:
            keys.add(f"forwarded:{level}")
        elif action == "endorse" and level:
            keys.add(f"endorsed:{level}")
        elif action == "answer":
            keys.add("answered")
    return keys & set(KEYS)


def _zero() -> dict[str, int]:
    return dict.fromkeys(KEYS, 0)


def compute_stats(year: int, reports: Iterable[ReportFacts]) -> YearStats:
    total = _zero()
    by_category = {category: _zero() for category in CATEGORIES}
    by_sector: dict[str, dict[str, int]] = {}
    by_member: dict[str, dict[str, int]] = {}
    for facts in reports:
        keys = outcome(facts)
        rows = [
            total,
            by_category.setdefault(facts.category, _zero()),
            by_sector.setdefault(facts.sector or "未填界别", _zero()),
            by_member.setdefault(facts.submitter, {**_zero(), "co_signed": 0}),
        ]
        for row in rows:
            for key in keys:
                row[key] += 1
        for name in facts.co_submitters:
            by_member.setdefault(name, {**_zero(), "co_signed": 0})["co_signed"] += 1
    return YearStats(
        year,
        total,
        by_category,
        dict(sorted(by_sector.items())),
        dict(sorted(by_member.items(), key=lambda item: (-item[1]["submitted"], item[0]))),
    )


def stats_text(stats: YearStats) -> str:
    t = stats.total
    forwarded = "，".join(f"{lv} {t[f'forwarded:{lv}']} 条" for lv in FORWARD_LEVELS)
    endorsed = "，".join(f"{lv} {t[f'endorsed:{lv}']} 条" for lv in ENDORSE_LEVELS)
    lines = [
        f"{stats.year}年社情民意：提交 {t['submitted']} 条，采用 {t['adopted']} 条，"
        f"办理反馈 {t['answered']} 条。",
        f"报送：{forwarded}。",
        f"批示：{endorsed}。",
        "按类别：",
    ]
    lines += [
        f"  {name} 提交 {row['submitted']}，采用 {row['adopted']}"
        for name, row in stats.by_category.items()
        if row["submitted"]
    ]
    return "\n".join(lines)


def add_stats_sheets(book: Workbook, stats: YearStats) -> None:
    """汇总, 按类别, 按界别 and 按委员 sheets, every count a number cell (also used by the
    yearly reports export, :mod:`handlers.exports`)."""
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
