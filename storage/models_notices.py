"""Models of notices (通知), recurring notices (定期通知), meetings (会议) and tasks (督办).

Who a notice, meeting or task is for is resolved once, when it is created, into per-member
rows (``notice_recipients``, ``meeting_invitees``, ``task_assignees``): acknowledgments,
answers and completions are then plain column updates, and what the planner chases later is
a query, never a re-resolution of group names. ``group_ids`` keeps the groups it was posted
to, so an acknowledgment written in a group finds the notice posted there.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, BigId


class NoticeRule(Base):
    """定期通知: a notice sent again and again (every Monday 8:00, the first working day of
    each month …). ``audience`` keeps the names as written, resolved at each occurrence."""

    __tablename__ = "notice_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[list[Any]]
    cadence: Mapped[str] = mapped_column(String(24))  # daily|workdays|weekly|monthly_first_workday
    weekday: Mapped[int | None]  # 0 = Monday, for weekly
    at: Mapped[str] = mapped_column(String(5))  # HH:MM, local time
    skip_holidays: Mapped[bool] = mapped_column(default=True)
    needs_ack: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Notice(Base):
    """通知: one broadcast, sent at ``send_at``; ``chase_at`` is its one reminder to those who
    have not acknowledged (None: no reminder, e.g. a notice that needs no 回执)."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("rule_id", "occasion"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    group_ids: Mapped[list[Any]]
    needs_ack: Mapped[bool] = mapped_column(default=True)
    send_at: Mapped[datetime] = mapped_column(index=True)
    chase_at: Mapped[datetime | None] = mapped_column(index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("notice_rules.id", ondelete="SET NULL"))
    occasion: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]


class NoticeRecipient(Base):
    __tablename__ = "notice_recipients"

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    acked_at: Mapped[datetime | None]
    ack_via: Mapped[str] = mapped_column(String(16), default="")  # text|card


class NoticePref(Base):
    """A member's wish for a private copy (私信) of every notice besides the group post."""

    __tablename__ = "notice_prefs"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    private_copy: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]


class Meeting(Base):
    """会议通知: its name (民主评议座谈会) and kind (座谈会), start, place, and the reply
    deadline (回执)."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(128), default="")
    starts_at: Mapped[datetime] = mapped_column(index=True)
    reply_by: Mapped[datetime]
    group_ids: Mapped[list[Any]]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class MeetingInvitee(Base):
    __tablename__ = "meeting_invitees"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    answer: Mapped[str | None] = mapped_column(String(8))  # attend|leave
    reason: Mapped[str] = mapped_column(String(200), default="")
    answered_at: Mapped[datetime | None]


class Task(Base):
    """督办: a task with a deadline (完成时限), a lead (牵头) and a responsible office
    (责任处室); closed (销号) when every assignee is done or a secretary closes it."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_open_deadline", "closed_at", "deadline"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    deadline: Mapped[datetime]
    has_time: Mapped[bool] = mapped_column(default=False)  # False: the deadline ends a day
    lead: Mapped[str] = mapped_column(String(64), default="")
    office: Mapped[str] = mapped_column(String(64), default="")
    group_ids: Mapped[list[Any]]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class TaskAssignee(Base):
    __tablename__ = "task_assignees"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    done_at: Mapped[datetime | None]
    done_by: Mapped[str] = mapped_column(String(64), default="")  # userid of who reported it


__all__ = [
    "Meeting",
    "MeetingInvitee",
    "Notice",
    "NoticePref",
    "NoticeRecipient",
    "NoticeRule",
    "Task",
    "TaskAssignee",
]
