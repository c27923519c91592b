"""社情民意 yearly statistics, as the offices report them (the workbook is
:mod:`handlers.exports.report_stats`).

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

from handlers.reports.parse import CATEGORIES, ENDORSE_LEVELS, FORWARD_LEVELS
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
