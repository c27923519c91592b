"""SQLAlchemy models: the database is the source of truth for everything.

Datetimes are timezone-aware UTC in Python and in PostgreSQL (timestamptz); SQLite stores them as
naive UTC text and :class:`UTCDateTime` puts the zone back on the way out.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, BigId, UTCDateTime


class Member(Base):
    """政协委员 / 秘书 / 管理员: one person of the roster."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    userid: Mapped[str | None] = mapped_column(String(64), unique=True)
    mobile: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    sector: Mapped[str] = mapped_column(String(64), default="")  # 界别
    committee: Mapped[str] = mapped_column(String(64), default="")  # 专委会
    role: Mapped[str] = mapped_column(String(16), default="member")  # member|secretary|admin
    active: Mapped[bool] = mapped_column(default=True)
    # Where private messages go when the member is reachable on both: wecom | wechat (公众号).
    # None: WeCom if they have a userid, else the Official Account.
    channel_pref: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Group(Base):
    """群: a chat group the bot posts to, and how it is reached (app chat or group robot)."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="custom")  # study_group|committee|custom
    app_chat_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A group-robot webhook key is a secret: never logged, shown masked.
    robot_key: Mapped[str | None] = mapped_column(String(128))
    # A WeCom customer group (客户群, WeChat users inside): its chat id and the staff member
    # (群主, a userid) who confirms each group-send in the WeCom client.
    customer_chat_id: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    customer_owner: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AuditEntry(Base):
    """Who changed what, when: every change an office may be asked about."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(96))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class InboundMessage(Base):
    """Every accepted callback, once: the unique key is what makes WeCom's retries harmless."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(160), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(64), index=True)
    chat_id: Mapped[str | None] = mapped_column(String(64))
    msg_type: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime]
    received_at: Mapped[datetime]


class CallbackNonce(Base):
    """A callback's signed nonce, kept for the freshness window: the same nonce again is a
    retry only with the very same body (``digest``); with another body it is a replay."""

    __tablename__ = "callback_nonces"

    endpoint: Mapped[str] = mapped_column(String(16), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    timestamp: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(index=True)


class Delivery(Base):
    """The outbox: one message to one target, sent exactly once or ended visibly.

    status: pending → sent | dead (attempts exhausted, or a configuration error) | expired
    (past ``deadline``). ``parts_sent`` counts the 2048-byte parts of a long text already
    accepted by WeCom, so a retry resumes instead of repeating them.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_target", "channel", "target", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # member|appchat|robot|response_url
    target: Mapped[str] = mapped_column(String(1024))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    parts_sent: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    deadline: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class SendLogEntry(Base):
    """One reserved send per row: the sliding windows of the rate gates, shared by processes."""

    __tablename__ = "send_log"
    __table_args__ = (Index("ix_send_log_gate_at", "gate", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    gate: Mapped[str] = mapped_column(String(96))
    at: Mapped[datetime]


class GateCooldown(Base):
    """A target WeCom answered 45009 for: nothing goes to it before ``until``."""

    __tablename__ = "gate_cooldowns"

    gate: Mapped[str] = mapped_column(String(96), primary_key=True)
    until: Mapped[datetime]


class AccessToken(Base):
    """One WeCom access token per app, shared by every process; one refresher at a time."""

    __tablename__ = "access_tokens"

    app: Mapped[str] = mapped_column(String(96), primary_key=True)
    token: Mapped[str | None] = mapped_column(String(600))
    expires_at: Mapped[datetime | None]
    refresh_owner: Mapped[str | None] = mapped_column(String(64))
    refresh_until: Mapped[datetime | None]


class DialogState(Base):
    """A multi-step conversation, keyed by (chat, user), persisted so restarts keep it."""

    __tablename__ = "dialogs"

    chat: Mapped[str] = mapped_column(String(64), primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Alert(Base):
    """Something an operator must see: configuration errors from WeCom, dead deliveries."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(500))


class Campaign(Base):
    """打卡活动: a group's study check-in campaign and its rules.

    ``reminders`` is a list of ``{"offset_days": int, "time": "HH:MM"}`` relative to the last
    day of the period (−2 = Friday of a Monday–Sunday week); ``summary`` is one such object
    (offset 1 = the day after the period closes).
    """

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), unique=True)
    cadence: Mapped[str] = mapped_column(String(16))  # daily|weekly|monthly
    reminders: Mapped[list[Any]]
    summary: Mapped[dict[str, Any]]
    skip_holidays: Mapped[bool] = mapped_column(default=True)
    makeup_days: Mapped[int] = mapped_column(default=3)  # 补卡: within N days of the missed day
    makeup_per_month: Mapped[int] = mapped_column(default=2)  # at most K make-ups a month
    active: Mapped[bool] = mapped_column(default=True)
    starts_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CheckIn(Base):
    """打卡: one member's study for one period of a campaign (or a personal record without one).

    A second check-in in the same period adds its material and minutes to this row; the raw
    messages are kept in ``entries``.
    """

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("campaign_id", "member_id", "period_start"),
        Index("ix_checkins_campaign_period", "campaign_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL")
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    titles: Mapped[list[Any]] = mapped_column(default=list)
    minutes: Mapped[int] = mapped_column(default=0)
    notes: Mapped[list[Any]] = mapped_column(default=list)
    entries: Mapped[list[Any]] = mapped_column(default=list)
    makeup: Mapped[bool] = mapped_column(default=False)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]


class CalendarDay(Base):
    """An exception to Monday–Friday: a statutory holiday (法定节假日) or a 调休 workday.

    Copied from ``chinesecalendar`` (``source`` ``chinesecalendar``), entered by the office one
    day at a time (``manual``) or with a year's notice (``import``); a day here wins over the
    law-derived days of a provisional year (:mod:`bot.workcalendar`).
    """

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # holiday|workday
    name: Mapped[str] = mapped_column(String(32), default="")
    source: Mapped[str] = mapped_column(String(16), default="chinesecalendar")


class CalendarYear(Base):
    """A year whose days are complete: the package's (``chinesecalendar``), the office's own
    entry (``manual``), or the law-derived days the office accepted (``provisional``). A year
    not listed here is derived from the law and admins are reminded to enter it."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(16), default="chinesecalendar")
    # Where the office's entry came from: the State Council notice's title and number.
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")


class PlannerMark(Base):
    """A scheduled occurrence that has been expanded into deliveries: at most once, ever."""

    __tablename__ = "planner_marks"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    at: Mapped[datetime]


__all__ = [
    "AccessToken",
    "Alert",
    "AuditEntry",
    "Base",
    "CalendarDay",
    "CalendarYear",
    "Campaign",
    "CheckIn",
    "Delivery",
    "DialogState",
    "GateCooldown",
    "Group",
    "GroupMember",
    "InboundMessage",
    "Member",
    "PlannerMark",
    "SendLogEntry",
    "UTCDateTime",
]
import storage.models_console  # noqa: E402
import storage.models_notices  # noqa: E402
import storage.models_proposals  # noqa: E402
import storage.models_reports  # noqa: E402
import storage.models_wechat  # noqa: E402, F401
