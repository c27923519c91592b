"""Inbound messages (de-duplicated), dialog state, and operator alerts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.fast import Prepared
from storage.models import Alert, CallbackNonce, DialogState, InboundMessage
from storage.repos.base import Repo

# Every callback's first statement, built once per dialect: the message under its dedup key.
_inbound = cast(Table, InboundMessage.__table__)
_RECORD_KEYS = (
    "dedup_key",
    "channel",
    "sender",
    "chat_id",
    "msg_type",
    "content",
    "raw",
    "sent_at",
    "received_at",
)
_RECORD = {
    name: Prepared(
        module.insert(_inbound).on_conflict_do_nothing(index_elements=["dedup_key"]),
        _RECORD_KEYS,
    )
    for name, module in (("sqlite", sqlite), ("postgresql", postgresql))
}


class InboundRepo(Repo):
    async def first_use_of_nonce(
        self,
        *,
        endpoint: str,
        nonce: str,
        timestamp: str,
        digest: str,
        now: datetime,
        window: timedelta,
    ) -> bool:
        """Remember ``nonce`` for ``window``; False if it was seen within the window with another
        timestamp or body (a replay). The very same request again (a retry) is True."""
        await self.session.execute(
            delete(CallbackNonce).where(CallbackNonce.seen_at < now - window)
        )
        await self.session.execute(
            self.upsert_insert(CallbackNonce)
            .values(
                endpoint=endpoint, nonce=nonce, timestamp=timestamp, digest=digest, seen_at=now
            )
            .on_conflict_do_nothing(index_elements=["endpoint", "nonce"])
        )
        seen = await self.session.get(CallbackNonce, (endpoint, nonce), populate_existing=True)
        return seen is not None and (seen.timestamp, seen.digest) == (timestamp, digest)

    async def record(
        self,
        *,
        dedup_key: str,
        channel: str,
        sender: str,
        chat_id: str | None,
        msg_type: str,
        content: str,
        raw: str,
        sent_at: datetime,
        received_at: datetime,
    ) -> bool:
        """Store an accepted message; False if its key was seen before (a WeCom retry)."""
        values = {
            "dedup_key": dedup_key,
            "channel": channel,
            "sender": sender,
            "chat_id": chat_id,
            "msg_type": msg_type,
            "content": content,
            "raw": raw,
            "sent_at": sent_at,
            "received_at": received_at,
        }
        return bool(await self.changed(_RECORD[self.dialect], values))

    async def count(self) -> int:
        return int(
            await self.session.scalar(select(func.count()).select_from(InboundMessage)) or 0
        )

    async def by_key(self, dedup_key: str) -> InboundMessage | None:
        return await self.session.scalar(
            select(InboundMessage).where(InboundMessage.dedup_key == dedup_key)
        )


class DialogRepo(Repo):
    def __init__(self, session: Any, dialect: str) -> None:
        super().__init__(session, dialect)
        self._absent: set[tuple[str, str]] = set()

    def known_absent(self, chat: str, userid: str) -> None:
        """This transaction has already seen that (chat, user) has no dialog: :meth:`get`
        answers None without a query until :meth:`save` opens one. (The pipeline learns it
        with the sender's member, in the same statement.)"""
        self._absent.add((chat, userid))

    async def get(self, chat: str, userid: str, now: datetime) -> DialogState | None:
        """The dialog of (chat, user), expired or not: the caller decides what expiry means."""
        if (chat, userid) in self._absent:
            return None  # no row: FOR UPDATE would have locked nothing either
        query = select(DialogState).where(DialogState.chat == chat, DialogState.userid == userid)
        if self.dialect == "postgresql":
            query = query.with_for_update()  # the per-(chat, user) lock across processes
        return await self.session.scalar(query)

    async def save(
        self,
        chat: str,
        userid: str,
        *,
        kind: str,
        state: str,
        data: dict[str, Any],
        now: datetime,
        lifetime: timedelta,
    ) -> None:
        values = {
            "kind": kind,
            "state": state,
            "data": data,
            "expires_at": now + lifetime,
            "updated_at": now,
        }
        statement = (
            self.upsert_insert(DialogState)
            .values(chat=chat, userid=userid, **values)
            .on_conflict_do_update(index_elements=["chat", "userid"], set_=values)
        )
        self._absent.discard((chat, userid))
        await self.session.execute(statement)

    async def end(self, chat: str, userid: str) -> None:
        await self.session.execute(
            delete(DialogState).where(DialogState.chat == chat, DialogState.userid == userid)
        )

    async def expiring(self, before: datetime) -> list[DialogState]:
        rows = await self.session.scalars(
            select(DialogState).where(DialogState.expires_at <= before)
        )
        return list(rows)


class AlertRepo(Repo):
    async def raise_alert(self, *, at: datetime, kind: str, message: str) -> None:
        self.session.add(Alert(at=at, kind=kind, message=message[:500]))

    async def latest(self) -> Alert | None:
        return await self.session.scalar(select(Alert).order_by(Alert.id.desc()).limit(1))

    async def since(self, since: datetime, kinds: tuple[str, ...] | None = None) -> list[Alert]:
        query = select(Alert).where(Alert.at >= since)
        if kinds:
            query = query.where(Alert.kind.in_(kinds))
        rows = await self.session.scalars(query.order_by(Alert.id))
        return list(rows)
