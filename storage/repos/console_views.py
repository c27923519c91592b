"""Read-only queries for the console's pages (管理后台) that no feature repository has: the
report list with its filters, counts for many notices, meetings and tasks at once, and the
planner marks of a notice's reminders. Writes go through the feature repositories."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select

from storage.models import Member, PlannerMark
from storage.models_notices import Meeting, MeetingInvitee, Task, TaskAssignee
from storage.models_reports import Report
from storage.repos.base import Repo

_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True, slots=True)
class ReportFilter:
    """What the report list is narrowed to; empty values do not filter."""

    states: tuple[str, ...] = ()
    category: str = ""
    sector: str = ""
    year: int | None = None
    text: str = ""  # in the number, the title or the submitter's name


@dataclass(frozen=True, slots=True)
class ReportRow:
    report: Report
    submitter: str  # the lead submitter's name


@dataclass(frozen=True, slots=True)
class AnswerCounts:
    """A meeting's replies (回执)."""

    attend: int = 0
    leave: int = 0
    silent: int = 0

    @property
    def total(self) -> int:
        return self.attend + self.leave + self.silent


class ConsoleViews(Repo):
    # -- reports -------------------------------------------------------------------------------

    async def reports(
        self, wanted: ReportFilter, *, limit: int, oldest_first: bool = False
    ) -> tuple[list[ReportRow], int]:
        """Reports matching ``wanted`` with their submitter's name, and how many matched.

        Newest first; ``oldest_first`` orders by how long each has been in its state (the
        review queue)."""
        listing = self._filtered(
            select(Report, Member.name).join(Member, Member.id == Report.submitter_id), wanted
        )
        counting = self._filtered(
            select(func.count())
            .select_from(Report)
            .join(Member, Member.id == Report.submitter_id),
            wanted,
        )
        order = (
            (Report.state_since, Report.id)
            if oldest_first
            else (Report.year.desc(), Report.seq.desc())
        )
        rows = await self.session.execute(listing.order_by(*order).limit(limit))
        found = [ReportRow(report, name) for report, name in rows]
        return found, int(await self.session.scalar(counting) or 0)

    @staticmethod
    def _filtered(query: _Query, wanted: ReportFilter) -> _Query:
        if wanted.states:
            query = query.where(Report.state.in_(wanted.states))
        if wanted.category:
            query = query.where(Report.category == wanted.category)
        if wanted.sector:
            query = query.where(Report.sector == wanted.sector)
        if wanted.year is not None:
            query = query.where(Report.year == wanted.year)
        if wanted.text:
            query = query.where(
                or_(
                    Report.number.contains(wanted.text, autoescape=True),
                    Report.title.contains(wanted.text, autoescape=True),
                    Member.name.contains(wanted.text, autoescape=True),
                )
            )
        return query

    async def report_years(self) -> list[int]:
        rows = await self.session.scalars(select(Report.year).distinct().order_by(Report.year))
        return [int(year) for year in rows]

    async def report_sectors(self) -> list[str]:
        """界别 that reports were submitted under, and every 界别 of the roster."""
        reported = await self.session.scalars(select(Report.sector).distinct())
        roster = await self.session.scalars(select(Member.sector).distinct())
        return sorted({s for s in (*reported, *roster) if s})

    async def report_state_counts(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(Report.state, func.count()).group_by(Report.state)
        )
        return {state: int(count) for state, count in rows}

    async def committees(self) -> list[str]:
        """专委会 named in the roster (a notice may go to one)."""
        rows = await self.session.scalars(
            select(Member.committee).distinct().where(Member.active, Member.committee != "")
        )
        return sorted(rows)

    # -- meetings ------------------------------------------------------------------------------

    async def recent_meetings(self, limit: int) -> list[Meeting]:
        rows = await self.session.scalars(
            select(Meeting).order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(limit)
        )
        return list(rows)

    async def answer_counts(self, meeting_ids: Sequence[int]) -> dict[int, AnswerCounts]:
        """meeting id → its replies so far (参加 / 请假 / 未回复)."""
        found: dict[int, dict[str | None, int]] = defaultdict(dict)
        if meeting_ids:
            rows = await self.session.execute(
                select(MeetingInvitee.meeting_id, MeetingInvitee.answer, func.count())
                .where(MeetingInvitee.meeting_id.in_(list(meeting_ids)))
                .group_by(MeetingInvitee.meeting_id, MeetingInvitee.answer)
            )
            for meeting_id, answer, count in rows:
                found[meeting_id][answer] = int(count)
        return {
            m: AnswerCounts(
                found[m].get("attend", 0), found[m].get("leave", 0), found[m].get(None, 0)
            )
            for m in meeting_ids
        }

    # -- tasks ---------------------------------------------------------------------------------

    async def recently_closed_tasks(self, since: datetime, limit: int) -> list[Task]:
        rows = await self.session.scalars(
            select(Task)
            .where(Task.closed_at.is_not(None), Task.closed_at >= since)
            .order_by(Task.closed_at.desc(), Task.id.desc())
            .limit(limit)
        )
        return list(rows)

    async def task_assignees(
        self, task_ids: Sequence[int]
    ) -> dict[int, list[tuple[Member, TaskAssignee]]]:
        """task id → its assignees (承办人) with their completion, in one query."""
        found: dict[int, list[tuple[Member, TaskAssignee]]] = {t: [] for t in task_ids}
        if task_ids:
            rows = await self.session.execute(
                select(Member, TaskAssignee)
                .join(TaskAssignee, TaskAssignee.member_id == Member.id)
                .where(TaskAssignee.task_id.in_(list(task_ids)))
                .order_by(Member.id)
            )
            for member, assignee in rows:
                found[assignee.task_id].append((member, assignee))
        return found

    # -- reminders -----------------------------------------------------------------------------

    async def marks(self, prefix: str) -> list[tuple[str, datetime]]:
        """Planner marks (claimed occurrences) whose key starts with ``prefix``, oldest first:
        which reminders of a notice or meeting have gone out, and when."""
        rows = await self.session.execute(
            select(PlannerMark.key, PlannerMark.at)
            .where(PlannerMark.key.startswith(prefix, autoescape=True))
            .order_by(PlannerMark.at, PlannerMark.key)
        )
        return [(key, at) for key, at in rows]
