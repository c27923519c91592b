"""The web console's (管理后台) accounts, sessions and failed logins.

Passwords are stored only as argon2 hashes. A session is stored under the SHA-256 of its cookie
value, so reading the table (a backup, a support dump) does not hand out live sessions.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, BigId


class ConsoleUser(Base):
    """A console account: a secretary (秘书) or an admin (管理员), optionally a roster member.

    When ``member_id`` is set, the member's current roster role caps the account's role: a
    secretary demoted to 委员 in the roster loses the console at once.
    """

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # secretary|admin (member: no access)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class ConsoleSession(Base):
    """A signed-in browser: expires at ``expires_at`` whatever the cookie says."""

    __tablename__ = "console_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex
    user_id: Mapped[int] = mapped_column(
        ForeignKey("console_users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ip: Mapped[str] = mapped_column(String(64), default="")


class ConsoleLoginFailure(Base):
    """One failed login, counted per username and per client address for the lockout."""

    __tablename__ = "console_login_failures"
    __table_args__ = (
        Index("ix_console_login_failures_username_at", "username", "at"),
        Index("ix_console_login_failures_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime]
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
