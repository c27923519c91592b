"""Consistent copies of the database while it is in use, and what is in them.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies every page in ONE step,
inside one read transaction: under WAL a reader never blocks the server's writer and sees one
committed state, so the copy is consistent however busy the server is. (Copying in several
steps would restart whenever another connection writes in between — under steady load, for
ever.) A file copy is not consistent: the WAL holds committed pages the main file lacks.

PostgreSQL: ``pg_dump`` in custom format, run on a snapshot that this module exports from a
REPEATABLE READ transaction (``pg_export_snapshot``), so the row counts taken in that
transaction are exactly what the dump holds.

Everything here is synchronous and blocking (file copies, a child process): the callers run it
in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import Database

PG_DUMP_TIMEOUT_SECONDS = 3600


class BackupError(Exception):
    """The copy could not be made or read; the message (Chinese) says why."""


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite+aiosqlite:///…`` URL."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("SQLite 数据库必须是一个文件。")
    return Path(database)


def sqlite_snapshot(source: Path, dest: Path, *, busy_timeout_s: float = 30.0) -> None:
    """Copy the SQLite database ``source`` to ``dest`` (a new file) while it may be in use."""
    if not source.exists():
        raise BackupError(f"数据库文件不存在：{source}")
    src = sqlite3.connect(source, timeout=busy_timeout_s)
    try:
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst, pages=-1)  # one step, one read transaction: one committed state
            # The copy is a standalone file: no WAL beside it (the server re-enables WAL).
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"无法复制数据库：{exc}") from exc
    finally:
        src.close()


def sqlite_counts(path: Path) -> dict[str, int]:
    """Rows per table of a SQLite file (its own tables, alembic's version table included)."""
    with _sqlite_readonly(path) as db:
        names = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {
            name: int(db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for name in names
        }


def sqlite_revision(path: Path) -> str | None:
    """The alembic revision recorded in a SQLite file (None: not a Lüzhi database)."""
    with _sqlite_readonly(path) as db:
        try:
            rows = db.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.DatabaseError:
            return None
    return ", ".join(sorted(row[0] for row in rows)) or None


def sqlite_check(path: Path) -> str:
    """``PRAGMA quick_check``: "ok", or what is wrong with the file."""
    try:
        with _sqlite_readonly(path) as db:
            rows = db.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return "; ".join(str(row[0]) for row in rows[:5])


@contextlib.contextmanager
def _sqlite_readonly(path: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        yield db
    finally:
        db.close()


# -- PostgreSQL ------------------------------------------------------------------------------


def pg_dump_available() -> str | None:
    return shutil.which("pg_dump")


def pg_environment(url: str) -> tuple[list[str], dict[str, str]]:
    """libpq connection arguments for ``url`` and an environment carrying the password
    (``PGPASSWORD``: never on a command line, where ``ps`` shows it)."""
    parsed = make_url(url)
    args = []
    if parsed.host:
        args += ["--host", parsed.host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return args, env


def pg_dump(url: str, dest: Path, *, snapshot: str | None = None) -> None:
    """``pg_dump --format=custom`` of ``url``'s database into ``dest``."""
    program = pg_dump_available()
    if program is None:
        raise BackupError(
            "没有找到 pg_dump：请安装 PostgreSQL 客户端（Debian：apt-get install "
            "postgresql-client，版本不低于服务器），或由数据库管理员按计划运行 pg_dump。"
        )
    args, env = pg_environment(url)
    command = [program, "--format=custom", "--no-owner", "--file", str(dest), *args]
    if snapshot:
        command += ["--snapshot", snapshot]
    command.append(str(make_url(url).database))
    try:
        done = subprocess.run(
            command,
            env=env,
            capture_output=True,
            text=True,
            timeout=PG_DUMP_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BackupError("pg_dump 超时。") from None
    if done.returncode != 0:
        raise BackupError(f"pg_dump 失败：{done.stderr.strip()[-400:]}")


async def pg_snapshot_dump(db: Database, dest: Path) -> tuple[dict[str, int], str | None]:
    """Dump the database into ``dest`` and count its rows, both on one snapshot; returns the
    counts per table and the alembic revision."""
    async with db.write_engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="REPEATABLE READ")
        async with connection.begin():
            snapshot = await connection.scalar(text("SELECT pg_export_snapshot()"))
            names = (
                await connection.scalars(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                        "ORDER BY tablename"
                    )
                )
            ).all()
            counts = {}
            for name in names:
                counts[name] = int(
                    await connection.scalar(text(f'SELECT count(*) FROM "{name}"')) or 0
                )
            revision = None
            if "alembic_version" in counts:
                found = (
                    await connection.scalars(text("SELECT version_num FROM alembic_version"))
                ).all()
                revision = ", ".join(sorted(found)) or None
            # The transaction stays open while pg_dump reads through its exported snapshot.
            await asyncio.to_thread(pg_dump, db.url, dest, snapshot=str(snapshot))
    return counts, revision


async def table_counts(db: Database) -> dict[str, int]:
    """Rows per table of the live database."""
    if db.is_sqlite:
        return await asyncio.to_thread(sqlite_counts, sqlite_path(db.url))
    async with db.read_engine.connect() as connection:
        names = (
            await connection.scalars(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    "ORDER BY tablename"
                )
            )
        ).all()
        return {
            name: int(await connection.scalar(text(f'SELECT count(*) FROM "{name}"')) or 0)
            for name in names
        }


def pg_restore(url: str, source: Path) -> None:
    """``pg_restore --clean`` of a custom-format dump into ``url``'s database."""
    program = shutil.which("pg_restore")
    if program is None:
        raise BackupError("没有找到 pg_restore：请安装 PostgreSQL 客户端（postgresql-client）。")
    args, env = pg_environment(url)
    command = [
        program,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        *args,
        "--dbname",
        str(make_url(url).database),
        str(source),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"pg_restore 失败：{done.stderr.strip()[-400:]}")
