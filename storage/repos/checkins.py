"""Campaigns (打卡活动), check-ins (打卡), the working calendar and the planner's marks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, distinct, func, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.fast import Prepared, columns_of, entity
from storage.models import (
    CalendarDay,
    CalendarYear,
    Campaign,
    CheckIn,
    Group,
    GroupMember,
    PlannerMark,
)
from storage.repos.base import Repo


@dataclass(frozen=True, slots=True)
class PeriodCount:
    period_start: date
    checked: int


# A check-in's statements, built once (building and cache-keying them was a good part of what a
# check-in cost): what a 1:1 check-in counts for, the insert, the streak's periods, the progress.
_GROUP_KEYS, _group_columns = columns_of(Group)
_CAMPAIGN_KEYS, _campaign_columns = columns_of(Campaign)
_OF_STUDY_GROUP = Prepared(
    select(*_group_columns, *_campaign_columns)
    .select_from(Group)
    .join(GroupMember, GroupMember.group_id == Group.id)
    .outerjoin(Campaign, Campaign.group_id == Group.id)
    .where(GroupMember.member_id == bindparam("member_id"), Group.kind == "study_group")
    .order_by(Group.id)
    .limit(1)
)
_checkins = cast(Table, CheckIn.__table__)
_ADD_IF_NEW_KEYS = (
    "campaign_id",
    "member_id",
    "period_start",
    "period_end",
    "titles",
    "minutes",
    "notes",
    "entries",
    "makeup",
    "first_at",
    "last_at",
)
_ADD_IF_NEW = {
    name: Prepared(
        module.insert(_checkins).on_conflict_do_nothing(
            index_elements=["campaign_id", "member_id", "period_start"]
        ),
        _ADD_IF_NEW_KEYS,
    )
    for name, module in (("sqlite", sqlite), ("postgresql", postgresql))
}
_PERIODS_OF = Prepared(
    select(_checkins.c.period_start)
    .where(
        _checkins.c.campaign_id == bindparam("campaign_id"),
        _checkins.c.member_id == bindparam("member_id"),
    )
    .order_by(_checkins.c.period_start.desc())
)
_group_members = cast(Table, GroupMember.__table__)
_PROGRESS = Prepared(
    select(
        select(func.count())
        .select_from(_group_members)
        .where(_group_members.c.group_id == bindparam("group_id"))
        .scalar_subquery(),
        select(func.count(distinct(_checkins.c.member_id)))
        .join(_group_members, _group_members.c.member_id == _checkins.c.member_id)
        .where(
            _checkins.c.campaign_id == bindparam("campaign_id"),
            _checkins.c.period_start
            == bindparam("period_start", type_=_checkins.c.period_start.type),
            _group_members.c.group_id == bindparam("group_id"),
        )
        .scalar_subquery(),
    )
)


class CampaignRepo(Repo):
    async def get(self, campaign_id: int) -> Campaign | None:
        return await self.session.get(Campaign, campaign_id)

    async def for_group(self, group_id: int) -> Campaign | None:
        return await self.session.scalar(select(Campaign).where(Campaign.group_id == group_id))

    async def of_study_group(self, member_id: int) -> tuple[Group | None, Campaign | None]:
        """The member's (first) study group and its campaign, if any, in one query: what a
        1:1 check-in counts for."""
        row = (await self.fast(_OF_STUDY_GROUP, {"member_id": member_id})).first()
        if row is None:
            return None, None
        split = len(_GROUP_KEYS)
        group = entity(self._source, Group, dict(zip(_GROUP_KEYS, row[:split], strict=True)))
        if row[split] is None:  # no campaign (the outer join's NULLs)
            return group, None
        values = dict(zip(_CAMPAIGN_KEYS, row[split:], strict=True))
        return group, entity(self._source, Campaign, values)

    async def active(self) -> list[Campaign]:
        rows = await self.session.scalars(
            select(Campaign).where(Campaign.active).order_by(Campaign.id)
        )
        return list(rows)

    async def all(self) -> list[Campaign]:
        return list(await self.session.scalars(select(Campaign).order_by(Campaign.id)))

    async def save(self, campaign: Campaign) -> Campaign:
        self.session.add(campaign)
        await self.session.flush()
        return campaign


class CheckInRepo(Repo):
    async def find(
        self, campaign_id: int | None, member_id: int, period_start: date
    ) -> CheckIn | None:
        query = select(CheckIn).where(
            CheckIn.member_id == member_id, CheckIn.period_start == period_start
        )
        query = query.where(
            CheckIn.campaign_id.is_(None)
            if campaign_id is None
            else CheckIn.campaign_id == campaign_id
        )
        if self.dialect == "postgresql":
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def add(self, checkin: CheckIn) -> CheckIn:
        self.session.add(checkin)
        await self.session.flush()
        return checkin

    async def add_if_new(self, values: dict[str, Any]) -> bool:
        """Insert a campaign's check-in unless the member has one for that period already (the
        unique key decides, on both backends); False if there was one. One statement for the
        common case, where ``find`` + ``add`` took two. Not for personal records: their
        ``campaign_id`` is NULL, which a unique key never matches."""
        assert values.get("campaign_id") is not None, "personal records go through find/add"
        return bool(await self.changed(_ADD_IF_NEW[self.dialect], values))

    async def progress(
        self, campaign_id: int, period_start: date, group_id: int
    ) -> tuple[int, int]:
        """(members of the group, of whom checked in for the period) in one query: the
        ``已打卡 17/25`` of a check-in's answer."""
        params = {"group_id": group_id, "campaign_id": campaign_id, "period_start": period_start}
        total, done = (await self.fast(_PROGRESS, params)).rows[0]
        return int(total or 0), int(done or 0)

    async def checked_member_ids(self, campaign_id: int, period_start: date) -> set[int]:
        rows = await self.session.scalars(
            select(CheckIn.member_id).where(
                CheckIn.campaign_id == campaign_id, CheckIn.period_start == period_start
            )
        )
        return set(rows)

    async def periods_of(self, campaign_id: int, member_id: int) -> list[date]:
        """The period starts a member checked in for, newest first."""
        params = {"campaign_id": campaign_id, "member_id": member_id}
        return [row[0] for row in (await self.fast(_PERIODS_OF, params)).rows]

    async def periods_of_members(
        self, campaign_id: int, member_ids: Iterable[int], since: date
    ) -> dict[int, list[date]]:
        rows = await self.session.execute(
            select(CheckIn.member_id, CheckIn.period_start)
            .where(
                CheckIn.campaign_id == campaign_id,
                CheckIn.member_id.in_(list(member_ids)),
                CheckIn.period_start >= since,
            )
            .order_by(CheckIn.period_start.desc())
        )
        found: dict[int, list[date]] = {}
        for member_id, start in rows:
            found.setdefault(member_id, []).append(start)
        return found

    async def recent_of_member(self, member_id: int, limit: int = 8) -> list[CheckIn]:
        rows = await self.session.scalars(
            select(CheckIn)
            .where(CheckIn.member_id == member_id)
            .order_by(CheckIn.period_start.desc(), CheckIn.id.desc())
            .limit(limit)
        )
        return list(rows)

    async def totals_of_member(self, member_id: int, start: date, end: date) -> tuple[int, int]:
        """(check-ins, minutes) of a member between two dates, inclusive."""
        row = (
            await self.session.execute(
                select(func.count(), func.coalesce(func.sum(CheckIn.minutes), 0)).where(
                    CheckIn.member_id == member_id,
                    CheckIn.period_start >= start,
                    CheckIn.period_start <= end,
                )
            )
        ).one()
        return int(row[0]), int(row[1])

    async def makeups_between(
        self, campaign_id: int, member_id: int, start: datetime, end: datetime
    ) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).where(
                    CheckIn.campaign_id == campaign_id,
                    CheckIn.member_id == member_id,
                    CheckIn.makeup,
                    CheckIn.first_at >= start,
                    CheckIn.first_at < end,
                )
            )
            or 0
        )

    async def counts_by_period(
        self, campaign_id: int, group_id: int, since: date
    ) -> list[PeriodCount]:
        rows = await self.session.execute(
            select(CheckIn.period_start, func.count(distinct(CheckIn.member_id)))
            .join(GroupMember, GroupMember.member_id == CheckIn.member_id)
            .where(
                CheckIn.campaign_id == campaign_id,
                GroupMember.group_id == group_id,
                CheckIn.period_start >= since,
            )
            .group_by(CheckIn.period_start)
            .order_by(CheckIn.period_start)
        )
        return [PeriodCount(start, int(n)) for start, n in rows]


