"""会议: meeting notices with a reply deadline (回执), members' answers, and the headcount.

A meeting notice is posted like a notice (each group, privately to those reached by no group
or asking for copies). ``参加`` / ``请假 理由`` go to the latest meeting in that chat the member
is invited to that has not started; they may change their answer until the reply deadline,
after which they are told politely to contact the office. Reminders (non-responders before
the deadline, attendees before the start) and the final headcount to the secretary who sent
it come from :mod:`handlers.meetings.plan`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.dispatcher import OFFICE_ROLES, Context, Router
from bot.errors import UserFacingError
from bot.messages import Action, Send
from handlers.common import audience_names, button_target, chat_group, names
from handlers.meetings.parse import (
    MeetingCommand,
    MeetingStatus,
    Rsvp,
    meeting_title,
    parse_meeting,
    parse_meeting_status,
    parse_rsvp,
)
from handlers.notices.common import (
    Audience,
    describe_audience,
    fan_out,
    number,
    resolve_audience,
    when,
)
from handlers.notices.parse import CARD_DONE, rsvp_card

if TYPE_CHECKING:
    from storage import Tx
    from storage.models import Member
    from storage.models_notices import Meeting, MeetingInvitee

router = Router("meetings")
OFFICE = sorted(OFFICE_ROLES)
_ANSWER = "收到会议通知请回复「参加」或「请假 理由」。"
DENIED = "抱歉，发布会议通知仅限机关秘书。" + _ANSWER
STATUS_DENIED = "抱歉，会议回执情况仅限机关秘书查看。" + _ANSWER
ANSWERS = {"attend": "参加", "leave": "请假"}
DEFAULT_REPLY_WINDOW = timedelta(hours=24)  # no 回执 given: a day before the start


def meeting_line(meeting: Meeting, zone: ZoneInfo) -> str:
    place = f"，{meeting.place}" if meeting.place else ""
    return (
        f"{number('meeting', meeting.id)} {meeting.title}"
        f"（{when(meeting.starts_at, zone, weekday=True)}{place}）"
    )


def meeting_text(meeting: Meeting, zone: ZoneInfo) -> str:
    lines = [
        f"【会议通知 {number('meeting', meeting.id)}】{meeting.title}",
        f"时间：{when(meeting.starts_at, zone, weekday=True)}",
    ]
    if meeting.place:
        lines.append(f"地点：{meeting.place}")
    lines.append(meeting.text)
    lines.append(f"请于{when(meeting.reply_by, zone)}前回复「参加」或「请假 理由」。")
    return "\n".join(lines)


def headcount(meeting: Meeting, rows: list[tuple[Member, MeetingInvitee]], zone: ZoneInfo) -> str:
    attend = [m for m, i in rows if i.answer == "attend"]
    leave = [(m, i) for m, i in rows if i.answer == "leave"]
    silent = [m for m, i in rows if i.answer is None]
    lines = [
        meeting_line(meeting, zone),
        f"应到 {len(rows)} 人：参加 {len(attend)}，请假 {len(leave)}，未回复 {len(silent)}"
        f"（回执截止 {when(meeting.reply_by, zone)}）",
    ]
    if attend:
        lines.append(f"参加：{names(attend)}")
    if leave:
        lines.append(
            "请假："
            + "、".join(f"{m.name}（{i.reason}）" if i.reason else m.name for m, i in leave)
        )
    if silent:
        lines.append(f"未回复：{names(silent)}")
    return "\n".join(lines)


async def create_meeting(
    tx: Tx,
    *,
    names_: tuple[str, ...],
    kind: str,
    text: str,
    title: str = "",
    place: str,
    starts_at: datetime,
    reply_by: datetime | None,
    author: Member | None,
    now: datetime,
    zone: ZoneInfo,
) -> tuple[Meeting, Audience, list[Send]]:
    """Record a meeting notice and its invitees; (meeting, audience, deliveries by key).

    The chat's ``会议通知 …`` and the web console both call this. The meeting's name is
    ``title``, else the one the text gives (:func:`meeting_title`), else its kind. Without a
    reply deadline (回执) replies close a day before the start; one already past or after the
    start closes them at the start."""
    from storage.models_notices import Meeting

    if starts_at <= now:
        raise UserFacingError(f"会议时间{when(starts_at, zone)}已经过去，请检查。")
    reply_by = reply_by or starts_at - DEFAULT_REPLY_WINDOW
    if reply_by <= now or reply_by > starts_at:
        reply_by = starts_at
    audience = await resolve_audience(tx, names_)
    if audience.unknown:
        raise UserFacingError(f"没有找到「{'、'.join(audience.unknown)}」，请检查群名或姓名。")
    if not audience.members:
        raise UserFacingError("参会对象中没有委员，请检查名册。")
    meeting = await tx.meetings.add(
        Meeting(
            title=title or meeting_title(text, kind),
            kind=kind,
            text=text,
            place=place,
            starts_at=starts_at,
            reply_by=reply_by,
            group_ids=[g.id for g in audience.groups],
            author_id=author.id if author else None,
            created_at=now,
        )
    )
    await tx.meetings.add_invitees(meeting.id, [m.id for m in audience.members])
    private = await tx.notices.private_copy_ids(m.id for m in audience.members)
    body = meeting_text(meeting, zone)
    title = f"{meeting.title} {when(meeting.starts_at, zone)}"
    card = partial(rsvp_card, number("meeting", meeting.id), meeting.id, title, body)
    sends = fan_out(f"meeting:{meeting.id}", body, audience, private, card)
    return meeting, audience, sends


@router.message(lambda text, pctx: parse_meeting(text, pctx.now), roles=OFFICE, denied=DENIED)
async def announce(value: MeetingCommand, ctx: Context) -> None:
    if value.starts_at is None:
        raise UserFacingError("请写明会议时间，例如：会议通知 第3学习小组：12月3日下午3点在……召开")
    meeting, audience, sends = await create_meeting(
        ctx.tx,
        names_=await audience_names(ctx.tx, ctx.incoming, value.groups),
        kind=value.kind,
        text=value.text,
        place=value.place,
        starts_at=value.starts_at,
        reply_by=value.reply_by,
        author=ctx.member,
        now=ctx.now,
        zone=ctx.zone,
    )
    ctx.send_all(sends)
    no = number("meeting", meeting.id)
    ctx.reply(
        f"已发出会议通知 {meeting_line(meeting, ctx.zone)}至"
        f"{describe_audience(audience)}，共 {len(audience.members)} 人。"
        f"回执截止 {when(meeting.reply_by, ctx.zone)}，发送「会议情况 {no}」查看回执。"
    )


@router.message(lambda text, _: parse_rsvp(text))
async def rsvp(value: Rsvp, ctx: Context) -> None:
    await record_rsvp(ctx, value.meeting, value.answer, value.reason)


@router.action("attend", done=CARD_DONE["attend"])
@router.action("leave", done=CARD_DONE["leave"])
async def rsvp_button(action: Action, ctx: Context) -> None:
    """The 参加 / 请假 buttons of a meeting notice's private copy (回执)."""
    await record_rsvp(ctx, button_target(action), action.name, "")


