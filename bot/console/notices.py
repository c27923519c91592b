"""通知与会议: the notices and meetings sent, who has and has not acknowledged (收到) or
replied (回执), and "send the reminder now" (:mod:`bot.console.chase`). Composing a notice:
:mod:`bot.console.compose`; one meeting: :mod:`bot.console.meetings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from bot.config import Config
from bot.console.chase import remind_action, remind_now, sent_reminders
from bot.console.common import query_int
from bot.console.compose import compose_page, compose_submit
from bot.console.registry import ConsoleRegistry
from bot.console.server import View
from bot.errors import UserFacingError
from handlers.notices.common import number, preview
from handlers.notices.plan import CHASE_GRACE, NoticeSource
from storage import Tx
from storage.models_notices import Notice

LIST_LIMIT = 50
OPEN_DAYS = 7  # the overview shows notices sent this recently


# -- one notice ---------------------------------------------------------------------------------


DONE_MESSAGES = {
    "sent": "通知已发出。",
    "scheduled": "通知已排定，将按时发送。",
}


async def notice_page(view: View) -> web.StreamResponse:
    notice_id = query_int(view, "id")
    done = view.request.query.get("done", "")
    message = DONE_MESSAGES.get(done)
    if done == "reminded":
        message = f"已发送提醒（{query_int(view, 'n') or 0} 条消息）。"
    return await _render_notice(view, notice_id, message=message, error=None)


async def _render_notice(
    view: View, notice_id: int | None, *, message: str | None, error: str | None, status: int = 200
) -> web.Response:
    async with view.runtime.db.read() as tx:
        notice = await tx.notices.get(notice_id) if notice_id else None
        if notice is None:
            return view.render(
                "error.html", status=404, title="没有找到", message="没有找到这条通知。"
            )
        groups = await tx.notices.groups_by_ids(notice.group_ids)
        rows = await tx.notices.recipients(notice.id)
        reminders = await sent_reminders(tx, f"notice:{notice.id}:chase")
    acked = [(m, r) for m, r in rows if r.acked_at is not None]
    waiting = [m for m, r in rows if r.acked_at is None]
    sent = notice.send_at <= view.now
    return view.render(
        "notice.html",
        status=status,
        notice=notice,
        no=number("notice", notice.id),
        groups=groups,
        acked=acked,
        waiting=waiting,
        sent=sent,
        reminders=reminders,
        can_remind=notice.needs_ack and sent and bool(waiting),
        message=message,
        error=error,
    )


async def notice_remind(view: View) -> web.StreamResponse:
    return await remind_action(view, _remind, _render_notice, "notices/view")


async def _remind(view: View, notice_id: int | None) -> int:
    env = view.runtime.planner.env()
    async with view.runtime.db.transaction() as tx:
        notice = await tx.notices.get(notice_id) if notice_id else None
        if notice is None:
            raise UserFacingError("没有找到这条通知。")
        if not notice.needs_ack:
            raise UserFacingError("该通知无需回执，没有可以提醒的人。")
        if notice.send_at > env.now:
            raise UserFacingError("该通知尚未发出，发出后才能提醒。")
        waiting = [m for m, r in await tx.notices.recipients(notice.id) if r.acked_at is None]
        if not waiting:
            raise UserFacingError("全部已确认，无需提醒。")
        done = await remind_now(
            tx,
            NoticeSource(),
            auto_key=f"notice:{notice.id}:chase",
            args={"kind": "chase", "notice": notice.id},
            env=env,
            expires_at=env.now + CHASE_GRACE,
        )
        await view.audit(
            tx,
            "console.notice_remind",
            entity="notice",
            entity_id=number("notice", notice.id),
            detail={
                "occurrence": done.key,
                "waiting": len(waiting),
                "deliveries": done.deliveries,
            },
        )
    return done.deliveries


# -- the list -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoticeRow:
    notice: Notice
    no: str
    where: str
    acked: int
    total: int


async def notice_rows(tx: Tx, notices: list[Notice]) -> list[NoticeRow]:
    counts = await tx.notices.ack_counts([n.id for n in notices])
    ids = sorted({g for n in notices for g in n.group_ids})
    names = {g.id: g.name for g in await tx.notices.groups_by_ids(ids)}
    rows = []
    for notice in notices:
        acked, total = counts.get(notice.id, (0, 0))
        where = "、".join(names.get(g, "?") for g in notice.group_ids) or "相关委员（私信）"
        rows.append(NoticeRow(notice, number("notice", notice.id), where, acked, total))
    return rows


async def notices_page(view: View) -> web.StreamResponse:
    async with view.runtime.db.read() as tx:
        notices = await notice_rows(tx, await tx.notices.recent(limit=LIST_LIMIT))
        meetings = await tx.console_views.recent_meetings(LIST_LIMIT)
        answers = await tx.console_views.answer_counts([m.id for m in meetings])
    return view.render(
        "notices.html",
        notices=notices,
        meetings=meetings,
        answers=answers,
        now=view.now,
        preview=preview,
        number=number,
    )


async def open_notices_panel(tx: Tx, now: datetime, _: Config) -> dict[str, object] | None:
    """进行中的通知与会议: recent notices awaiting 收到, upcoming meetings with their replies."""
    recent = [
        n
        for n in await tx.notices.recent(limit=20)
        if n.needs_ack and now - timedelta(days=OPEN_DAYS) <= n.send_at <= now
    ]
    meetings = await tx.meetings.starting_after(now)
    answers = await tx.console_views.answer_counts([m.id for m in meetings])
    return {
        "notices": await notice_rows(tx, recent[:6]),
        "meetings": meetings[:6],
        "answers": answers,
        "now": now,
        "preview": preview,
        "number": number,
    }


def install(console: ConsoleRegistry) -> None:
    console.register_page("notices", "通知与会议", get=notices_page, order=30)
    console.register_page(
        "notices/new", "发布通知", get=compose_page, post=compose_submit, nav=False
    )
    console.register_page("notices/view", "通知详情", get=notice_page, nav=False)
    console.register_page("notices/remind", "提醒未确认", post=notice_remind, nav=False)
    console.register_panel(
        "notices", "通知与会议", open_notices_panel, "panels/notices.html", order=30
    )
