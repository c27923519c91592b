"""Fault: the database goes away, is locked, or is full, while callbacks keep coming.

What the tests prove: a callback the server could not store is answered non-200 (so that
WeCom sends it again) rather than 200-and-lost; every message answered 200 is stored, once;
and the server recovers by itself when the database is back — no restart, no operator.

- PostgreSQL "restarted" under load: a TCP proxy in front of the real server (which other
  tests share and which must not be touched) resets every connection and refuses new ones for
  a few seconds, then comes back.
- SQLite locked by another process holding ``BEGIN EXCLUSIVE`` for longer than the configured
  busy timeout.
- SQLite disk full. A tiny tmpfs needs root mounts, and LD_PRELOAD tricks are fragile and
  would fail every write of the process (its log too); instead the test lowers SQLite's own
  ``PRAGMA max_page_count`` on the server's write connections (a pool checkout hook) to the
  file's current size. SQLite then refuses to grow the file with SQLITE_FULL, "database or
  disk is full" — the very error, raised at the very place, that a full disk produces (SQLite
  maps a short write or ENOSPC to SQLITE_FULL too), limited to this database file, and
  undone by raising the limit again, which is the "disk freed" of the test.

Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.config import build_config
from bot.pipeline import INTERNAL_ERROR
from handlers.help import MEMBER_HELP
from storage import Database
from tests.faults import (
    FAST_DELIVERY,
    Answer,
    TcpProxy,
    WeComCaller,
    dedup_key,
    delivered_counts,
    deliveries,
    fake_wecom,
    inbound_keys,
    latency_summary,
    member_ids,
    outbox_settled,
    seed,
    serve_in_process,
    server_settings,
    statuses,
    text_callback,
    wait_until,
)
from tests.procs import ServeProcess, SqliteLocker

CONCURRENCY = FAST_DELIVERY["concurrency"]


@dataclass(frozen=True, slots=True)
class Timed:
    started: float
    ended: float
    answer: Answer


async def steady_load(
    caller: WeComCaller, calls: list[tuple[str, Any]], *, interval: float
) -> list[Timed]:
    """One callback every ``interval`` seconds, each answered in its own time."""

    async def timed(key: str, callback: Any) -> Timed:
        started = time.perf_counter()
        answer = await caller.send(key, callback)
        return Timed(started, time.perf_counter(), answer)

    tasks = []
    for key, callback in calls:
        tasks.append(asyncio.create_task(timed(key, callback)))
        await asyncio.sleep(interval)
    return list(await asyncio.gather(*tasks))


async def health(http: aiohttp.ClientSession, base_url: str) -> int:
    async with http.get(f"{base_url}/healthz") as response:
        return response.status


def assert_nothing_accepted_was_lost(caller: WeComCaller, stored: list[str]) -> None:
    missing = caller.accepted - set(stored)
    assert not missing, f"answered 200 but not stored: {sorted(missing)[:5]}"


# -- PostgreSQL restarted --------------------------------------------------------------------


async def test_postgres_restart_under_load(pg_url: str, tmp_path: Path) -> None:
    """A steady stream of callbacks while PostgreSQL "restarts" for 2 s: callbacks inside
    the outage answer non-200, none is accepted and lost, and the server (its pool pre-pings
    and reconnects) accepts again by itself once the database is back."""
    senders = member_ids(60)
    await seed(pg_url, members=senders)
    calls = [(dedup_key(s, 1), text_callback(s, 1)) for s in senders]
    url = make_url(pg_url)
    async with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy, fake_wecom() as fake:
        proxied = url.set(host="127.0.0.1", port=proxy.port)
        settings = server_settings(
            proxied.render_as_string(hide_password=False), fake, database={"pool_size": 4}
        )
        async with ServeProcess(tmp_path, settings) as server, aiohttp.ClientSession() as http:
            caller = WeComCaller(http, server.base_url)
            load = asyncio.create_task(steady_load(caller, calls, interval=0.05))
            await asyncio.sleep(0.7)
            async with proxy.outage():
                outage_from = time.perf_counter()
                await asyncio.sleep(0.8)
                health_during = await health(http, server.base_url)
                await asyncio.sleep(1.2)
                outage_until = time.perf_counter()
            timed = await load
            back = [t for t in timed if t.started >= outage_until]
            recovered_in = min(
                (t.ended - outage_until for t in back if t.answer.status == 200), default=None
            )
            resends = await caller.retry_until_accepted(calls)
            await wait_until(lambda: outbox_settled(pg_url), "the outbox to drain")
            health_after = await health(http, server.base_url)

    stored = await inbound_keys(pg_url)
    inside = [t for t in timed if t.started >= outage_from and t.ended <= outage_until]
    replies = delivered_counts(fake, "message/send")
    twice = sorted(m for m, n in replies.items() if n > 1)
    during = [t.answer for t in inside]
    print(
        f"\nPostgreSQL outage 2 s under load: {len(timed)} callbacks, "
        f"{statuses(t.answer for t in timed)}; inside the outage {statuses(during)} "
        f"({latency_summary(during)}); "
        f"first 200 {recovered_in if recovered_in is None else round(recovered_in, 2)} s "
        f"after the database came back; {resends} resends; /healthz {health_during} during, "
        f"{health_after} after; replies sent twice {len(twice)} (worker concurrency "
        f"{CONCURRENCY}); proxy connections {proxy.connections}"
    )
    assert inside and all(t.answer.status != 200 for t in inside)
    assert_nothing_accepted_was_lost(caller, stored)
    assert sorted(stored) == sorted(key for key, _ in calls)
    assert recovered_in is not None and recovered_in < 5.0
    assert (health_during, health_after) == (503, 200)
    assert set(replies) == set(senders) and len(twice) <= CONCURRENCY


# -- SQLite locked by another process --------------------------------------------------------


async def test_sqlite_locked_by_another_process(sqlite_url: str) -> None:
    """Another process holds the SQLite file with BEGIN EXCLUSIVE for 3 s, ten times the
    busy timeout: callbacks answer 500 in about the busy timeout, nothing of theirs is
    stored, and once the lock is gone the retries are stored once and answered."""
    senders = member_ids(10)
    await seed(sqlite_url, members=senders)
    calls = [(dedup_key(s, 1), text_callback(s, 1)) for s in senders]
    path = Path(make_url(sqlite_url).database or "")
    async with fake_wecom() as fake:
        config = build_config(
            server_settings(sqlite_url, fake, database={"sqlite_busy_timeout_ms": 300}),
            environ={},
        )
        async with serve_in_process(config) as server, aiohttp.ClientSession() as http:
            caller = WeComCaller(http, server.base_url)
            assert (await caller.send(*calls[0])).status == 200
            async with SqliteLocker(path, seconds=3.0):
                locked = [await caller.send(*call) for call in calls[1:4]]
                stored_while_locked = await inbound_keys(sqlite_url)
            resends = await caller.retry_until_accepted(calls)
            drained_in = await wait_until(
                lambda: outbox_settled(sqlite_url), "the outbox to drain"
            )

    stored = await inbound_keys(sqlite_url)
    print(
        f"\nSQLite locked 3 s by another process (busy timeout 0.3 s): {statuses(locked)} "
        f"({latency_summary(locked)}); {resends} resends after the lock was released, outbox "
        f"drained {drained_in:.1f} s later"
    )
    assert all(a.status == 500 for a in locked)
    assert all(a.seconds < 5.0 for a in locked)  # inside WeCom's 5 s: it retries a 500 at once
    assert stored_while_locked == [calls[0][0]]
    assert_nothing_accepted_was_lost(caller, stored)
    assert sorted(stored) == sorted(key for key, _ in calls)
    assert set(delivered_counts(fake, "message/send")) == set(senders)


# -- SQLite disk full ------------------------------------------------------------------------


class DiskFull:
    """Caps the SQLite file at its current size on every write connection checked out while
    ``on`` (see the module docstring): SQLITE_FULL from SQLite itself."""

    UNLIMITED = 1_073_741_823  # SQLite's default max_page_count before 3.45; far above any test

    def __init__(self, db: Database) -> None:
        self.engine = db.write_engine.sync_engine
        self.on = False
        event.listen(self.engine, "checkout", self._checkout)

    def _checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        # A limit below the current size is raised to it: 1 means "no growth at all".
        cursor.execute(f"PRAGMA max_page_count = {1 if self.on else self.UNLIMITED}")
        cursor.close()

    def remove(self) -> None:
        event.remove(self.engine, "checkout", self._checkout)


@pytest.fixture
def reflection() -> str:
    # Long enough that its inbound row needs fresh pages (overflow pages of 4 KiB).
    return "打卡 读《乡土中国》30分钟 心得：" + "乡村振兴离不开基层治理的现代化。" * 600


async def test_sqlite_disk_full(sqlite_url: str, reflection: str) -> None:
    """With the file unable to grow, long check-ins answer non-200 and leave nothing behind;
    once there is room again the retries are stored once and answered."""
    senders = member_ids(6)
    await seed(sqlite_url, members=senders)
    calls = [(dedup_key(s, 1), text_callback(s, 1, reflection)) for s in senders]
    async with fake_wecom() as fake:
        config = build_config(server_settings(sqlite_url, fake), environ={})
        async with serve_in_process(config) as server, aiohttp.ClientSession() as http:
            caller = WeComCaller(http, server.base_url)
            limit = DiskFull(server.runtime.db)
            try:
                assert (await caller.send(*calls[0])).status == 200
                limit.on = True
                full = [await caller.send(*call) for call in calls[1:]]
                stored_while_full = await inbound_keys(sqlite_url)
                limit.on = False
                resends = await caller.retry_until_accepted(calls)
                await wait_until(lambda: outbox_settled(sqlite_url), "the outbox to drain")
            finally:
                limit.remove()

    stored = await inbound_keys(sqlite_url)
    rows = await deliveries(sqlite_url)
    print(
        f"\nSQLite disk full: {statuses(full)} ({latency_summary(full)}); {resends} resends "
        f"once there was room; outbox {[r.status for r in rows]}"
    )
    assert all(a.status == 500 for a in full)
    assert stored_while_full == [calls[0][0]]
    assert_nothing_accepted_was_lost(caller, stored)
    assert sorted(stored) == sorted(key for key, _ in calls)
    assert set(delivered_counts(fake, "message/send")) == set(senders)


async def test_the_disk_filling_during_a_handler_fails_the_whole_message(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up during the handler's own writes, after the inbound row was written
    (page by page, the test above cannot aim at that moment, so the handler raises what
    SQLAlchemy raises for SQLite's SQLITE_FULL). The whole message fails — 500, nothing kept
    — instead of being recorded with an apology while what the member asked for is lost; the
    retry then gets the real answer."""
    await seed(sqlite_url, members=["m0000"])
    call = (dedup_key("m0000", 1), text_callback("m0000", 1))
    full = OperationalError(
        "INSERT INTO check_ins …", None, sqlite3.OperationalError("database or disk is full")
    )
    async with fake_wecom() as fake:
        config = build_config(server_settings(sqlite_url, fake), environ={})
        async with serve_in_process(config) as server, aiohttp.ClientSession() as http:
            caller = WeComCaller(http, server.base_url)

            async def disk_full(_ctx: Any) -> None:
                raise full

            monkeypatch.setattr(server.runtime.dispatcher, "dispatch", disk_full)
            failed = await caller.send(*call)
            stored_while_full = await inbound_keys(sqlite_url)
            monkeypatch.undo()
            await caller.retry_until_accepted([call])
            await wait_until(lambda: outbox_settled(sqlite_url), "the reply to go")

    assert failed.status == 500 and stored_while_full == []
    assert await inbound_keys(sqlite_url) == [call[0]]
    [reply] = fake.delivered("message/send")
    assert reply.content == MEMBER_HELP != INTERNAL_ERROR
