"""Parsing notice commands and acknowledgments (通知、收到) — pure functions over text.

* ``通知 第3学习小组、第5学习小组：……`` (a secretary's broadcast). A time phrase before the
  colon is when to send it (``通知 第3学习小组 明天上午9点：……``, ``下周一8:30通知 全体委员：……``);
  one in the text after it is part of the notice. ``无需回复`` / ``无需回执`` marks a notice
  that asks for no acknowledgment (nobody is chased).
* ``收到`` and its many forms (收到，谢谢 / 已收到 / 好的收到 / 收到👍 / 确认收到 / 已阅),
  optionally with a number (``收到 TZ-12``). A question (``收到了吗？``, ``没收到``) is not one.
* ``通知情况 TZ-12`` (who has and has not acknowledged), ``通知私信`` / ``关闭通知私信``.
* ``定期通知 第3学习小组 每周一8:00：……`` (recurring: 每天, 每个工作日, 每周X, 每月第一个
  工作日), ``停止定期通知 DQ-2``.
* The template cards of private copies, whose buttons' keys (``ack:{notice}``,
  ``attend:{meeting}`` / ``leave:{meeting}``) come back as ``Incoming.action``; the features
  register them with ``Router.action``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, ClassVar

from handlers.notices.common import number_pattern, split_names
from handlers.text.normalize import normalize, widen_punct
from handlers.text.timephrase import find_time_phrase

# The colon that ends a command's header: not the one inside a clock time (8:30).
HEADER_COLON = re.compile(r"(?<!\d):|:(?!\d)")
NO_ACK = re.compile(r"无需回复|无需回执|不用回复|无需确认|不需回复|仅告知|仅供知悉")
NO_ACK_NOTE = re.compile(r"[(\[（【]?(?:" + NO_ACK.pattern + r")[)\]）】]?")
MAX_HEADER = 80


@dataclass(frozen=True, slots=True)
class NoticeCommand:
    intent: ClassVar[str] = "notice"
    groups: tuple[str, ...]
    text: str
    send_at: datetime | None  # None: now
    needs_ack: bool = True


@dataclass(frozen=True, slots=True)
class Ack:
    intent: ClassVar[str] = "ack"
    notice: int | None = None


@dataclass(frozen=True, slots=True)
class NoticeStatus:
    intent: ClassVar[str] = "notice_status"
    notice: int | None


@dataclass(frozen=True, slots=True)
class PrivateCopy:
    intent: ClassVar[str] = "notice_private"
    wanted: bool


@dataclass(frozen=True, slots=True)
class RecurringNotice:
    intent: ClassVar[str] = "notice_rule"
    groups: tuple[str, ...]
    text: str
    cadence: str  # daily|workdays|weekly|monthly_first_workday
    weekday: int | None
    at: time
    needs_ack: bool = True


@dataclass(frozen=True, slots=True)
class StopRecurring:
    intent: ClassVar[str] = "notice_rule_stop"
    rule: int


def split_header(text: str) -> tuple[str, str] | None:
    """(header, body) of ``header：body``, the header short; None without such a colon."""
    colon = HEADER_COLON.search(text)
    if colon is None or colon.start() > MAX_HEADER:
        return None
    return text[: colon.start()].strip(), text[colon.end() :].strip()


@dataclass(frozen=True, slots=True)
class Addressed:
    """A secretary's ``<command> <names>：<body>`` (会议通知, 督办 …), normalized."""

    head: str
    body: str
    names: tuple[str, ...]


def addressed_command(text: str, head_pattern: re.Pattern[str]) -> Addressed | None:
    """The header must match ``head_pattern`` with a ``rest`` group naming the addressees,
    and both the names and the body must be there."""
    parts = split_header(normalize(text, keep_newlines=True))
    if parts is None:
        return None
    head, body = parts
    match = head_pattern.match(head)
    if match is None or not body:
        return None
    names = split_names(match["rest"])
    return Addressed(head, body, names) if names else None


# A notice whose body announces a meeting and asks who comes (…开小组学习交流会，请回复参加或
# 请假): a meeting, left to the understanding of natural phrasings.
_MEETING_BODY = re.compile(
    r"(?=.*(?:召开|举行|举办|开\S{0,10}会))"
    r"(?=.*(?:回复(?:是否)?参加|参加或请假|请假或参加|是否参加|是否出席|回执|能否参加|参不参加))",
    re.DOTALL,
)
_NOTICE_HEAD = re.compile(r"^(?P<before>.*?)(?:发送?|发布)?通知(?P<after>.*)$")


