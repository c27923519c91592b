"""发布会议通知: compose a meeting notice (who, what kind, when, where, the reply deadline),
preview it, send it.

The meeting is created by :func:`handlers.meetings.create_meeting`, the function behind the
chat's ``会议通知 第3学习小组：12月3日下午3点……``: the same rules for the reply deadline (回执;
a day before the start when none is given), the same invitees, messages and keys. The preview
runs that same function in a transaction that is then rolled back, so what it shows (the
deadline chosen, who is invited, the text members will read) is exactly what sending does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from bot.console.common import acting_member, field, to_page
from bot.console.compose import audience_choices, audience_names, audience_ticked, moment
from bot.console.server import View
from bot.delivery.outbox import queue_all
from bot.errors import UserFacingError
from handlers.meetings import create_meeting, meeting_text
from handlers.notices.common import describe_audience, number
from storage.models_notices import Meeting

KINDS = (
    "全体会议",
    "常委会议",
    "主席会议",
    "专委会会议",
    "专题协商会",
    "界别协商会",
    "院坝协商会",
    "座谈会",
    "学习会",
    "培训会",
    "调研",
    "会议",
)
MAX_TEXT = 4000


@dataclass(frozen=True, slots=True)
class MeetingDraft:
    """The form as typed (kept to show it again)."""

    groups: tuple[str, ...]
    others: str
    title: str
    kind: str
    text: str
    place: str
    start_text: str
    start_picker: str
    reply_text: str
    reply_picker: str

    @property
    def names(self) -> tuple[str, ...]:
        return audience_names(self.groups, self.others)


@dataclass(frozen=True, slots=True)
class MeetingPreview:
    audience: str
    invited: int
    starts_at: datetime
    reply_by: datetime
    text: str


class _Rollback(Exception):
    def __init__(self, preview: MeetingPreview) -> None:
        super().__init__("preview")
        self.preview = preview


def read_meeting(view: View) -> MeetingDraft:
    kind = field(view, "kind", 16)
    return MeetingDraft(
        groups=audience_ticked(view),
        others=field(view, "others", 500),
        title=field(view, "title", 40),
        kind=kind if kind in KINDS else "会议",
        text=field(view, "text", MAX_TEXT + 1),
        place=field(view, "place", 128),
        start_text=field(view, "starts", 64),
        start_picker=field(view, "starts_at", 32),
        reply_text=field(view, "reply", 64),
        reply_picker=field(view, "reply_by", 32),
    )


def check_meeting(draft: MeetingDraft, now: datetime) -> tuple[datetime, datetime | None]:
    """(start, reply deadline or None) once the form makes sense."""
    if not draft.names:
        raise UserFacingError("请选择参会对象（群、专委会、委员姓名或全体委员）。")
    if not draft.text:
        raise UserFacingError("请填写会议内容。")
    if len(draft.text) > MAX_TEXT:
        raise UserFacingError(f"会议内容太长（最多{MAX_TEXT}字）。")
    starts_at = moment(draft.start_text, draft.start_picker, now, "会议时间")
    if starts_at is None:
        raise UserFacingError("请填写会议时间，例如：12月3日下午3点。")
    return starts_at, moment(draft.reply_text, draft.reply_picker, now, "回执截止时间")


async def compose_page(view: View) -> web.StreamResponse:
    draft = MeetingDraft((), "", "", KINDS[0], "", "", "", "", "", "")
    return await _render(view, draft, preview=None, error=None)


async def compose_submit(view: View) -> web.StreamResponse:
    draft = read_meeting(view)
    send = field(view, "op", 8) == "send"
    try:
        starts_at, reply_by = check_meeting(draft, view.now)
        meeting = await _create(view, draft, starts_at, reply_by, keep=send)
    except _Rollback as preview:
        return await _render(view, draft, preview=preview.preview, error=None)
    except UserFacingError as exc:
        return await _render(view, draft, preview=None, error=exc.message, status=400)
    view.runtime.worker.wake()
    return to_page("notices/meeting", id=meeting.id, done="sent")


async def _create(
    view: View, draft: MeetingDraft, starts_at: datetime, reply_by: datetime | None, *, keep: bool
) -> Meeting:
    """Create the meeting (``keep``) or only see what creating it would do (rolled back)."""
    now, zone = view.now, view.config.time.zone
    async with view.runtime.db.transaction() as tx:
        meeting, audience, sends = await create_meeting(
            tx,
            names_=draft.names,
            title=draft.title,
            kind=draft.kind,
            text=draft.text,
            place=draft.place,
            starts_at=starts_at,
            reply_by=reply_by,
            author=await acting_member(tx, view),
            now=now,
            zone=zone,
        )
        if not keep:
            shown = meeting_text(meeting, zone).replace(
                number("meeting", meeting.id), "HY-（发送后编号）", 1
            )
            raise _Rollback(
                MeetingPreview(
                    describe_audience(audience),
                    len(audience.members),
                    meeting.starts_at,
                    meeting.reply_by,
                    shown,
                )
            )
        queued = await queue_all(tx, sends, now=now)
        await view.audit(
            tx,
            "console.meeting_send",
            entity="meeting",
            entity_id=number("meeting", meeting.id),
            detail={
                "to": describe_audience(audience),
                "starts_at": meeting.starts_at.isoformat(),
                "reply_by": meeting.reply_by.isoformat(),
                "deliveries": queued,
            },
        )
    return meeting


async def _render(
    view: View,
    draft: MeetingDraft,
    *,
    preview: MeetingPreview | None,
    error: str | None,
    status: int = 200,
) -> web.Response:
    return view.render(
        "meeting_compose.html",
        status=status,
        draft=draft,
        preview=preview,
        error=error,
        kinds=KINDS,
        min_time=view.now.strftime("%Y-%m-%dT%H:%M"),
        **await audience_choices(view),
    )
