"""Opinion reports (社情民意信息): numbering, submitters, history, attachments, statistics.

Numbering: :meth:`ReportRepo.next_seq` increments the year's counter row with
``UPDATE … RETURNING`` inside the caller's transaction. On PostgreSQL the row lock it takes is
held until commit, so concurrent submissions queue behind it and get consecutive numbers; on
SQLite writers are serialised anyway (``BEGIN IMMEDIATE``). A rollback undoes the increment, so
a failed submission leaves no gap.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from storage.models import Member
from storage.models_reports import (
    Report,
    ReportAttachment,
    ReportCounter,
    ReportHistory,
    ReportSubmitter,
    ReportVersion,
)
from storage.repos.base import Repo


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What the yearly statistics need of one report (统计口径)."""

    number: str
    title: str
    category: str
    sector: str
    submitter: str
    co_submitters: tuple[str, ...]
    state: str
    steps: tuple[tuple[str, str], ...]  # (action, level) in order


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One 社情民意 of the year, for the export."""

    id: int
    number: str
    title: str
    category: str
    sector: str
    submitter: str
    co_submitters: tuple[str, ...]
    state: str
    submitted_at: datetime
    state_since: datetime


@dataclass(frozen=True, slots=True)
class HistoryRow:
    report_id: int
    at: datetime
    action: str
    from_state: str
    to_state: str
    actor: str  # the acting member's name, or the raw actor (``cli``)
    level: str
    target: str
    comment: str


class ReportRepo(Repo):
    # -- numbering -----------------------------------------------------------------------------

    async def next_seq(self, year: int) -> int:
        """The next sequence number of ``year`` (:meth:`Repo.next_in_year`)."""
        return await self.next_in_year(ReportCounter, year)

    # -- reports and submitters ----------------------------------------------------------------

    async def add(self, report: Report, submitters: Sequence[tuple[int, str]]) -> Report:
        self.session.add(report)
        await self.session.flush()
        for member_id, role in submitters:
            self.session.add(ReportSubmitter(report_id=report.id, member_id=member_id, role=role))
        await self.session.flush()
        return report

    # -- versions (every submission's text) ----------------------------------------------------

    async def add_version(self, report: Report, *, author_id: int | None, at: datetime) -> int:
        """Keep ``report``'s current title, category and content as its next version."""
        last = await self.session.scalar(
            select(func.max(ReportVersion.version)).where(ReportVersion.report_id == report.id)
        )
        number = int(last or 0) + 1
        self.session.add(
            ReportVersion(
                report_id=report.id,
                version=number,
                title=report.title,
                category=report.category,
                content=report.content,
                author_id=author_id,
                submitted_at=at,
            )
        )
        await self.session.flush()
        return number

    async def versions(self, report_id: int) -> list[ReportVersion]:
        """Every submitted version of a report, the first first."""
        result = await self.session.scalars(
            select(ReportVersion)
            .where(ReportVersion.report_id == report_id)
            .order_by(ReportVersion.version)
        )
        return list(result)

    async def year_versions(self, year: int) -> list[tuple[str, ReportVersion]]:
        """(number, version) of every version of the year's reports (the export)."""
        rows = await self.session.execute(
            select(Report.number, ReportVersion)
            .join(Report, Report.id == ReportVersion.report_id)
            .where(Report.year == year)
            .order_by(Report.seq, ReportVersion.version)
        )
        return [(number, version) for number, version in rows]

    async def get(self, report_id: int) -> Report | None:
        return await self.session.get(Report, report_id)

    async def by_number(self, number: str, *, lock: bool = False) -> Report | None:
        query = select(Report).where(Report.number == number)
        if lock and self.dialect == "postgresql":
            query = query.with_for_update()  # two secretaries acting at once: one waits
        return await self.session.scalar(query)

    async def submitters(self, report_id: int) -> list[tuple[Member, str]]:
        rows = await self.session.execute(
            select(Member, ReportSubmitter.role)
            .join(ReportSubmitter, ReportSubmitter.member_id == Member.id)
            .where(ReportSubmitter.report_id == report_id)
            .order_by(ReportSubmitter.role.desc(), Member.id)  # lead first
        )
        return [(member, role) for member, role in rows]

    async def is_submitter(self, report_id: int, member_id: int) -> bool:
        found = await self.session.scalar(
            select(ReportSubmitter.member_id).where(
                ReportSubmitter.report_id == report_id, ReportSubmitter.member_id == member_id
            )
        )
        return found is not None

    async def of_member(self, member_id: int, limit: int = 20) -> list[Report]:
        """Reports the member submitted or co-signed, newest first."""
        rows = await self.session.scalars(
            select(Report)
            .join(ReportSubmitter, ReportSubmitter.report_id == Report.id)
            .where(ReportSubmitter.member_id == member_id)
            .order_by(Report.submitted_at.desc(), Report.id.desc())
            .limit(limit)
        )
        return list(rows)

    async def in_states(
        self, states: Iterable[str], *, since_before: datetime | None = None
    ) -> list[Report]:
        """Reports in ``states``, oldest state first (optionally only those in it since before
        ``since_before``: the ones waiting too long)."""
        query = select(Report).where(Report.state.in_(list(states)))
        if since_before is not None:
            query = query.where(Report.state_since <= since_before)
        rows = await self.session.scalars(query.order_by(Report.state_since, Report.id))
        return list(rows)

    async def listing(self, *, state: str | None = None, year: int | None = None) -> list[Report]:
        query = select(Report)
        if state is not None:
            query = query.where(Report.state == state)
        if year is not None:
            query = query.where(Report.year == year)
        rows = await self.session.scalars(query.order_by(Report.year, Report.seq))
        return list(rows)

    # -- history -------------------------------------------------------------------------------

    async def add_history(self, entry: ReportHistory) -> ReportHistory:
        self.session.add(entry)
        await self.session.flush()  # the id is part of the notifications' idempotency keys
        return entry

    async def history(self, report_id: int) -> list[ReportHistory]:
        rows = await self.session.scalars(
            select(ReportHistory)
            .where(ReportHistory.report_id == report_id)
            .order_by(ReportHistory.id)
        )
        return list(rows)

    # -- attachments ---------------------------------------------------------------------------

    async def add_attachment(self, attachment: ReportAttachment) -> ReportAttachment:
        self.session.add(attachment)
        await self.session.flush()
        return attachment

    async def attachments(self, report_id: int) -> list[ReportAttachment]:
        rows = await self.session.scalars(
            select(ReportAttachment)
            .where(ReportAttachment.report_id == report_id)
            .order_by(ReportAttachment.id)
        )
        return list(rows)

    # -- statistics ----------------------------------------------------------------------------

    async def year_reports(self, year: int) -> list[ReportRow]:
        """The reports numbered in ``year`` with their submitters' names (the yearly export)."""
        reports = list(
            await self.session.scalars(
                select(Report).where(Report.year == year).order_by(Report.seq)
            )
        )
        names: dict[int, dict[str, list[str]]] = {}
        rows = await self.session.execute(
            select(ReportSubmitter.report_id, ReportSubmitter.role, Member.name)
            .join(Member, Member.id == ReportSubmitter.member_id)
            .join(Report, Report.id == ReportSubmitter.report_id)
            .where(Report.year == year)
            .order_by(Member.id)
        )
        for report_id, role, name in rows:
            names.setdefault(report_id, {"lead": [], "co": []})[role].append(name)
        return [
            ReportRow(
                r.id,
                r.number,
                r.title,
                r.category,
                r.sector,
                (names.get(r.id, {}).get("lead") or ["?"])[0],
                tuple(names.get(r.id, {}).get("co", ())),
                r.state,
                r.submitted_at,
                r.state_since,
            )
            for r in reports
        ]

    async def year_history(self, year: int) -> list[HistoryRow]:
        """Every step of the year's reports, in order (办理记录)."""
        rows = await self.session.execute(
            select(ReportHistory, Member.name)
            .join(Report, Report.id == ReportHistory.report_id)
            .outerjoin(Member, Member.id == ReportHistory.actor_id)
            .where(Report.year == year)
            .order_by(Report.seq, ReportHistory.id)
        )
        return [
            HistoryRow(
                h.report_id,
                h.at,
                h.action,
                h.from_state,
                h.to_state,
                name or h.actor,
                h.level,
                h.target,
                h.comment,
            )
            for h, name in rows
        ]

    async def year_facts(self, year: int) -> list[ReportFacts]:
        reports = list(
            await self.session.scalars(
                select(Report).where(Report.year == year).order_by(Report.seq)
            )
        )
        ids = [r.id for r in reports]
        names: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"lead": [], "co": []})
        steps: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = await self.session.execute(
                select(ReportSubmitter.report_id, ReportSubmitter.role, Member.name)
                .join(Member, Member.id == ReportSubmitter.member_id)
                .where(ReportSubmitter.report_id.in_(chunk))
                .order_by(Member.id)
            )
            for report_id, role, name in rows:
                names[report_id][role].append(name)
            history = await self.session.execute(
                select(ReportHistory.report_id, ReportHistory.action, ReportHistory.level)
                .where(ReportHistory.report_id.in_(chunk))
                .order_by(ReportHistory.id)
            )
            for report_id, action, level in history:
                steps[report_id].append((action, level))
        return [
            ReportFacts(
                number=r.number,
                title=r.title,
                category=r.category,
                sector=r.sector,
                submitter=(names[r.id]["lead"] or ["?"])[0],
                co_submitters=tuple(names[r.id]["co"]),
                state=r.state,
                steps=tuple(steps[r.id]),
            )
            for r in reports
        ]
