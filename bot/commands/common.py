"""What every ``lvzhi`` command shares: one way to fail (one Chinese line on stderr, exit code
1), the expected failures turned into that line, the database a command works on, and tables
for the terminal."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.exc import ProgrammingError, SQLAlchemyError

from bot.config import Config
from bot.errors import UserFacingError
from bot.runtime import command_database
from storage import Database

ACTOR = "cli"  # who the audit log says acted
UPGRADE_HINT = "（是否已运行 lvzhi db upgrade？）"


async def with_database(config: Config, work: Callable[[Database], Awaitable[int]]) -> int:
    """Run ``work`` on the command's database (:func:`bot.runtime.command_database`: on SQLite
    migrated first, as ``lvzhi serve`` does). ``lvzhi``'s main runs the coroutine and turns
    every expected failure into one Chinese line."""
    async with command_database(config) as db:
        return await work(db)


# What a command may run into that is not a bug: said in one line, exit code 1.
EXPECTED_FAILURES = (UserFacingError, OSError, SQLAlchemyError)


def failed(config: Config, exc: Exception) -> int:
    """Say in one Chinese line why a command failed (one of :data:`EXPECTED_FAILURES`)."""
    if isinstance(exc, UserFacingError):
        return fail(exc.message)
    if isinstance(exc, OSError):
        return fail(f"无法连接数据库：{exc.strerror or exc}")
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
    # On PostgreSQL a missing table means the schema was never migrated.
    on_postgres = not config.database.url.startswith("sqlite")
    hint = UPGRADE_HINT if isinstance(exc, ProgrammingError) and on_postgres else ""
    return fail(f"数据库错误：{detail}{hint}")


def fail(message: str) -> int:
    print(f"lvzhi: {message}", file=sys.stderr)
    return 1


def display_width(text: str) -> int:
    """Terminal columns: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def format_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    widths = [
        max(display_width(row[column]) for row in (header, *body)) for column in range(len(header))
    ]

    def line(cells: Sequence[str]) -> str:
        padded = (c + " " * (w - display_width(c)) for c, w in zip(cells, widths, strict=True))
        return "  ".join(padded).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, body)])
