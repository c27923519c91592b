"""``lvzhi backup [-o FILE] [--verify FILE]``, ``lvzhi restore FILE``, ``lvzhi prune
[--dry-run]``: keeping an installation for years (docs/operations.md)."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from bot.commands.common import fail
from bot.config import Config
from bot.maintenance.archive import ArchiveError, Manifest, verify
from bot.maintenance.backup import BackupDone, make_backup, restore
from bot.maintenance.retention import LABELS, prune
from bot.runtime import command_database, open_database
from storage.backup import BackupError, pg_dump_available
from storage.serving import DatabaseInUse

# The tables an office cares about, by their Chinese names, in this order; the rest follow.
TABLE_LABELS = {
    "members": "委员名册",
    "groups": "小组",
    "campaigns": "打卡活动",
    "checkins": "打卡记录",
    "reports": "社情民意",
    "report_versions": "社情民意版本",
    "report_history": "办理记录",
    "report_attachments": "社情民意附件",
    "proposals": "提案",
    "proposal_attachments": "提案附件",
    "activities": "履职登记",
    "activity_attachments": "履职登记附件",
    "notices": "通知",
    "notice_recipients": "通知接收人",
    "meetings": "会议",
    "meeting_invitees": "会议回执",
    "tasks": "督办",
    "task_assignees": "督办承办人",
    "audit_log": "操作记录",
    "inbound_messages": "收到的消息",
    "deliveries": "消息投递",
}

PG_EXPLAINED = (
    "PostgreSQL：用 pg_dump（自定义格式）在一个一致的快照上导出数据库，连同附件和清单打成"
    "一个归档；服务运行时也可以备份。"
)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path, help="archive to write (default: dated)")
    parser.add_argument("--verify", type=Path, metavar="FILE", help="check an archive only")
    parser.set_defaults(run=run_backup)


def register_restore(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("archive", type=Path)
    parser.set_defaults(run=run_restore)


def register_prune(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="count only, delete nothing")
    parser.set_defaults(run=run_prune)


async def run_backup(config: Config, args: argparse.Namespace) -> int:
    if args.verify:
        return _verify(args.verify)
    on_postgres = not config.database.url.startswith("sqlite")
    if on_postgres:
        print(PG_EXPLAINED)
        if pg_dump_available() is None:
            return fail(
                "没有找到 pg_dump。请安装 PostgreSQL 客户端（Debian：apt-get install "
                "postgresql-client，版本不低于数据库服务器），或请数据库管理员每天运行 "
                "pg_dump --format=custom 并保存 [reports] media_dir 目录"
                "（见 docs/operations.md）。"
            )

    async def go() -> BackupDone:
        # Not migrated first (unlike other commands): a backup keeps the schema it finds, so
        # that one taken before an upgrade restores to what ran before it.
        db = open_database(config)
        try:
            return await make_backup(config, db, args.clock.now(), args.output)
        finally:
            await db.dispose()

    try:
        done = await go()
    except BackupError as exc:
        return fail(f"备份失败：{exc}")
    media = len(done.manifest.media_files)
    print(
        f"已备份到 {done.path}（{_size(done.size)}，用时 {done.seconds:.1f} 秒，"
        f"数据库版本 {done.manifest.revision}，附件 {media} 个）"
    )
    print(_counts(done.manifest.tables))
    return 0


def _verify(path: Path) -> int:
    try:
        manifest = verify(path)
    except ArchiveError as exc:
        return fail(f"备份文件不可用：{exc}")
    print(f"备份文件完好：{path}")
    print(_describe(manifest))
    print(_counts(manifest.tables))
    return 0


async def run_restore(config: Config, args: argparse.Namespace) -> int:
    try:
        done = await restore(config, args.archive, args.clock.now())
    except DatabaseInUse:
        return fail(
            "lvzhi serve 正在使用这个数据库，不能恢复。请先停止服务"
            "（例如 systemctl stop lvzhi），再运行 lvzhi restore。"
        )
    except ArchiveError as exc:
        return fail(f"备份文件不可用，没有恢复任何内容：{exc}")
    except BackupError as exc:
        return fail(f"恢复失败：{exc}")
    print(f"已从 {args.archive} 恢复。")
    print(_describe(done.manifest))
    if done.revision != done.manifest.revision:
        print(f"数据库结构已从版本 {done.manifest.revision} 升级到 {done.revision}。")
    print(_counts(done.counts))
    print(f"附件 {done.media_files} 个")
    if done.saved_database:
        print(f"原来的数据库已保存为 {done.saved_database}")
    if done.saved_media:
        print(f"原来的附件目录已保存为 {done.saved_media}")
    return 0


async def run_prune(config: Config, args: argparse.Namespace) -> int:
    async with command_database(config) as db:
        counts = await prune(db, config, args.clock.now(), dry_run=args.dry_run)
    verb = "将删除" if args.dry_run else "已删除"
    for kind, count in counts.items():
        print(f"{LABELS[kind]}：{verb} {count} 行")
    if args.dry_run:
        print("（试运行，没有删除任何内容）")
    return 0


def _describe(manifest: Manifest) -> str:
    created = datetime.fromisoformat(manifest.created_at).strftime("%Y-%m-%d %H:%M")
    files = manifest.files.get(manifest.database_file, {})
    return (
        f"备份于 {created}，Lüzhi {manifest.version}，{manifest.dialect} 数据库"
        f"（版本 {manifest.revision}，{_size(int(files.get('bytes', 0)))}），"
        f"附件 {len(manifest.media_files)} 个"
    )


def _counts(tables: dict[str, int]) -> str:
    known = [f"{label} {tables[name]}" for name, label in TABLE_LABELS.items() if name in tables]
    rest = [n for n in tables if n not in TABLE_LABELS and n != "alembic_version"]
    others = f"；其余 {len(rest)} 张表共 {sum(tables[n] for n in rest)} 行" if rest else ""
    return "各表行数：" + "，".join(known) + others


def _size(count: int) -> str:
    return f"{count / 1048576:.1f} MB" if count >= 1048576 else f"{count / 1024:.0f} KB"
