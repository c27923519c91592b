"""``lvzhi activities import FILE [--dry-run]`` / ``list [--year Y] [--pending]``: registered
activities (履职登记) entered for many members at once, and what is registered.

An import checks every row (:func:`handlers.activities.importer.check_rows`), stores the good
ones as confirmed (the office entered them: ``source`` import) and names each refused row
with its reason; ``--dry-run`` stores nothing. An activity already registered (same member,
day, kind and text) is not entered twice.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from bot.commands.common import with_database
from bot.config import Config
from bot.roster.read import read_table
from handlers.activities.importer import check_rows
from storage import Database
from storage.models_proposals import Activity


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="activities_command", required=True, metavar="ACTION")
    load = actions.add_parser("import", help="enter many members' activities from xlsx/csv")
    load.add_argument("file", type=Path)
    load.add_argument("--dry-run", action="store_true", help="check only, store nothing")
    load.set_defaults(run=run_import)
    listing = actions.add_parser("list", help="the year's activities")
    listing.add_argument("--year", type=int)
    listing.add_argument("--pending", action="store_true", help="only those awaiting 确认")
    listing.set_defaults(run=run_list)


async def run_import(config: Config, args: argparse.Namespace) -> int:
    table = read_table(args.file)
    now = args.clock.now().astimezone(config.time.zone)

    async def work(db: Database) -> int:
        async with db.transaction() as tx:
            checked = check_rows(
                table, await tx.members.all(), config.activities.kinds, now.date()
            )
            stored = 0
            for entry in checked.entries:
                if await tx.activities.exists(entry.member.id, entry.day, entry.kind, entry.text):
                    continue
                stored += 1
                if not args.dry_run:
                    await tx.activities.add(
                        Activity(
                            member_id=entry.member.id,
                            kind=entry.kind,
                            day=entry.day,
                            text=entry.text,
                            state="confirmed",
                            source="import",
                            created_at=now,
                            reviewed_at=now,
                            reviewer="cli",
                        )
                    )
        verb = "可导入" if args.dry_run else "已导入"
        repeat = len(checked.entries) - stored
        print(
            f"{verb} {stored} 条履职活动"
            + (f"，{repeat} 条此前已登记" if repeat else "")
            + (f"，{len(checked.refused)} 行未导入：" if checked.refused else "。")
        )
        for refused in checked.refused:
            print(f"  第{refused.row}行：{refused.reason}")
        if args.dry_run:
            print("（试运行，未写入数据库）")
        return 1 if checked.refused and not checked.entries else 0

    return await with_database(config, work)


async def run_list(config: Config, args: argparse.Namespace) -> int:
    year = args.year or args.clock.now().astimezone(config.time.zone).year
    names = {"pending": "待确认", "confirmed": "已确认", "returned": "已退回"}

    async def work(db: Database) -> int:
        async with db.read() as tx:
            rows = await tx.activities.year_rows(date(year, 1, 1), date(year, 12, 31))
        shown = [(a, m) for a, m in rows if not args.pending or a.state == "pending"]
        for a, m in shown:
            print(f"HD-{a.id}\t{a.day}\t{m.name}\t{a.kind}\t{names[a.state]}\t{a.text}")
        if not shown:
            print("没有符合条件的履职登记。")
        return 0

    return await with_database(config, work)
