"""会议: one meeting notice with its replies (回执) — who attends, who asked for leave and why,
who has not answered — and "remind the non-responders now" (:mod:`bot.console.chase`, with
the planner's own reminder of :class:`handlers.meetings.plan.MeetingSource`)."""

from __future__ import annotations

from aiohttp import web

from bot.console import meeting_compose
from bot.console.chase import remind_action, remind_now, sent_reminders
from bot.console.common import query_int
from bot.console.registry import ConsoleRegistry
from bot.console.server import View
from bot.errors import UserFacingError
from handlers.meetings.plan import MeetingSource
from handlers.notices.common import number, when


async def meeting_page(view: View) -> web.StreamResponse:
    message = None
    done = view.request.query.get("done")
    if done == "reminded":
        message = f"已发送回执提醒（{query_int(view, 'n') or 0} 条消息）。"
    elif done == "sent":
        message = "会议通知已发出。"
    return await _render(view, query_int(view, "id"), message=message, error=None)


async def _render(
    view: View,
    meeting_id: int | None,
    *,
    message: str | None,
    error: str | None,
    status: int = 200,
) -> web.Response:
    async with view.runtime.db.read() as tx:
        meeting = await tx.meetings.get(meeting_id) if meeting_id else None
        if meeting is None:
            return view.render(
                "error.html", status=404, title="没有找到", message="没有找到这次会议。"
            )
        groups = await tx.notices.groups_by_ids(meeting.group_ids)
        rows = await tx.meetings.invitees(meeting.id)
        reminders = await sent_reminders(tx, f"meeting:{meeting.id}:chase")
    silent = [m for m, i in rows if i.answer is None]
    return view.render(
        "meeting.html",
        status=status,
        meeting=meeting,
        no=number("meeting", meeting.id),
        groups=groups,
        attend=[(m, i) for m, i in rows if i.answer == "attend"],
        leave=[(m, i) for m, i in rows if i.answer == "leave"],
        silent=silent,
        total=len(rows),
        reminders=reminders,
        open=view.now < meeting.reply_by,
        can_remind=view.now < meeting.reply_by and bool(silent),
        message=message,
        error=error,
    )


async def meeting_remind(view: View) -> web.StreamResponse:
    return await remind_action(view, _remind, _render, "notices/meeting")


async def _remind(view: View, meeting_id: int | None) -> int:
    env = view.runtime.planner.env()
    async with view.runtime.db.transaction() as tx:
        meeting = await tx.meetings.get(meeting_id) if meeting_id else None
        if meeting is None:
            raise UserFacingError("没有找到这次会议。")
        if env.now >= meeting.reply_by:
            raise UserFacingError(f"回执已于{when(meeting.reply_by, env.zone)}截止，无法再提醒。")
        silent = [m for m, i in await tx.meetings.invitees(meeting.id) if i.answer is None]
        if not silent:
            raise UserFacingError("全部已回复，无需提醒。")
        done = await remind_now(
            tx,
            MeetingSource(),
            auto_key=f"meeting:{meeting.id}:chase",
            args={"meeting": meeting.id, "kind": "chase"},
            env=env,
            expires_at=meeting.reply_by,
        )
        await view.audit(
            tx,
            "console.meeting_remind",
            entity="meeting",
            entity_id=number("meeting", meeting.id),
            detail={"occurrence": done.key, "silent": len(silent), "deliveries": done.deliveries},
        )
    return done.deliveries


def install(console: ConsoleRegistry) -> None:
    console.register_page(
        "notices/meeting/new",
        "发布会议通知",
        get=meeting_compose.compose_page,
        post=meeting_compose.compose_submit,
        nav=False,
    )
    console.register_page("notices/meeting", "会议回执", get=meeting_page, nav=False)
    console.register_page("notices/meeting/remind", "提醒未回执", post=meeting_remind, nav=False)
