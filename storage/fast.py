"""Prepared statements for the hot path, run on the transaction's driver connection.

A Core statement run through a session costs ~40-60 µs of SQLAlchemy (the greenlet bridge, the
execution context, parameter and result processing) on top of what the database does — on
SQLite, where a short statement takes a few µs, that was most of what a check-in cost
(docs/hot-path.md). :class:`Prepared` compiles a statement once per dialect (SQL text,
positional parameter order, the types' bind and result processors) and :func:`run` executes
it directly:

- **SQLite**, inside ``Database.transaction()`` (whose statements run inline on the event
  loop's thread): on the ``sqlite3`` connection, ``cursor.execute`` and ``fetchall``.
- **PostgreSQL**: on the asyncpg connection, through SQLAlchemy's adapter's own transaction and
  prepared-statement cache (as its cursor does, minus the layers above it).
- Anywhere else (a read on SQLite, a session managing its own transaction): the session's
  ordinary ``execute``.

The same guarantees as ``session.execute``: the session's pending ORM changes are flushed
first (autoflush), the transaction is begun if it was not, and a driver error is raised as
SQLAlchemy's (``OperationalError`` …), so ``storage.errors.database_unavailable`` tells a
locked, full or lost database as before. Statements whose execution needs SQLAlchemy (Python
side column defaults) are refused when compiled; expanding ``IN`` lists are expanded here on
SQLite, and run through the session on PostgreSQL.
"""

from __future__ import annotations

import contextvars
import math
import re
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, exc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

# Statement parameters stay out of logs and exception messages (``hide_parameters``): they
# hold the access token (access_tokens), robot keys and response URLs (groups, deliveries) and
# members' messages, and a failed write's exception, logged with its traceback, or ``[database]
# echo = true`` would otherwise print them. The SQL itself is still shown.
HIDE_PARAMETERS = True

# Set while a write transaction runs on SQLite (Database.transaction): until when (the
# loop's perf_counter) its statements run inline; 0.0 outside one, inf before its BEGIN.
_INLINE: contextvars.ContextVar[float] = contextvars.ContextVar("lvzhi_sqlite_inline", default=0.0)
# A write transaction's statements run inline for this long after its BEGIN; a longer one
# would send the rest to the database's thread, one trip per statement, so that the loop gets
# a turn between them. Unbounded: measured with a broadcast, that made its long transactions
# 3.5x longer while they held the write lock that every check-in waits for, and the
# check-ins' p99 5x worse (docs/hot-path.md, bench/RESULTS.md); kept for the benchmark's
# before/after (bench_broadcast.py --inline-budget-ms).
INLINE_BUDGET_SECONDS = math.inf


def inline_now() -> bool:
    """True inside a SQLite write transaction within its inline budget: statements inline."""
    return time.perf_counter() < _INLINE.get()


def in_write_transaction() -> bool:
    """True inside a SQLite write transaction (inline or not)."""
    return _INLINE.get() > 0.0


_Processor = Callable[[Any], Any] | None
_STATUS = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")
_MISSING = object()


class Lazy:
    """A SQLite write transaction's session, opened the first time a repository needs it
    (Database._lean_transaction); until then statements run on ``driver`` alone. Entities
    built from rows (:func:`entity`) join the session when it opens."""

    __slots__ = ("_open", "adopted", "dialect", "driver", "session")

    def __init__(
        self,
        open_session: Callable[[], AsyncSession],
        driver: Any,
        dialect: Dialect,
    ) -> None:
        self._open = open_session
        self.driver = driver  # the aiosqlite connection (its sqlite3 one: ``driver._conn``)
        self.dialect = dialect
        self.session: AsyncSession | None = None
        self.adopted: dict[Any, Any] = {}

    def get(self) -> AsyncSession:
        if self.session is None:
            self.session = self._open()
            # Persistent, as if this session had loaded them: a later query returns the same
            # objects, and a relationship to one (``author=ctx.member``) inserts nothing.
            self.session.add_all(self.adopted.values())
        return self.session


Source = AsyncSession | Lazy


def session_of(source: Source) -> AsyncSession:
    return source if isinstance(source, AsyncSession) else source.get()


def entity(source: Source, cls: type[_E], values: dict[str, Any]) -> _E:
    """The persistent ``cls`` entity of a row's ``values`` (all its columns), built without
    the ORM's loading: the session's own object if it has that row already, else a new one
    that joins the session (at once, or when a lazy one opens)."""
    mapper = _mappers.get(cls)
    if mapper is None:
        mapper = _mappers[cls] = sa_inspect(cls)
    key = mapper.identity_key_from_primary_key([values[c.key] for c in mapper.primary_key])
    if isinstance(source, Lazy) and source.session is None:
        found = source.adopted.get(key)
        if found is None:
            found = source.adopted[key] = _detached(mapper, values)
        return cast(_E, found)
    session = session_of(source).sync_session
    found = session.identity_map.get(key)
    if found is None:
        found = _detached(mapper, values)
        session.add(found)
    return cast(_E, found)


