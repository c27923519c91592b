"""What the planner sends for meetings (会议): a reminder to non-responders before the reply
deadline, the headcount to the secretary when replies close, and a reminder to attendees
before the start.

Occurrence keys: ``meeting:{id}:chase``, ``meeting:{id}:closed``, ``meeting:{id}:start``.
The chase is ``[notices] reply_reminder_hours`` before the deadline (halfway between the notice
and the deadline when that is earlier than the notice); the start reminder is
``meeting_reminder_hours`` before the start (not sent if the notice came later than that).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.messages import Outgoing, Send, member_address
from bot.planner import Occurrence, PlanEnv, privately
from handlers.meetings import headcount, meeting_line
from handlers.notices.common import mention_posts, when
from storage import Tx
from storage.models_notices import Meeting

CLOSED_GRACE = timedelta(hours=12)


def chase_time(meeting: Meeting, ahead: timedelta) -> datetime:
    at = meeting.reply_by - ahead
    if at <= meeting.created_at:
        at = meeting.created_at + (meeting.reply_by - meeting.created_at) / 2
    return at


class MeetingSource:
    name = "meetings"

    async def due(self, tx: Tx, env: PlanEnv) -> list[Occurrence]:
        cfg = env.config.notices
        now, since = env.now, env.open_after
        found: list[Occurrence] = []
        for meeting in await tx.meetings.starting_after(since - timedelta(days=1)):
            base = f"meeting:{meeting.id}"
            args = {"meeting": meeting.id}
            chase = chase_time(meeting, timedelta(hours=cfg.reply_reminder_hours))
            if chase <= now and since < meeting.reply_by:
                found.append(
                    Occurrence(
                        f"{base}:chase",
                        chase,
                        self.name,
                        {**args, "kind": "chase"},
                        expires_at=meeting.reply_by,
                    )
                )
            if meeting.reply_by <= now and since < meeting.reply_by + CLOSED_GRACE:
                found.append(
                    Occurrence(
                        f"{base}:closed",
                        meeting.reply_by,
                        self.name,
                        {**args, "kind": "closed"},
                        expires_at=meeting.reply_by + CLOSED_GRACE,
                        push="office",
                    )
                )
            start = meeting.starts_at - timedelta(hours=cfg.meeting_reminder_hours)
            if meeting.created_at <= start <= now and since < meeting.starts_at:
                found.append(
                    Occurrence(
                        f"{base}:start",
                        start,
                        self.name,
                        {**args, "kind": "start"},
                        expires_at=meeting.starts_at,
                    )
                )
        return found

    async def expand(self, tx: Tx, occurrence: Occurrence, env: PlanEnv) -> list[Send]:
        meeting = await tx.meetings.get(occurrence.args["meeting"])
        if meeting is None:
            return []
        rows = await tx.meetings.invitees(meeting.id)
        key, zone, kind = occurrence.key, env.zone, occurrence.args["kind"]
        line = meeting_line(meeting, zone)
        if kind == "closed":
            text = "【回执汇总】" + headcount(meeting, rows, zone)
            author = await tx.members.get(meeting.author_id) if meeting.author_id else None
            office = [author] if author else await tx.members.by_role("secretary", "admin")
            return privately(f"{key}:office", text, office)
        if kind == "start":
            return [
                Send(
                    f"{key}:member:{member_address(m)}",
                    Outgoing(
                        f"【会议提醒】{m.name}您好，{line}即将召开，请准时参加。",
                        to_member=member_address(m),
                    ),
                )
                for m, i in rows
                if i.answer == "attend" and m.active
            ]
        silent = [m for m, i in rows if i.answer is None and m.active]
        if not silent:
            return []
        deadline = when(meeting.reply_by, zone)
        groups = await tx.notices.groups_by_ids(meeting.group_ids)
        by_group = await tx.notices.members_of_groups([g.id for g in groups])
        head = f"【回执提醒】{line}请于{deadline}前回复「参加」或「请假 理由」，尚未回复："
        planned = mention_posts(key, head, groups, by_group, {m.id for m in silent})
        planned += [
            Send(
                f"{key}:member:{member_address(m)}",
                Outgoing(
                    f"{m.name}您好，{line}的回执将于{deadline}截止，"
                    "请回复「参加」或「请假 理由」。",
                    to_member=member_address(m),
                ),
            )
            for m in silent
        ]
        return planned