class CalendarRepo(Repo):
    """The holiday calendar: special days and the years they are complete for.

    ``calendar_years.source``: ``chinesecalendar`` (the package), ``manual`` (the office's own
    entry of a year's notice) or ``provisional`` (the office accepted the law-derived year).
    """

    async def load(self) -> tuple[list[CalendarDay], dict[int, str]]:
        days = list(await self.session.scalars(select(CalendarDay)))
        years = await self.session.execute(select(CalendarYear.year, CalendarYear.source))
        return days, {int(year): str(source) for year, source in years}

    async def seed(self, days: Iterable[Any], years: Iterable[int]) -> int:
        """Copy the package's days in. An existing row (an office's override) is kept, and a
        year the office entered itself is left as the office entered it; a year the office
        had only accepted provisionally becomes the package's."""
        covered = set(years)
        for year in covered:
            await self.session.execute(
                self.upsert_insert(CalendarYear)
                .values(year=year, source="chinesecalendar")
                .on_conflict_do_update(
                    index_elements=["year"],
                    set_={"source": "chinesecalendar"},
                    where=CalendarYear.source == "provisional",
                )
            )
        office = set(
            await self.session.scalars(
                select(CalendarYear.year).where(CalendarYear.source == "manual")
            )
        )
        rows = [
            {"day": d.day, "kind": d.kind, "name": d.name}
            for d in days
            if d.day.year in covered and d.day.year not in office
        ]
        added = 0
        for chunk in range(0, len(rows), 500):
            statement = (
                self.upsert_insert(CalendarDay)
                .values(rows[chunk : chunk + 500])
                .on_conflict_do_nothing()
            )
            added += await self.changed(statement)
        return added

    async def set_day(self, day: date, kind: str, name: str) -> None:
        values = {"kind": kind, "name": name, "source": "manual"}
        await self.session.execute(
            self.upsert_insert(CalendarDay)
            .values(day=day, **values)
            .on_conflict_do_update(index_elements=["day"], set_=values)
        )

    async def entered_days(self, year: int) -> list[CalendarDay]:
        """The days of ``year`` the office entered itself (``calendar set`` or an import)."""
        rows = await self.session.scalars(
            select(CalendarDay)
            .where(
                CalendarDay.day >= date(year, 1, 1),
                CalendarDay.day <= date(year, 12, 31),
                CalendarDay.source.in_(("manual", "import")),
            )
            .order_by(CalendarDay.day)
        )
        return list(rows)

    async def replace_year(self, year: int, days: Iterable[Any], note: str) -> None:
        """An office's import of a year's notice: its days are exactly the year's days."""
        await self.session.execute(
            delete(CalendarDay).where(
                CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)
            )
        )
        rows = [{"day": d.day, "kind": d.kind, "name": d.name, "source": "import"} for d in days]
        if rows:
            await self.session.execute(self.upsert_insert(CalendarDay).values(rows))
        await self.confirm_year(year, "manual", note)

    async def confirm_year(self, year: int, source: str, note: str = "") -> None:
        """Declare a year complete (``manual``) or its derived days accepted (``provisional``)."""
        values = {"source": source, "note": note}
        await self.session.execute(
            self.upsert_insert(CalendarYear)
            .values(year=year, **values)
            .on_conflict_do_update(index_elements=["year"], set_=values)
        )


class PlannerRepo(Repo):
    async def mark(self, key: str, at: datetime) -> bool:
        """Claim an occurrence; False if it was expanded before (by any process)."""
        return bool(
            await self.changed(
                self.upsert_insert(PlannerMark).values(key=key, at=at).on_conflict_do_nothing()
            )
        )

    async def marked(self, keys: Iterable[str]) -> set[str]:
        wanted = list(keys)
        if not wanted:
            return set()
        rows = await self.session.scalars(
            select(PlannerMark.key).where(PlannerMark.key.in_(wanted))
        )
        return set(rows)

    async def first_and_last(self, prefix: str) -> tuple[datetime | None, datetime | None]:
        """When the earliest and the latest mark whose key starts with ``prefix`` were made."""
        row = (
            await self.session.execute(
                select(func.min(PlannerMark.at), func.max(PlannerMark.at)).where(
                    PlannerMark.key.startswith(prefix, autoescape=True)
                )
            )
        ).one()
        return row[0], row[1]
