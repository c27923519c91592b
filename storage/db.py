"""Engines, sessions and transactions for the two deployments (SQLite embedded, PostgreSQL).

SQLite: WAL, a busy timeout, ``BEGIN IMMEDIATE`` for every write transaction so two writers
never deadlock on a lock upgrade, and one writer at a time inside the process (an asyncio lock,
cheaper than SQLite's busy-wait). Reads use a second engine with deferred transactions, which WAL
lets run beside the writer.

PostgreSQL: one engine; writers coordinate through row locks (``FOR UPDATE SKIP LOCKED``) and
advisory locks in the repositories.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.tx import Tx


class Database:
    """The process's handle on the database: ``transaction()`` to write, ``read()`` to read."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        sqlite_busy_timeout_ms: int = 5000,
        echo: bool = False,
    ) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        self.is_sqlite = self.dialect == "sqlite"
        if self.is_sqlite:
            self.write_engine = _sqlite_engine(url, sqlite_busy_timeout_ms, echo, immediate=True)
            self.read_engine = _sqlite_engine(url, sqlite_busy_timeout_ms, echo, immediate=False)
        else:
            self.write_engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, echo=echo, pool_pre_ping=True
            )
            self.read_engine = self.write_engine
        self._write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)
        # One writer at a time in this process on SQLite; PostgreSQL needs no such lock.
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        lock = self._write_lock or contextlib.nullcontext()
        async with lock, self._write_sessions() as session, session.begin():
            yield Tx(session, self.dialect)

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A read-only view. Closing the session rolls back (nothing written here is kept) and
        leaves the loaded objects usable, detached."""
        async with self._read_sessions() as session:
            yield Tx(session, self.dialect)

    async def ping(self) -> None:
        async with self.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()

    def session(self) -> AsyncSession:
        """A bare write session, for code (migrations, tests) that manages its own transaction."""
        return self._write_sessions()


def _sqlite_engine(url: str, busy_timeout_ms: int, echo: bool, *, immediate: bool) -> AsyncEngine:
    if make_url(url).database in (None, "", ":memory:"):
        raise ValueError("an in-memory SQLite database cannot be shared; give a file path")
    engine = create_async_engine(url, echo=echo, connect_args={"timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: a callback answered 200 has been fsynced; WeCom will not send it again.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
