"""The ``lvzhi`` command line. Each command lives in ``bot/commands/`` and registers itself.

Exit codes: 0 success, 1 the command failed (said why), 2 bad configuration or usage.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import logging
import sys
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot import __version__
from bot.clock import Clock, SystemClock
from bot.config import Config, ConfigError, load_config
from bot.logs import setup_logging


@dataclass(frozen=True, slots=True)
class Command:
    """A subcommand: its help line, and where its arguments are declared
    (``module:function``, a ``register(parser)`` in ``bot/commands/``). Only the module of the
    command being run is imported, so ``lvzhi --help`` and a small command start quickly."""

    help: str
    where: str


# How a configuration mistake is announced: one line, for the person editing lvzhi.toml.
CONFIG_ERROR_PREFIX = "lvzhi: 配置有误："

COMMANDS = {
    "serve": Command("run the bot", "serve:register"),
    "db": Command("database schema", "db:register"),
    "backup": Command("back up the database and attachments (one archive)", "backup:register"),
    "restore": Command("restore a backup archive (server stopped)", "backup:register_restore"),
    "prune": Command("delete old operational rows ([retention])", "backup:register_prune"),
    "members": Command("the member roster (名册)", "members:register"),
    "groups": Command("groups and their WeCom channels", "groups:register"),
    "campaigns": Command("study check-in campaigns (打卡活动)", "campaigns:register"),
    "calendar": Command("the holiday calendar (法定节假日/调休)", "calendar:register"),
    "notices": Command("notices (通知): send one, list recent ones", "notices:register"),
    "reports": Command("opinion reports (社情民意)", "reports:register"),
    "proposals": Command("proposals (提案)", "proposals:register"),
    "activities": Command("registered activities (履职登记)", "activities:register"),
    "export": Command("the office's yearly spreadsheets (xlsx)", "export:register"),
    "console": Command("web console accounts (管理后台)", "console:register"),
    "simulate": Command("send a message as a member (sandbox mode)", "simulate:register"),
    "tick": Command(
        "let simulated time pass: reminders, summaries (sandbox)", "simulate:register_tick"
    ),
    "parse": Command("show how a message is understood (JSON)", "parse:register"),
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; the command named in ``argv`` gets its full arguments, the others a help
    line (None: every command in full, e.g. for the tests and the docs)."""
    parser = argparse.ArgumentParser(prog="lvzhi", description="履职助手 Lüzhi")
    parser.add_argument(
        "--config", type=Path, default=None, help="config file (default: ./lvzhi.toml if present)"
    )
    parser.add_argument(
        "--version", action="store_true", help="the version and the database's schema revision"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    named = None if argv is None else next((a for a in argv if a in COMMANDS), "")
    for name, command in COMMANDS.items():
        child = sub.add_parser(name, help=command.help, description=command.help)
        if named is None or name == named:
            module, _, function = command.where.partition(":")
            getattr(importlib.import_module(f"bot.commands.{module}"), function)(child)
    return parser


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    """Run one command. A command's ``run(config, args)`` returns its exit code, or a coroutine
    that does (run here, once); ``args.clock`` is the time it acts at (tests pass their own)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    args.clock = clock or SystemClock()
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"{CONFIG_ERROR_PREFIX}{exc}", file=sys.stderr)
        return 2
    setup_logging(config.log.level, config.secrets())
    # Alembic announces every check at INFO; on the command line only a real problem matters.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.version:
        return show_version(config)
    if args.command is None:
        parser.error("the following arguments are required: COMMAND")
    try:
        result = args.run(config, args)
        if inspect.isawaitable(result):
            import asyncio  # 30 ms to import: only for the commands that need it

            result = asyncio.run(_awaited(result))
        return int(result or 0)
    except ConfigError as exc:
        print(f"{CONFIG_ERROR_PREFIX}{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from bot.commands.common import EXPECTED_FAILURES, failed

        if isinstance(exc, EXPECTED_FAILURES):
            return failed(config, exc)
        raise


async def _awaited(result: Awaitable[int | None]) -> int | None:
    return await result


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
