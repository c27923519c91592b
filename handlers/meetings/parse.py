"""Parsing meeting notices (会议通知) and members' replies (回执) — pure functions over text.

* ``会议通知 第3学习小组、第5学习小组：12月3日下午3点在市政协三楼会议室召开专题协商会，请于
  12月1日18:00前回复`` — the kind is the first known one named (全体会议, 常委会, 主席会议,
  专委会会议, 专题协商会, 院坝协商 …), the start the first time phrase that is not a deadline,
  the reply deadline the first that is (``12月1日18:00前``, ``回执：11月30日前``), the place
  after ``地点：`` or between ``在`` and ``召开/举行``. Labelled fields work too:
  ``会议通知 全体委员：常委会 时间：12月3日15:00 地点：三楼会议室 回执：12月1日前``.
* ``参加`` / ``准时参加`` / ``参会`` / ``出席`` (optionally with ``HY-3``), ``请假 出差在外`` /
  ``不能参加，在外地调研``.
* ``会议情况 HY-3`` (headcount, for secretaries).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from handlers.notices.common import number_pattern
from handlers.notices.parse import addressed_command
from handlers.text.normalize import normalize, widen_punct
from handlers.text.slots import reason, reply_date
from handlers.text.timephrase import find_time_phrases

KINDS = (
    "全体会议",
    "全体委员会议",
    "常委会议",
    "常委会",
    "主席会议",
    "专委会会议",
    "专题协商会",
    "院坝协商会",
    "院坝协商",
    "界别协商会",
    "座谈会",
    "学习会",
    "培训会",
    "调研",
)
# 会议通知：… with no audience is not addressed to a group named 通知.
_HEAD = re.compile(r"^(?:会议通知|开会通知|会议)\s*(?P<rest>(?!通知$).+)$")
_PLACE = re.compile(
    r"地点\s*[:：为]?\s*(?P<label>[^\s,，。;；]{2,40})|在(?P<at>[^\s,，。;；]{2,30}?)(?:召开|举行|举办|开展|集中)"
)


# A place written bare, with no 地点 or 在…召开 (县文化中心大礼堂, 区会议中心, 在508): a venue
# word at its end, or a room number after 在.
VENUE = re.compile(
    r"[\u4e00-\u9fff\d]{0,12}(?:会议室|报告厅|礼堂|会堂|多功能厅|村委会|活动室|大厅|会议中心|活动中心"
    r"|党校|宾馆|酒店|会场|工作室)(?:(?![\u4e00-\u9fff])|(?=开|召开|举行|集中))"
    r"|(?<=在)\s*[A-Za-z]?\d{3,4}(?:室|房间)?(?![\d:：点时])"
)
# A time run into the place (上午9点县政协二楼会议室): not part of it.
_TIME_BEFORE = re.compile(
    r"^.*?(?:\d|[一二三四五六七八九十两])(?:点|时)(?:半|\d{1,2}分?|整)?|^.*?\d:\d\d"
)


def venue(text: str) -> str:
    """A bare place in ``text`` (see :data:`VENUE`), or ""."""
    found = VENUE.search(text)
    return _TIME_BEFORE.sub("", found[0]).strip() if found else ""


_TITLE_LABEL = re.compile(r"(?:会议名称|名称|会议)\s*[:：]\s*(?P<title>[^\s,，。;；:：]{2,40})")
_TITLE_AFTER = re.compile(r"(?:召开|举行|举办|开)(?P<title>[^\s,，。;；!！?？(（:：、]{2,48})")
# Where a run-on title stops: a request or the next field (民主评议座谈会请于周一前回复 …).
_TITLE_STOP = re.compile(r"请|望|届时|务必|时间|地点|参加|出席|参会|回复|回执|报名|的通知")
_TITLE_END = re.compile(
    r"(?:会议?|座谈|协商|论坛|讲座|培训|调研|视察|活动|仪式|典礼|学习|评议|观摩|考察|交流)$"
)
MAX_TITLE = 40


def meeting_title(text: str, kind: str = "会议") -> str:
    """The meeting's name as the notice writes it (会议名称): ``会议名称：…``/``会议：…``, else
    what follows 召开/举行/举办 up to the next punctuation or request (``召开民主评议座谈会，
    请于…`` → 民主评议座谈会); ``kind`` when the notice names none."""
    labelled = _TITLE_LABEL.search(text)
    if labelled is not None and _TITLE_END.search(labelled["title"]):
        return labelled["title"][:MAX_TITLE]
    for found in _TITLE_AFTER.finditer(text):
        title = found["title"]
        stop = _TITLE_STOP.search(title)
        title = title[: stop.start()] if stop is not None else title
        if len(title) >= 2 and _TITLE_END.search(title):
            return title[:MAX_TITLE]
    return kind


@dataclass(frozen=True, slots=True)
class MeetingCommand:
    intent: ClassVar[str] = "meeting"
    groups: tuple[str, ...]
    kind: str
    starts_at: datetime | None
    place: str
    reply_by: datetime | None
    text: str

    @property
    def title(self) -> str:
        """The meeting's own name (民主评议座谈会), not only its kind (座谈会)."""
        return meeting_title(self.text, self.kind)


