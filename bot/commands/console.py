"""``lvzhi console …``: accounts of the web console (管理后台).

``console add-user USERNAME --role secretary|admin [--member USERID] [--password-env VAR]``
creates an account. The password is asked for at a prompt (twice), or read from the
environment variable ``VAR`` for scripts; never from the command line, where it would stay in
the shell history and the process list. ``--member`` links the account to a roster member,
whose roster role then caps the account's (see :mod:`bot.console.auth`).
``console list-users`` shows the accounts. Changes are audited with the actor "cli".
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys

from bot.commands.common import ACTOR, fail, format_table, with_database
from bot.config import Config
from bot.console.auth import MAX_USERNAME, normalise_username
from bot.console.security import Passwords, password_problem
from bot.errors import NotFound, UserFacingError
from bot.labels import ROLE_LABELS
from storage import Database
from storage.models_console import ConsoleUser

ACCOUNT_ROLES = ("secretary", "admin")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="console_command", required=True, metavar="ACTION")

    # No abbreviations: "--password SECRET" must fail, not pass as "--password-env SECRET".
    add = actions.add_parser("add-user", help="create a console account", allow_abbrev=False)
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ACCOUNT_ROLES)
    add.add_argument("--member", metavar="USERID", help="link to this roster member")
    add.add_argument(
        "--password-env", metavar="VAR", help="read the password from this environment variable"
    )
    add.set_defaults(run=run_add_user)

    lst = actions.add_parser("list-users", help="list the console accounts")
    lst.set_defaults(run=run_list_users)


def read_password(env: str | None) -> str:
    if env:
        if not _ENV_NAME.fullmatch(env):
            # Never echo it: it may be a password typed where the variable's name belongs.
            raise UserFacingError("--password-env 应为环境变量的名字（字母、数字、下划线）")
        password = os.environ.get(env, "")
        if not password:
            raise UserFacingError(f"环境变量 {env} 未设置或为空")
    else:
        if not sys.stdin.isatty():
            raise UserFacingError("没有终端可以输入密码：请用 --password-env 变量名 提供密码")
        password = getpass.getpass("密码：")
        if getpass.getpass("再输入一次：") != password:
            raise UserFacingError("两次输入的密码不一致")
    problem = password_problem(password)
    if problem:
        raise UserFacingError(problem)
    return password


async def run_add_user(config: Config, args: argparse.Namespace) -> int:
    username = normalise_username(args.username)
    if (
        not username
        or len(args.username.strip()) > MAX_USERNAME
        or any(c.isspace() for c in username)
    ):
        return fail(f"用户名不能为空、不能含空格，最多{MAX_USERNAME}个字符")
    try:
        password = read_password(args.password_env)
    except UserFacingError as exc:
        return fail(exc.message)
    password_hash = Passwords().hash(password)

    async def work(db: Database) -> int:
        async with db.transaction() as tx:
            if await tx.console.user_by_name(username) is not None:
                raise UserFacingError(f"账号 {username} 已存在")
            member_id = None
            if args.member:
                member = await tx.members.by_userid(args.member)
                if member is None:
                    raise NotFound(f"名册中没有企业微信账号为 {args.member} 的成员")
                if member.role not in ACCOUNT_ROLES:
                    raise UserFacingError(
                        f"{member.name} 在名册中的角色是{ROLE_LABELS.get(member.role, '委员')}，"
                        "不能开通管理后台（先用 lvzhi members set-role 设为秘书或管理员）"
                    )
                member_id = member.id
            now = args.clock.now()
            user = await tx.console.add_user(
                ConsoleUser(
                    username=username,
                    password_hash=password_hash,
                    role=args.role,
                    member_id=member_id,
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
            )
            await tx.audit.record(
                at=now,
                actor=ACTOR,
                action="console.user_add",
                entity="console_user",
                entity_id=user.id,
                detail={"username": username, "role": args.role, "member": args.member},
            )
        print(f"已开通管理后台账号 {username}（{ROLE_LABELS[args.role]}）")
        return 0

    return await with_database(config, work)


async def run_list_users(config: Config, args: argparse.Namespace) -> int:
    async def work(db: Database) -> int:
        async with db.read() as tx:
            users = await tx.console.users()
            members = {m.id: m for m in await tx.members.all()}
        if not users:
            print("还没有管理后台账号。用 lvzhi console add-user 用户名 --role secretary 开通。")
            return 0
        body = []
        for user in users:
            member = members.get(user.member_id) if user.member_id else None
            body.append(
                [
                    user.username,
                    ROLE_LABELS.get(user.role, user.role),
                    f"{member.name}（{member.userid}）" if member else "—",
                    "启用" if user.active else "停用",
                    user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "—",
                ]
            )
        print(format_table(["用户名", "角色", "名册成员", "状态", "最近登录(UTC)"], body))
        return 0

    return await with_database(config, work)
