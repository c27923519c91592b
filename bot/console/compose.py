"""发布通知: compose a notice (groups, text, time), preview it, then send or schedule it.

A notice is created by :func:`handlers.notices.create_notice`, the function behind the chat's
``通知 第3学习小组：……`` and ``lvzhi notices send``: the same audience rules (groups,
专委会, names, 全体委员), the same recipients, the same deliveries under the same keys, queued
in the same transaction and due at the chosen time, so a scheduled notice survives restarts
like any delivery. The time is typed in Chinese (明天上午9点, 下周一8:30: parsed as the chat
parses it) or picked with the browser's date-time picker (in the configured zone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.console.common import acting_member, field, fields, to_page
from bot.console.server import View
from bot.delivery.outbox import queue_all
from bot.errors import UserFacingError
from handlers.notices import create_notice, notice_text
from handlers.notices.common import (
    EVERYONE,
    Audience,
    describe_audience,
    number,
    resolve_audience,
    split_names,
    when,
)
from handlers.text.timephrase import parse_datetime
from storage import Tx
from storage.models_notices import Notice

MAX_TEXT = 4000


@dataclass(frozen=True, slots=True)
class Draft:
    """The compose form as typed (kept to show it again) and what it means."""

    groups: tuple[str, ...]  # ticked
    others: str  # typed: 专委会 or names, 、-separated
    text: str
    timing: str  # now|later
    when_text: str  # Chinese, e.g. 明天上午9点
    picker: str  # <input type=datetime-local>: 2025-11-26T09:00
    needs_ack: bool

    @property
    def names(self) -> tuple[str, ...]:
        return audience_names(self.groups, self.others)


def audience_ticked(view: View) -> tuple[str, ...]:
    return tuple(fields(view, "to", 64))


def audience_names(ticked: tuple[str, ...], typed: str) -> tuple[str, ...]:
    """Who a notice or meeting is for: the groups and 专委会 ticked, then the names typed."""
    return tuple(dict.fromkeys((*ticked, *split_names(typed))))


async def audience_choices(view: View) -> dict[str, object]:
    """What the audience part of a compose form offers (groups, 专委会, 全体委员)."""
    async with view.runtime.db.read() as tx:
        groups = await tx.groups.all()
        committees = await tx.console_views.committees()
    return {"groups": groups, "committees": committees, "everyone": EVERYONE}


def read_draft(view: View) -> Draft:
    return Draft(
        groups=audience_ticked(view),
        others=field(view, "others", 500),
        text=field(view, "text", MAX_TEXT + 1),
        timing=field(view, "timing", 8) or "now",
        when_text=field(view, "when", 64),
        picker=field(view, "at", 32),
        needs_ack=field(view, "needs_ack", 4) == "1",
    )


def send_time(draft: Draft, now: datetime) -> datetime | None:
    """When to send: None for now; else the picked or typed time."""
    if draft.timing != "later":
        return None
    at = moment(draft.when_text, draft.picker, now, "发送时间")
    if at is None:
        raise UserFacingError("请填写发送时间，或选择“立即发送”。")
    return at


def moment(typed: str, picked: str, now: datetime, what: str) -> datetime | None:
    """A time from the form: the picker's value (local time in the configured zone: the
    picker has none of its own), else the Chinese phrase, parsed as the chat parses it; None
    when neither is filled in. ``now`` is aware, in the configured zone; a past time is refused.
    """
    at: datetime | None
    if picked:
        try:
            at = datetime.fromisoformat(picked).replace(tzinfo=now.tzinfo)
        except ValueError:
            raise UserFacingError(f"{what}的格式不对，请重新选择。") from None
    elif typed:
        at = parse_datetime(typed, now)
        if at is None:
            raise UserFacingError(
                f"看不懂{what}「{typed}」，例如：明天上午9点、下周一8:30、12月1日15:00。"
            )
    else:
        return None
    if at <= now:
        raise UserFacingError(f"{what}{when(at, zone_of(now))}已经过去，请检查。")
    return at


def zone_of(now: datetime) -> ZoneInfo:
    assert isinstance(now.tzinfo, ZoneInfo)
    return now.tzinfo


def check_draft(draft: Draft) -> None:
    if not draft.names:
        raise UserFacingError("请选择发送对象（群、专委会、委员姓名或全体委员）。")
    if not draft.text:
        raise UserFacingError("请填写通知内容。")
    if len(draft.text) > MAX_TEXT:
        raise UserFacingError(f"通知内容太长（最多{MAX_TEXT}字）。")


def preview_text(draft: Draft) -> str:
    """The notice as members will read it; its number is given when it is sent."""
    sample = Notice(id=0, text=draft.text, needs_ack=draft.needs_ack)
    return notice_text(sample).replace(number("notice", 0), "TZ-（发送后编号）", 1)


# -- compose ------------------------------------------------------------------------------------


async def compose_page(view: View) -> web.StreamResponse:
    draft = Draft((), "", "", "now", "", "", needs_ack=True)
    return await _render_compose(view, draft, preview=None, error=None)


async def compose_submit(view: View) -> web.StreamResponse:
    draft = read_draft(view)
    try:
        check_draft(draft)
        send_at = send_time(draft, view.now)
        if field(view, "op", 8) != "send":
            async with view.runtime.db.read() as tx:
                audience = await _audience(tx, draft)
            shown = Preview(audience, send_at, preview_text(draft))
            return await _render_compose(view, draft, preview=shown, error=None)
        notice = await _send(view, draft, send_at)
    except UserFacingError as exc:
        return await _render_compose(view, draft, preview=None, error=exc.message, status=400)
    view.runtime.worker.wake()
    return to_page("notices/view", id=notice.id, done="scheduled" if send_at else "sent")


@dataclass(frozen=True, slots=True)
class Preview:
    audience: Audience
    send_at: datetime | None
    text: str

    @property
    def private(self) -> int:
        return len(self.audience.direct)


async def _audience(tx: Tx, draft: Draft) -> Audience:
    audience = await resolve_audience(tx, draft.names)
    if audience.unknown:
        raise UserFacingError(f"没有找到「{'、'.join(audience.unknown)}」，请检查群名或姓名。")
    if not audience.members and not audience.groups:
        raise UserFacingError("通知对象中没有委员，请检查名册。")
    return audience


async def _send(view: View, draft: Draft, send_at: datetime | None) -> Notice:
    now = view.now
    async with view.runtime.db.transaction() as tx:
        notice, shown, sends = await create_notice(
            tx,
            names_=draft.names,
            text=draft.text,
            send_at=send_at or now,
            needs_ack=draft.needs_ack,
            author=await acting_member(tx, view),
            now=now,
            ack_reminder=timedelta(hours=view.config.notices.ack_reminder_hours),
        )
        queued = await queue_all(tx, (s.due(send_at) for s in sends), now=now)
        await view.audit(
            tx,
            "console.notice_send",
            entity="notice",
            entity_id=number("notice", notice.id),
            detail={
                "to": shown,
                "send_at": (send_at or now).isoformat(),
                "needs_ack": draft.needs_ack,
                "deliveries": queued,
                "text": draft.text[:200],
            },
        )
    return notice


async def _render_compose(
    view: View, draft: Draft, *, preview: Preview | None, error: str | None, status: int = 200
) -> web.Response:
    return view.render(
        "notice_compose.html",
        status=status,
        draft=draft,
        preview=preview,
        error=error,
        describe=describe_audience,
        **await audience_choices(view),
        ack_hours=view.config.notices.ack_reminder_hours,
        min_time=view.now.strftime("%Y-%m-%dT%H:%M"),
    )
