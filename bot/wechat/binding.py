"""Who wrote to the Official Account: the member an OpenID is bound to, or the binding dialog.

An OpenID means nothing to the roster until it is bound to a member (绑定). The dialog:

1. the follower sends ``绑定 13800138000`` (the mobile number in the roster);
2. the bot answers the same thing whether or not the number is in the roster (nobody learns
   who is a member by trying numbers) and, if it is, keeps a 6-digit code for that member;
3. a secretary sees the code (``绑定码`` in chat) and hands it over, by phone or in person;
4. the follower sends the code: bound. Wrong codes are counted: after
   ``[wechat] bind_max_attempts`` the follower must wait ``bind_code_minutes`` before asking
   again, so the code cannot be guessed.

A bound follower's messages then act as the member: the pipeline dispatches them with the
member's address as sender, and replies go back to the OpenID (:func:`identify`).

Events: ``subscribe`` greets (and explains binding to a stranger), ``unsubscribe`` is noted (no
more custom messages), ``TEMPLATESENDJOBFINISH`` with a failure raises an alert; others are
recorded and not answered.
"""

from __future__ import annotations

import hmac
import re
import secrets
import unicodedata
from dataclasses import replace
from datetime import datetime, timedelta

from bot.config import WeChatConfig
from bot.messages import Incoming, member_address
from bot.pipeline import Identified, Identify
from bot.roster.columns import normalise_mobile
from bot.wecom.crypto import parse_xml
from storage import Tx
from storage.models import Member
from storage.models_wechat import WeChatFollower

HOW_TO_BIND = (
    "您好，欢迎关注履职助手！为确认您的委员身份，请先绑定：\n"
    "1. 发送「绑定 手机号」（名册中登记的手机号），例如：绑定 13800138000；\n"
    "2. 向机关秘书索取 6 位绑定码，直接发送给我。\n"
    "绑定后即可在这里打卡、提交社情民意、回复通知。"
)
ASK_CODE = (
    "已收到。如果这个手机号与名册一致，机关秘书处已能查到您的 6 位绑定码，"
    "请向秘书索取后直接发送给我（{minutes} 分钟内有效）。"
)
WAITING_CODE = "请发送机关秘书提供的 6 位绑定码；如需重新申请，请再次发送「绑定 手机号」。"
CODE_EXPIRED = "绑定码已过期，请重新发送「绑定 手机号」。"
WRONG_CODE = "绑定码不正确，请核对后再发送（还可尝试 {left} 次）。"
LOCKED = "绑定码错误次数过多，请 {minutes} 分钟后再发送「绑定 手机号」。"
BOUND = (
    "绑定成功！{name}，您好。现在可以在这里打卡、提交社情民意、回复通知，"
    "发送「帮助」查看全部功能。"
)
WELCOME_BACK = "{name}，欢迎回来！发送「帮助」查看我能做什么。"

_BIND = re.compile(r"^绑定\s*[:：]?\s*(\S.*)$")
_CODE = re.compile(r"^[0-9]{6}$")


def identifier(config: WeChatConfig) -> Identify:
    """The 公众号's identify hook for the pipeline (the runtime registers it)."""

    async def hook(tx: Tx, incoming: Incoming, now: datetime) -> Identified:
        return await identify(tx, incoming, config, now)

    return hook


async def identify(tx: Tx, incoming: Incoming, config: WeChatConfig, now: datetime) -> Identified:
    """Record the contact (it opens the 48-hour window) and find out who it is."""
    openid = incoming.wechat_openid or incoming.sender
    event = incoming.msg_type[len("event:") :] if incoming.msg_type.startswith("event:") else None
    follower = await tx.wechat.touch(
        config.app_id,
        openid,
        now=now,
        message=event is None,
        subscribed={"subscribe": True, "unsubscribe": False}.get(event or ""),
    )
    member = await tx.members.get(follower.member_id) if follower.member_id else None
    if event is not None:
        return Identified(incoming, member, await _event_answers(tx, event, member, incoming, now))
    if member is None:
        return Identified(
            incoming, None, (await _bind_dialog(tx, follower, incoming, config, now),)
        )
    as_member = replace(incoming, sender=member_address(member))
    return Identified(as_member, member)


