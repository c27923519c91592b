"""Small lookups that several features share."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.dispatcher import UNKNOWN_ACTION
from bot.errors import UserFacingError
from bot.messages import Action, Incoming
from handlers.text.normalize import parse_int

if TYPE_CHECKING:
    from storage import Tx
    from storage.models import Group, Member

SANDBOX_GROUP_PREFIX = "sandbox-group-"
EMPTY_OR_MEDIA = "收到。目前我只能理解文字消息，发送「帮助」查看我能做什么。"


def button_target(action: Action) -> int:
    """The id a card button names (``ack:12`` → 12); a key that names none is a button we did
    not make, answered like an unknown one."""
    if action.number is None:
        raise UserFacingError(UNKNOWN_ACTION)
    return action.number


async def audience_names(tx: Tx, incoming: Incoming, names: tuple[str, ...]) -> tuple[str, ...]:
    """Who an announcement is for: the names written, else the group it was written in (an
    office-style text read by the understanding may name nobody)."""
    if names:
        return names
    group = await chat_group(tx, incoming)
    if group is None:
        raise UserFacingError(
            "请写明发给哪些群或哪些人，例如「第3学习小组」或「全体委员」，再发一次。"
        )
    return (group.name,)


async def chat_group(tx: Tx, incoming: Incoming) -> Group | None:
    """The group a group-chat message was written in (None for a 1:1 message)."""
    if incoming.chat_id is None:
        return None
    group = await tx.groups.by_app_chat_id(incoming.chat_id)
    if group is None and incoming.chat_id.startswith(SANDBOX_GROUP_PREFIX):
        suffix = incoming.chat_id.removeprefix(SANDBOX_GROUP_PREFIX)
        group = await tx.groups.get(int(suffix)) if suffix.isdigit() else None
    if group is None and incoming.chat_name:
        group = await find_group(tx, incoming.chat_name)
    return group


_CN_ORDINAL = re.compile(r"第([零一二两三四五六七八九十百]+)")
_NUM_ORDINAL = re.compile(r"第(\d+)")


def group_name_variants(name: str) -> list[str]:
    """``第三学习小组`` and ``第3学习小组`` name the same group, whichever way it was imported."""
    import cn2an  # about 0.1 s to import: only once a number is read

    variants = [name]
    arabic = _CN_ORDINAL.sub(lambda m: f"第{parse_int(m[1]) or m[1]}", name)
    chinese = _NUM_ORDINAL.sub(lambda m: f"第{cn2an.an2cn(m[1])}", name)
    variants += [v for v in (arabic, chinese) if v not in variants]
    return variants


async def find_group(tx: Tx, name: str) -> Group | None:
    for variant in group_name_variants(name.strip()):
        group = await tx.groups.by_name(variant)
        if group is not None:
            return group
    return None


async def study_group(tx: Tx, member: Member) -> Group | None:
    groups = await tx.groups.groups_of(member.id, kind="study_group")
    return groups[0] if groups else None


def names(members: list[Member], limit: int = 60) -> str:
    shown = "、".join(m.name for m in members[:limit])
    return shown + (f" 等{len(members)}人" if len(members) > limit else "")
