"""The web console's (管理后台) storage: accounts, sessions, failed logins, and the few
read-only queries its pages need that no feature repository has."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select

from storage.models import Delivery, Member
from storage.models_console import ConsoleLoginFailure, ConsoleSession, ConsoleUser
from storage.repos.base import Repo

# Failed logins older than this are never needed for a lockout decision.
FAILURE_RETENTION = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A live session with its account and the roster member the account is linked to."""

    session: ConsoleSession
    user: ConsoleUser
    member: Member | None


class ConsoleRepo(Repo):
    # -- accounts -------------------------------------------------------------------------------

    async def user_by_name(self, username: str) -> ConsoleUser | None:
        return await self.session.scalar(
            select(ConsoleUser).where(ConsoleUser.username == username)
        )

    async def add_user(self, user: ConsoleUser) -> ConsoleUser:
        self.session.add(user)
        await self.session.flush()
        return user

    async def user_by_member(self, member_id: int) -> ConsoleUser | None:
        """The account linked to a roster member (WeCom login signs in through it)."""
        return await self.session.scalar(
            select(ConsoleUser).where(ConsoleUser.member_id == member_id).order_by(ConsoleUser.id)
        )

    async def users(self) -> list[ConsoleUser]:
        return list(await self.session.scalars(select(ConsoleUser).order_by(ConsoleUser.id)))

    async def member_of(self, user: ConsoleUser) -> Member | None:
        if user.member_id is None:
            return None
        return await self.session.get(Member, user.member_id)

    # -- sessions -------------------------------------------------------------------------------

    async def create_session(self, row: ConsoleSession) -> None:
        self.session.add(row)
        await self.session.flush()

    async def live_session(self, id_hash: str, now: datetime) -> SessionRow | None:
        """The session stored under ``id_hash`` if it has not expired (server-side expiry)."""
        found = (
            await self.session.execute(
                select(ConsoleSession, ConsoleUser)
                .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
                .where(ConsoleSession.id_hash == id_hash, ConsoleSession.expires_at > now)
            )
        ).first()
        if found is None:
            return None
        session, user = found
        return SessionRow(session, user, await self.member_of(user))

    async def end_session(self, id_hash: str) -> None:
        await self.session.execute(delete(ConsoleSession).where(ConsoleSession.id_hash == id_hash))

    async def purge_sessions(self, now: datetime) -> int:
        return await self.changed(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))

    # -- failed logins --------------------------------------------------------------------------

    async def record_failure(self, *, username: str, ip: str, now: datetime) -> None:
        await self.session.execute(
            delete(ConsoleLoginFailure).where(ConsoleLoginFailure.at < now - FAILURE_RETENTION)
        )
        self.session.add(ConsoleLoginFailure(at=now, username=username, ip=ip))
        await self.session.flush()

    async def recent_failures(
        self, *, username: str | None = None, ip: str | None = None, limit: int
    ) -> list[datetime]:
        """The times of the latest ``limit`` failures for a username or a client address,
        newest first."""
        query = select(ConsoleLoginFailure.at)
        if username is not None:
            query = query.where(ConsoleLoginFailure.username == username)
        if ip is not None:
            query = query.where(ConsoleLoginFailure.ip == ip)
        rows = await self.session.scalars(
            query.order_by(ConsoleLoginFailure.at.desc(), ConsoleLoginFailure.id.desc()).limit(
                limit
            )
        )
        return list(rows)

    async def clear_failures(self, username: str) -> None:
        await self.session.execute(
            delete(ConsoleLoginFailure).where(ConsoleLoginFailure.username == username)
        )

    # -- pages ----------------------------------------------------------------------------------

    async def search_members(self, query: str, limit: int) -> tuple[list[Member], int]:
        """Members whose name, userid, mobile, sector or committee contains ``query`` (all
        when empty), by name; and how many matched in all."""
        condition = None
        if query:
            condition = or_(
                *(
                    column.contains(query, autoescape=True)
                    for column in (
                        Member.name,
                        Member.userid,
                        Member.mobile,
                        Member.sector,
                        Member.committee,
                    )
                )
            )
        listing = select(Member).order_by(Member.active.desc(), Member.name, Member.id)
        counting = select(func.count()).select_from(Member)
        if condition is not None:
            listing, counting = listing.where(condition), counting.where(condition)
        members = list(await self.session.scalars(listing.limit(limit)))
        return members, int(await self.session.scalar(counting) or 0)

    async def active_members(self) -> list[Member]:
        rows = await self.session.scalars(
            select(Member).where(Member.active, Member.userid.is_not(None)).order_by(Member.name)
        )
        return list(rows)

    async def unfinished_deliveries(self, key_prefix: str) -> int:
        """Pending deliveries whose idempotency key starts with ``key_prefix``."""
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(
                    Delivery.status == "pending",
                    Delivery.idempotency_key.startswith(key_prefix, autoescape=True),
                )
            )
            or 0
        )

    async def scheduled_deliveries(self, now: datetime, limit: int) -> list[Delivery]:
        """Pending deliveries due later than ``now`` (the scheduled pushes), soonest first."""
        rows = await self.session.scalars(
            select(Delivery)
            .where(Delivery.status == "pending", Delivery.next_attempt_at > now)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
        )
        return list(rows)
