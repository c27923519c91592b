"""``lvzhi db upgrade [--no-backup]`` / ``lvzhi db current``: the schema migrations (alembic).

An upgrade that will change the schema backs the database up first (into ``[backup] dir``),
so that a failed or regretted upgrade is undone with ``lvzhi restore``.
"""

from __future__ import annotations

import argparse

from bot.commands.common import fail
from bot.config import Config
from bot.maintenance.backup import BackupDone, make_backup
from bot.runtime import open_database
from storage.backup import BackupError, sqlite_path
from storage.migrate import current_revision, head_revision, upgrade


def register(parser: argparse.ArgumentParser) -> None:
    db_sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="back up, then apply all migrations")
    up.add_argument("--no-backup", action="store_true", help="do not back up first")
    up.set_defaults(run=run_upgrade)
    db_sub.add_parser("current", help="show the schema revision").set_defaults(run=run_current)


def database_exists(config: Config) -> bool:
    """False for a SQLite file not created yet (opening it would create it)."""
    if not config.database.url.startswith("sqlite"):
        return True
    return sqlite_path(config.database.url).exists()


async def run_upgrade(config: Config, args: argparse.Namespace) -> int:
    async def go() -> tuple[str | None, str | None, BackupDone | None]:
        db = open_database(config)
        try:
            before = await current_revision(db) if database_exists(config) else None
            backup = None
            if before is not None and before != head_revision() and not args.no_backup:
                backup = await make_backup(config, db, args.clock.now())
            await upgrade(db)
            return before, await current_revision(db), backup
        finally:
            await db.dispose()

    try:
        before, after, backup = await go()
    except BackupError as exc:
        return fail(
            f"升级前的备份没有成功，数据库没有改动：{exc}。"
            "已用其他方式备份的，可加 --no-backup 跳过。"
        )
    if backup is not None:
        print(f"升级前已备份到 {backup.path}（恢复：lvzhi restore {backup.path}）")
    if before == after:
        print(f"数据库已是最新版本 {after}，无需升级")
    else:
        print(f"数据库已升级到版本 {after}（原为 {before or '空数据库'}）")
    return 0


async def run_current(config: Config, _: argparse.Namespace) -> int:
    async def go() -> str | None:
        db = open_database(config)
        try:
            return await current_revision(db)
        finally:
            await db.dispose()

    print(await go() or "数据库还是空的（尚未建表），运行 lvzhi db upgrade 建表。")
    return 0
