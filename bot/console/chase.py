"""催办: "send the reminder now" for a notice (未确认) or a meeting (未回执).

The reminder is the planner's own: the console builds the same :class:`~bot.planner.Occurrence`
the planner would and lets the same source expand it (:class:`handlers.notices.plan.NoticeSource`,
:class:`handlers.meetings.plan.MeetingSource`), so its text, its recipients (only those still
silent) and its delivery keys are the scheduled reminder's.

Exactly once, as everything the planner sends: the occurrence is claimed with a planner mark
in the same transaction as its deliveries. If the scheduled reminder (``notice:{id}:chase``)
has not gone out yet, "now" *is* that reminder: the console claims its key, and the planner
finds it taken and sends nothing more. Once it has gone out, a further reminder is a new
occasion, ``…:chase:console:{n}``. Two clicks within :data:`MIN_GAP` are refused rather than
sending twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.console.common import field, to_page
from bot.console.server import View
from bot.delivery.outbox import queue_all
from bot.errors import UserFacingError
from bot.planner import Occurrence, PlanEnv, PlanSource
from storage import Tx

MIN_GAP = timedelta(minutes=10)
MAX_MANUAL = 100  # further reminders of one notice; beyond this something is wrong


@dataclass(frozen=True, slots=True)
class Reminded:
    key: str  # the occurrence claimed
    deliveries: int


def manual_key(auto_key: str, n: int) -> str:
    return f"{auto_key}:console:{n}"


async def sent_reminders(tx: Tx, auto_key: str) -> list[datetime]:
    """When each reminder of this notice or meeting went out (scheduled or from the console)."""
    return [at for _, at in await tx.console_views.marks(auto_key)]


async def remind_now(
    tx: Tx,
    source: PlanSource,
    *,
    auto_key: str,
    args: dict[str, Any],
    env: PlanEnv,
    expires_at: datetime,
) -> Reminded:
    """Claim a reminder occurrence and queue its deliveries, in ``tx``."""
    earlier = await sent_reminders(tx, auto_key)
    if earlier and env.now - earlier[-1] < MIN_GAP:
        last = earlier[-1].astimezone(env.zone)
        raise UserFacingError(
            f"刚在 {last:%H:%M} 提醒过，请 {int(MIN_GAP.total_seconds() // 60)} 分钟后再试。"
        )
    key = await _claim(tx, auto_key, env.now)
    occurrence = Occurrence(key, env.now, source.name, args, expires_at=expires_at)
    planned = await source.expand(tx, occurrence, env)
    added = await queue_all(
        tx,
        planned,
        now=env.now,
        ttl=max(expires_at - env.now, timedelta(minutes=5)),
    )
    return Reminded(key, added)


async def _claim(tx: Tx, auto_key: str, now: datetime) -> str:
    if await tx.planner.mark(auto_key, now):
        return auto_key
    for n in range(1, MAX_MANUAL + 1):
        key = manual_key(auto_key, n)
        if await tx.planner.mark(key, now):
            return key
    raise UserFacingError("提醒次数过多，请直接联系未回复的委员。")


Remind = Callable[[View, int | None], Awaitable[int]]
Render = Callable[..., Awaitable[web.StreamResponse]]


async def remind_action(
    view: View, remind: Remind, render: Render, page: str
) -> web.StreamResponse:
    """The POST behind a "提醒" button: remind the record named by the form's ``id`` and go
    back to its ``page`` (303), or show the page again with the reason it was refused (400)."""
    raw = field(view, "id", 12)
    record_id = int(raw) if raw.isdigit() else None
    try:
        added = await remind(view, record_id)
    except UserFacingError as exc:
        return await render(view, record_id, message=None, error=exc.message, status=400)
    view.runtime.worker.wake()
    return to_page(page, id=record_id or 0, done="reminded", n=added)
