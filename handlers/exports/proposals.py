"""提案办理情况 (the ``proposals`` export), as offices report it: every proposal of the year
with its proposers, state, units, classification and 满意度; every step (办理记录); then the
figures by 主办单位, by classification (A/B/C) and by 满意度.

满意度 counts each proposal's last rating (a 不满意 followed by 重新办理 and a later 满意 is
满意); a proposal answered but not rated is 未评价.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook

from bot.config import Config
from handlers.exports.sheets import DATETIME, Column, add_table, local, new_workbook, to_bytes
from handlers.proposals.parse import LEVELS
from handlers.proposals.workflow import ACTION_NAMES, STATE_NAMES
from storage import Database
from storage.repos.proposals import ProposalRow

ANSWERED = frozenset({"answered", "rated", "reopened", "closed"})


async def build_proposals(db: Database, config: Config, year: int, now: datetime) -> bytes:
    async with db.read() as tx:
        rows = await tx.proposals.year_rows(year)
        steps = await tx.proposals.year_history(year)
    zone = config.time.zone
    book = new_workbook()
    _list_sheet(book, year, rows, zone)
    add_table(
        book,
        "办理记录",
        [
            Column("编号"),
            Column("时间", format=DATETIME),
            Column("步骤"),
            Column("状态"),
            Column("办理人"),
            Column("单位/对象"),
            Column("类别/满意度"),
            Column("意见"),
        ],
        [
            [
                number,
                local(h.at, zone),
                ACTION_NAMES.get(h.action, h.action),
                STATE_NAMES.get(h.to_state, h.to_state),
                actor,
                h.target,
                LEVELS.get(h.level, h.level),
                h.comment,
            ]
            for number, h, actor in steps
        ],
        freeze_columns=1,
    )
    _by_unit(book, rows, config)
    _by_class(book, rows, config)
    _by_satisfaction(book, rows)
    return to_bytes(book)


def _list_sheet(book: Workbook, year: int, rows: Sequence[ProposalRow], zone: Any) -> None:
    columns = [
        Column("编号"),
        Column("案由"),
        Column("提案人"),
        Column("界别"),
        Column("联名"),
        Column("状态"),
        Column("重点"),
        Column("领办"),
        Column("主办单位"),
        Column("协办单位"),
        Column("答复类别"),
        Column("满意度"),
        Column("并案/转"),
        Column("提交时间", format=DATETIME),
        Column("当前步骤期限", format=DATETIME),
    ]
    body = [
        [
            r.proposal.number,
            r.proposal.title,
            r.proposer,
            r.proposal.sector,
            "、".join(r.co_proposers),
            STATE_NAMES[r.proposal.state],
            "是" if r.proposal.key else "",
            r.proposal.leader,
            r.proposal.lead_unit,
            r.proposal.co_units,
            r.proposal.classification,
            LEVELS.get(r.proposal.satisfaction, ""),
            r.proposal.merged_into or r.proposal.converted_to,
            local(r.proposal.submitted_at, zone),
            local(r.proposal.due_at, zone),
        ]
        for r in rows
    ]
    add_table(book, f"{year}年提案", columns, body, freeze_columns=2)


def _by_unit(book: Workbook, rows: Sequence[ProposalRow], config: Config) -> None:
    classes = [c.split(" ", 1)[0] for c in config.proposals.classifications]
    by: dict[str, list[ProposalRow]] = defaultdict(list)
    for r in rows:
        if r.proposal.lead_unit:
            by[r.proposal.lead_unit].append(r)
    columns = [
        Column("主办单位"),
        Column("交办件数"),
        Column("已答复"),
        *(Column(f"{c}类") for c in classes),
        Column("满意"),
        Column("基本满意"),
        Column("不满意"),
        Column("已办结"),
    ]

    def row(name: str, group: Sequence[ProposalRow]) -> list[Any]:
        codes = Counter(r.proposal.classification.split(" ", 1)[0] for r in group)
        levels = Counter(r.proposal.satisfaction for r in group)
        return [
            name,
            len(group),
            sum(r.proposal.state in ANSWERED for r in group),
            *(codes[c] for c in classes),
            levels["satisfied"],
            levels["basic"],
            levels["unsatisfied"],
            sum(r.proposal.state == "closed" for r in group),
        ]

    body = [row(name, by[name]) for name in sorted(by)]
    assigned = [r for group in by.values() for r in group]
    add_table(book, "按承办单位", columns, body, freeze_columns=1, totals=[row("合计", assigned)])


def _by_class(book: Workbook, rows: Sequence[ProposalRow], config: Config) -> None:
    counts = Counter(r.proposal.classification for r in rows if r.proposal.classification)
    answered = sum(counts.values())
    body = [
        [entry, counts[entry], counts[entry] / answered if answered else 0]
        for entry in config.proposals.classifications
    ]
    columns = [Column("答复类别"), Column("件数"), Column("占比", format="0.0%")]
    add_table(book, "按答复类别", columns, body, totals=[["合计", answered, 1 if answered else 0]])


def _by_satisfaction(book: Workbook, rows: Sequence[ProposalRow]) -> None:
    answered = [r for r in rows if r.proposal.state in ANSWERED or r.proposal.satisfaction]
    counts = Counter(r.proposal.satisfaction or "none" for r in answered)
    names = {**LEVELS, "none": "未评价"}
    body = [
        [names[key], counts[key], counts[key] / len(answered) if answered else 0]
        for key in ("satisfied", "basic", "unsatisfied", "none")
    ]
    columns = [Column("满意度"), Column("件数"), Column("占比", format="0.0%")]
    total = [["合计", len(answered), 1 if answered else 0]]
    add_table(book, "满意度", columns, body, totals=total)