async def _event_answers(
    tx: Tx, event: str, member: Member | None, incoming: Incoming, now: datetime
) -> tuple[str, ...]:
    if event == "subscribe":
        return (WELCOME_BACK.format(name=member.name),) if member else (HOW_TO_BIND,)
    if event == "templatesendjobfinish":
        status = str(parse_xml(incoming.raw).get("Status") or "")
        if status != "success":
            who = member.name if member else "未绑定的关注者"
            await tx.alerts.raise_alert(
                at=now,
                kind="wechat_template",
                message=f"公众号模板消息未送达（{who}）：{status[:100]}",
            )
    return ()


async def _bind_dialog(
    tx: Tx, follower: WeChatFollower, incoming: Incoming, config: WeChatConfig, now: datetime
) -> str:
    # Full-width digits and spaces (a Chinese input method's) become plain ones.
    text = unicodedata.normalize("NFKC", incoming.text).strip()
    request = _BIND.match(text)
    if request:
        return await _request_code(tx, follower, request.group(1), config, now)
    if _CODE.match(text) and follower.bind_code is not None:
        return await _check_code(tx, follower, text, config, now)
    if follower.bind_code is not None and (follower.bind_code_expires_at or now) > now:
        return WAITING_CODE
    return HOW_TO_BIND


async def _request_code(
    tx: Tx, follower: WeChatFollower, raw_mobile: str, config: WeChatConfig, now: datetime
) -> str:
    if _locked(follower, config, now):
        return LOCKED.format(minutes=config.bind_code_minutes)
    mobile = normalise_mobile(raw_mobile)
    member = await tx.members.by_mobile(mobile) if mobile else None
    # A number not in the roster gets a code too (that nobody can see), and the same answer:
    # nobody learns who is a member by trying numbers.
    await tx.wechat.start_binding(
        follower,
        member.id if member is not None and member.active else None,
        code=f"{secrets.randbelow(10**6):06d}",
        expires_at=now + timedelta(minutes=config.bind_code_minutes),
        reset_attempts=follower.bind_attempts >= config.bind_max_attempts,
    )
    return ASK_CODE.format(minutes=config.bind_code_minutes)


async def _check_code(
    tx: Tx, follower: WeChatFollower, code: str, config: WeChatConfig, now: datetime
) -> str:
    if follower.bind_code_expires_at is None or follower.bind_code_expires_at <= now:
        await tx.wechat.cancel_binding(follower)
        return CODE_EXPIRED
    pending = follower.pending_member_id
    member = await tx.members.get(pending) if pending is not None else None
    right = hmac.compare_digest(code.encode(), str(follower.bind_code).encode())
    if member is None or not member.active or not right:
        if await tx.wechat.failed_attempt(follower, give_up_after=config.bind_max_attempts):
            await tx.wechat.lock_binding(follower, until=now + _lock_time(config))
            return LOCKED.format(minutes=config.bind_code_minutes)
        return WRONG_CODE.format(left=config.bind_max_attempts - follower.bind_attempts)
    await tx.wechat.bind(follower, member.id, now=now)
    await tx.audit.record(
        at=now,
        actor=f"wechat:{follower.openid}",
        action="wechat.bind",
        entity="member",
        entity_id=member.id,
        detail={"app_id": follower.app_id},
    )
    return BOUND.format(name=member.name)


def _locked(follower: WeChatFollower, config: WeChatConfig, now: datetime) -> bool:
    until = follower.bind_code_expires_at
    return follower.bind_attempts >= config.bind_max_attempts and until is not None and until > now


def _lock_time(config: WeChatConfig) -> timedelta:
    return timedelta(minutes=config.bind_code_minutes)
