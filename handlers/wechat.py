"""公众号 and 客户群 in chat: binding codes, sends waiting for confirmation, where to receive.

- ``绑定码`` (secretaries): the bindings under way and their codes, to hand to the member who
  asked (by phone or in person: the code proves the OpenID belongs to that member).
- ``待确认群发`` (secretaries): customer-group sends waiting for their owner to confirm in
  WeCom, and how many of each group's monthly sends are used.
- ``接收方式 微信`` / ``接收方式 企业微信`` (everyone): where private messages go.
- ``解除绑定`` (a member, from the 公众号): unbind this WeChat account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from bot.dispatcher import OFFICE_ROLES, Context, ParseContext, Router
from bot.errors import UserFacingError
from handlers.text.normalize import normalize

router = Router("wechat")

_CODES = re.compile(r"^(?:绑定码|公众号绑定码|查看绑定码)$")
_AWAITING = re.compile(r"^(?:待确认群发|群发待确认|客户群群发)$")
_CHANNEL = re.compile(r"^(?:接收方式|消息接收|接收渠道)\s*[:：]?\s*(\S+)$")
_UNBIND = re.compile(r"^(?:解除绑定|取消绑定)$")
_BIND = re.compile(r"^绑定\s*[:：]?\s*\S+$")

_WECHAT_WORDS = frozenset({"微信", "公众号", "wechat"})
_WECOM_WORDS = frozenset({"企业微信", "企微", "wecom"})


@dataclass(frozen=True, slots=True)
class BindingCodes:
    intent: ClassVar[str] = "wechat_binding_codes"


@dataclass(frozen=True, slots=True)
class AwaitingSends:
    intent: ClassVar[str] = "customer_group_awaiting"


@dataclass(frozen=True, slots=True)
class ChooseChannel:
    intent: ClassVar[str] = "channel_preference"
    channel: str  # wecom | wechat


@dataclass(frozen=True, slots=True)
class Unbind:
    intent: ClassVar[str] = "wechat_unbind"


@dataclass(frozen=True, slots=True)
class BindAgain:
    intent: ClassVar[str] = "wechat_bind_again"


def parse_codes(text: str, _: ParseContext) -> BindingCodes | None:
    return BindingCodes() if _CODES.match(normalize(text)) else None


def parse_awaiting(text: str, _: ParseContext) -> AwaitingSends | None:
    return AwaitingSends() if _AWAITING.match(normalize(text)) else None


def parse_channel(text: str, _: ParseContext) -> ChooseChannel | None:
    found = _CHANNEL.match(normalize(text))
    if not found:
        return None
    word = found.group(1).lower()
    if word in _WECOM_WORDS:
        return ChooseChannel("wecom")
    if word in _WECHAT_WORDS:
        return ChooseChannel("wechat")
    return None


def parse_unbind(text: str, _: ParseContext) -> Unbind | None:
    return Unbind() if _UNBIND.match(normalize(text)) else None


def parse_bind_again(text: str, _: ParseContext) -> BindAgain | None:
    return BindAgain() if _BIND.match(normalize(text)) else None


@router.message(parse_codes, roles=sorted(OFFICE_ROLES), denied="绑定码仅机关秘书可以查看。")
async def show_codes(_: BindingCodes, ctx: Context) -> None:
    app_id = ctx.config.wechat.app_id
    pending = await ctx.tx.wechat.pending_bindings(app_id, ctx.now) if app_id else []
    if not pending:
        ctx.reply("目前没有待完成的公众号绑定。")
        return
    lines = ["待完成的公众号绑定（请核实身份后把绑定码告诉本人）："]
    for item in pending:
        left = max(1, int((item.expires_at - ctx.now).total_seconds() // 60))
        mobile = _masked(item.member.mobile)
        lines.append(f"{item.member.name}（{mobile}）：{item.code}，{left} 分钟内有效")
    ctx.reply("\n".join(lines))


@router.message(parse_awaiting, roles=sorted(OFFICE_ROLES), denied="仅机关秘书可以查看。")
async def show_awaiting(_: AwaitingSends, ctx: Context) -> None:
    waiting = await ctx.tx.customer_groups.awaiting()
    if not waiting:
        ctx.reply("没有等待确认的客户群群发。")
        return
    cap = ctx.config.wecom.customer_group_monthly_cap
    lines = ["以下客户群群发等待群主在企业微信中确认（确认后才会发出）："]
    for send, name in waiting:
        created = send.created_at.astimezone(ctx.zone).strftime("%m月%d日 %H:%M")
        used = await ctx.tx.customer_groups.used(send.chat_id, send.month)
        preview = send.preview.replace("\n", " ")[:30]
        lines.append(
            f"「{name}」群主 {send.owner}，{created} 创建，本月已用 {used}/{cap}：{preview}"
        )
    ctx.reply("\n".join(lines))


@router.message(parse_channel)
async def choose_channel(choice: ChooseChannel, ctx: Context) -> None:
    member, app_id = ctx.member, ctx.config.wechat.app_id
    if choice.channel == "wecom":
        if not member.userid:
            raise UserFacingError("您还没有企业微信账号，消息只能通过公众号发送。")
        await ctx.tx.wechat.set_channel_pref(member.id, "wecom")
        ctx.reply("好的，今后的通知和提醒将通过企业微信发给您。")
        return
    follower = await ctx.tx.wechat.by_member(app_id, member.id) if app_id else None
    if follower is None:
        raise UserFacingError("您还没有绑定公众号：请在公众号中发送「绑定 手机号」完成绑定。")
    await ctx.tx.wechat.set_channel_pref(member.id, "wechat")
    ctx.reply(
        "好的，今后的通知和提醒将通过公众号发给您。"
        "（超过 48 小时未在公众号发消息时，只能收到简短的模板提醒，请常来看看。）"
    )


@router.message(parse_unbind)
async def unbind(_: Unbind, ctx: Context) -> None:
    openid = ctx.incoming.wechat_openid
    if openid is None:
        raise UserFacingError("请在公众号中发送「解除绑定」。")
    follower = await ctx.tx.wechat.follower(ctx.config.wechat.app_id, openid)
    if follower is not None:
        await ctx.tx.wechat.unbind(follower, now=ctx.now)
    if ctx.member.channel_pref == "wechat":
        await ctx.tx.wechat.set_channel_pref(ctx.member.id, None)
    ctx.reply("已解除绑定。如需重新绑定，请发送「绑定 手机号」。")


@router.message(parse_bind_again)
async def already_bound(_: BindAgain, ctx: Context) -> None:
    if ctx.incoming.wechat_openid is None:
        raise UserFacingError("绑定请在公众号中进行：关注后发送「绑定 手机号」。")
    ctx.reply(f"您已绑定为{ctx.member.name}。如需更换，请先发送「解除绑定」。")


def _masked(mobile: str | None) -> str:
    if not mobile or len(mobile) < 7:
        return "手机号未登记"
    return f"{mobile[:3]}****{mobile[-4:]}"