def columns_of(cls: type) -> tuple[list[str], list[Any]]:
    """An entity's attribute names and their columns, in one order: what a Core select of
    the entity's row reads, for :func:`entity`."""
    props: list[Any] = list(sa_inspect(cls).column_attrs)
    return [p.key for p in props], [p.columns[0] for p in props]


def _detached(mapper: Any, values: dict[str, Any]) -> Any:
    """A detached object of the row, as if a session had loaded it and let it go: its values
    set without attribute events (a third of the constructor's cost), then all committed."""
    obj = mapper.class_manager.new_instance()
    obj.__dict__.update(values)
    make_transient_to_detached(obj)
    return obj


_E = TypeVar("_E")
_mappers: dict[type, Any] = {}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a statement gave: its rows (tuples, values processed as SQLAlchemy would) and how
    many rows it touched."""

    rows: list[tuple[Any, ...]]
    rowcount: int

    def first(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    keys: tuple[str, ...]  # the caller's parameter for each position
    defaults: tuple[Any, ...]  # a literal's value, or _MISSING: the caller must give it
    binds: tuple[_Processor, ...]
    results: tuple[_Processor, ...]
    any_bind: bool
    any_result: bool
    # Expanding ``IN`` parameters (qmark only): the SQL around their tokens, and which
    # positions are lists; None when there are none.
    pieces: tuple[str, ...] | None = None
    expanding: tuple[bool, ...] = ()
    by_lengths: dict[tuple[int, ...], str] | None = None
    session_only: bool = False  # run through the session (asyncpg with an expanding IN)


class Prepared:
    """A statement compiled once per dialect. ``keys``: an INSERT's columns (it is compiled for
    exactly those, as ``session.execute(insert(t), {...})`` would be for the dict's keys)."""

    __slots__ = ("_by_dialect", "keys", "statement")

    def __init__(self, statement: Any, keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.keys = list(keys) if keys is not None else None
        self._by_dialect: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            found = self._by_dialect[dialect.name] = _compile(self, dialect)
        return found


def _compile(prepared: Prepared, dialect: Dialect) -> _Compiled:
    compiled: Any = prepared.statement.compile(dialect=dialect, column_keys=prepared.keys)
    if compiled.insert_prefetch or compiled.update_prefetch:
        raise ValueError("a Prepared statement cannot compute Python-side defaults; give them")
    names = compiled.positiontup
    if names is None:
        raise ValueError(f"{dialect.name}: a positional paramstyle is needed")
    processors = compiled._bind_processors
    keys, defaults, binds, expanding = [], [], [], []
    for name in names:
        bind = compiled.binds[name]
        if bind.callable is not None:
            raise ValueError("a Prepared statement takes plain parameters")
        expanding.append(bool(bind.expanding))
        keys.append(bind.key)
        defaults.append(_MISSING if bind.required else bind.value)
        binds.append(processors.get(name))
    results = [
        column[3]._cached_result_processor(dialect, None) for column in compiled._result_columns
    ]
    pieces = None
    if any(expanding):
        if dialect.paramstyle != "qmark":
            return _Compiled(compiled.string, (), (), (), (), False, False, session_only=True)
        pieces = tuple(_POSTCOMPILE.split(compiled.string)[::2])
    return _Compiled(
        sql=compiled.string,
        keys=tuple(keys),
        defaults=tuple(defaults),
        binds=tuple(binds),
        results=tuple(results),
        any_bind=any(p is not None for p in binds),
        any_result=any(p is not None for p in results),
        pieces=pieces,
        expanding=tuple(expanding),
        by_lengths={} if pieces is not None else None,
    )


_POSTCOMPILE = re.compile(r"__\[POSTCOMPILE_(\w+)\]")


def _expanded(compiled: _Compiled, values: list[Any]) -> tuple[str, list[Any]]:
    """The SQL and flat parameters of a statement with ``IN`` lists, for these lists."""
    assert compiled.pieces is not None and compiled.by_lengths is not None
    lengths = tuple(len(v) for v, e in zip(values, compiled.expanding, strict=True) if e)
    sql = compiled.by_lengths.get(lengths)
    if sql is None:
        marks = [", ".join("?" * n) for n in lengths]
        sql = compiled.pieces[0] + "".join(
            m + piece for m, piece in zip(marks, compiled.pieces[1:], strict=True)
        )
        if len(compiled.by_lengths) < 64:
            compiled.by_lengths[lengths] = sql
    flat: list[Any] = []
    for v, e in zip(values, compiled.expanding, strict=True):
        if e:
            flat.extend(v)
        else:
            flat.append(v)
    return sql, flat


def _parameters(compiled: _Compiled, params: Mapping[str, Any]) -> list[Any]:
    values = []
    for key, default in zip(compiled.keys, compiled.defaults, strict=True):
        values.append(params[key] if default is _MISSING else params.get(key, default))
    if compiled.any_bind:
        values = [
            v if p is None else [p(x) for x in v] if e else p(v)
            for p, v, e in zip(compiled.binds, values, compiled.expanding, strict=True)
        ]
    return values


def _processed(compiled: _Compiled, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    if not compiled.any_result:
        return [tuple(row) for row in rows]
    procs = compiled.results
    return [
        tuple(v if p is None else p(v) for p, v in zip(procs, row, strict=True)) for row in rows
    ]


async def run(
    source: Source, prepared: Prepared, params: Mapping[str, Any] | None = None
) -> Outcome:
    """Execute ``prepared`` in the session's transaction (see the module's docstring)."""
    params = params or {}
    if isinstance(source, Lazy):
        if source.session is None:
            compiled = prepared.compiled(source.dialect)
            return await _run_sqlite(source.driver, compiled, params, source.dialect)
        session = source.session
    else:
        session = source
    sync = session.sync_session
    if sync.autoflush and not sync._is_clean():
        await session.flush()
    cached = sync.info.get(_KEY)
    transaction = sync.get_transaction()
    if cached is None or cached[0] is not transaction or transaction is None:
        cached = await _driver(session)
    _transaction, kind, dialect, driver = cached
    compiled = prepared.compiled(dialect)
    if kind == "sqlite":
        return await _run_sqlite(driver, compiled, params, dialect)
    if kind == "asyncpg" and not compiled.session_only:
        return await _run_asyncpg(driver, compiled, params, dialect)
    result = await session.execute(prepared.statement, dict(params))
    if isinstance(result, CursorResult):
        rows = [tuple(row) for row in result] if result.returns_rows else []
        return Outcome(rows, int(result.rowcount or 0))
    return Outcome([tuple(row) for row in result], -1)


_KEY = "lvzhi_fast_driver"


async def _driver(session: AsyncSession) -> tuple[Any, str, Dialect, Any]:
    """The session's transaction (begun here if need be), which way to run statements in it,
    its dialect and its driver connection; remembered for the transaction's next statements."""
    connection = await session.connection()
    dialect = connection.dialect
    raw = await connection.get_raw_connection()
    adapter: Any = raw.dbapi_connection
    kind, driver = "session", None
    if dialect.name == "sqlite" and in_write_transaction():
        kind, driver = "sqlite", adapter._connection
    elif dialect.driver == "asyncpg":
        kind, driver = "asyncpg", adapter
    cached = (session.sync_session.get_transaction(), kind, dialect, driver)
    session.sync_session.info[_KEY] = cached
    return cached


async def _run_sqlite(
    driver: Any, compiled: _Compiled, params: Mapping[str, Any], dialect: Dialect
) -> Outcome:
    """Inline within the transaction's budget, else one trip to the database's thread."""
    values = _parameters(compiled, params)
    sql = compiled.sql
    if compiled.pieces is not None:
        sql, values = _expanded(compiled, values)
    try:
        if inline_now():
            rows, rowcount = _sqlite_statement(driver._conn, sql, values)
        else:
            rows, rowcount = await driver._execute(_sqlite_statement, driver._conn, sql, values)
    except sqlite3.Error as error:
        raise _wrapped(compiled, values, error, dialect, invalidated=False) from error
    return Outcome(_processed(compiled, rows), rowcount)


def _sqlite_statement(conn: sqlite3.Connection, sql: str, values: list[Any]) -> tuple[Any, int]:
    cursor = conn.execute(sql, values)
    try:
        return (cursor.fetchall() if cursor.description else []), cursor.rowcount
    finally:
        cursor.close()


async def _run_asyncpg(
    adapter: Any, compiled: _Compiled, params: Mapping[str, Any], dialect: Any
) -> Outcome:
    values = _parameters(compiled, params)
    try:
        async with adapter._execute_mutex:
            if adapter._transaction is None:
                await adapter._start_transaction()
            try:
                statement, _attributes = await adapter._prepare(
                    compiled.sql, dialect._invalidate_schema_cache_asof
                )
                rows = await statement.fetch(*values)
                status = statement.get_statusmsg()
            except Exception as error:
                adapter._handle_exception(error)  # raises it as the DBAPI adapter's error
    except dialect.loaded_dbapi.Error as error:
        invalidated = dialect.is_disconnect(error, adapter, None)
        raise _wrapped(compiled, values, error, dialect, invalidated=invalidated) from error
    found = _STATUS.match(status or "")
    return Outcome(_processed(compiled, rows), int(found.group(1)) if found else -1)


def _wrapped(
    compiled: _Compiled,
    values: list[Any],
    error: Exception,
    dialect: Dialect,
    *,
    invalidated: bool,
) -> exc.StatementError:
    return exc.DBAPIError.instance(
        compiled.sql,
        values,
        error,
        dialect.loaded_dbapi.Error,
        hide_parameters=HIDE_PARAMETERS,
        connection_invalidated=invalidated,
        dialect=dialect,
    )
