"""The office's yearly spreadsheets (xlsx), for ``lvzhi export`` and the web console.

:data:`EXPORTS` is the contract both use: ``EXPORTS[key]`` (members, checkins, reports,
meetings, proposals) is an :class:`Export` with a Chinese ``title``, a ``filename(year)`` and
``await build(db, config, year)`` returning the workbook's bytes. Every sheet has the same
look (:mod:`handlers.exports.sheets`).

* ``members`` 委员履职档案: one row per member (委员, active) with 界别, 专委会, 学习小组, every
  fact of the record, the score and grade by the rules in force and the requirements not met;
  合计 and 平均 rows; then the same by sector and by committee, each item's points, and the
  rules themselves (so that a printed table says how it was scored).
* ``checkins`` 学习打卡统计: per study group and period, how many should have and did check in;
  then one sheet per group, a member per row and a period per column (✓, 补 for a make-up).
* ``reports`` 社情民意办理情况: every report of the year with its state and dates, every step
  of its history (办理记录), and the yearly statistics of :mod:`handlers.reports.stats`.
* ``meetings`` 会议出勤情况: every meeting of the year with its headcount, then every
  invitation: the member, 参加/请假/未回复, the reason for a leave and when they answered.
* ``proposals`` 提案办理情况: every proposal of the year, its history, and the figures by
  主办单位, by answer classification and by 满意度 (:mod:`handlers.exports.proposals`).

Each is built in its own module (``handlers/exports/*.py``); ``build`` reads inside one read
transaction and writes the workbook in write-only mode (3,000 members in about 2 s).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import Config
from handlers.exports.checkins import build_checkins
from handlers.exports.meetings import build_meetings
from handlers.exports.members import build_members
from handlers.exports.proposals import build_proposals
from handlers.exports.reports import build_reports
from storage import Database

BuildFn = Callable[[Database, Config, int, datetime], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class Export:
    """One kind of yearly spreadsheet (导出表格)."""

    key: str
    title: str  # Chinese, e.g. 委员履职档案
    _build: BuildFn = field(repr=False)

    def filename(self, year: int) -> str:
        return f"{year}年{self.title}.xlsx"

    async def build(
        self, db: Database, config: Config, year: int, *, now: datetime | None = None
    ) -> bytes:
        """The workbook for ``year`` as of ``now`` (default: the current time), as bytes."""
        moment = now or datetime.now(config.time.zone)
        return await self._build(db, config, year, moment)


EXPORTS: Mapping[str, Export] = {
    "members": Export("members", "委员履职档案", build_members),
    "checkins": Export("checkins", "学习打卡统计", build_checkins),
    "reports": Export("reports", "社情民意办理情况", build_reports),
    "meetings": Export("meetings", "会议出勤情况", build_meetings),
    "proposals": Export("proposals", "提案办理情况", build_proposals),
}
