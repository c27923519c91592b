"""Members (委员) and groups (群): the roster and where the bot can reach people."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select

from storage.fast import Prepared, columns_of, entity
from storage.models import DialogState, Group, GroupMember, Member
from storage.repos.base import Repo

# The pipeline's first read, built once: the sender's member and whether they have a dialog
# open in the chat (so that the dispatcher need not look for one that is not there).
_MEMBER_KEYS, _member_columns = columns_of(Member)
_SENDER = Prepared(
    select(
        *_member_columns,
        select(DialogState.kind)
        .where(DialogState.chat == bindparam("chat"), DialogState.userid == bindparam("userid"))
        .exists(),
    ).where(Member.userid == bindparam("userid"))
)
_BY_USERIDS = Prepared(
    select(*_member_columns).where(Member.userid.in_(bindparam("userids", expanding=True)))
)
_BY_USERID = select(Member).where(Member.userid == bindparam("userid"))


class MemberRepo(Repo):
    async def get(self, member_id: int) -> Member | None:
        return await self.session.get(Member, member_id)

    async def by_userid(self, userid: str) -> Member | None:
        return await self.session.scalar(_BY_USERID, {"userid": userid})

    async def sender(self, userid: str, chat: str) -> tuple[Member | None, bool]:
        """The member with ``userid``, and whether (chat, userid) has a dialog row, in one
        query; (None, False) for someone not in the roster."""
        row = (await self.fast(_SENDER, {"userid": userid, "chat": chat})).first()
        if row is None:
            return None, False
        member = entity(self._source, Member, dict(zip(_MEMBER_KEYS, row, strict=False)))
        return member, bool(row[-1])

    async def by_userids(self, userids: Iterable[str]) -> dict[str, Member]:
        """The members of ``userids`` that are in the roster, by userid, in one query."""
        rows = (await self.fast(_BY_USERIDS, {"userids": list(userids)})).rows
        found = (
            entity(self._source, Member, dict(zip(_MEMBER_KEYS, r, strict=True))) for r in rows
        )
        return {m.userid: m for m in found if m.userid}

    async def by_ids(self, member_ids: Iterable[int]) -> list[Member]:
        """The members of ``member_ids`` (loaded into the session: ``get`` then needs no query)."""
        return list(
            await self.session.scalars(select(Member).where(Member.id.in_(list(member_ids))))
        )

    async def by_mobile(self, mobile: str) -> Member | None:
        return await self.session.scalar(select(Member).where(Member.mobile == mobile))

    async def by_name(self, name: str) -> list[Member]:
        rows = await self.session.scalars(select(Member).where(Member.name == name))
        return list(rows)

    async def all(self) -> list[Member]:
        rows = await self.session.scalars(select(Member).order_by(Member.id))
        return list(rows)

    async def by_role(self, *roles: str) -> list[Member]:
        rows = await self.session.scalars(
            select(Member).where(Member.role.in_(roles), Member.active).order_by(Member.id)
        )
        return list(rows)

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Member)) or 0)

    async def add(self, member: Member) -> Member:
        self.session.add(member)
        await self.session.flush()
        return member

    async def study_groups(self) -> dict[int, str]:
        """member id → the name of their study group (学习小组), for listings (the first by
        name if someone is in two)."""
        rows = await self.session.execute(
            select(GroupMember.member_id, func.min(Group.name))
            .join(Group, Group.id == GroupMember.group_id)
            .where(Group.kind == "study_group")
            .group_by(GroupMember.member_id)
        )
        return {member_id: name for member_id, name in rows}


class GroupRepo(Repo):
    async def get(self, group_id: int) -> Group | None:
        return await self.session.get(Group, group_id)

    async def by_ids(self, group_ids: Iterable[int]) -> list[Group]:
        """The groups of ``group_ids`` (loaded into the session: ``get`` then needs no query)."""
        return list(await self.session.scalars(select(Group).where(Group.id.in_(list(group_ids)))))

    async def by_name(self, name: str) -> Group | None:
        return await self.session.scalar(select(Group).where(Group.name == name))

    async def by_app_chat_id(self, chat_id: str) -> Group | None:
        return await self.session.scalar(select(Group).where(Group.app_chat_id == chat_id))

    async def all(self) -> list[Group]:
        rows = await self.session.scalars(select(Group).order_by(Group.id))
        return list(rows)

    async def member_counts(self) -> dict[int, int]:
        rows = await self.session.execute(
            select(GroupMember.group_id, func.count()).group_by(GroupMember.group_id)
        )
        return {group_id: count for group_id, count in rows}

    async def get_or_create(self, name: str, kind: str, now: datetime) -> tuple[Group, bool]:
        group = await self.by_name(name)
        if group is not None:
            return group, False
        group = Group(name=name, kind=kind, created_at=now)
        self.session.add(group)
        await self.session.flush()
        return group, True

    async def member_ids(self, group_id: int) -> list[int]:
        rows = await self.session.scalars(
            select(GroupMember.member_id).where(GroupMember.group_id == group_id)
        )
        return list(rows)

    async def members(self, group_id: int) -> list[Member]:
        rows = await self.session.scalars(
            select(Member)
            .join(GroupMember, GroupMember.member_id == Member.id)
            .where(GroupMember.group_id == group_id, Member.active)
            .order_by(Member.id)
        )
        return list(rows)

    async def groups_of(self, member_id: int, kind: str | None = None) -> list[Group]:
        query = (
            select(Group)
            .join(GroupMember, GroupMember.group_id == Group.id)
            .where(GroupMember.member_id == member_id)
        )
        if kind is not None:
            query = query.where(Group.kind == kind)
        rows = await self.session.scalars(query.order_by(Group.id))
        return list(rows)

    async def add_member(self, group_id: int, member_id: int) -> bool:
        """Put a member in a group; False if they were already in it."""
        statement = (
            self.upsert_insert(GroupMember)
            .values(group_id=group_id, member_id=member_id)
            .on_conflict_do_nothing()
        )
        return bool(await self.changed(statement))

    async def remove_member(self, group_id: int, member_id: int) -> None:
        await self.session.execute(
            delete(GroupMember).where(
                GroupMember.group_id == group_id, GroupMember.member_id == member_id
            )
        )

    async def set_channel(
        self, group: Group, *, app_chat_id: str | None = None, robot_key: str | None = None
    ) -> None:
        if app_chat_id is not None:
            group.app_chat_id = app_chat_id or None
        if robot_key is not None:
            group.robot_key = robot_key or None
        await self.session.flush()

    async def by_names(self, names: Sequence[str]) -> dict[str, Group]:
        rows = await self.session.scalars(select(Group).where(Group.name.in_(list(names))))
        return {group.name: group for group in rows}
