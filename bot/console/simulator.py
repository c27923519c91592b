"""模拟器: type as a member (in a group or 1:1) and see what the bot answers and pushes.

The message goes through the real pipeline (``runtime.pipeline.handle``, channel ``sandbox``):
dispatcher, permissions, storage, outbox, delivery worker. That is only harmless when every
delivery lands in the sandbox channel, i.e. in sandbox mode (no WeCom credentials): with WeCom
configured the same outbox would really send, so the simulator refuses and says why.

Nothing here bypasses the chat's permissions: the bot treats the message exactly as if that
member had sent it, and a secretary may not act as an admin (which would lend them the admin's
commands); admins may act as anyone.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from bot.console.auth import ROLE_RANK
from bot.console.registry import ConsoleRegistry
from bot.console.server import View
from bot.delivery.sandbox import SandboxMessage, SandboxSender
from bot.errors import UserFacingError
from bot.messages import Incoming
from storage.models import Group, Member

MAX_TEXT = 2000
ANSWER_WAIT_SECONDS = 5.0
FEED_SIZE = 30
SCHEDULED_SIZE = 20


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A pending delivery due later (a push the planner or a handler scheduled)."""

    at: datetime
    target: str
    text: str


@dataclass(frozen=True, slots=True)
class Result:
    member: Member
    group: Group | None
    text: str
    answers: list[SandboxMessage]


async def simulator_page(view: View) -> web.StreamResponse:
    return await _render(view, result=None, error=None)


async def simulate(view: View) -> web.StreamResponse:
    sandbox = view.runtime.sandbox
    if sandbox is None:
        return await _render(view, result=None, error=None, status=403)
    form = view.form
    assert form is not None  # a POST always has its CSRF-checked form
    userid = str(form.get("member", "")).strip()
    group_name = str(form.get("group", "")).strip()
    text = str(form.get("text", "")).strip()
    try:
        result = await _send(view, sandbox, userid, group_name, text)
    except UserFacingError as exc:
        return await _render(view, result=None, error=exc.message, status=400)
    return await _render(view, result=result, error=None)


async def _send(
    view: View, sandbox: SandboxSender, userid: str, group_name: str, text: str
) -> Result:
    if not userid or not text:
        raise UserFacingError("请选择委员并输入消息内容。")
    if len(text) > MAX_TEXT:
        raise UserFacingError(f"消息太长（最多{MAX_TEXT}字）。")
    runtime = view.runtime
    async with runtime.db.transaction() as tx:
        member = await tx.members.by_userid(userid)
        if member is None or not member.active:
            raise UserFacingError(f"名册中没有企业微信账号为 {userid} 的在册成员。")
        if ROLE_RANK.get(member.role, 0) > ROLE_RANK[view.identity.role]:
            raise UserFacingError("秘书不能以管理员的身份发送消息（那会越过管理员权限）。")
        group = await tx.groups.by_name(group_name) if group_name else None
        if group_name and group is None:
            raise UserFacingError(f"没有名为「{group_name}」的群。")
        await view.audit(
            tx,
            "console.simulate",
            entity="member",
            entity_id=member.userid or "",
            detail={"group": group.name if group else None, "text": text[:200]},
        )
    before = {id(message) for message in sandbox.messages}
    incoming = Incoming(
        channel="sandbox",
        sender=userid,
        text=text,
        sent_at=runtime.clock.now(),
        dedup_key=f"console:{uuid.uuid4().hex}",
        chat_id=(group.app_chat_id or f"sandbox-group-{group.id}") if group else None,
        chat_name=group.name if group else None,
    )
    await runtime.pipeline.handle(incoming)
    await _wait_for_replies(view, f"reply:{incoming.dedup_key}:")
    answers = [message for message in sandbox.messages if id(message) not in before]
    return Result(member, group, text, answers)


async def _wait_for_replies(view: View, key_prefix: str) -> None:
    """Let the running delivery worker hand this message's replies to the sandbox channel."""
    runtime = view.runtime
    deadline = asyncio.get_running_loop().time() + ANSWER_WAIT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        runtime.worker.wake()
        async with runtime.db.read() as tx:
            if not await tx.console.unfinished_deliveries(key_prefix):
                return
        await asyncio.sleep(0.05)


async def _render(
    view: View, *, result: Result | None, error: str | None, status: int = 200
) -> web.Response:
    sandbox = view.runtime.sandbox
    members: list[Member] = []
    groups: list[Group] = []
    scheduled: list[Scheduled] = []
    if sandbox is not None:
        async with view.runtime.db.read() as tx:
            members = await tx.console.active_members()
            if not view.identity.is_admin:
                members = [m for m in members if m.role != "admin"]
            groups = await tx.groups.all()
            names = {group.id: group.name for group in groups}
            for delivery in await tx.console.scheduled_deliveries(
                view.runtime.clock.now(), SCHEDULED_SIZE
            ):
                target = (
                    names.get(int(delivery.target), delivery.target)
                    if delivery.channel == "group" and delivery.target.isdigit()
                    else delivery.target
                    if delivery.channel == "member"
                    else "智能机器人回复"
                )
                scheduled.append(
                    Scheduled(
                        delivery.next_attempt_at,
                        target,
                        str(delivery.payload.get("content", "")),
                    )
                )
    feed = list(reversed(sandbox.messages))[:FEED_SIZE] if sandbox is not None else []
    return view.render(
        "simulator.html",
        status=status,
        available=sandbox is not None,
        members=members,
        groups=groups,
        result=result,
        error=error,
        feed=feed,
        scheduled=scheduled,
    )


def install(console: ConsoleRegistry) -> None:
    console.register_page("simulator", "模拟器", get=simulator_page, post=simulate, order=80)
