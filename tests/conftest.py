"""Shared fixtures: databases on both backends, a fake clock, a config builder.

PostgreSQL tests read their URL from ``LVZHI_TEST_POSTGRES_URL`` (``.ci/run`` sets it). Unset,
they skip with that reason; set, a failure to connect is a test failure. Each test gets a fresh
database of its own, created from the ``test`` database's server and dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.clock import FakeClock
from bot.config import Config, build_config
from storage import Database
from storage.migrate import upgrade

PG_ENV = "LVZHI_TEST_POSTGRES_URL"


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
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'lvzhi.db'}"


async def create_pg_database() -> str:
    """A fresh, empty PostgreSQL database; returns its URL."""
    import asyncpg

    base = postgres_url()
    assert base is not None
    url = make_url(base)
    name = f"lvzhi_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(db_url: str) -> None:
    import asyncpg

    base = make_url(postgres_url() or "")
    name = make_url(db_url).database
    admin = await asyncpg.connect(
        host=base.host,
        port=base.port or 5432,
        user=base.username,
        password=base.password,
        database=base.database,
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=requires_postgres)])
async def db_url(request: pytest.FixtureRequest, sqlite_url: str) -> AsyncIterator[str]:
    """A migrated database URL on each backend (PostgreSQL only when configured)."""
    if request.param == "sqlite":
        url = sqlite_url
    else:
        url = await create_pg_database()
    db = Database(url)
    await upgrade(db)
    await db.dispose()
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
async def pg_url() -> AsyncIterator[str]:
    """A migrated PostgreSQL database, for tests that only make sense there."""
    if postgres_url() is None:
        pytest.skip(f"set {PG_ENV} to run the PostgreSQL tests")
    url = await create_pg_database()
    database = Database(url)
    await upgrade(database)
    await database.dispose()
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