def parse_notice(text: str, now: datetime) -> NoticeCommand | None:
    clean = normalize(text, keep_newlines=True)
    parts = split_header(clean)
    if parts is None:
        return None
    head, body = parts
    match = _NOTICE_HEAD.match(head)
    if match is None or "会议" in match["before"] or "定期" in match["before"]:
        return None
    if re.search(r"召开|举行|举办", head) or _MEETING_BODY.search(body):
        return None  # 通知召开…会 时间：… 地点：…: a meeting announced, read as one
    send_at = None
    rest = match["after"]
    phrase = find_time_phrase(head, now)
    if phrase is not None:
        send_at = phrase.at
        rest = (head[: phrase.span[0]] + " " + head[phrase.span[1] :]).strip()
        rest = _NOTICE_HEAD.sub(r"\g<before> \g<after>", rest)
    elif match["before"].strip():
        return None  # "xxx通知：" with no time before it: not a command
    rest = NO_ACK_NOTE.sub(" ", rest)
    rest = re.sub(r"(?:发送|发出|发布|发)$|^(?:发送|发布)", "", rest.strip()).strip()
    groups = split_names(rest)
    if not groups or not body:
        return None
    return NoticeCommand(groups, widen_punct(body), send_at, NO_ACK.search(clean) is None)


_PUNCT = re.compile(r"[\s,.;:!~、，。；：！…～\"'“”‘’()（）\[\]【】]+")
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\ufe0f\u200d]+")
_ACK = re.compile(
    r"(?:好的?|嗯|ok|okay|明白|了解|收悉)*"
    r"(?:已经?|确认)?(?:收到|已阅|收悉)(?:了|啦|咯)?"
    # (收到，会按时参加 answers a meeting: the understanding reads it as attending)
    r"(?:收到|好的?|明白|了解|谢谢|感谢|多谢|[您你]|辛苦了?|会?按时完成"
    r"|[\u4e00-\u9fff]{0,3}(?:秘书|老师|领导|主任))*"
)


def parse_ack(text: str) -> Ack | None:
    clean = normalize(text).lower()
    if "?" in clean or "吗" in clean or len(clean) > 30:
        return None
    found = None
    number = re.search(r"tz\s*-?\s*(\d{1,9})", clean)
    if number is not None:
        found = int(number[1])
        clean = clean[: number.start()] + clean[number.end() :]
    bare = _EMOJI.sub("", _PUNCT.sub("", clean))
    return Ack(found) if _ACK.fullmatch(bare) else None


_STATUS = re.compile(
    r"^(?:通知情况|通知回执|回执情况|通知确认情况)\s*" + number_pattern("notice") + "?$"
)


def parse_notice_status(text: str) -> NoticeStatus | None:
    match = _STATUS.match(normalize(text).upper())
    if match is None:
        return None
    return NoticeStatus(int(match["no"]) if match["no"] else None)


_PRIVATE_ON = re.compile(r"^(?:开启|打开|接收|订阅)?(?:通知私信|私信通知)$")
_PRIVATE_OFF = re.compile(r"^(?:关闭|取消|不要|停止)(?:通知私信|私信通知)$")


def parse_private_copy(text: str) -> PrivateCopy | None:
    clean = normalize(text)
    if _PRIVATE_OFF.match(clean):
        return PrivateCopy(False)
    if _PRIVATE_ON.match(clean):
        return PrivateCopy(True)
    return None


_RULE_HEAD = re.compile(r"^(?:定期|循环|周期)通知\s*(?P<rest>.+)$")
_SCHEDULE = re.compile(
    r"每(?:周|星期|礼拜)(?P<wd>[一二三四五六日天])|(?P<first>每月第一个工作日|每月首个工作日)"
    r"|(?P<work>每个?工作日)|(?P<daily>每天|每日)"
)
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}


