"""The app's access token: one per app, shared by every process through the database.

WeCom hands out one ``access_token`` per app (7200 s), throttles ``gettoken`` if it is called
too often, and may revoke a token early. Projects that fetched it per process or per thread
raced each other (WxJava, silenceper/wechat); one that cached it forever broke after two hours
(LangBot). So:

- the token lives in the ``access_tokens`` row of its app (key ``"{corp_id}:{agent_id}"``) and
  in memory, and is used from memory while it has more than ``refresh_margin`` left;
- a few minutes before expiry one process, the one that wins ``TokenRepo.begin_refresh`` (a
  lease in the row), fetches a new one; the others keep using the old one while it is still
  valid, or wait briefly and re-read the row;
- within a process an asyncio lock makes concurrent senders share one fetch;
- when WeCom answers 40014/42001 the caller :meth:`AccessTokens.invalidate`\\ s the token it
  used — in the database only if the row still holds that very token, so a process holding a
  stale copy cannot erase the fresh one another process just stored — and asks again.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.wecom.api import Reply, WeComApi, WeComCallError
from storage import Database, Tx

log = logging.getLogger(__name__)


class TokenError(WeComCallError):
    """No token could be had. ``errcode`` is WeCom's answer to gettoken, or None (a gettoken
    answer without a token, or another process refreshing for too long). No secret inside."""


@dataclass(frozen=True, slots=True)
class _Token:
    value: str = field(repr=False)
    expires_at: datetime


class AccessTokens:
    """The token of one app. ``get()`` it before a call; ``invalidate()`` it on 40014/42001."""

    def __init__(
        self,
        api: WeComApi,
        db: Database,
        clock: Clock,
        *,
        app: str,
        corp_id: str,
        secret: str,
        owner: str,
        refresh_margin: timedelta = timedelta(minutes=5),
        refresh_lease: timedelta = timedelta(seconds=30),
        poll_seconds: float = 0.1,
    ) -> None:
        self.api = api
        self.db = db
        self.clock = clock
        self.app = app
        self.owner = owner
        self.refresh_margin = refresh_margin
        self.refresh_lease = refresh_lease
        self.poll_seconds = poll_seconds
        self._corp_id = corp_id
        self._secret = secret
        self._cached: _Token | None = None
        # Tokens WeCom refused. A concurrent get() that read the row before the refusal must
        # not put one back into the cache (it did: the next call failed with 40014 again).
        self._refused: collections.deque[str] = collections.deque(maxlen=16)
        self._lock = asyncio.Lock()
        self.fetches = 0  # gettoken calls made by this process (for tests and the console)

    async def get(self) -> str:
        cached = self._cached
        if cached is not None and self._fresh(cached):
            return cached.value
        async with self._lock:  # concurrent senders in this process share one look or fetch
            cached = self._cached
            if cached is not None and self._fresh(cached):
                return cached.value
            return await self._load_or_refresh()

    async def invalidate(self, token: str) -> None:
        """WeCom refused ``token``: forget it here, and in the database unless already replaced."""
        self._refused.append(token)
        if self._cached is not None and self._cached.value == token:
            self._cached = None
        async with self.db.transaction() as tx:
            await tx.tokens.invalidate(self.app, token)

    # -- internals ---------------------------------------------------------------------------

    def _fresh(self, token: _Token) -> bool:
        return self._valid(token, margin=self.refresh_margin)

    def _valid(self, token: _Token, margin: timedelta = timedelta(0)) -> bool:
        if token.value in self._refused:
            return False
        return self.clock.now() < token.expires_at - margin

    async def _load_or_refresh(self) -> str:
        loop = asyncio.get_running_loop()
        # Bounded: a refresher that died mid-fetch holds its lease for refresh_lease at most,
        # after which this process may take over; past that and a little, give up (→ Retry).
        give_up = loop.time() + self.refresh_lease.total_seconds() + 2.0
        while True:
            stored = await self._read()
            if stored is not None and self._fresh(stored):
                self._cached = stored
                return stored.value
            won, stored = await self._begin_refresh()
            if stored is not None and self._fresh(stored):
                self._cached = stored
                return stored.value
            if won:
                return await self._refresh()
            if stored is not None and self._valid(stored):
                # Another process is fetching the next token; this one still works meanwhile.
                self._cached = stored
                return stored.value
            if loop.time() >= give_up:
                raise TokenError("gettoken: another process has been refreshing for too long")
            await asyncio.sleep(self.poll_seconds)

    async def _read(self) -> _Token | None:
        async with self.db.read() as tx:
            return await self._stored(tx)

    async def _stored(self, tx: Tx) -> _Token | None:
        row = await tx.tokens.get(self.app)
        if row is None or not row.token or row.expires_at is None:
            return None
        return _Token(row.token, row.expires_at)

    async def _begin_refresh(self) -> tuple[bool, _Token | None]:
        """Try to become the refresher; also re-read the row in the same transaction.

        The re-read closes a race: between our first read and this lease, another process may
        have stored a fresh token and released its lease, which we would then win — and fetch
        a second time for nothing. Seeing the fresh token here, we hand the lease back.
        """
        async with self.db.transaction() as tx:
            won = await tx.tokens.begin_refresh(
                self.app, owner=self.owner, now=self.clock.now(), lease=self.refresh_lease
            )
            stored = await self._stored(tx)
            if won and stored is not None and self._fresh(stored):
                await tx.tokens.abandon_refresh(self.app, self.owner)
                won = False
            return won, stored

    async def _refresh(self) -> str:
        try:
            self.fetches += 1
            reply = await self.api.get_token(self._corp_id, self._secret)
            token = _granted(reply, self.clock.now())
            # gettoken is the authority: WeCom hands out the same token again while it is
            # valid, so one it refused (a passing 42001, say) is usable again if re-granted.
            while token.value in self._refused:
                self._refused.remove(token.value)
            # Valid whether or not the shared copy can be written: if the database refuses
            # the write (locked, full, gone), this process still has it, instead of waiting
            # out its own refresh lease (2 × the request timeout + 5 s) to fetch it again.
            self._cached = token
            async with self.db.transaction() as tx:
                await tx.tokens.store(self.app, token=token.value, expires_at=token.expires_at)
        except BaseException:
            # Let the next process (or the next call here) try at once instead of waiting out
            # the lease; on cancellation too, hence BaseException.
            with contextlib.suppress(Exception):
                async with self.db.transaction() as tx:
                    await tx.tokens.abandon_refresh(self.app, self.owner)
            raise
        log.info("fetched a new WeCom access token for app %s", self.app)
        self._cached = token
        return token.value


def _granted(reply: Reply, now: datetime) -> _Token:
    value = reply.body.get("access_token")
    expires_in = reply.body.get("expires_in")
    if not reply.ok or not isinstance(value, str) or not value:
        raise TokenError(reply.describe(), reply.errcode if not reply.ok else None)
    if not isinstance(expires_in, int) or expires_in <= 0:
        expires_in = 7200  # WeCom's documented lifetime, if the answer ever lacks it
    return _Token(value, now + timedelta(seconds=expires_in))
