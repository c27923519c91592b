"""履职登记 in chat: a member registers an activity (with photos or files sent right after);
a secretary confirms or returns it, or confirms a whole meeting's attendance in one step.

A registration opens a short dialog (kind ``activity``) in which images and files are
attached to it, as a report's draft takes them; ``完成`` (or any other message) ends it.
Only confirmed activities count in the duty record. The member is told of the office's
decision once (key ``activity:{id}:{state}``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from bot.dispatcher import OFFICE_ROLES, Context, HandBack, ParseContext, Router
from bot.errors import UserFacingError
from bot.messages import Outgoing, Send, member_address
from handlers.activities.parse import (
    KIND_WORDS,
    ActivityQuery,
    ActivityReview,
    ActivityText,
    kind_of,
    parse_activity,
    parse_query,
    parse_review,
)
from handlers.reports.dialog import MAX_ATTACHMENTS, MEDIA_TYPES, media_of

if TYPE_CHECKING:
    from storage import Tx
    from storage.models import DialogState, Member
    from storage.models_proposals import Activity

router = Router("activities")
OFFICE = sorted(OFFICE_ROLES)
DIALOG = "activity"
STATE_NAMES = {"pending": "待确认", "confirmed": "已确认", "returned": "已退回"}
DENIED = "抱歉，确认履职登记仅限机关秘书。您可以发送「我的履职登记」查看自己的登记。"
EXAMPLE = "例如「履职登记 12月3日 参加市政协乡村振兴专题调研」"
DONE_WORDS = frozenset({"完成", "好了", "没有了", "没了", "就这些", "不用了", "结束"})


def number(activity_id: int) -> str:
    return f"HD-{activity_id}"


def pick_kind(written: str, text: str, kinds: Sequence[str]) -> str:
    """The office's kind for an activity: one it names (``类型：``, or its words), else the
    built-in kind read from the words if the office has it, else the catch-all (其他, or the
    last kind listed)."""
    if written in kinds:
        return written
    named = next((k for k in kinds if k in text), None)
    if named is not None:
        return named
    for kind, _ in KIND_WORDS:
        if kind == written and kind in kinds:
            return kind
    return "其他" if "其他" in kinds else kinds[-1]


def _activity(text: str, pctx: ParseContext) -> ActivityText | None:
    return parse_activity(text, pctx.now)


def _review(text: str, _: ParseContext) -> ActivityReview | None:
    return parse_review(text)


def _query(text: str, _: ParseContext) -> ActivityQuery | None:
    return parse_query(text)


def _day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def line(activity: Activity) -> str:
    return f"{number(activity.id)} {_day(activity.day)} {activity.kind}：{activity.text}"


@router.message(_activity)
async def register(value: ActivityText, ctx: Context) -> None:
    from storage.models_proposals import Activity

    if not value.text:
        raise UserFacingError(f"请写明活动的日期和内容，{EXAMPLE}。")
    if value.date is None:
        raise UserFacingError(f"请写明活动日期，{EXAMPLE}。")
    if value.date > ctx.now.date():
        raise UserFacingError(f"{_day(value.date)}还没到，履职活动请在参加之后登记。")
    kind = pick_kind(value.kind, value.text, ctx.config.activities.kinds)
    if await ctx.tx.activities.exists(ctx.member.id, value.date, kind, value.text):
        ctx.reply(f"这项活动已经登记过了（{_day(value.date)} {kind}），无需重复。")
        return
    activity = await ctx.tx.activities.add(
        Activity(
            member_id=ctx.member.id,
            kind=kind,
            day=value.date,
            text=value.text,
            state="pending",
            source="chat",
            created_at=ctx.now,
        )
    )
    await ctx.start_dialog(DIALOG, "attach", {"activity": activity.id})
    ctx.reply(
        f"已登记履职活动 {line(activity)}，待机关秘书确认后计入履职档案。\n"
        "有现场照片或材料可以直接发送，发完回复「完成」。"
    )


@router.dialog(DIALOG)
async def attach(text: str, ctx: Context, dialog: DialogState) -> HandBack | None:
    from storage.models_proposals import ActivityAttachment

    activity = await ctx.tx.activities.get(int(dialog.data["activity"]))
    if activity is None:
        await ctx.end_dialog()
        raise UserFacingError("这条履职登记已不存在。")
    if ctx.incoming.msg_type in MEDIA_TYPES:
        media = media_of(ctx.incoming)
        if media is None:
            raise UserFacingError("没能读取这个附件，请重新发送。")
        count = len(await ctx.tx.activities.attachments(activity.id))
        if count >= MAX_ATTACHMENTS:
            raise UserFacingError(f"每条履职登记最多 {MAX_ATTACHMENTS} 个附件。")
        await ctx.tx.activities.add_attachment(
            ActivityAttachment(
                activity_id=activity.id,
                kind=media["kind"],
                media_id=media["media_id"],
                filename=media["filename"],
                received_at=ctx.now,
            )
        )
        await ctx.start_dialog(DIALOG, "attach", {"activity": activity.id})
        ctx.reply(f"已添加附件（共 {count + 1} 个），发完回复「完成」。")
        return None
    await ctx.end_dialog()
    count = len(await ctx.tx.activities.attachments(activity.id))
    if text.strip(" 。.!！") in DONE_WORDS:
        ctx.reply(
            f"好的，{number(activity.id)} 共 {count} 个附件。"
            if count
            else f"好的，{number(activity.id)} 没有附件。"
        )
        return None
    ctx.reply(f"{number(activity.id)} 的附件已结束添加（共 {count} 个）。")
    return HandBack.NEW_MESSAGE  # the message is someone's next request: handled as such


@router.message(_query)
async def mine(_: ActivityQuery, ctx: Context) -> None:
    activities = await ctx.tx.activities.of_member(ctx.member.id)
    if not activities:
        ctx.reply(f"您还没有登记履职活动。{EXAMPLE}。")
        return
    lines = [f"您的履职登记（最近 {len(activities)} 条）："]
    lines += [f"· {line(a)}（{STATE_NAMES[a.state]}）" for a in activities]
    ctx.reply("\n".join(lines))


# -- the office -----------------------------------------------------------------------------------


@router.message(_review, roles=OFFICE, denied=DENIED)
async def review(value: ActivityReview, ctx: Context) -> None:
    if value.action == "list":
        ctx.reply(await pending_list(ctx))
        return
    if value.action == "meeting":
        assert value.meeting is not None
        await confirm_meeting(ctx, value.meeting, value.kind)
        return
    assert value.activity is not None
    activity = await ctx.tx.activities.get(value.activity)
    if activity is None:
        raise UserFacingError(f"没有找到履职登记 {number(value.activity)}。")
    if activity.state != "pending":
        raise UserFacingError(
            f"履职登记 {number(activity.id)} {STATE_NAMES[activity.state]}，无需再处理。"
        )
    if value.action == "return" and not value.comment:
        raise UserFacingError(
            f"请写明退回理由，例如「退回 {number(activity.id)} 请补充活动照片」。"
        )
    member = await ctx.tx.members.get(activity.member_id)
    assert member is not None
    ctx.send_all(
        await decide(
            ctx.tx,
            activity,
            member,
            value.action,
            actor=f"user:{ctx.member.userid}",
            comment=value.comment or "",
            now=ctx.now,
            by=ctx.member,
        )
    )
    verb = "确认" if value.action == "confirm" else "退回"
    ctx.reply(f"已{verb}{member.name}的履职登记 {line(activity)}，已通知本人。")


async def decide(
    tx: Tx,
    activity: Activity,
    member: Member,
    action: str,
    *,
    actor: str,
    comment: str,
    now: datetime,
    by: Member | None = None,
) -> list[Send]:
    """The office confirms (``confirm``) or returns (``return``) a pending activity — the one
    step the chat and the console share: the state, the audit row (``activity.<action>``,
    docs/architecture.md's one audit rule) and what the member is told (nothing when the
    member decided their own)."""
    activity.state = "confirmed" if action == "confirm" else "returned"
    activity.reviewed_at, activity.reviewer, activity.comment = now, actor, comment
    await tx.audit.record(
        at=now,
        actor=actor,
        action=f"activity.{action}",
        entity="activity",
        entity_id=number(activity.id),
        detail={"member": member.userid, "comment": comment[:200]},
    )
    if by is not None and by.id == member.id:
        return []
    return _told(activity, member)


def _told(activity: Activity, member: Member) -> list[Send]:
    if not member.active:
        return []
    if activity.state == "confirmed":
        text = f"【履职登记】您登记的 {line(activity)} 已确认，计入履职档案。"
    else:
        text = (
            f"【履职登记】您登记的 {line(activity)} 被退回：{activity.comment}\n"
            "修改后请重新发送「履职登记 日期 内容」。"
        )
    address = member_address(member)
    key = f"activity:{activity.id}:{activity.state}:{address}"
    return [Send(key, Outgoing(text, to_member=address))]


async def confirm_meeting(ctx: Context, meeting_id: int, kind_word: str | None) -> None:
    """Everyone whose 回执 said 参加 gets a confirmed activity for the meeting (once)."""
    from storage.models_proposals import Activity

    meeting = await ctx.tx.meetings.get(meeting_id)
    if meeting is None:
        raise UserFacingError(f"没有找到会议 HY-{meeting_id}。")
    kinds = ctx.config.activities.kinds
    kind = pick_kind(kind_word or kind_of(meeting.kind), kind_word or meeting.kind, kinds)
    if kind_word and kind_word not in kinds:
        raise UserFacingError(f"没有「{kind_word}」这个履职类型。可选：{'、'.join(kinds)}。")
    done = await ctx.tx.activities.for_meeting(meeting.id)
    day = meeting.starts_at.astimezone(ctx.zone).date()
    added = []
    for member, invitee in await ctx.tx.meetings.invitees(meeting.id):
        if invitee.answer != "attend" or member.id in done:
            continue
        activity = await ctx.tx.activities.add(
            Activity(
                member_id=member.id,
                kind=kind,
                day=day,
                text=f"出席{meeting.kind}（HY-{meeting.id}）",
                state="confirmed",
                source="meeting",
                meeting_id=meeting.id,
                created_at=ctx.now,
                reviewed_at=ctx.now,
                reviewer=f"user:{ctx.member.userid}",
            )
        )
        if member.id != ctx.member.id:
            ctx.send_all(_told(activity, member))
        added.append(member.name)
    if not added:
        raise UserFacingError(
            f"HY-{meeting.id} 没有新的出席人需要确认（回执为参加的已全部登记）。"
        )
    ctx.reply(
        f"已确认 HY-{meeting.id} {meeting.kind}的出席 {len(added)} 人（{kind}，{_day(day)}）："
        + "、".join(added)
    )


async def pending_list(ctx: Context) -> str:
    rows = await ctx.tx.activities.pending()
    if not rows:
        return "目前没有待确认的履职登记。"
    kept = await ctx.tx.media.of_owners("activity", (a.id for a, _ in rows))
    lines = [f"待确认履职登记 {len(rows)} 条："]
    lines += [
        f"· {m.name} {line(a)}" + (f"（附件{len(kept[a.id])}）" if a.id in kept else "")
        for a, m in rows
    ]
    lines.append("回复「确认 HD-编号」或「退回 HD-编号 理由」。")
    return "\n".join(lines)
