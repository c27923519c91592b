"""通知: broadcasts with acknowledgment (收到), their status, private copies and recurring
notices.

A notice is posted in each group named (and privately to members reached by no group or who
asked for a copy with ``通知私信``); its deliveries are queued at once, due at its send time,
so a scheduled notice survives restarts like any delivery. ``收到`` goes to the latest notice
in that chat the member has not acknowledged (1:1: the latest sent to them at all) and the
answer names it. One reminder goes to those who have not acknowledged after
``[notices] ack_reminder_hours`` (:mod:`handlers.notices.plan`).

A notice's private copy is a card with a 收到 button (key ``ack:{id}``): the edge turns its
click into ``Incoming.action`` and the action registered here records it as the typed word
does. Meetings and tasks register their own buttons the same way.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from bot.dispatcher import OFFICE_ROLES, Context, Guess, ParseContext, Router
from bot.errors import UserFacingError
from bot.messages import Action, Send
from handlers.common import audience_names, button_target, chat_group, names
from handlers.notices.common import (
    describe_audience,
    fan_out,
    number,
    preview,
    resolve_audience,
    when,
)
from handlers.notices.parse import (
    CARD_DONE,
    Ack,
    NoticeCommand,
    NoticeStatus,
    PrivateCopy,
    RecurringNotice,
    StopRecurring,
    ack_card,
    describe_schedule,
    parse_ack,
    parse_notice,
    parse_notice_status,
    parse_private_copy,
    parse_recurring,
    parse_stop_recurring,
)
from handlers.text.slots import clean_audience, send_time, zone_of

if TYPE_CHECKING:
    from storage import Tx
    from storage.models import Member
    from storage.models_notices import Notice, NoticeRule

router = Router("notices")
OFFICE = sorted(OFFICE_ROLES)
_ANSWER = "收到通知请回复「收到」。"
DENIED = "抱歉，发布通知仅限机关秘书。" + _ANSWER
STATUS_DENIED = "抱歉，通知确认情况仅限机关秘书查看。" + _ANSWER
RULE_DENIED = "抱歉，定期通知仅限机关秘书设置。" + _ANSWER
OPEN_FOR = timedelta(days=30)  # an acknowledgment looks this far back for its notice


def notice_text(notice: Notice) -> str:
    tail = "\n（请回复「收到」确认）" if notice.needs_ack else ""
    return f"【通知 {number('notice', notice.id)}】{notice.text}{tail}"


async def create_notice(
    tx: Tx,
    *,
    names_: tuple[str, ...],
    text: str,
    send_at: datetime,
    needs_ack: bool,
    author: Member | None,
    now: datetime,
    ack_reminder: timedelta,
    rule: NoticeRule | None = None,
) -> tuple[Notice, str, list[Send]]:
    """Record a notice and its recipients; (notice, audience as shown, deliveries by key)."""
    from storage.models_notices import Notice

    audience = await resolve_audience(tx, names_)
    if audience.unknown:
        raise UserFacingError(f"没有找到「{'、'.join(audience.unknown)}」，请检查群名或姓名。")
    if not audience.members and not audience.groups:
        raise UserFacingError("通知对象中没有委员，请检查名册。")
    chase = needs_ack and ack_reminder > timedelta(0)
    notice = await tx.notices.add(
        Notice(
            text=text,
            group_ids=[g.id for g in audience.groups],
            needs_ack=needs_ack,
            send_at=send_at,
            chase_at=send_at + ack_reminder if chase else None,
            author_id=author.id if author else None,
            rule_id=rule.id if rule else None,
            occasion=send_at.date() if rule else None,
            created_at=now,
        )
    )
    if needs_ack:
        await tx.notices.add_recipients(notice.id, [m.id for m in audience.members])
    private = await tx.notices.private_copy_ids(m.id for m in audience.members)
    key = f"notice:{notice.id}"
    text = notice_text(notice)
    card = None
    if needs_ack:
        card = partial(ack_card, number("notice", notice.id), notice.id, "通知", notice.text)
    sends = fan_out(key, text, audience, private, card)
    return notice, describe_audience(audience), sends


def _reminder(ctx: Context) -> timedelta:
    return timedelta(hours=ctx.config.notices.ack_reminder_hours)


def _notice(text: str, pctx: ParseContext) -> NoticeCommand | Guess | None:
    value = parse_notice(text, pctx.now)
    if value is None:
        return None
    groups = clean_audience(value.groups)  # 给第1、第2学习小组发个 → 第1学习小组, 第2学习小组
    if not groups:
        return None
    value = dataclasses.replace(value, groups=groups)
    if value.send_at is None:
        found = send_time(value.text, pctx.now)
        if found is not None:  # （明天早上8点发出） at the end: read from the text, so confirm
            at, (start, end) = found
            text = (value.text[:start] + value.text[end:]).strip()
            guessed = dataclasses.replace(value, send_at=at, text=text)
            return Guess(
                guessed,
                f"通知{'、'.join(groups)}，{when(at, zone_of(pctx.now))}发出：{preview(text, 30)}",
            )
    return value


@router.message(_notice, roles=OFFICE, denied=DENIED)
async def broadcast(value: NoticeCommand, ctx: Context) -> None:
    send_at = value.send_at if value.send_at and value.send_at > ctx.now else None
    notice, shown, sends = await create_notice(
        ctx.tx,
        names_=await audience_names(ctx.tx, ctx.incoming, value.groups),
        text=value.text,
        send_at=send_at or ctx.now,
        needs_ack=value.needs_ack,
        author=ctx.member,
        now=ctx.now,
        ack_reminder=_reminder(ctx),
    )
    ctx.send_all(dataclasses.replace(send, at=send_at) for send in sends)
    no = number("notice", notice.id)
    timing = f"将于{when(send_at, ctx.zone)}发送至" if send_at else "已发送至"
    tail = (
        f"，{ctx.config.notices.ack_reminder_hours:g}小时后提醒未确认的委员。"
        f"发送「通知情况 {no}」查看确认情况。"
        if notice.needs_ack
        else "，无需回执。"
    )
    ctx.reply(f"通知 {no} {timing}{shown}（{len(sends)}处）{tail}")


@router.message(lambda text, _: parse_ack(text))
async def acknowledge(value: Ack, ctx: Context) -> None:
    await ack_notice(ctx, value.notice, via="text")


async def ack_notice(ctx: Context, notice_id: int | None, *, via: str) -> None:
    recent = await ctx.tx.notices.recent_for_member(
        ctx.member.id, now=ctx.now, since=ctx.now - OPEN_FOR
    )
    if notice_id is not None:
        candidates = [(n, r) for n, r in recent if n.id == notice_id]
        if not candidates:
            raise UserFacingError(f"没有找到发给您的通知 {number('notice', notice_id)}。")
    else:
        group = await chat_group(ctx.tx, ctx.incoming)
        here = [(n, r) for n, r in recent if group is not None and group.id in n.group_ids]
        candidates = here or recent
    open_ = [(n, r) for n, r in candidates if r.acked_at is None]
    if not open_:
        if candidates:
            n = candidates[0][0]
            ctx.reply(
                f"您已确认过通知 {number('notice', n.id)}「{preview(n.text)}」，无需重复回复。"
            )
        else:
            ctx.reply("目前没有需要您确认的通知。")
        return
    notice = open_[0][0]
    await ctx.tx.notices.ack(notice.id, ctx.member.id, at=ctx.now, via=via)
    text = f"已确认收到通知 {number('notice', notice.id)}「{preview(notice.text)}」。"
    others = [number("notice", n.id) for n, _ in open_[1:]]
    if others:
        text += (
            f"\n您还有 {len(others)} 条通知未确认（{'、'.join(others)}），可回复「收到 编号」。"
        )
    ctx.reply(text)


@router.message(lambda text, _: parse_notice_status(text), roles=OFFICE, denied=STATUS_DENIED)
async def status(value: NoticeStatus, ctx: Context) -> None:
    if value.notice is not None:
        notice = await ctx.tx.notices.get(value.notice)
    else:
        latest = await ctx.tx.notices.recent(limit=1)
        notice = latest[0] if latest else None
    if notice is None:
        raise UserFacingError("没有找到这条通知。")
    no = number("notice", notice.id)
    groups = await ctx.tx.notices.groups_by_ids(notice.group_ids)
    where = "、".join(g.name for g in groups) or "相关委员（私信）"
    sent = "已于" if notice.send_at <= ctx.now else "定于"
    lines = [
        f"通知 {no}「{preview(notice.text, 30)}」",
        f"{sent}{when(notice.send_at, ctx.zone)}发送至{where}",
    ]
    if not notice.needs_ack:
        lines.append("该通知无需回执。")
    else:
        rows = await ctx.tx.notices.recipients(notice.id)
        waiting = [m for m, r in rows if r.acked_at is None]
        lines.append(f"已确认 {len(rows) - len(waiting)}/{len(rows)}")
        lines.append(f"未确认（{len(waiting)}）：{names(waiting)}" if waiting else "全部已确认 👍")
    ctx.reply("\n".join(lines))


@router.message(lambda text, _: parse_private_copy(text))
async def private_copy(value: PrivateCopy, ctx: Context) -> None:
    await ctx.tx.notices.set_private_copy(ctx.member.id, value.wanted, ctx.now)
    if value.wanted:
        ctx.reply("好的，今后发到您所在群的通知也会私信发给您一份。关闭请发送「关闭通知私信」。")
    else:
        ctx.reply("好的，今后通知只发在群里，不再私信。")


@router.message(
    lambda text, pctx: parse_recurring(text, pctx.now), roles=OFFICE, denied=RULE_DENIED
)
async def recurring(value: RecurringNotice, ctx: Context) -> None:
    from storage.models_notices import NoticeRule

    audience = await resolve_audience(ctx.tx, value.groups)
    if audience.unknown:
        raise UserFacingError(f"没有找到「{'、'.join(audience.unknown)}」，请检查群名或姓名。")
    rule = await ctx.tx.notices.add_rule(
        NoticeRule(
            text=value.text,
            audience=list(value.groups),
            cadence=value.cadence,
            weekday=value.weekday,
            at=value.at.strftime("%H:%M"),
            needs_ack=value.needs_ack,
            author_id=ctx.member.id,
            created_at=ctx.now,
            updated_at=ctx.now,
        )
    )
    no = number("rule", rule.id)
    ctx.reply(
        f"已设置定期通知 {no}：{describe_schedule(rule.cadence, rule.weekday, rule.at)}发送至"
        f"{describe_audience(audience)}（法定节假日不发）。"
        f"停止请发送「停止定期通知 {no}」。"
    )


@router.message(lambda text, _: parse_stop_recurring(text), roles=OFFICE, denied=RULE_DENIED)
async def stop_recurring(value: StopRecurring, ctx: Context) -> None:
    rule = await ctx.tx.notices.get_rule(value.rule)
    if rule is None or not rule.active:
        raise UserFacingError(f"没有进行中的定期通知 {number('rule', value.rule)}。")
    rule.active = False
    rule.updated_at = ctx.now
    ctx.reply(f"已停止定期通知 {number('rule', rule.id)}。")


@router.action("ack", done=CARD_DONE["ack"])
async def ack_button(action: Action, ctx: Context) -> None:
    """The 收到 button of a notice's private copy."""
    await ack_notice(ctx, button_target(action), via="card")
