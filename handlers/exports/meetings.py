"""会议出勤情况 (the ``meetings`` export): every meeting that started in the year with its
headcount (应到, 参加, 请假, 未回复), then every invitation: who, their answer, the reason given
for a leave (请假理由) and when they answered — what an office files after each meeting and
counts at year end."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import Config
from handlers.exports.sheets import DATETIME, Column, add_table, local, new_workbook, to_bytes
from handlers.notices.common import number
from storage import Database
from storage.models import Member
from storage.models_notices import Meeting, MeetingInvitee

ANSWER_NAMES = {"attend": "参加", "leave": "请假", None: "未回复"}
MEETING_COLUMNS = (
    Column("编号"),
    Column("会议名称", 30),
    Column("时间", format=DATETIME),
    Column("地点", 24),
    Column("应到"),
    Column("参加"),
    Column("请假"),
    Column("未回复"),
)
INVITATION_COLUMNS = (
    Column("编号"),
    Column("会议名称", 30),
    Column("时间", format=DATETIME),
    Column("委员"),
    Column("界别"),
    Column("回执"),
    Column("请假理由", 40),
    Column("回复时间", format=DATETIME),
)


async def build_meetings(db: Database, config: Config, year: int, now: datetime) -> bytes:
    zone = config.time.zone
    start = datetime(year, 1, 1, tzinfo=zone)
    async with db.read() as tx:
        rows = await tx.meetings.between(start, start.replace(year=year + 1))
    book = new_workbook()
    add_table(book, "会议", MEETING_COLUMNS, _headcounts(rows, zone), freeze_columns=2)
    add_table(
        book,
        "回执明细",
        INVITATION_COLUMNS,
        [_invitation(meeting, member, invitee, zone) for meeting, member, invitee in rows],
        freeze_columns=2,
    )
    return to_bytes(book)


def _headcounts(
    rows: list[tuple[Meeting, Member, MeetingInvitee]], zone: ZoneInfo
) -> list[list[object]]:
    meetings: dict[int, Meeting] = {}
    answers: dict[int, Counter[str | None]] = {}
    for meeting, _, invitee in rows:
        meetings.setdefault(meeting.id, meeting)
        answers.setdefault(meeting.id, Counter())[invitee.answer] += 1
    return [
        [
            number("meeting", m.id),
            m.title,
            local(m.starts_at, zone),
            m.place,
            sum(answers[m.id].values()),
            answers[m.id]["attend"],
            answers[m.id]["leave"],
            answers[m.id][None],
        ]
        for m in meetings.values()
    ]


def _invitation(
    meeting: Meeting, member: Member, invitee: MeetingInvitee, zone: ZoneInfo
) -> list[object]:
    return [
        number("meeting", meeting.id),
        meeting.title,
        local(meeting.starts_at, zone),
        member.name,
        member.sector,
        ANSWER_NAMES.get(invitee.answer, invitee.answer),
        invitee.reason if invitee.answer == "leave" else "",
        local(invitee.answered_at, zone),
    ]
