"""Models of opinion reports (社情民意信息) and their life cycle.

A report exists from its submission on: a draft lives in the member's dialog state until
``确认提交``. ``number`` (``SQ-2025-0042``) comes from ``report_counters``, one row per year
incremented inside the submitting transaction, so a rolled-back submission burns no number and
two submissions never share one. Every state change is a ``report_history`` row (who, when,
comment, level); the statistics are computed from that history, not from the current state.
``report_submitters`` holds the submitter (``lead``) and the co-submitters (联名, ``co``): it
is what decides who may read a report and who is notified of its changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, BigId, KeptMedia


class ReportCounter(Base):
    """The last tracking number handed out in a year (the sequence restarts each year)."""

    __tablename__ = "report_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class Report(Base):
    """社情民意信息: one report; ``state`` is one of handlers.reports.workflow.STATES."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("year", "seq"),
        Index("ix_reports_state_since", "state", "state_since"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    year: Mapped[int]
    seq: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    submitter_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="RESTRICT"), index=True
    )
    sector: Mapped[str] = mapped_column(String(64), default="")  # 界别 at submission
    state: Mapped[str] = mapped_column(String(16))
    state_since: Mapped[datetime]
    submitted_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class ReportSubmitter(Base):
    """A submitter (``lead``) or co-submitter (联名, ``co``) of a report."""

    __tablename__ = "report_submitters"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(8))  # lead|co


class ReportHistory(Base):
    """One step of a report's life: ``action`` took it from ``from_state`` to ``to_state``.

    ``level`` is the 报送 level (市政协/省政协/全国政协) or the 批示 level (市领导 …);
    ``target`` the 转办 department or the 批示 leader when given.
    """

    __tablename__ = "report_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(96))  # user:{userid} | cli
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text, default="")
    level: Mapped[str] = mapped_column(String(32), default="")
    target: Mapped[str] = mapped_column(String(100), default="")


class ReportVersion(Base):
    """One submission of a report (版本): the first submission is version 1, each 重新提交
    after 退回 the next. The report row holds the latest text; every earlier one stays here."""

    __tablename__ = "report_versions"
    __table_args__ = (UniqueConstraint("report_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime]


class ReportAttachment(KeptMedia, Base):
    """An image or file sent while drafting, fetched into the media store (:class:`KeptMedia`)."""

    __tablename__ = "report_attachments"
    __table_args__ = (Index("ix_report_attachments_status", "status", "received_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


__all__ = [
    "Report",
    "ReportAttachment",
    "ReportCounter",
    "ReportHistory",
    "ReportSubmitter",
    "ReportVersion",
]