async def record_rsvp(ctx: Context, meeting_id: int | None, answer: str, reason: str) -> None:
    invited = await ctx.tx.meetings.upcoming_for_member(ctx.member.id, ctx.now)
    if meeting_id is not None:
        invited = [(m, i) for m, i in invited if m.id == meeting_id]
        if not invited:
            raise UserFacingError(
                f"没有找到邀请您参加、尚未召开的会议 {number('meeting', meeting_id)}。"
            )
    else:
        group = await chat_group(ctx.tx, ctx.incoming)
        here = [(m, i) for m, i in invited if group is not None and group.id in m.group_ids]
        invited = here or invited
    if not invited:
        raise UserFacingError("目前没有需要您回复的会议通知。")
    open_ = [(m, i) for m, i in invited if m.reply_by > ctx.now]
    if not open_:
        meeting = invited[0][0]
        raise UserFacingError(
            f"{meeting_line(meeting, ctx.zone)}的回执已于{when(meeting.reply_by, ctx.zone)}截止，"
            "无法再更改。如有变化，请直接联系会务秘书。"
        )
    meeting, invitee = open_[0]
    before = invitee.answer
    if before == answer and (answer == "attend" or reason == invitee.reason):
        ctx.reply(
            f"您已回复「{ANSWERS[answer]}」{meeting_line(meeting, ctx.zone)}，无需重复回复。"
        )
        return
    await ctx.tx.meetings.answer(
        meeting.id, ctx.member.id, answer=answer, reason=reason, at=ctx.now
    )
    if before is not None and before != answer:
        head = f"已将您的回执由「{ANSWERS[before]}」改为「{ANSWERS[answer]}」："
    elif answer == "attend":
        head = "已登记：您将参加"
    else:
        head = f"已为您登记请假（理由：{reason}）：" if reason else "已为您登记请假："
    tail = f"回执截止 {when(meeting.reply_by, ctx.zone)}前可更改。"
    if answer == "leave" and not reason:
        tail += "如方便，请补充理由：「请假 理由」。"
    ctx.reply(f"{head}{meeting_line(meeting, ctx.zone)}。{tail}")


@router.message(lambda text, _: parse_meeting_status(text), roles=OFFICE, denied=STATUS_DENIED)
async def status(value: MeetingStatus, ctx: Context) -> None:
    meeting = None
    if value.meeting is not None:
        meeting = await ctx.tx.meetings.get(value.meeting)
    else:
        upcoming = await ctx.tx.meetings.starting_after(ctx.now)
        meeting = upcoming[-1] if upcoming else None
    if meeting is None:
        raise UserFacingError("没有找到这次会议。")
    rows = await ctx.tx.meetings.invitees(meeting.id)
    ctx.reply(headcount(meeting, rows, ctx.zone))
