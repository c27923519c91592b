"""Signing in and out of the console: accounts, roles, lockout, sessions. No HTTP here.

Who may use the console: an active account whose role is 秘书 or 管理员. An account linked to a
roster member (``--member USERID``) is also capped by that member's current roster role, so a
secretary demoted to 委员 in the roster, or deactivated, loses the console at the next request:
the console never grants more than the chat would.

Lockout (锁定): ``max_failed_logins`` failures for one username, or
``max_failed_logins_per_ip`` for one client address, each within ``lockout_minutes``, lock
that username or address until ``lockout_minutes`` after the latest failure. While locked,
attempts are refused without looking at the password (even the right one) and are not counted,
so a locked account opens again on time; a success clears that username's failures.

A typed username that matches no account is stored (in failures and the audit log) only as a
hash: people type their password into the username field, and it must never be kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from bot.config import ConsoleConfig
from bot.console.security import Passwords, new_token, token_hash
from bot.labels import OFFICE_ROLES
from storage import Database, Tx
from storage.models import Member
from storage.models_console import ConsoleSession, ConsoleUser

ROLE_RANK = {"member": 0, "secretary": 1, "admin": 2}
MAX_USERNAME = 64


class LoginOutcome(Enum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    NO_ACCESS = "no_access"


LOGIN_MESSAGES = {
    LoginOutcome.BAD_CREDENTIALS: "用户名或密码不正确。",
    LoginOutcome.LOCKED: "登录失败次数过多，已暂时锁定，请稍后再试。",
    LoginOutcome.NO_ACCESS: "该账号无权使用管理后台（仅限机关秘书和管理员）。",
}


@dataclass(frozen=True, slots=True)
class Identity:
    """The signed-in account as pages see it; ``role`` is the effective role."""

    user_id: int
    username: str
    role: str  # secretary|admin
    member_userid: str | None
    member_name: str | None

    @property
    def actor(self) -> str:
        """The audit log's actor for this account's actions."""
        return f"console:{self.username}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class LoginResult:
    outcome: LoginOutcome
    token: str | None = None  # the new session's cookie value
    identity: Identity | None = None
    locked_until: datetime | None = None


def normalise_username(raw: str) -> str:
    return raw.strip().lower()[:MAX_USERNAME]


def failure_key(username: str, known: bool) -> str:
    """What failures and the audit log keep of a typed username (see the module docstring)."""
    if known:
        return username
    return "?" + hashlib.sha256(username.encode("utf-8")).hexdigest()[:40]


def effective_role(user: ConsoleUser, member: Member | None) -> str | None:
    """The role the console grants, or None for no access."""
    if not user.active:
        return None
    role = user.role
    if user.member_id is not None:
        if member is None or not member.active:
            return None
        role = min(role, member.role, key=lambda r: ROLE_RANK.get(r, 0))
    return role if role in OFFICE_ROLES else None


def identity_of(user: ConsoleUser, member: Member | None) -> Identity | None:
    role = effective_role(user, member)
    if role is None:
        return None
    return Identity(
        user.id,
        user.username,
        role,
        member.userid if member else None,
        member.name if member else None,
    )


async def locked_until(
    tx: Tx, config: ConsoleConfig, *, username: str, ip: str, now: datetime
) -> datetime | None:
    window = timedelta(minutes=config.lockout_minutes)
    checks = (
        (
            await tx.console.recent_failures(username=username, limit=config.max_failed_logins),
            config.max_failed_logins,
        ),
        (
            await tx.console.recent_failures(ip=ip, limit=config.max_failed_logins_per_ip),
            config.max_failed_logins_per_ip,
        ),
    )
    until: datetime | None = None
    for times, limit in checks:
        if len(times) >= limit and times[0] - times[-1] <= window and now < times[0] + window:
            end = times[0] + window
            until = end if until is None else max(until, end)
    return until


async def log_in(
    db: Database,
    passwords: Passwords,
    config: ConsoleConfig,
    *,
    username: str,
    password: str,
    ip: str,
    now: datetime,
) -> LoginResult:
    """Check the credentials and, if they are good and allowed, open a session."""
    username = normalise_username(username)
    async with db.read() as tx:
        user = await tx.console.user_by_name(username) if username else None
        key = failure_key(username, user is not None)
        if await locked_until(tx, config, username=key, ip=ip, now=now) is not None:
            user = None
            locked = True
        else:
            locked = False
    if locked:
        async with db.transaction() as tx:
            until = await locked_until(tx, config, username=key, ip=ip, now=now)
            await _audit_failure(tx, key, ip, now, "locked")
        return LoginResult(LoginOutcome.LOCKED, locked_until=until)
    matches, rehash = await passwords.verify(user.password_hash if user else None, password)
    async with db.transaction() as tx:
        # Checked again inside the write: parallel attempts may have locked it meanwhile.
        until = await locked_until(tx, config, username=key, ip=ip, now=now)
        if until is not None:
            await _audit_failure(tx, key, ip, now, "locked")
            return LoginResult(LoginOutcome.LOCKED, locked_until=until)
        fresh = await tx.console.user_by_name(username) if matches else None
        if fresh is None or not matches:
            await tx.console.record_failure(username=key, ip=ip, now=now)
            await _audit_failure(tx, key, ip, now, "bad_credentials")
            return LoginResult(LoginOutcome.BAD_CREDENTIALS)
        identity = identity_of(fresh, await tx.console.member_of(fresh))
        if identity is None:
            # The password was right: not a guess, so not counted towards the lockout.
            await _audit_failure(tx, key, ip, now, "no_access")
            return LoginResult(LoginOutcome.NO_ACCESS)
        if rehash:
            fresh.password_hash = passwords.hash(password)
        await tx.console.clear_failures(username)
        fresh.last_login_at = now
        token = await _open_session(tx, fresh, config, ip=ip, now=now)
        await tx.audit.record(
            at=now,
            actor=identity.actor,
            action="console.login",
            entity="console_user",
            entity_id=fresh.id,
            detail={"ip": ip, "method": "password"},
        )
    return LoginResult(LoginOutcome.OK, token=token, identity=identity)


async def open_session_for(
    db: Database, user_id: int, config: ConsoleConfig, *, ip: str, now: datetime, method: str
) -> tuple[str, Identity] | None:
    """A session for an account another login method has already verified (WeCom web
    login); None when the account has no console access."""
    async with db.transaction() as tx:
        user = await tx.session.get(ConsoleUser, user_id)
        identity = identity_of(user, await tx.console.member_of(user)) if user else None
        if user is None or identity is None:
            return None
        user.last_login_at = now
        token = await _open_session(tx, user, config, ip=ip, now=now)
        await tx.audit.record(
            at=now,
            actor=identity.actor,
            action="console.login",
            entity="console_user",
            entity_id=user.id,
            detail={"ip": ip, "method": method},
        )
    return token, identity


async def _open_session(
    tx: Tx, user: ConsoleUser, config: ConsoleConfig, *, ip: str, now: datetime
) -> str:
    await tx.console.purge_sessions(now)
    token = new_token()
    await tx.console.create_session(
        ConsoleSession(
            id_hash=token_hash(token),
            user_id=user.id,
            csrf_token=new_token(),
            created_at=now,
            expires_at=now + timedelta(hours=config.session_hours),
            ip=ip,
        )
    )
    return token


async def _audit_failure(tx: Tx, key: str, ip: str, now: datetime, reason: str) -> None:
    await tx.audit.record(
        at=now,
        actor="console:-",
        action="console.login_failed",
        entity="console_user",
        entity_id=key if not key.startswith("?") else "",
        detail={"username": key, "ip": ip, "reason": reason},
    )


@dataclass(frozen=True, slots=True)
class Signed:
    """A request's live session: who, and the session's CSRF token."""

    identity: Identity
    csrf_token: str
    id_hash: str


async def session_of(db: Database, token: str, now: datetime) -> Signed | None:
    """The live session behind a cookie value; None if unknown, expired or without access."""
    if not token or len(token) > 128:
        return None
    id_hash = token_hash(token)
    async with db.read() as tx:
        row = await tx.console.live_session(id_hash, now)
    if row is None:
        return None
    identity = identity_of(row.user, row.member)
    if identity is None:
        return None
    return Signed(identity, row.session.csrf_token, id_hash)


async def log_out(db: Database, signed: Signed, *, ip: str, now: datetime) -> None:
    async with db.transaction() as tx:
        await tx.console.end_session(signed.id_hash)
        await tx.audit.record(
            at=now,
            actor=signed.identity.actor,
            action="console.logout",
            entity="console_user",
            entity_id=signed.identity.user_id,
            detail={"ip": ip},
        )
