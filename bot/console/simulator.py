"""模拟器: type as a member (in a group or 1:1) and see what the bot answers and pushes.

The message goes through the real pipeline (``runtime.pipeline.handle``, channel ``sandbox``):
dispatcher, permissions, storage, outbox, delivery worker. That is only harmless when every
delivery lands in the sandbox channel, i.e. in sandbox mode (no WeCom credentials): with WeCom
configured the same outbox would really send, so the simulator refuses and says why.

Nothing here bypasses the chat's permissions: the bot treats the message exactly as if that
member had sent it, and a secretary may not act as an admin (which would lend them the admin's
commands); admins may act as anyone.

快进 (fast-forward) lets simulated time pass — up to ``FORWARD_MAX`` at a time — running the
planner and the delivery worker as the server would have (:mod:`bot.fastforward`), so a
secretary sees Friday's reminders and Monday's summary at once. Sandbox mode's clock only
moves forward, and only until the server restarts; sessions keep the wall clock.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from bot.console.auth import ROLE_RANK
from bot.console.registry import ConsoleRegistry
from bot.console.server import View
from bot.delivery.sandbox import SandboxMessage, SandboxSender
from bot.errors import UserFacingError
from bot.fastforward import FastForwardError, fast_forward
from bot.messages import Incoming
from storage.models import Group, Member

MAX_TEXT = 2000
ANSWER_WAIT_SECONDS = 5.0
FEED_SIZE = 30
SCHEDULED_SIZE = 20
FORWARD_MAX = timedelta(days=31)  # one request's worth (about a second a week)


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A pending delivery due later (a push the planner or a handler scheduled)."""

    at: datetime
    target: str
    text: str


@dataclass(frozen=True, slots=True)
class Forwarded:
    """What a fast-forward did: from when to when, and every push sent on the way."""

    start: datetime
    until: datetime
    sent: list[SandboxMessage]


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
    if form.get("action") == "forward":
        try:
            forwarded = await _forward(view, sandbox, str(form.get("until", "")).strip())
        except UserFacingError as exc:
            return await _render(view, result=None, error=exc.message, status=400)
        return await _render(view, result=None, error=None, forwarded=forwarded)
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


async def _forward(view: View, sandbox: SandboxSender, until_text: str) -> Forwarded:
    clock = view.runtime.clock
    if not hasattr(clock, "set"):
        raise UserFacingError("当前时钟不能快进（只有沙箱模式下的模拟时间可以）。")
    try:
        until = datetime.fromisoformat(until_text)
    except ValueError:
        raise UserFacingError("请选择要快进到的日期和时间。") from None
    if until.tzinfo is None:
        until = until.replace(tzinfo=view.config.time.zone)
    start = view.now
    if until <= start:
        raise UserFacingError("请选择晚于当前模拟时间的时刻（时间只能向前走）。")
    if until - start > FORWARD_MAX:
        raise UserFacingError(f"一次最多快进 {FORWARD_MAX.days} 天，请分几次进行。")
    runtime = view.runtime
    async with runtime.db.transaction() as tx:
        detail = {"from": start.isoformat(), "until": until.isoformat()}
        await view.audit(tx, "console.fast_forward", entity="clock", detail=detail)
    try:
        sent = await fast_forward(
            clock=clock,  # type: ignore[arg-type]  # checked above: it can be set
            planner=runtime.planner,
            worker=runtime.worker,
            db=runtime.db,
            sandbox=sandbox,
            until=until,
        )
    except FastForwardError as exc:
        raise UserFacingError(str(exc)) from None
    return Forwarded(start, until, sent)


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
    view: View,
    *,
    result: Result | None,
    error: str | None,
    status: int = 200,
    forwarded: Forwarded | None = None,
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
        forwarded=forwarded,
        simulated_now=view.now,
        ahead=view.now - view.runtime.real_now().astimezone(view.config.time.zone),
        forward_default=(view.now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
    )


def install(console: ConsoleRegistry) -> None:
    console.register_page("simulator", "模拟器", get=simulator_page, post=simulate, order=80)
