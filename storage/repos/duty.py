"""The duty record (履职档案): grouped queries over a year.

Each method answers one kind of fact for every member at once (or for the ``member_ids``
given), as one grouped query: the record of 3,000 members is a handful of queries, never a
loop over members. Nothing here is stored for the record itself; it is read from what the
other features keep (check-ins, reports and their history, notice recipients, meeting
invitees, task assignees), so changing the scoring rules re-scores without touching any fact.
The yearly 社情民意 export reads :meth:`storage.repos.reports.ReportRepo.year_reports`.

Time windows are ``[start, end)`` in aware UTC datetimes (the caller turns a year in
Asia/Shanghai into them); check-in periods are dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, or_, select

from storage.models import Campaign, CheckIn, GroupMember, Member
from storage.models_notices import (
    Meeting,
    MeetingInvitee,
    Notice,
    NoticeRecipient,
    Task,
    TaskAssignee,
)
from storage.models_reports import Report, ReportHistory, ReportSubmitter
from storage.repos.base import Repo
from storage.repos.members import MemberRepo

MemberIds = Sequence[int] | None  # None: every member


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One person of the roster as the record shows them (界别, 专委会, 学习小组)."""

    id: int
    name: str
    userid: str | None
    sector: str
    committee: str
    role: str
    study_group: str


@dataclass(frozen=True, slots=True)
class CheckInRow:
    member_id: int
    campaign_id: int | None  # None: a personal study record (no campaign)
    period_start: date
    makeup: bool
    minutes: int


@dataclass(frozen=True, slots=True)
class NoticeCounts:
    received: int  # notices that asked for 收到
    acked: int
    acked_24h: int  # acknowledged within 24 hours of the notice going out
    ack_hours_total: float  # summed delay of the acknowledged ones, for the average


@dataclass(frozen=True, slots=True)
class TaskCounts:
    on_time: int
    late: int
    not_done: int