def parse_recurring(text: str, now: datetime) -> RecurringNotice | None:
    clean = normalize(text, keep_newlines=True)
    parts = split_header(clean)
    if parts is None:
        return None
    head, body = parts
    match = _RULE_HEAD.match(head)
    if match is None or not body:
        return None
    rest = match["rest"]
    schedule = _SCHEDULE.search(rest)
    if schedule is None:
        return None
    rest = rest[: schedule.start()] + " " + rest[schedule.end() :]
    phrase = find_time_phrase(rest, now)
    at = time(9, 0)
    if phrase is not None:
        at = phrase.time_of_day or at
        rest = rest[: phrase.span[0]] + " " + rest[phrase.span[1] :]
    rest = re.sub(r"(?:发送|发布|发)\s*$", "", NO_ACK_NOTE.sub(" ", rest).strip())
    groups = split_names(rest)
    if not groups:
        return None
    cadence, weekday = "daily", None
    if schedule["wd"]:
        cadence, weekday = "weekly", _WEEKDAY[schedule["wd"]]
    elif schedule["first"]:
        cadence = "monthly_first_workday"
    elif schedule["work"]:
        cadence = "workdays"
    needs_ack = NO_ACK.search(clean) is None
    return RecurringNotice(groups, widen_punct(body), cadence, weekday, at, needs_ack)


def describe_schedule(cadence: str, weekday: int | None, at: str) -> str:
    """``每周一08:00``, ``每月第一个工作日09:00``, ``每个工作日08:30``, ``每天20:00``."""
    if cadence == "weekly" and weekday is not None:
        return f"每周{'一二三四五六日'[weekday]}{at}"
    return {"monthly_first_workday": "每月第一个工作日", "workdays": "每个工作日"}.get(
        cadence, "每天"
    ) + at


_STOP_RULE = re.compile(
    r"^(?:停止|取消|关闭)(?:定期|循环|周期)通知\s*" + number_pattern("rule") + "$"
)


def parse_stop_recurring(text: str) -> StopRecurring | None:
    match = _STOP_RULE.match(normalize(text).upper())
    return StopRecurring(int(match["no"])) if match else None


def ack_card(notice_no: str, notice_id: int, title: str, text: str, userid: str) -> dict[str, Any]:
    """The ``template_card`` (button interaction) of a notice's private copy: one 收到 button.

    WeCom reports the click as ``template_card_event`` with ``EventKey`` ``ack:{id}``, which
    the edge makes ``Incoming.action`` and :func:`handlers.notices.ack_button` handles; its
    ``ResponseCode`` allows the one update that replaces the button with 已收到
    (:data:`CARD_DONE`).
    """
    task = _task_id(f"notice-{notice_id}", userid)
    return _button_card(task, notice_no, title, text, [("收到", f"ack:{notice_id}")])


def rsvp_card(
    meeting_no: str, meeting_id: int, title: str, text: str, userid: str
) -> dict[str, Any]:
    """The card of a meeting notice's private copy: 参加 and 请假 buttons (回执)."""
    buttons = [("参加", f"attend:{meeting_id}"), ("请假", f"leave:{meeting_id}")]
    task = _task_id(f"meeting-{meeting_id}", userid)
    return _button_card(task, meeting_no, title, text, buttons)


def _task_id(prefix: str, userid: str) -> str:
    """A card's ``task_id``: unique within the app (one card per member), at most 128 bytes of
    letters, digits and ``_-@``."""
    return (prefix + "-" + re.sub(r"[^A-Za-z0-9_\-@]", "_", userid))[:128]


# What a clicked card shows instead of its buttons, by the button's action.
CARD_DONE: dict[str, str] = {
    "ack": "已收到",
    "attend": "已回复参加",
    "leave": "已请假",
    "done": "已完成",
}


def _button_card(
    task_id: str, no: str, title: str, text: str, buttons: list[tuple[str, str]]
) -> dict[str, Any]:
    # WeCom caps the main title at 26 characters and the sub-title text at 1,000 (ellipses
    # beyond); the full text also goes out in words to every group, so nothing is lost.
    shown = text if len(text) <= 1000 else text[:999] + "…"
    return {
        "card_type": "button_interaction",
        "main_title": {"title": title[:26], "desc": no},
        "sub_title_text": shown,
        "task_id": task_id,
        "button_list": [
            {"text": label, "style": 1 if index == 0 else 2, "key": key}
            for index, (label, key) in enumerate(buttons)
        ],
    }
