"""Notices (通知), recurring notices, meetings (会议) and tasks (督办): typed queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update

from storage.models import Group, GroupMember, Member
from storage.models_notices import (
    Meeting,
    MeetingInvitee,
    Notice,
    NoticePref,
    NoticeRecipient,
    NoticeRule,
    Task,
    TaskAssignee,
)
from storage.repos.base import Repo

BULK = 500  # rows per multi-row INSERT (SQLite allows 32766 bound parameters)


class NoticeRepo(Repo):
    async def add(self, notice: Notice) -> Notice:
        self.session.add(notice)
        await self.session.flush()
        return notice

    async def get(self, notice_id: int) -> Notice | None:
        return await self.session.get(Notice, notice_id)

    async def add_recipients(self, notice_id: int, member_ids: Iterable[int]) -> None:
        rows = [{"notice_id": notice_id, "member_id": m, "ack_via": ""} for m in member_ids]
        for start in range(0, len(rows), BULK):
            await self.session.execute(insert(NoticeRecipient), rows[start : start + BULK])

    async def recipients(self, notice_id: int) -> list[tuple[Member, NoticeRecipient]]:
        rows = await self.session.execute(
            select(Member, NoticeRecipient)
            .join(NoticeRecipient, NoticeRecipient.member_id == Member.id)
            .where(NoticeRecipient.notice_id == notice_id)
            .order_by(Member.id)
        )
        return [(m, r) for m, r in rows]

    async def recent_for_member(
        self, member_id: int, *, now: datetime, since: datetime, limit: int = 20
    ) -> list[tuple[Notice, NoticeRecipient]]:
        """Notices already sent to the member that ask for an acknowledgment, newest first."""
        rows = await self.session.execute(
            select(Notice, NoticeRecipient)
            .join(NoticeRecipient, NoticeRecipient.notice_id == Notice.id)
            .where(
                NoticeRecipient.member_id == member_id,
                Notice.needs_ack,
                Notice.send_at <= now,
                Notice.send_at >= since,
            )
            .order_by(Notice.send_at.desc(), Notice.id.desc())
            .limit(limit)
        )
        return [(n, r) for n, r in rows]

    async def ack(self, notice_id: int, member_id: int, *, at: datetime, via: str) -> bool:
        """Record an acknowledgment; False if it was recorded before."""
        return bool(
            await self.changed(
                update(NoticeRecipient)
                .where(
                    NoticeRecipient.notice_id == notice_id,
                    NoticeRecipient.member_id == member_id,
                    NoticeRecipient.acked_at.is_(None),
                )
                .values(acked_at=at, ack_via=via)
            )
        )

    async def chase_due(self, start: datetime, end: datetime) -> list[Notice]:
        rows = await self.session.scalars(
            select(Notice)
            .where(Notice.chase_at.is_not(None), Notice.chase_at > start, Notice.chase_at <= end)
            .order_by(Notice.id)
        )
        return list(rows)

    async def recent(self, limit: int = 20) -> list[Notice]:
        rows = await self.session.scalars(select(Notice).order_by(Notice.id.desc()).limit(limit))
        return list(rows)

    async def ack_counts(self, notice_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """notice id → (acknowledged, recipients)."""
        rows = await self.session.execute(
            select(
                NoticeRecipient.notice_id,
                func.count(NoticeRecipient.acked_at),
                func.count(),
            )
            .where(NoticeRecipient.notice_id.in_(list(notice_ids)))
            .group_by(NoticeRecipient.notice_id)
        )
        return {notice_id: (int(acked), int(total)) for notice_id, acked, total in rows}

    # -- private copies (私信) ---------------------------------------------------------------

    async def private_copy_ids(self, member_ids: Iterable[int]) -> set[int]:
        wanted = list(member_ids)
        found: set[int] = set()
        for start in range(0, len(wanted), BULK):
            rows = await self.session.scalars(
                select(NoticePref.member_id).where(
                    NoticePref.member_id.in_(wanted[start : start + BULK]),
                    NoticePref.private_copy,
                )
            )
            found.update(rows)
        return found

    async def set_private_copy(self, member_id: int, wanted: bool, now: datetime) -> None:
        values = {"private_copy": wanted, "updated_at": now}
        await self.session.execute(
            self.upsert_insert(NoticePref)
            .values(member_id=member_id, **values)
            .on_conflict_do_update(index_elements=["member_id"], set_=values)
        )

    # -- recurring notices (定期通知) -------------------------------------------------------

    async def add_rule(self, rule: NoticeRule) -> NoticeRule:
        self.session.add(rule)
        await self.session.flush()
        return rule

    async def get_rule(self, rule_id: int) -> NoticeRule | None:
        return await self.session.get(NoticeRule, rule_id)

    async def active_rules(self) -> list[NoticeRule]:
        rows = await self.session.scalars(
            select(NoticeRule).where(NoticeRule.active).order_by(NoticeRule.id)
        )
        return list(rows)

    # -- audiences -----------------------------------------------------------------------------

    async def members_of_groups(self, group_ids: Sequence[int]) -> dict[int, list[Member]]:
        """group id → its active members, in one query."""
        found: dict[int, list[Member]] = {g: [] for g in group_ids}
        rows = await self.session.execute(
            select(GroupMember.group_id, Member)
            .join(Member, Member.id == GroupMember.member_id)
            .where(GroupMember.group_id.in_(list(group_ids)), Member.active)
            .order_by(Member.id)
        )
        for group_id, member in rows:
            found[group_id].append(member)
        return found

    async def groups_by_ids(self, group_ids: Sequence[int]) -> list[Group]:
        rows = await self.session.scalars(
            select(Group).where(Group.id.in_(list(group_ids))).order_by(Group.id)
        )
        return list(rows)

    async def study_groups(self) -> list[Group]:
        rows = await self.session.scalars(
            select(Group).where(Group.kind == "study_group").order_by(Group.id)
        )
        return list(rows)

    async def committee_members(self, committee: str) -> list[Member]:
        """专委会: members whose roster names this committee."""
        rows = await self.session.scalars(
            select(Member).where(Member.committee == committee, Member.active).order_by(Member.id)
        )
        return list(rows)


class MeetingRepo(Repo):
    async def add(self, meeting: Meeting) -> Meeting:
        self.session.add(meeting)
        await self.session.flush()
        return meeting

    async def get(self, meeting_id: int) -> Meeting | None:
        return await self.session.get(Meeting, meeting_id)

    async def add_invitees(self, meeting_id: int, member_ids: Iterable[int]) -> None:
        rows = [{"meeting_id": meeting_id, "member_id": m, "reason": ""} for m in member_ids]
        for start in range(0, len(rows), BULK):
            await self.session.execute(insert(MeetingInvitee), rows[start : start + BULK])

    async def invitees(self, meeting_id: int) -> list[tuple[Member, MeetingInvitee]]:
        rows = await self.session.execute(
            select(Member, MeetingInvitee)
            .join(MeetingInvitee, MeetingInvitee.member_id == Member.id)
            .where(MeetingInvitee.meeting_id == meeting_id)
            .order_by(Member.id)
        )
        return [(m, i) for m, i in rows]

    async def upcoming_for_member(
        self, member_id: int, now: datetime
    ) -> list[tuple[Meeting, MeetingInvitee]]:
        """Meetings the member is invited to that have not started, newest notice first."""
        rows = await self.session.execute(
            select(Meeting, MeetingInvitee)
            .join(MeetingInvitee, MeetingInvitee.meeting_id == Meeting.id)
            .where(MeetingInvitee.member_id == member_id, Meeting.starts_at > now)
            .order_by(Meeting.created_at.desc(), Meeting.id.desc())
        )
        return [(m, i) for m, i in rows]

    async def between(
        self, start: datetime, end: datetime
    ) -> list[tuple[Meeting, Member, MeetingInvitee]]:
        """Every invitation to a meeting starting in [start, end), by meeting then member
        (the 会议出勤 export)."""
        rows = await self.session.execute(
            select(Meeting, Member, MeetingInvitee)
            .join(MeetingInvitee, MeetingInvitee.meeting_id == Meeting.id)
            .join(Member, Member.id == MeetingInvitee.member_id)
            .where(Meeting.starts_at >= start, Meeting.starts_at < end)
            .order_by(Meeting.starts_at, Meeting.id, Member.id)
        )
        return [(meeting, member, invitee) for meeting, member, invitee in rows]

    async def starting_after(self, since: datetime) -> list[Meeting]:
        rows = await self.session.scalars(
            select(Meeting).where(Meeting.starts_at > since).order_by(Meeting.id)
        )
        return list(rows)

    async def answer(
        self, meeting_id: int, member_id: int, *, answer: str, reason: str, at: datetime
    ) -> None:
        await self.session.execute(
            update(MeetingInvitee)
            .where(MeetingInvitee.meeting_id == meeting_id, MeetingInvitee.member_id == member_id)
            .values(answer=answer, reason=reason[:200], answered_at=at)
        )


class TaskRepo(Repo):
    async def add(self, task: Task) -> Task:
        self.session.add(task)
        await self.session.flush()
        return task

    async def get(self, task_id: int) -> Task | None:
        return await self.session.get(Task, task_id)

    async def add_assignees(self, task_id: int, member_ids: Iterable[int]) -> None:
        rows = [{"task_id": task_id, "member_id": m, "done_by": ""} for m in member_ids]
        for start in range(0, len(rows), BULK):
            await self.session.execute(insert(TaskAssignee), rows[start : start + BULK])

    async def assignees(self, task_id: int) -> list[tuple[Member, TaskAssignee]]:
        rows = await self.session.execute(
            select(Member, TaskAssignee)
            .join(TaskAssignee, TaskAssignee.member_id == Member.id)
            .where(TaskAssignee.task_id == task_id)
            .order_by(Member.id)
        )
        return [(m, a) for m, a in rows]

    async def open_tasks(self) -> list[Task]:
        rows = await self.session.scalars(
            select(Task).where(Task.closed_at.is_(None)).order_by(Task.deadline, Task.id)
        )
        return list(rows)

    async def open_for_member(self, member_id: int) -> list[tuple[Task, TaskAssignee]]:
        rows = await self.session.execute(
            select(Task, TaskAssignee)
            .join(TaskAssignee, TaskAssignee.task_id == Task.id)
            .where(TaskAssignee.member_id == member_id, Task.closed_at.is_(None))
            .order_by(Task.deadline, Task.id)
        )
        return [(t, a) for t, a in rows]

    async def mark_done(self, task_id: int, member_id: int, *, at: datetime, by: str) -> bool:
        """Record an assignee as done; False if they were already."""
        return bool(
            await self.changed(
                update(TaskAssignee)
                .where(
                    TaskAssignee.task_id == task_id,
                    TaskAssignee.member_id == member_id,
                    TaskAssignee.done_at.is_(None),
                )
                .values(done_at=at, done_by=by)
            )
        )

    async def not_done_count(self, task_id: int) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).where(
                    TaskAssignee.task_id == task_id, TaskAssignee.done_at.is_(None)
                )
            )
            or 0
        )

    async def close(self, task: Task, at: datetime) -> None:
        task.closed_at = at
        await self.session.flush()


__all__ = ["MeetingRepo", "NoticeRepo", "TaskRepo"]
