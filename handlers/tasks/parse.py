"""Parsing tasks with deadlines (督办) and the three-colour rule (三色督办) — pure functions.

* ``督办 第3学习小组：请各位委员于12月10日前提交年度履职报告 牵头：办公室 责任处室：研究室``
  (also ``交办`` / ``任务``): assignees are groups, committees, members or 全体委员; the
  deadline comes from the text (``于12月10日前``, ``本周内``, ``月底前``, ``完成时限：12月10日``).
* ``完成 DB-4`` / ``DB-4 已完成`` / ``已完成 4``; a bare ``完成`` only in a 1:1 chat.
* ``销号 DB-4 张三、李四`` (a secretary ticks assignees off), ``销号 DB-4`` (the whole task).
* ``督办情况`` / ``督办情况 DB-4`` / ``三色督办``.

Colours, as supervising offices use them (docs/domain.md §3): none far from the deadline;
blue inside the warning window; yellow inside the urgent window (someone is still not done);
red once overdue, until ticked off (销号). A closed task has no colour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Literal

from handlers.notices.common import number_pattern, split_names
from handlers.notices.parse import addressed_command
from handlers.text.normalize import normalize, widen_punct
from handlers.text.timephrase import parse_deadline

Colour = Literal["blue", "yellow", "red"]
COLOUR_NAMES: dict[str, str] = {"red": "🔴红色", "yellow": "🟡黄色", "blue": "🔵蓝色"}

_HEAD = re.compile(r"^(?:督办|交办|督办任务|任务)\s*(?P<rest>.+)$")
_LEAD = re.compile(r"\s*牵头(?:人|单位|领导)?\s*[:：]\s*(?P<v>[^\s,，。;；]{1,40})[,，。;；]?")
_OFFICE = re.compile(
    r"\s*责任(?:处室|单位|部门|科室)\s*[:：]\s*(?P<v>[^\s,，。;；]{1,40})[,，。;；]?"
)


@dataclass(frozen=True, slots=True)
class TaskCommand:
    intent: ClassVar[str] = "task"
    groups: tuple[str, ...]
    text: str
    deadline: datetime | None
    has_time: bool
    lead: str
    office: str


@dataclass(frozen=True, slots=True)
class TaskDone:
    intent: ClassVar[str] = "task_done"
    task: int | None


@dataclass(frozen=True, slots=True)
class TaskTickOff:
    intent: ClassVar[str] = "task_tickoff"
    task: int
    names: tuple[str, ...]  # empty: the whole task


@dataclass(frozen=True, slots=True)
class TaskStatus:
    intent: ClassVar[str] = "task_status"
    task: int | None


def parse_task(text: str, now: datetime) -> TaskCommand | None:
    command = addressed_command(text, _HEAD)
    if command is None:
        return None
    body, groups = command.body, command.names
    lead = _LEAD.search(body)
    office = _OFFICE.search(body)
    rest = _OFFICE.sub("", _LEAD.sub("", body)).strip()
    deadline = parse_deadline(rest, now)
    return TaskCommand(
        groups,
        widen_punct(rest),
        deadline.at if deadline else None,
        deadline.has_time if deadline else False,
        lead["v"] if lead else "",
        office["v"] if office else "",
    )


_DB = r"DB\s*-?\s*(?P<no>\d{1,9})"
_DONE = re.compile(
    rf"^(?:(?:已经?)?完成了?|已办结|办结)\s*(?:{_DB}|(?P<bare>\d{{1,9}}))?[。.!！~]*$"
    rf"|^{_DB.replace('no', 'no2')}\s*(?:已经?)?(?:完成了?|办结)[。.!！~]*$"
)


def parse_task_done(text: str, in_group: bool) -> TaskDone | None:
    match = _DONE.match(normalize(text).upper())
    if match is None:
        return None
    found = match["no"] or match["bare"] or match["no2"]
    if found is None and in_group:
        return None  # "完成" in a group is too often about something else
    return TaskDone(int(found) if found else None)


_TICK = re.compile(r"^销号\s*" + number_pattern("task") + r"\s*(?P<names>.*)$")


def parse_task_tickoff(text: str) -> TaskTickOff | None:
    match = _TICK.match(normalize(text).upper())
    if match is None:
        return None
    names = normalize(text)[match.start("names") :]
    return TaskTickOff(int(match["no"]), split_names(names))


_STATUS = re.compile(
    r"^(?:督办情况|任务情况|督办清单|三色督办|督办)\s*(?:" + number_pattern("task") + ")?$"
)


def parse_task_status(text: str) -> TaskStatus | None:
    match = _STATUS.match(normalize(text).upper())
    if match is None:
        return None
    return TaskStatus(int(match["no"]) if match["no"] else None)


def task_colour(
    deadline: datetime,
    now: datetime,
    *,
    closed: bool,
    blue_window: timedelta,
    yellow_window: timedelta,
) -> Colour | None:
    if closed:
        return None
    if now > deadline:
        return "red"
    if deadline - now <= yellow_window:
        return "yellow"
    if deadline - now <= blue_window:
        return "blue"
    return None


def nudge_offsets(spec: str) -> tuple[int, ...]:
    """``"3d,1d,0d"`` → (3, 1, 0): days before the deadline's day (config already checked)."""
    return tuple(sorted({int(item.strip()[:-1]) for item in spec.split(",")}, reverse=True))
