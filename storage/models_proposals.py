"""Models of proposals (提案) and registered activities (履职登记).

A proposal exists from its submission on (a draft lives in the member's dialog state, as a
report's does). Its number (``TA-2025-0015``, or the office's format) comes from
``proposal_counters``, one row per year incremented inside the submitting transaction. Every
step of its life is a ``proposal_history`` row (who, when, comment, and the step's detail:
the unit, the classification, the satisfaction level …); the yearly figures are read from
that history. ``proposal_signers`` holds the proposer (``lead``) and the co-proposers (联名,
``co``), each co-proposer's 附议 recorded when they confirm it themselves.

An activity (履职登记) is one member's duty done on a day (调研, 视察 …), entered by the
member in chat (``pending`` until a secretary confirms or returns it) or by the office
(console, ``lvzhi activities import``: confirmed at once). Only confirmed ones count.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, BigId, KeptMedia


class ProposalCounter(Base):
    """The last proposal number handed out in a year (the sequence restarts each year)."""

    __tablename__ = "proposal_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class Proposal(Base):
    """提案: ``state`` is one of handlers.proposals.workflow.STATES; ``due_at`` is when the
    current step is due (审查, 答复, 满意度), None when nothing is waiting."""

    __tablename__ = "proposals"
    __table_args__ = (
        UniqueConstraint("year", "seq"),
        Index("ix_proposals_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    year: Mapped[int]
    seq: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))  # 案由
    situation: Mapped[str] = mapped_column(Text, default="")  # 案据 / 情况
    suggestion: Mapped[str] = mapped_column(Text, default="")  # 办法 / 建议
    submitter_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="RESTRICT"), index=True
    )
    sector: Mapped[str] = mapped_column(String(64), default="")  # 界别 at submission
    state: Mapped[str] = mapped_column(String(16))
    state_since: Mapped[datetime]
    due_at: Mapped[datetime | None]
    key: Mapped[bool] = mapped_column(default=False)  # 重点提案
    leader: Mapped[str] = mapped_column(String(64), default="")  # 领办 (the leader's name)
    lead_unit: Mapped[str] = mapped_column(String(100), default="")  # 主办单位
    co_units: Mapped[str] = mapped_column(String(300), default="")  # 协办单位, 、-separated
    classification: Mapped[str] = mapped_column(String(32), default="")  # A/B/C of the answer
    satisfaction: Mapped[str] = mapped_column(String(16), default="")  # satisfied|basic|…
    merged_into: Mapped[str] = mapped_column(String(24), default="")  # 并案: the other number
    converted_to: Mapped[str] = mapped_column(String(32), default="")  # SQ-… | 来信
    submitted_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class ProposalSigner(Base):
    """The proposer (``lead``) or a co-proposer (联名, ``co``); ``confirmed_at`` is the
    co-proposer's own 附议 (the proposer's is the submission)."""

    __tablename__ = "proposal_signers"

    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(8))  # lead|co
    confirmed_at: Mapped[datetime | None]


class ProposalHistory(Base):
    """One step: ``action`` took the proposal from ``from_state`` to ``to_state``.

    ``target`` is the unit (交办, 答复), the other proposal (并案), the linked record
    (转为社情民意) or the leader (领办); ``level`` the classification (答复) or the
    satisfaction level (满意度)."""

    __tablename__ = "proposal_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(96))  # user:{userid} | cli | console:…
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text, default="")
    level: Mapped[str] = mapped_column(String(32), default="")
    target: Mapped[str] = mapped_column(String(300), default="")


class ProposalAttachment(KeptMedia, Base):
    """An image or file sent with the proposal or with a unit's answer (``stage``), fetched
    into the media store as reports' are (:class:`KeptMedia`)."""

    __tablename__ = "proposal_attachments"
    __table_args__ = (Index("ix_proposal_attachments_status", "status", "received_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(16))  # submit|answer


class Activity(Base):
    """履职登记: ``state`` pending → confirmed | returned; ``meeting_id`` when it is a
    meeting's attendance confirmed in one step."""

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_state", "state", "created_at"),
        Index("ix_activities_member_day", "member_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # pending|confirmed|returned
    source: Mapped[str] = mapped_column(String(16))  # chat|console|import|meeting
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None]
    reviewer: Mapped[str] = mapped_column(String(96), default="")
    comment: Mapped[str] = mapped_column(Text, default="")


class ActivityAttachment(KeptMedia, Base):
    """A photo or document sent with a registered activity, fetched into the media store as
    reports' are (:class:`KeptMedia`)."""

    __tablename__ = "activity_attachments"
    __table_args__ = (Index("ix_activity_attachments_status", "status", "received_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )


__all__ = [
    "Activity",
    "ActivityAttachment",
    "Proposal",
    "ProposalAttachment",
    "ProposalCounter",
    "ProposalHistory",
    "ProposalSigner",
]
