"""Shared fixtures: databases on both backends, a fake clock, a config builder.

PostgreSQL tests read their URL from ``LVZHI_TEST_POSTGRES_URL`` (``.ci/run`` sets it). Unset,
they skip with that reason; set, a failure to connect is a test failure. Each test gets a fresh
database of its own, created from the ``test`` database's server and dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import make_url

from bot.clock import FakeClock
from bot.config import Config, build_config
from storage import Database
from storage.migrate import upgrade

PG_ENV = "LVZHI_TEST_POSTGRES_URL"
T = TypeVar("T")


def postgres_url() -> str | None:
    return os.environ.get(PG_ENV) or None


requires_postgres = pytest.mark.skipif(
    postgres_url() is None, reason=f"set {PG_ENV} to run the PostgreSQL tests"
)


@pytest.fixture
def clock() -> FakeClock:
    # Tuesday 2025-11-25 10:00 in Shanghai.
    return FakeClock(datetime(2025, 11, 25, 2, 0, tzinfo=UTC))


def make_config(db_url: str, **sections: dict[str, Any]) -> Config:
    data: dict[str, Any] = {"database": {"url": db_url}}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return build_config(data, environ={})


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    """The URL of a SQLite file that does not exist yet."""
    return f"sqlite+aiosqlite:///{tmp_path / 'lvzhi.db'}"


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated SQLite database of this test's own (a copy of the session's template)."""
    path = tmp_path / "lvzhi.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


async def _admin() -> Any:
    """A connection to the server's ``test`` database, for creating and dropping others."""
    import asyncpg

    url = make_url(postgres_url() or "")
    return await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )


async def create_pg_database(template: str | None = None) -> str:
    """A fresh PostgreSQL database (a copy of ``template`` when given, else empty); its URL."""
    base = postgres_url()
    assert base is not None
    name = f"lvzhi_test_{uuid.uuid4().hex[:12]}"
    admin = await _admin()
    try:
        copy = f' TEMPLATE "{template}"' if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await admin.close()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(db_url: str) -> None:
    name = make_url(db_url).database
    admin = await _admin()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from sync code, even inside a running loop (a session fixture
    may first be asked for by an async one): in a thread of its own, with a loop of its own."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


async def _migrated(url: str) -> None:
    database = Database(url)
    try:
        await upgrade(database)
    finally:
        await database.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session (per xdist worker); tests get copies of it."""
    path = tmp_path_factory.mktemp("template") / "lvzhi.db"
    _run(_migrated(f"sqlite+aiosqlite:///{path}"))
    assert not path.with_name(path.name + "-wal").exists(), "the template must be checkpointed"
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A PostgreSQL database migrated once per session (per xdist worker): its name. Each test's
    database is created from it (``CREATE DATABASE … TEMPLATE``), which is much faster than
    running the migrations again."""
    if postgres_url() is None:
        pytest.skip(f"set {PG_ENV} to run the PostgreSQL tests")
    url = _run(create_pg_database())
    _run(_migrated(url))
    yield make_url(url).database or ""
    _run(drop_pg_database(url))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=requires_postgres)])
async def db_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A migrated database URL on each backend (PostgreSQL only when configured)."""
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:
        url = await create_pg_database(template=request.getfixturevalue("pg_template"))
    try:
        yield url
    finally:
        if request.param == "postgres":
            await drop_pg_database(url)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def pg_url(pg_template: str) -> AsyncIterator[str]:
    """A migrated PostgreSQL database, for tests that only make sense there."""
    url = await create_pg_database(template=pg_template)
    try:
        yield url
    finally:
        await drop_pg_database(url)


@pytest.fixture
def config(sqlite_url: str) -> Config:
    return make_config(sqlite_url)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests may only reach loopback: a connection anywhere else fails the test."""
    import socket

    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in ("::1", "localhost") or host.startswith("/")
        ):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield
