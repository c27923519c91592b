"""``lvzhi db upgrade``: apply the schema migrations (alembic)."""

from __future__ import annotations

import argparse
import asyncio

from bot.config import Config
from bot.runtime import open_database
from storage.migrate import current_revision, upgrade


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("db", help="database schema")
    db_sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply all migrations").set_defaults(run=run_upgrade)
    db_sub.add_parser("current", help="show the schema revision").set_defaults(run=run_current)


def run_upgrade(config: Config, _: argparse.Namespace) -> int:
    async def go() -> str | None:
        db = open_database(config)
        try:
            await upgrade(db)
            return await current_revision(db)
        finally:
            await db.dispose()

    print(f"数据库已升级到版本 {asyncio.run(go())}")
    return 0


def run_current(config: Config, _: argparse.Namespace) -> int:
    async def go() -> str | None:
        db = open_database(config)
        try:
            return await current_revision(db)
        finally:
            await db.dispose()

    print(asyncio.run(go()) or "数据库还是空的（尚未建表），运行 lvzhi db upgrade 建表。")
    return 0