@dataclass(frozen=True, slots=True)
class Rsvp:
    intent: ClassVar[str] = "rsvp"
    answer: str  # attend|leave
    reason: str
    meeting: int | None = None


@dataclass(frozen=True, slots=True)
class MeetingStatus:
    intent: ClassVar[str] = "meeting_status"
    meeting: int | None


def parse_meeting(text: str, now: datetime) -> MeetingCommand | None:
    command = addressed_command(text, _HEAD)
    if command is None:
        return None
    head, body, groups = command.head, command.body, command.names
    kind = next((k for k in KINDS if k in body or k in head), "会议")
    starts_at = reply_by = None
    for phrase in find_time_phrases(body, now, prefer="future"):
        replying = reply_date(body, phrase)  # 请于…前回复, 回复截止：5月25日
        if replying and reply_by is None:
            reply_by = replying
        elif not replying and starts_at is None:
            starts_at = phrase.at
    place_match = _PLACE.search(body)
    place = ""
    if place_match is not None:
        place = place_match["label"] or place_match["at"] or ""
    else:
        place = venue(body)
    return MeetingCommand(groups, kind, starts_at, place, reply_by, widen_punct(body))


_NO = number_pattern("meeting")
_ATTEND = re.compile(
    r"^(?:我|本人)?(?:会|将)?(?:准时|按时)?(?:参加|参会|出席)(?:会议)?\s*(?:HY\s*-?\s*(?P<no>\d{1,9}))?[。.!！~]*$"
)
_LEAVE = re.compile(
    r"^(?:我|本人)?(?:请假|不能参加|无法参加|不能参会|无法参会|无法出席|不参加)(?:会议)?(?!条|单|制度|手续|流程|怎么)"
    r"\s*(?:HY\s*-?\s*(?P<no>\d{1,9}))?[\s,，:：;；。]*(?P<reason>.*)$"
)


def parse_rsvp(text: str) -> Rsvp | None:
    clean = normalize(text)
    upper = clean.upper()
    attend = _ATTEND.match(upper)
    if attend is not None:
        return Rsvp("attend", "", int(attend["no"]) if attend["no"] else None)
    leave = _LEAVE.match(upper)
    if leave is not None and len(clean) <= 200 and not re.search(r"[?？吗]$", clean):
        why = reason(clean[leave.start("reason") :])
        return Rsvp("leave", why, int(leave["no"]) if leave["no"] else None)
    return None


_STATUS = re.compile(r"^(?:会议情况|参会情况|会议回执|回执统计)\s*" + _NO + "?$")


def parse_meeting_status(text: str) -> MeetingStatus | None:
    match = _STATUS.match(normalize(text).upper())
    if match is None:
        return None
    return MeetingStatus(int(match["no"]) if match["no"] else None)
