"""One accepted message, one transaction: record it once, dispatch it, queue its replies.

The inbound row, whatever the handler writes, and the replies it queues commit together (the
transactional outbox), so a crash leaves either all of them or none — and WeCom, which got no
200, sends the message again. A retry of a message already recorded does nothing.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import queue, queue_all
from bot.dispatcher import Context, Dispatcher, reply_to
from bot.errors import PermissionDenied, UserFacingError
from bot.messages import Incoming, Outgoing, Send
from bot.workcalendar import WorkCalendar
from storage import Database, Tx
from storage.errors import database_unavailable
from storage.models import Member

log = logging.getLogger(__name__)

NOT_IN_ROSTER = "您好，您还不在本委员会的名册中，暂时无法使用履职助手。如有疑问请联系机关秘书。"
INTERNAL_ERROR = "抱歉，处理您的消息时出了点问题，已记录下来。请稍后再试，或联系机关秘书。"


@dataclass(frozen=True, slots=True)
class Handled:
    duplicate: bool
    replies: tuple[Outgoing, ...] = ()


class KeyedLocks:
    """One asyncio lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: collections.Counter[str] = collections.Counter()

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]


@dataclass(frozen=True, slots=True)
class Identified:
    """Who sent a message, as a channel's identify hook found out: the message as the
    dispatcher should see it, the roster member (None: not on the roster or not bound yet) and,
    when the channel answers without dispatching (the 公众号's binding dialog, its events),
    those answers."""

    incoming: Incoming
    member: Member | None
    answers: tuple[str, ...] | None = None


class Identify(Protocol):
    """A channel's way to tell who is writing, registered by the runtime
    (:meth:`Pipeline.identify_channel`); WeCom's userid needs none."""

    async def __call__(self, tx: Tx, incoming: Incoming, now: datetime) -> Identified: ...


class Pipeline:
    def __init__(
        self,
        db: Database,
        dispatcher: Dispatcher,
        config: Config,
        clock: Clock,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.config = config
        self.clock = clock
        self.on_queued = on_queued
        self.calendar = WorkCalendar.empty()  # the runtime loads the real one at start
        self.reply_ttl = timedelta(hours=config.delivery.default_ttl_hours)
        # Replies to a 公众号 message wait this long for the callback to take the first one as
        # its passive reply (被动回复); after that the worker sends them (客服消息).
        self.passive_hold = timedelta(seconds=config.wechat.passive_reply_seconds)
        self._locks = KeyedLocks()
        self._identifiers: dict[str, Identify] = {}

    def identify_channel(self, channel: str, hook: Identify) -> None:
        """Messages of ``channel`` are identified by ``hook`` instead of by WeCom userid."""
        self._identifiers[channel] = hook

    async def handle(self, incoming: Incoming) -> Handled:
        async with self._locks.hold(f"{incoming.chat_key}|{incoming.sender}"):
            result = await self._handle(incoming)
        if result.replies:
            self.on_queued()
        return result

    async def _handle(self, incoming: Incoming) -> Handled:
        try:
            return await self._attempt(incoming)
        except _HandlerFailed as failed:
            # The handler's transaction rolled back whole (no savepoint per message: most never
            # fail, and two more statements each was measurable). Record the message again,
            # with the answer that says what went wrong instead of the handler's writes.
            return await self._attempt(incoming, failed)

    async def _attempt(self, incoming: Incoming, failed: _HandlerFailed | None = None) -> Handled:
        now_utc = self.clock.now()
        now = now_utc.astimezone(self.config.time.zone)
        async with self.db.transaction() as tx:
            fresh = await tx.inbound.record(
                dedup_key=incoming.dedup_key,
                channel=incoming.channel,
                sender=incoming.sender,
                chat_id=incoming.chat_id,
                msg_type=incoming.msg_type,
                content=incoming.text[:8000],
                raw=incoming.raw[:20000],
                sent_at=incoming.sent_at,
                received_at=now_utc,
            )
            if not fresh:
                return Handled(duplicate=True)
            incoming, member, answers = await self._identify(tx, incoming, now_utc)
            if answers is not None:
                # Answered before dispatching: a 公众号 follower's binding dialog or event.
                replies = [reply_to(incoming, a, first=not n) for n, a in enumerate(answers)]
                sends: list[Send] = []
            elif member is None or not member.active:
                # Not in the roster: a polite refusal and nothing else.
                replies, sends = [reply_to(incoming, NOT_IN_ROSTER, first=True)], []
            else:
                ctx = Context(
                    incoming=incoming,
                    member=member,
                    tx=tx,
                    config=self.config,
                    now=now,
                    calendar=self.calendar,
                )
                if failed is None:
                    await self._dispatch(ctx)
                else:
                    ctx.reply(failed.answer, shareable=failed.shareable)
                replies, sends = ctx.replies, ctx.sends
            for n, reply in enumerate(replies):
                key = f"reply:{incoming.dedup_key}:{n}"
                held = now_utc + self.passive_hold if reply.to_wechat else None
                await queue(tx, reply, key=key, now=now_utc, send_at=held, ttl=self.reply_ttl)
            await queue_all(tx, sends, now=now_utc)
        return Handled(duplicate=False, replies=tuple(replies))

    async def _identify(
        self, tx: Tx, incoming: Incoming, now: datetime
    ) -> tuple[Incoming, Member | None, tuple[str, ...] | None]:
        """The sender's roster member; for the 公众号, the member its OpenID is bound to (and
        the message as that member's), or the answers of the binding dialog."""
        hook = self._identifiers.get(incoming.channel)
        if hook is not None:
            found = await hook(tx, incoming, now)
            return found.incoming, found.member, found.answers
        # The member, and whether a dialog is open, in one query: with none open (most
        # messages) the dispatcher's look for one costs nothing.
        member, dialog_open = await tx.members.sender(incoming.sender, incoming.chat_key)
        if not dialog_open:
            tx.dialogs.known_absent(incoming.chat_key, incoming.sender)
        return incoming, member, None

    async def _dispatch(self, ctx: Context) -> None:
        """Run the handler; if it fails, raise :class:`_HandlerFailed` with the answer (the
        transaction then rolls back, handler's writes and all)."""
        try:
            await self.dispatcher.dispatch(ctx)
        except UserFacingError as exc:
            # A refusal of the route says only what the sender may not do: the group may read
            # it. Any other answer may be about the sender's own things (a report's state, a
            # make-up's period …): private, like every answer.
            raise _HandlerFailed(exc.message, isinstance(exc, PermissionDenied)) from exc
        except Exception as exc:
            if database_unavailable(exc):
                # Not the handler's fault: the database is locked, full or gone. Recording the
                # message with an apology would lose what the member asked for; failing the
                # whole transaction makes the callback answer 500, and WeCom sends it again.
                raise
            # The message is recorded again with the apology, and the member is told, never
            # left in silence.
            log.exception("handler failed for message %s", ctx.incoming.dedup_key)
            raise _HandlerFailed(INTERNAL_ERROR, True) from exc


class _HandlerFailed(Exception):
    """The handler raised: its writes are rolled back, and this is the sender's answer."""

    def __init__(self, answer: str, shareable: bool) -> None:
        super().__init__(answer)
        self.answer = answer
        self.shareable = shareable
