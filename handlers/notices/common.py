"""What notices (通知), meetings (会议) and tasks (督办) share: who an audience is, their short
numbers (TZ-12, HY-3, DB-4), how times are shown, and how one message reaches everyone.

An audience is a list of names as a secretary writes them: groups (第3学习小组, tolerant of
第三/第3), committees (专委会, from the roster's column), members by name, or 全体委员. A group
is posted to through its own channel (app chat or robot, chosen at send time); members reached
only by committee or by name, and members who asked for private copies, get one privately.
全体委员 means every study group (every member is in one) and, privately, anyone in none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.messages import Outgoing, Send, member_address
from handlers.common import find_group

if TYPE_CHECKING:
    from storage import Tx
    from storage.models import Group, Member

EVERYONE = "全体委员"
EVERYONE_WORDS = frozenset({"全体委员", "全体", "所有委员", "全体成员", "全体政协委员"})
PREFIXES = {"notice": "TZ", "meeting": "HY", "task": "DB", "rule": "DQ"}
WEEKDAYS = "一二三四五六日"
_SPLIT = re.compile(r"[、,，;；和及\s]+")


def number(kind: str, object_id: int) -> str:
    """``TZ-12``: what people see and type back."""
    return f"{PREFIXES[kind]}-{object_id}"


def number_pattern(kind: str) -> str:
    """A regex group for a number as typed: ``TZ-12``, ``tz12``, ``TZ－12`` or just ``12``."""
    return rf"(?:{PREFIXES[kind]}\s*-?\s*)?(?P<no>\d{{1,9}})"


def split_names(text: str) -> tuple[str, ...]:
    names = [n for n in _SPLIT.split(text.strip()) if n]
    return tuple(dict.fromkeys(EVERYONE if n in EVERYONE_WORDS else n for n in names))


def when(at: datetime, zone: ZoneInfo, *, weekday: bool = False) -> str:
    """``12月3日15:00`` (``12月3日（周三）15:00``) in local time."""
    local = at.astimezone(zone)
    day = f"{local.month}月{local.day}日"
    if weekday:
        day += f"（周{WEEKDAYS[local.weekday()]}）"
    return f"{day}{local:%H:%M}"


def preview(text: str, limit: int = 18) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


@dataclass(frozen=True, slots=True)
class Audience:
    groups: tuple[Group, ...]  # posted to in the group
    members: tuple[Member, ...]  # everyone it is for, once each
    direct: frozenset[int]  # member ids reached by no group: they get it privately
    unknown: tuple[str, ...]  # names that matched nothing
    labels: tuple[str, ...]  # how to name it back: groups by their own names, 全体委员


async def resolve_audience(tx: Tx, names: Sequence[str]) -> Audience:
    groups: dict[int, Group] = {}
    loose: dict[int, Member] = {}
    unknown: list[str] = []
    labels: list[str] = []
    if EVERYONE in names:
        labels.append(EVERYONE)
        groups.update((g.id, g) for g in await tx.notices.study_groups())
        loose.update((m.id, m) for m in await tx.members.by_role("member"))
    for name in names:
        if name == EVERYONE:
            continue
        group = await find_group(tx, name)
        if group is not None:
            groups[group.id] = group
            labels.append(group.name)
            continue
        found = await tx.notices.committee_members(name) or [
            m for m in await tx.members.by_name(name) if m.active
        ]
        if not found:
            unknown.append(name)
        labels.append(name)
        loose.update((m.id, m) for m in found)
    by_group = await tx.notices.members_of_groups(list(groups))
    reached: dict[int, Member] = {m.id: m for ms in by_group.values() for m in ms}
    direct = frozenset(m for m in loose if m not in reached)
    members = {**reached, **loose}
    ordered = tuple(members[k] for k in sorted(members))
    shown = tuple(dict.fromkeys(labels))
    return Audience(tuple(groups.values()), ordered, direct, tuple(unknown), shown)


def describe_audience(audience: Audience) -> str:
    return "、".join(audience.labels)


def fan_out(
    key: str,
    text: str,
    audience: Audience,
    private_ids: set[int],
    card: Callable[[str], Mapping[str, Any]] | None = None,
) -> list[Send]:
    """One post per group and one private copy per member reached by no group or asking for
    one; each under ``key`` + its recipient, so a retry or a second planner adds nothing.

    ``card(userid)``, when given, is the template card of a member's private copy (buttons to
    answer with one tap); groups get the text, which says the same in words.
    """
    sends = [Send(f"{key}:group:{g.id}", Outgoing(text, to_group=g.id)) for g in audience.groups]
    for member in audience.members:
        userid = member_address(member)  # a WeChat-only member is reached on the 公众号
        if member.id in audience.direct or member.id in private_ids:
            copy = Outgoing(text, to_member=userid, card=card(userid) if card else None)
            sends.append(Send(f"{key}:member:{userid}", copy))
    return sends


def mention_posts(
    key: str,
    text: str,
    groups: Sequence[Group],
    by_group: dict[int, list[Member]],
    pending: set[int],
) -> list[Send]:
    """A reminder in each group that @s its members still pending (none pending: no post)."""
    posts = []
    for group in groups:
        waiting = [m for m in by_group.get(group.id, []) if m.id in pending and m.userid]
        if waiting:
            names = "、".join(m.name for m in waiting)
            mentions = tuple(m.userid for m in waiting if m.userid)
            out = Outgoing(f"{text}{names}", to_group=group.id, mentions=mentions)
            posts.append(Send(f"{key}:group:{group.id}", out))
    return posts