class DutyRepo(Repo):
    # -- who -----------------------------------------------------------------------------------

    async def roster(
        self, member_ids: MemberIds = None, *, members_only: bool = True
    ) -> list[RosterRow]:
        """Active people with their study group: those of ``member_ids`` (any role), or else
        the members (委员) — everyone active with ``members_only=False``."""
        query = select(Member).where(Member.active)
        if member_ids is not None:
            query = query.where(Member.id.in_(list(member_ids)))
        elif members_only:
            query = query.where(Member.role == "member")
        members = list(await self.session.scalars(query.order_by(Member.id)))
        groups = await MemberRepo(self.session, self.dialect).study_groups()
        return [
            RosterRow(m.id, m.name, m.userid, m.sector, m.committee, m.role, groups.get(m.id, ""))
            for m in members
        ]

    async def campaign_members(self) -> list[tuple[int, int]]:
        """(campaign id, member id) for every member of a group that has a campaign."""
        rows = await self.session.execute(
            select(Campaign.id, GroupMember.member_id)
            .join(GroupMember, GroupMember.group_id == Campaign.group_id)
            .join(Member, Member.id == GroupMember.member_id)
            .where(Member.active)
            .order_by(Campaign.id, GroupMember.member_id)
        )
        return [(campaign_id, member_id) for campaign_id, member_id in rows]

    # -- check-ins (打卡) ------------------------------------------------------------------------

    async def checkins(
        self, start: date, end: date, member_ids: MemberIds = None
    ) -> list[CheckInRow]:
        """Every check-in row whose period starts between ``start`` and ``end`` (inclusive)."""
        query = select(
            CheckIn.member_id,
            CheckIn.campaign_id,
            CheckIn.period_start,
            CheckIn.makeup,
            CheckIn.minutes,
        ).where(CheckIn.period_start >= start, CheckIn.period_start <= end)
        query = _only(query, CheckIn.member_id, member_ids)
        rows = await self.session.execute(query.order_by(CheckIn.member_id, CheckIn.period_start))
        return [CheckInRow(m, c, p, bool(mk), int(mn or 0)) for m, c, p, mk, mn in rows]

    # -- reports (社情民意) -----------------------------------------------------------------------

    async def report_counts(
        self, year: int, member_ids: MemberIds = None
    ) -> dict[int, dict[str, int]]:
        """member id → ``submitted`` (as lead), ``cosigned`` (联名), ``adopted`` / ``endorsed``
        (their own reports of the year ever adopted / endorsed, read from the history)."""
        found: dict[int, dict[str, int]] = {}
        roles = select(ReportSubmitter.member_id, ReportSubmitter.role, func.count()).join(
            Report, Report.id == ReportSubmitter.report_id
        )
        roles = _only(roles.where(Report.year == year), ReportSubmitter.member_id, member_ids)
        for member_id, role, count in await self.session.execute(
            roles.group_by(ReportSubmitter.member_id, ReportSubmitter.role)
        ):
            key = "submitted" if role == "lead" else "cosigned"
            found.setdefault(member_id, {})[key] = int(count)
        steps = (
            select(
                ReportSubmitter.member_id,
                ReportHistory.action,
                func.count(distinct(ReportHistory.report_id)),
            )
            .join(Report, Report.id == ReportSubmitter.report_id)
            .join(ReportHistory, ReportHistory.report_id == Report.id)
            .where(
                Report.year == year,
                ReportSubmitter.role == "lead",
                ReportHistory.action.in_(("adopt", "endorse")),
            )
        )
        steps = _only(steps, ReportSubmitter.member_id, member_ids)
        for member_id, action, count in await self.session.execute(
            steps.group_by(ReportSubmitter.member_id, ReportHistory.action)
        ):
            key = "adopted" if action == "adopt" else "endorsed"
            found.setdefault(member_id, {})[key] = int(count)
        return found

    # -- notices, meetings, tasks (通知、会议、督办) -------------------------------------------

    async def notice_counts(
        self, start: datetime, end: datetime, member_ids: MemberIds = None
    ) -> dict[int, NoticeCounts]:
        """Notices asking for 收到 that went out in ``[start, end)``, per recipient."""
        hours = self._hours_between(Notice.send_at, NoticeRecipient.acked_at)
        query = (
            select(
                NoticeRecipient.member_id,
                func.count(),
                func.count(NoticeRecipient.acked_at),
                func.sum(case((hours <= 24, 1), else_=0)),
                func.sum(case((NoticeRecipient.acked_at.is_not(None), hours), else_=0)),
            )
            .join(Notice, Notice.id == NoticeRecipient.notice_id)
            .where(Notice.needs_ack, Notice.send_at >= start, Notice.send_at < end)
        )
        query = _only(query, NoticeRecipient.member_id, member_ids)
        rows = await self.session.execute(query.group_by(NoticeRecipient.member_id))
        return {
            m: NoticeCounts(int(n), int(acked), int(fast or 0), float(total or 0))
            for m, n, acked, fast, total in rows
        }

    async def meeting_counts(
        self, start: datetime, end: datetime, member_ids: MemberIds = None
    ) -> dict[int, dict[str, int]]:
        """Meetings that started in ``[start, end)``: member id → answer (attend, leave, or
        ``none`` for no 回执) → count."""
        query = (
            select(MeetingInvitee.member_id, MeetingInvitee.answer, func.count())
            .join(Meeting, Meeting.id == MeetingInvitee.meeting_id)
            .where(Meeting.starts_at >= start, Meeting.starts_at < end)
        )
        query = _only(query, MeetingInvitee.member_id, member_ids)
        found: dict[int, dict[str, int]] = {}
        for member_id, answer, count in await self.session.execute(
            query.group_by(MeetingInvitee.member_id, MeetingInvitee.answer)
        ):
            found.setdefault(member_id, {})[answer or "none"] = int(count)
        return found

    async def task_counts(
        self, start: datetime, end: datetime, as_of: datetime, member_ids: MemberIds = None
    ) -> dict[int, TaskCounts]:
        """Tasks whose deadline falls in ``[start, end)``: done by it, done after it, or not
        done by ``as_of`` although it has passed (tasks still running are not counted)."""
        done = TaskAssignee.done_at
        query = (
            select(
                TaskAssignee.member_id,
                func.sum(case((done <= Task.deadline, 1), else_=0)),
                func.sum(case((done > Task.deadline, 1), else_=0)),
                func.sum(case((done.is_(None), 1), else_=0)),
            )
            .join(Task, Task.id == TaskAssignee.task_id)
            .where(
                Task.deadline >= start,
                Task.deadline < end,
                or_(Task.deadline < as_of, and_(done.is_not(None), done <= as_of)),
            )
        )
        query = _only(query, TaskAssignee.member_id, member_ids)
        rows = await self.session.execute(query.group_by(TaskAssignee.member_id))
        return {m: TaskCounts(int(a or 0), int(b or 0), int(c or 0)) for m, a, b, c in rows}

    def _hours_between(self, earlier: Any, later: Any) -> ColumnElement[Any]:
        """``later - earlier`` in hours, NULL when either is NULL (dialect-specific)."""
        if self.dialect == "postgresql":
            return func.extract("epoch", later - earlier) / 3600.0
        return (func.julianday(later) - func.julianday(earlier)) * 24.0


def _only(query: Any, column: Any, member_ids: MemberIds) -> Any:
    return query if member_ids is None else query.where(column.in_(list(member_ids)))


__all__ = [
    "CheckInRow",
    "DutyRepo",
    "NoticeCounts",
    "RosterRow",
    "TaskCounts",
]
