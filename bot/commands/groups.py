"""``lvzhi groups …``: groups (群) and the WeCom channel that reaches each one.

A group is reached through an app chat (应用群聊, ``--app-chat CHATID``), a group robot
(群机器人, ``--robot-key KEY``) or a WeCom customer group of WeChat users (客户群,
``--customer-group CHATID --owner USERID``: each send waits for the owner's confirmation);
attaching one replaces the others, so a group has at most one channel. The robot key is a
secret: it is never printed nor written to the audit log, only shown masked ("****abcd").
``--robot-key-env VAR`` reads it from the environment so that it does not land in the shell
history; a whole webhook URL (``…/webhook/send?key=…``) is accepted too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from urllib.parse import parse_qs, urlsplit

from bot.commands.common import ACTOR, fail, format_table, with_database
from bot.config import Config
from bot.delivery.routing import group_channel
from bot.errors import NotFound, UserFacingError
from bot.labels import GROUP_KIND_LABELS, mask_secret
from storage import Database, Tx
from storage.models import Group

KINDS = ("study_group", "committee", "custom")
_ROBOT_KEY = re.compile(r"[A-Za-z0-9_-]{8,128}")
_CHAT_ID = re.compile(r"\S{1,64}")


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="groups_command", required=True, metavar="ACTION")

    lst = actions.add_parser("list", help="list the groups")
    lst.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    lst.set_defaults(run=run_list)

    create = actions.add_parser("create", help="create a group")
    create.add_argument("name")
    create.add_argument("--kind", choices=KINDS, default="custom")
    create.set_defaults(run=run_create)

    attach = actions.add_parser("attach", help="reach a group through an app chat or a robot")
    attach.add_argument("name")
    channel = attach.add_mutually_exclusive_group(required=True)
    channel.add_argument("--app-chat", metavar="CHATID", help="the app chat's chatid")
    channel.add_argument("--robot-key", metavar="KEY", help="the group robot's webhook key")
    channel.add_argument(
        "--robot-key-env", metavar="VAR", help="read the robot key from this environment variable"
    )
    channel.add_argument(
        "--customer-group", metavar="CHATID", help="a customer group (客户群) chat id"
    )
    attach.add_argument(
        "--owner", metavar="USERID", help="the customer group's owner (群主), who confirms sends"
    )
    attach.set_defaults(run=run_attach)

    detach = actions.add_parser("detach", help="remove a group's channel")
    detach.add_argument("name")
    detach.set_defaults(run=run_detach)


# -- list ---------------------------------------------------------------------------------------


async def run_list(config: Config, args: argparse.Namespace) -> int:
    async def work(db: Database) -> int:
        async with db.read() as tx:
            groups = await tx.groups.all()
            counts = await tx.groups.member_counts()
        records = [
            {
                "name": g.name,
                "kind": g.kind,
                "member_count": counts.get(g.id, 0),
                "channel": group_channel(g),
                "app_chat_id": g.app_chat_id,
                "robot_key": mask_secret(g.robot_key) if g.robot_key else None,
            }
            | _customer_fields(g)
            for g in groups
        ]
        if args.json:
            print(json.dumps(records, ensure_ascii=False, indent=2))
        elif not records:
            print("还没有群。导入名册会建立学习小组，或用 lvzhi groups create 新建。")
        else:
            body = [
                [
                    str(r["name"]),
                    GROUP_KIND_LABELS.get(str(r["kind"]), str(r["kind"])),
                    str(r["member_count"]),
                    _channel_label(
                        r["channel"], r["app_chat_id"], r["robot_key"], r.get("customer_chat_id")
                    ),
                ]
                for r in records
            ]
            table = format_table(["群名", "类型", "人数", "渠道"], body)
            print(f"{table}\n共 {len(records)} 个群")
        return 0

    return await with_database(config, work)


def _customer_fields(group: Group) -> dict[str, str | None]:
    """A customer group's chat id and owner, listed only for groups that have one."""
    if not group.customer_chat_id:
        return {}
    return {"customer_chat_id": group.customer_chat_id, "customer_owner": group.customer_owner}


def _channel_label(
    channel: object, app_chat_id: object, masked_key: object, customer_chat_id: object = None
) -> str:
    if channel == "app_chat":
        return f"应用群聊 {app_chat_id}"
    if channel == "robot":
        return f"群机器人 {masked_key}"
    if channel == "customer_group":
        return f"客户群 {customer_chat_id}（群发需群主确认）"
    return "未绑定"


# -- create -------------------------------------------------------------------------------------


async def run_create(config: Config, args: argparse.Namespace) -> int:
    name = " ".join(args.name.split())
    if not name or len(name) > 64:
        return fail("群名不能为空，最多64个字")

    async def work(db: Database) -> int:
        async with db.transaction() as tx:
            if await tx.groups.by_name(name) is not None:
                raise UserFacingError(f"已经有名为「{name}」的群")
            now = args.clock.now()
            group, _ = await tx.groups.get_or_create(name, args.kind, now)
            await tx.audit.record(
                at=now,
                actor=ACTOR,
                action="group.create",
                entity="group",
                entity_id=group.id,
                detail={"name": name, "kind": args.kind},
            )
        print(f"已新建{GROUP_KIND_LABELS[args.kind]}群「{name}」")
        return 0

    return await with_database(config, work)


