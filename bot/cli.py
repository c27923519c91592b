"""The ``lvzhi`` command line. Each command lives in ``bot/commands/`` and registers itself.

Exit codes: 0 success, 1 the command failed (said why), 2 bad configuration or usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import __version__
from bot.commands import (
    backup,
    calendar,
    campaigns,
    console,
    db,
    export,
    groups,
    members,
    notices,
    parse,
    reports,
    serve,
    simulate,
)
from bot.config import Config, ConfigError, load_config
from bot.logs import setup_logging

COMMANDS = (
    serve,
    db,
    backup,
    members,
    groups,
    campaigns,
    calendar,
    notices,
    reports,
    export,
    console,
    simulate,
    parse,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lvzhi", description="履职助手 Lüzhi")
    parser.add_argument(
        "--config", type=Path, default=None, help="config file (default: ./lvzhi.toml if present)"
    )
    parser.add_argument(
        "--version", action="store_true", help="the version and the database's schema revision"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"lvzhi: config error: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.log.level, config.secrets())
    if args.version:
        return show_version(config)
    if args.command is None:
        parser.error("the following arguments are required: COMMAND")
    try:
        return int(args.run(config, args) or 0)
    except members.EXPECTED_FAILURES as exc:
        return members.failed(config, exc)
    except ConfigError as exc:
        print(f"lvzhi: config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def show_version(config: Config) -> int:
    """``lvzhi --version``: the program's version, the schema it brings, and the database's."""
    import asyncio

    from sqlalchemy.engine import make_url

    from bot.commands.db import database_exists
    from bot.runtime import open_database
    from storage.migrate import current_revision, head_revision

    head = head_revision()
    print(f"Lüzhi {__version__}（数据库结构版本 {head}）")
    where = make_url(config.database.url).render_as_string(hide_password=True)
    if not database_exists(config):
        print(f"数据库 {where}：尚未创建")
        return 0

    async def read() -> str | None:
        db = open_database(config)
        try:
            return await current_revision(db)
        finally:
            await db.dispose()

    try:
        current = asyncio.run(read())
    except Exception as exc:  # a version query must not fail on an unreachable database
        print(f"数据库 {where}：无法读取（{type(exc).__name__}）")
        return 0
    state = "已是最新" if current == head else "需要运行 lvzhi db upgrade"
    print(f"数据库 {where}：版本 {current or '空'}，{state}")
    return 0
