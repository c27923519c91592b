"""Small lookups that several features share."""

from __future__ import annotations

from bot.messages import Incoming
from storage import Tx
from storage.models import Group, Member

SANDBOX_GROUP_PREFIX = "sandbox-group-"


async def chat_group(tx: Tx, incoming: Incoming) -> Group | None:
    """The group a group-chat message was written in (None for a 1:1 message)."""
    if incoming.chat_id is None:
        return None
    group = await tx.groups.by_app_chat_id(incoming.chat_id)
    if group is None and incoming.chat_id.startswith(SANDBOX_GROUP_PREFIX):
        suffix = incoming.chat_id.removeprefix(SANDBOX_GROUP_PREFIX)
        group = await tx.groups.get(int(suffix)) if suffix.isdigit() else None
    if group is None and incoming.chat_name:
        group = await tx.groups.by_name(incoming.chat_name)
    return group


async def study_group(tx: Tx, member: Member) -> Group | None:
    groups = await tx.groups.groups_of(member.id, kind="study_group")
    return groups[0] if groups else None


def names(members: list[Member], limit: int = 60) -> str:
    shown = "、".join(m.name for m in members[:limit])
    return shown + (f" 等{len(members)}人" if len(members) > limit else "")