# -- attach / detach ----------------------------------------------------------------------------


def robot_key_from(args: argparse.Namespace) -> str:
    """The robot key from --robot-key or --robot-key-env; a webhook URL gives its key= part."""
    if args.robot_key_env:
        raw = os.environ.get(args.robot_key_env, "").strip()
        if not raw:
            raise UserFacingError(f"环境变量 {args.robot_key_env} 未设置或为空")
    else:
        raw = args.robot_key.strip()
    if raw.startswith(("http://", "https://")):
        raw = (parse_qs(urlsplit(raw).query).get("key") or [""])[0]
    if not _ROBOT_KEY.fullmatch(raw):
        # Never echo the value: it may be a mistyped key, still a secret.
        raise UserFacingError(
            "群机器人 key 格式不正确（应为机器人 webhook 地址中 key= 后面的部分）"
        )
    return raw


async def _group(tx: Tx, name: str) -> Group:
    group = await tx.groups.by_name(name)
    if group is None:
        raise NotFound(
            f"没有名为「{name}」的群（用 lvzhi groups list 查看，或 lvzhi groups create 新建）"
        )
    return group


def _channel_detail(group: Group) -> dict[str, str | None]:
    """The channel as the audit log may keep it: the robot key only masked."""
    return {
        "channel": group_channel(group),
        "app_chat_id": group.app_chat_id,
        "robot_key": mask_secret(group.robot_key) if group.robot_key else None,
    } | _customer_fields(group)


async def run_attach(config: Config, args: argparse.Namespace) -> int:
    if args.customer_group is not None or args.owner is not None:
        return await attach_customer_group(config, args)
    try:
        robot_key = robot_key_from(args) if args.app_chat is None else None
    except UserFacingError as exc:
        return fail(exc.message)
    chat_id = args.app_chat.strip() if args.app_chat is not None else None
    if chat_id is not None and not _CHAT_ID.fullmatch(chat_id):
        return fail("群聊 chatid 格式不正确（不能为空、不能含空格，最多64个字符）")

    async def work(db: Database) -> int:
        async with db.transaction() as tx:
            group = await _group(tx, args.name)
            if chat_id is not None:
                other = await tx.groups.by_app_chat_id(chat_id)
                if other is not None and other.id != group.id:
                    raise UserFacingError(f"群聊 {chat_id} 已绑定到「{other.name}」")
            before = _channel_detail(group)
            await tx.customer_groups.detach(group)
            await tx.groups.set_channel(
                group, app_chat_id=chat_id or "", robot_key=robot_key or ""
            )
            after = _channel_detail(group)
            if after != before:
                await tx.audit.record(
                    at=args.clock.now(),
                    actor=ACTOR,
                    action="group.attach",
                    entity="group",
                    entity_id=group.id,
                    detail={"old": before, "new": after},
                )
        if chat_id is not None:
            print(f"「{group.name}」已绑定应用群聊 {chat_id}")
        else:
            print(f"「{group.name}」已绑定群机器人 {mask_secret(robot_key or '')}")
        return 0

    return await with_database(config, work)


async def attach_customer_group(config: Config, args: argparse.Namespace) -> int:
    """``--customer-group CHATID --owner USERID``: reach the group through a 客户群."""
    chat_id = (args.customer_group or "").strip()
    owner = (args.owner or "").strip()
    if not chat_id or not owner:
        return fail("客户群需要同时提供 --customer-group 群ID 和 --owner 群主账号")
    if not _CHAT_ID.fullmatch(chat_id) or not _CHAT_ID.fullmatch(owner):
        return fail("客户群 ID 或群主账号格式不正确（不能含空格，最多64个字符）")

    async def work(db: Database) -> int:
        async with db.transaction() as tx:
            group = await _group(tx, args.name)
            other = await tx.customer_groups.by_chat_id(chat_id)
            if other is not None and other.id != group.id:
                raise UserFacingError(f"客户群 {chat_id} 已绑定到「{other.name}」")
            before = _channel_detail(group)
            await tx.customer_groups.attach(group, chat_id=chat_id, owner=owner)
            await tx.audit.record(
                at=args.clock.now(),
                actor=ACTOR,
                action="group.attach",
                entity="group",
                entity_id=group.id,
                detail={"old": before, "new": _channel_detail(group)},
            )
        print(
            f"「{group.name}」已绑定客户群 {chat_id}（群主 {owner}）。"
            f"每次群发需群主在企业微信中确认，每个客户群每月最多 "
            f"{config.wecom.customer_group_monthly_cap} 条。"
        )
        return 0

    return await with_database(config, work)


async def run_detach(config: Config, args: argparse.Namespace) -> int:
    async def work(db: Database) -> int:
        async with db.transaction() as tx:
            group = await _group(tx, args.name)
            before = _channel_detail(group)
            if before["channel"] is None:
                print(f"「{group.name}」没有绑定渠道，未改动。")
                return 0
            await tx.groups.set_channel(group, app_chat_id="", robot_key="")
            await tx.customer_groups.detach(group)
            await tx.audit.record(
                at=args.clock.now(),
                actor=ACTOR,
                action="group.detach",
                entity="group",
                entity_id=group.id,
                detail={"old": before},
            )
        print(f"「{group.name}」已解除绑定，发往该群的消息将无法送达，直到重新绑定。")
        return 0

    return await with_database(config, work)
