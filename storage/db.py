"""Engines, sessions and transactions for the two deployments (SQLite embedded, PostgreSQL).

SQLite: WAL, a busy timeout, ``BEGIN IMMEDIATE`` for every write transaction so two writers
never deadlock on a lock upgrade, and one writer at a time inside the process (an asyncio lock,
cheaper than SQLite's busy-wait). Reads use a second engine with deferred transactions, which WAL
lets run beside the writer.

PostgreSQL: one engine; writers coordinate through row locks (``FOR UPDATE SKIP LOCKED``) and
advisory locks in the repositories.

SQLite, trips to the database's thread: each wakes a thread and then the event loop, and those
wake-ups were most of what a check-in cost (bench/RESULTS.md). A write transaction therefore
runs its statements inline, on the event loop's thread (SQLite answers the short statements of
a transaction in microseconds, and it holds the one write lock anyway), and makes ONE trip: its
COMMIT, whose fsync the loop does not wait for. ``BEGIN IMMEDIATE`` is tried inline without
waiting; only when another process holds the lock does it wait on the thread (busy timeout).
Reads (``read()``), which may be long (statistics, exports), go to the thread in one trip per
statement (:class:`_OneTripCursor`) instead of SQLAlchemy's four (open cursor, execute, fetch,
close).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiosqlite
from sqlalchemy import event, text
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import greenlet_spawn

from storage import fast as _fast
from storage.fast import (
    _INLINE,
    HIDE_PARAMETERS,
    Lazy,
    inline_now,
)
from storage.tx import Tx


class InlineSpans:
    """How long SQLite write transactions took, from ``BEGIN`` to the ``COMMIT``'s trip: for
    ``storage.fast.INLINE_BUDGET_SECONDS`` of it (all of it, by default) the loop runs
    nothing else, the statements being inline."""

    BOUNDS_MS = (1, 5, 20, 100)

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.longest = 0.0
        self.buckets = [0] * (len(self.BOUNDS_MS) + 1)  # ≤ 1, 5, 20, 100 ms, longer

    def record(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        self.longest = max(self.longest, seconds)
        ms = seconds * 1000
        self.buckets[next((n for n, b in enumerate(self.BOUNDS_MS) if ms <= b), -1)] += 1

    def summary(self) -> str:
        if not self.count:
            return "no write transactions"
        labels = [f"≤{b} ms" for b in self.BOUNDS_MS] + [f">{self.BOUNDS_MS[-1]} ms"]
        spread = ", ".join(f"{label} {n}" for label, n in zip(labels, self.buckets, strict=True))
        return (
            f"{self.count} write transactions, BEGIN to COMMIT: mean "
            f"{self.total / self.count * 1000:.3f} ms, longest {self.longest * 1000:.1f} ms "
            f"({spread})"
        )


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
                url,
                pool_size=pool_size,
                max_overflow=pool_size,
                echo=echo,
                pool_pre_ping=True,
                hide_parameters=HIDE_PARAMETERS,
            )
            self.read_engine = self.write_engine
        self._write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)
        # One writer at a time in this process on SQLite; PostgreSQL needs no such lock.
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None
        self.inline_spans = InlineSpans()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        if self._write_lock is None:
            async with self._write_sessions() as session, session.begin():
                yield Tx(session, self.dialect)
            return
        async with self._write_lock:
            inline = _INLINE.set(float("inf"))
            try:
                async with self._lean_transaction() as tx:
                    yield tx
            finally:
                _INLINE.reset(inline)

    @contextlib.asynccontextmanager
    async def _lean_transaction(self) -> AsyncIterator[Tx]:
        """SQLite: a pool connection, ``BEGIN IMMEDIATE`` on its driver, the statements inline
        (storage/fast.py), one trip for the ``COMMIT``. A session (and SQLAlchemy's connection
        under it, joining the begun transaction) is opened only if a repository needs one: a
        check-in's statements need none, and opening one, beginning and committing through it
        was ~0.3 ms of CPU per transaction."""
        engine = self.write_engine.sync_engine
        proxied = await greenlet_spawn(engine.pool.connect)  # checkout events fire as usual
        adapter: Any = proxied.dbapi_connection
        driver: aiosqlite.Connection = adapter._connection
        raw: sqlite3.Connection = driver._conn
        source: Lazy | None = None
        opened: list[AsyncConnection] = []
        try:
            await _sqlite_call(driver, raw, _BEGIN_IMMEDIATE, begin=True)
            _INLINE.set(time.perf_counter() + _fast.INLINE_BUDGET_SECONDS)
            start, measuring = time.perf_counter(), True

            def open_session() -> AsyncSession:
                sync = engine._connection_cls(engine, connection=proxied)
                opened.append(AsyncConnection(self.write_engine, sync))
                return AsyncSession(bind=opened[0], expire_on_commit=False)

            source = Lazy(open_session, driver, engine.dialect)
            try:
                yield Tx(source, self.dialect)
                if source.session is not None:
                    await source.session.flush()
                self.inline_spans.record(time.perf_counter() - start)
                measuring = False
                if source.session is not None:
                    await source.session.commit()  # the COMMIT, if it began
            except BaseException:
                if measuring:
                    self.inline_spans.record(time.perf_counter() - start)
                if source.session is not None:
                    with contextlib.suppress(Exception):
                        await source.session.rollback()
                if raw.in_transaction:
                    await _sqlite_call(driver, raw, "ROLLBACK")
                raise
            if raw.in_transaction:
                await _sqlite_call(driver, raw, "COMMIT")
        finally:
            if source is not None and source.session is not None:
                await source.session.close()
            if opened:
                await opened[0].close()  # SQLAlchemy's connection: returns `proxied` to the pool
            else:
                proxied.close()  # back to the pool (no reset on return)

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
    engine = create_async_engine(
        url,
        echo=echo,
        hide_parameters=HIDE_PARAMETERS,
        # Not same-thread: a write transaction's statements run on the loop's thread, its
        # COMMIT on aiosqlite's, one after the other (never at once: see _OneTripCursor).
        connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
        module=_OneTripDBAPI(aiosqlite, sqlite3),
        # Every use ends its transaction itself (a session's commit or rollback, a connection's
        # close): the pool's own ROLLBACK on return was a second one, a trip each time.
        pool_reset_on_return=None,
    )

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
        # A lean write transaction (Database._lean_transaction) began it on the driver already.
        if not conn.connection.dbapi_connection._connection._conn.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


# -- SQLite: one trip to aiosqlite's thread per statement ---------------------------------------
#
# These subclass SQLAlchemy's aiosqlite adapter (a private API: SQLAlchemy and aiosqlite are
# pinned in pyproject.toml) and change one thing: a statement opens, executes, fetches and closes
# its sqlite3 cursor in ONE function run on aiosqlite's thread, and the adapter cursor keeps what
# it learnt. Errors are the same sqlite3 exceptions, translated by the same adapter code.
# Server-side (streaming) cursors keep SQLAlchemy's own class.


_BEGIN_IMMEDIATE = "BEGIN IMMEDIATE"


def _begin_now(conn: sqlite3.Connection) -> bool:
    """``BEGIN IMMEDIATE`` if the write lock is free right now; False (nothing begun) if another
    process holds it — then the caller waits for it on the database's thread, not here."""
    (timeout,) = conn.execute("PRAGMA busy_timeout").fetchone()
    conn.execute("PRAGMA busy_timeout=0")
    try:
        conn.execute(_BEGIN_IMMEDIATE)
        return True
    except sqlite3.OperationalError as exc:
        if conn.in_transaction or ("locked" not in str(exc) and "busy" not in str(exc)):
            raise
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout={int(timeout)}")


