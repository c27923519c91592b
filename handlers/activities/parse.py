"""履职登记: pure parsers for a member's registered activity and the office's confirmation.

``履职登记 12月3日 参加市政协乡村振兴专题调研``: the date is the first time phrase, read as
past (an activity is registered after it took place); the kind is an explicit ``类型：调研``
or read from the words (调研, 视察, 界别, 工作室, 发言, 培训); the rest is the text. The handler
maps the kind onto the office's ``[activities] kinds``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from handlers.text.normalize import normalize, widen_punct
from handlers.text.timephrase import find_time_phrases

TEXT_LIMIT = 500
# The built-in kinds and the words that name them, most specific first.
KIND_WORDS: tuple[tuple[str, str], ...] = (
    ("委员工作室", r"委员工作室|工作室"),
    ("界别活动", r"界别"),
    ("协商发言", r"发言|建言|协商会上|座谈会上"),
    ("视察", r"视察|察看|巡视"),
    ("调研", r"调研|考察|走访"),
    ("培训", r"培训|学习班|研修|讲座|轮训"),
)
_HEAD = re.compile(
    r"^(?:【履职登记】|#履职登记#|\[履职登记\]|履职登记|登记履职(?:活动)?|履职活动登记|活动登记"
    r"|登记(?:一下|一个|一次)?(?:履职)?活动)\s*[:：]?\s*(?P<rest>.*)$",
    re.DOTALL,
)
_KIND_LABEL = re.compile(r"(?:类型|类别|活动类型)\s*[:：]\s*(?P<k>[\u4e00-\u9fff]{2,6})")
_CONTENT_LABEL = re.compile(r"(?:内容|活动内容|事项)\s*[:：]\s*")
_DATE_LABEL = re.compile(r"(?:日期|时间|活动日期|活动时间)\s*[:：]\s*")
_HD = r"HD\s*[-_—]?\s*(?P<id>\d{1,9})"
_REVIEW = re.compile(
    rf"^(?P<verb>确认履职|确认登记|确认|退回履职|退回登记|退回)\s*{_HD}(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_LIST = re.compile(r"^(?:待确认履职(?:登记)?|履职登记待确认|待确认的?履职(?:登记)?|待确认活动)$")
_MEETING = re.compile(
    r"^确认(?:出席|参会|参加)\s*HY\s*[-_—]?\s*(?P<id>\d{1,9})\s*(?P<kind>[\u4e00-\u9fff]{2,6})?$",
    re.IGNORECASE,
)
_MINE = re.compile(r"^(?:查看|查询)?我的(?:履职登记|履职活动|活动登记)(?:记录)?$")


@dataclass(frozen=True, slots=True)
class ActivityText:
    """A member's activity: ``kind`` as read (其他 when nothing names one), ``date`` (None
    when not written: the handler asks), ``text``."""

    intent: ClassVar[str] = "activity"
    kind: str
    date: date | None
    text: str


@dataclass(frozen=True, slots=True)
class ActivityReview:
    """The office: ``action`` confirm|return|list|meeting; ``activity`` the HD- number,
    ``meeting`` the HY- number (a meeting's attendance confirmed in one step)."""

    intent: ClassVar[str] = "activity_review"
    action: str
    activity: int | None = None
    comment: str | None = None
    meeting: int | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class ActivityQuery:
    """``我的履职登记``."""

    intent: ClassVar[str] = "activity_query"


def kind_of(text: str) -> str:
    """The kind written (``类型：调研``) or named by the words; else 其他 (the catch-all)."""
    label = _KIND_LABEL.search(text)
    if label is not None:
        return label["k"]
    return next((kind for kind, words in KIND_WORDS if re.search(words, text)), "其他")


def read_activity(body: str, now: datetime) -> ActivityText | None:
    """The date, kind and text of an activity written anywhere in ``body`` (normalized)."""
    kind = kind_of(body)
    body = _KIND_LABEL.sub(" ", body)
    said = _CONTENT_LABEL.search(body)
    if said is not None:  # 日期：… 内容：…: the date before, the text after
        body, text = body[: said.start()], body[said.end() :]
    phrases = find_time_phrases(body, now, prefer="past")
    day = phrases[0].day if phrases else None
    if said is None:
        text = body
        if phrases:
            start, end = phrases[0].span
            text = body[:start] + " " + body[end:]
    text = _DATE_LABEL.sub(" ", text)
    text = re.sub(r"^[\s,，。:：;；]+|[\s,，。;；]+$", "", re.sub(r"\s+", " ", text))
    text = re.sub(r"^(?:在|于)\s*", "", text)
    if len(text) < 2:
        return None
    return ActivityText(kind, day, widen_punct(text)[:TEXT_LIMIT])


def parse_activity(text: str, now: datetime) -> ActivityText | None:
    clean = normalize(text).strip()
    head = _HEAD.match(clean)
    if head is None:
        return None
    rest = head["rest"].strip()
    if not rest:
        return ActivityText("其他", None, "")  # the handler says what to write
    return read_activity(rest, now)


def parse_review(text: str) -> ActivityReview | None:
    clean = normalize(text).strip()
    if _LIST.match(clean):
        return ActivityReview("list")
    meeting = _MEETING.match(clean)
    if meeting is not None:
        return ActivityReview("meeting", meeting=int(meeting["id"]), kind=meeting["kind"])
    match = _REVIEW.match(clean)
    if match is None:
        return None
    action = "confirm" if match["verb"].startswith("确认") else "return"
    comment = widen_punct(match["rest"].strip(" ,，。:：;；")) or None
    return ActivityReview(action, int(match["id"]), comment)


def parse_query(text: str) -> ActivityQuery | None:
    return ActivityQuery() if _MINE.match(normalize(text).strip()) else None
