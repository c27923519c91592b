"""``lvzhi members …``: the roster (名册): import a spreadsheet, list members, set a role.

``members import FILE [--dry-run]`` reads an .xlsx/.csv roster (see :mod:`bot.roster.read`) and
upserts it (see :mod:`storage.repos.roster`); ``members list [--json]`` shows the roster;
``members set-role USERID ROLE`` makes someone 委员 / 秘书 / 管理员. Changes are audited with the
actor "cli". A problem is one Chinese line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from bot.commands.common import (
    ACTOR,
    fail,
    format_table,
    with_database,
)
from bot.config import Config
from bot.errors import NotFound, UserFacingError
from bot.labels import ROLE_LABELS
from bot.roster.columns import FIELD_LABELS, normalise_role
from bot.roster.read import Rejection, RosterFile, read_roster
from storage import Database
from storage.repos.roster import ImportReport, RowRejection


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="members_command", required=True, metavar="ACTION")

    imp = actions.add_parser("import", help="import a roster spreadsheet (.xlsx or .csv)")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--dry-run", action="store_true", help="report what would change, write nothing"
    )
    imp.set_defaults(run=run_import)

    lst = actions.add_parser("list", help="list the members")
    lst.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    lst.set_defaults(run=run_list)

    role = actions.add_parser("set-role", help="set a member's role")
    role.add_argument("userid")
    role.add_argument("role", help="member|secretary|admin (or 委员|秘书|管理员)")
    role.set_defaults(run=run_set_role)


# -- import -------------------------------------------------------------------------------------


async def run_import(config: Config, args: argparse.Namespace) -> int:
    try:
        roster = read_roster(args.file)  # before opening the database: a bad file touches nothing
    except UserFacingError as exc:
        return fail(exc.message)

    async def work(db: Database) -> int:
        now = args.clock.now()
        session = db.read() if args.dry_run else db.transaction()
        async with session as tx:
            report = await tx.roster.apply_roster(
                roster.rows, now=now, actor=ACTOR, dry_run=args.dry_run
            )
        print(format_import(roster, report))
        return 0

    return await with_database(config, work)


def format_import(roster: RosterFile, report: ImportReport) -> str:
    lines = [f"名册 {roster.source}：第{roster.header_row}行为表头，{roster.data_rows}行数据"]
    if roster.ignored_columns:
        lines.append(f"未使用的列：{'、'.join(roster.ignored_columns)}")
    if report.dry_run:
        lines.append("试运行：以下是预计结果，数据库没有改动。")
    rejections: list[Rejection | RowRejection] = [*roster.rejections, *report.rejected]
    rejections.sort(key=lambda rejection: rejection.row_number)
    lines.append(
        f"新增 {report.created} 人，更新 {report.updated} 人，"
        f"未变 {report.unchanged} 人，拒绝 {len(rejections)} 行"
    )
    if report.groups_created:
        lines.append(f"新建学习小组：{'、'.join(report.groups_created)}")
    if report.dry_run:
        for change in report.changes:
            if not change.created:
                fields = "；".join(
                    f"{FIELD_LABELS.get(name, name)} {_show(old)} → {_show(new)}"
                    for name, (old, new) in change.changes.items()
                    if name != "active"
                )
                lines.append(f"将更新 第{change.row_number}行 {change.name}：{fields}")
    for rejection in rejections:
        lines.append(f"第{rejection.row_number}行：{rejection.reason}")
    return "\n".join(lines)


def _show(value: object) -> str:
    if value in (None, ""):
        return "（空）"
    if isinstance(value, list):
        return "、".join(map(str, value))
    return ROLE_LABELS.get(str(value), str(value))


# -- list ---------------------------------------------------------------------------------------


async def run_list(config: Config, args: argparse.Namespace) -> int:
    async def work(db: Database) -> int:
        async with db.read() as tx:
            members = await tx.members.all()
            study_groups = await tx.members.study_groups()
        records = [
            {
                "userid": m.userid,
                "name": m.name,
                "mobile": m.mobile,
                "sector": m.sector,
                "committee": m.committee,
                "study_group": study_groups.get(m.id),
                "role": m.role,
            }
            for m in members
        ]
        if args.json:
            print(json.dumps(records, ensure_ascii=False, indent=2))
        elif not records:
            print("名册是空的。用 lvzhi members import 名册.xlsx 导入。")
        else:
            print(format_member_table(records))
        return 0

    return await with_database(config, work)


def format_member_table(records: Sequence[dict[str, str | None]]) -> str:
    header = ["姓名", "企业微信账号", "手机号", "界别", "专委会", "学习小组", "角色"]
    body = [
        [
            r["name"] or "",
            r["userid"] or "—",
            r["mobile"] or "—",
            r["sector"] or "—",
            r["committee"] or "—",
            r["study_group"] or "—",
            ROLE_LABELS.get(r["role"] or "", r["role"] or ""),
        ]
        for r in records
    ]
    return format_table(header, body) + f"\n共 {len(records)} 人"


# -- set-role -----------------------------------------------------------------------------------


async def run_set_role(config: Config, args: argparse.Namespace) -> int:
    role = normalise_role(args.role)
    if role is None:
        return fail(
            f"角色无法识别：{args.role}（应为 member、secretary、admin 或 委员、秘书、管理员）"
        )

    async def work(db: Database) -> int:
        async with db.transaction() as tx:
            member = await tx.members.by_userid(args.userid)
            if member is None:
                raise NotFound(f"名册中没有企业微信账号为 {args.userid} 的成员")
            old = member.role
            if old == role:
                print(f"{member.name}（{member.userid}）已经是{ROLE_LABELS[role]}，未改动。")
                return 0
            now = args.clock.now()
            member.role, member.updated_at = role, now
            await tx.audit.record(
                at=now,
                actor=ACTOR,
                action="member.set_role",
                entity="member",
                entity_id=member.id,
                detail={"role": {"old": old, "new": role}},
            )
        change = f"{ROLE_LABELS.get(old, old)} → {ROLE_LABELS[role]}"
        print(f"{member.name}（{member.userid}）的角色：{change}")
        return 0

    return await with_database(config, work)