async def _sqlite_call(
    driver: aiosqlite.Connection, raw: sqlite3.Connection, sql: str, *, begin: bool = False
) -> None:
    """BEGIN IMMEDIATE (inline if the lock is free, else on the thread with the busy
    timeout), COMMIT (on the thread: its fsync) or ROLLBACK (inline), errors raised as
    SQLAlchemy's like any statement's."""
    try:
        if sql == "ROLLBACK":
            raw.rollback()
        elif not (begin and _begin_now(raw)):
            await driver._execute(raw.execute, sql)
    except sqlite3.Error as error:
        raise DBAPIError.instance(
            sql, None, error, sqlite3.Error, hide_parameters=HIDE_PARAMETERS
        ) from error


def _run_statement(
    conn: sqlite3.Connection, operation: Any, parameters: Any, many: bool
) -> tuple[Any, list[Any], int, int | None]:
    """On aiosqlite's thread: (description, rows, rowcount, lastrowid) of one statement."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class _OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement made one trip; its rows, description, rowcount and
    lastrowid are plain attributes (nothing is read from the sqlite3 cursor afterwards)."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No aiosqlite cursor (opening one is a trip of its own): each statement opens its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._run(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        await self._run(operation, seq_of_parameters, many=True)

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        driver: Any = self._connection  # an aiosqlite.Connection: _execute and _conn are private
        outcome: tuple[Any, list[Any], int, int | None]
        async with self._adapt_connection._execute_mutex:
            if inline_now() and (operation != _BEGIN_IMMEDIATE or _begin_now(driver._conn)):
                if operation == _BEGIN_IMMEDIATE:
                    outcome = (None, [], -1, None)  # begun by _begin_now
                else:
                    outcome = _run_statement(driver._conn, operation, parameters, many)
            else:
                outcome = await driver._execute(
                    _run_statement, driver._conn, operation, parameters, many
                )
        description, rows, rowcount, lastrowid = outcome
        self._description = description
        self._rows = collections.deque(rows)
        self._rowcount = rowcount
        self._lastrowid = lastrowid

    async def _async_soft_close(self) -> None:
        pass  # the sqlite3 cursor closed on its thread; the rows and description stay here

    def close(self) -> None:
        self._rows.clear()

    def setinputsizes(self, *inputsizes: Any) -> None:
        pass  # sqlite3 ignores them too


class _OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _OneTripCursor  # type: ignore[assignment]  # a subclass; mypy wants invariance


class _OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI adapter, handing out :class:`_OneTripConnection`."""

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return _OneTripConnection(self, adapted._connection)
