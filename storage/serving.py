"""Who is using the database: every ``lvzhi serve`` holds a shared lock on it for as long as it
runs; ``lvzhi restore`` takes the same lock exclusively, so it cannot start while a server
runs on that database, and a server cannot start while a restore is under way.

Why a lock and not a pid file or the health endpoint: the operating system (SQLite) or the
database server (PostgreSQL) drops the lock the moment its holder dies, even by SIGKILL or a
power cut, so there is never a stale "running" to clear by hand; a pid file outlives a crash
and its number is reused, and ``/healthz`` answers only for the host and port one asks — not
for "a server on this database", which is what matters.

- SQLite: ``flock`` on ``<database file>.serve-lock`` beside the database (shared by servers,
  exclusive for a restore). Local file systems only — as for SQLite itself.
- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock_shared`` /
  ``pg_try_advisory_lock``) on a connection the server keeps open. If the database server
  restarts, the lock goes with the connection; the next restore then finds no holder even
  though servers run — stop them first (docs/operations.md's procedure says so).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import Database

# An arbitrary, fixed key for the advisory lock (any bigint; "lvzhi" in ASCII).
ADVISORY_KEY = 0x6C767A6869


class DatabaseInUse(Exception):
    """The lock is held the other way (a server runs, or a restore is under way)."""


def lock_path(url: str) -> Path:
    database = make_url(url).database or ""
    return Path(f"{database}.serve-lock")


@contextlib.asynccontextmanager
async def serving(db: Database) -> AsyncIterator[None]:
    """Held by a running server (shared with other servers)."""
    async with _held(db, exclusive=False):
        yield


@contextlib.asynccontextmanager
async def exclusive(db: Database) -> AsyncIterator[None]:
    """Held by a restore: raises :class:`DatabaseInUse` at once if a server runs."""
    async with _held(db, exclusive=True):
        yield


@contextlib.asynccontextmanager
async def _held(db: Database, *, exclusive: bool) -> AsyncIterator[None]:
    if db.is_sqlite:
        handle = _flock(lock_path(db.url), exclusive=exclusive)
        try:
            yield
        finally:
            handle.close()  # closing the descriptor releases the lock
        return
    async with db.write_engine.connect() as connection:
        function = "pg_try_advisory_lock" if exclusive else "pg_try_advisory_lock_shared"
        got = await connection.scalar(text(f"SELECT {function}(:key)"), {"key": ADVISORY_KEY})
        await connection.commit()
        if not got:
            raise DatabaseInUse(str(make_url(db.url).database))
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # a lost connection has released it anyway
                unlock = "pg_advisory_unlock" if exclusive else "pg_advisory_unlock_shared"
                await connection.execute(text(f"SELECT {unlock}(:key)"), {"key": ADVISORY_KEY})
                await connection.commit()


def _flock(path: Path, *, exclusive: bool) -> IO[Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+b")  # noqa: SIM115 - held open for as long as the lock is held
    try:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        fcntl.flock(handle.fileno(), mode | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DatabaseInUse(str(path)) from None
    os.set_inheritable(handle.fileno(), False)
    return handle
