"""Proposals (提案) and registered activities (履职登记).

Numbering works as the reports' does (:meth:`storage.repos.reports.ReportRepo.next_seq`): the
year's counter row is incremented with ``UPDATE … RETURNING`` inside the submitting
transaction, so a rolled-back submission burns no number and two never share one.

The duty record's facts (:meth:`ProposalRepo.duty_counts`, :meth:`ActivityRepo.duty_counts`)
are grouped queries for every member at once, like :class:`storage.repos.duty.DutyRepo`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, distinct, func, select

from storage.models import Member
from storage.models_proposals import (
    Activity,
    ActivityAttachment,
    Proposal,
    ProposalAttachment,
    ProposalCounter,
    ProposalHistory,
    ProposalSigner,
)
from storage.repos.base import Repo

MemberIds = Sequence[int] | None


@dataclass(frozen=True, slots=True)
class ProposalRow:
    """One proposal of the year with its proposers' names (the exports)."""

    proposal: Proposal
    proposer: str
    co_proposers: tuple[str, ...]


class ProposalRepo(Repo):
    # -- numbering -----------------------------------------------------------------------------

    async def next_seq(self, year: int) -> int:
        """The next sequence number of ``year`` (:meth:`Repo.next_in_year`)."""
        return await self.next_in_year(ProposalCounter, year)

    # -- proposals and signers -----------------------------------------------------------------

    async def add(self, proposal: Proposal, signers: Sequence[tuple[int, str]]) -> Proposal:
        self.session.add(proposal)
        await self.session.flush()
        for member_id, role in signers:
            confirmed = proposal.submitted_at if role == "lead" else None
            self.session.add(
                ProposalSigner(
                    proposal_id=proposal.id, member_id=member_id, role=role, confirmed_at=confirmed
                )
            )
        await self.session.flush()
        return proposal

    async def get(self, proposal_id: int) -> Proposal | None:
        return await self.session.get(Proposal, proposal_id)

    async def by_seq(self, year: int, seq: int, *, lock: bool = False) -> Proposal | None:
        """The proposal numbered ``seq`` in ``year`` (whatever the number's format)."""
        query = select(Proposal).where(Proposal.year == year, Proposal.seq == seq)
        if lock and self.dialect == "postgresql":
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def signers(self, proposal_id: int) -> list[tuple[Member, ProposalSigner]]:
        rows = await self.session.execute(
            select(Member, ProposalSigner)
            .join(ProposalSigner, ProposalSigner.member_id == Member.id)
            .where(ProposalSigner.proposal_id == proposal_id)
            .order_by(ProposalSigner.role.desc(), Member.id)  # lead first
        )
        return [(member, signer) for member, signer in rows]

    async def signer(self, proposal_id: int, member_id: int) -> ProposalSigner | None:
        return await self.session.get(ProposalSigner, (proposal_id, member_id))

    async def remove_signer(self, signer: ProposalSigner) -> None:
        await self.session.delete(signer)
        await self.session.flush()

    async def unconfirmed_for(self, member_id: int) -> list[Proposal]:
        """Proposals the member is named on as co-proposer and has not yet 附议'd."""
        rows = await self.session.scalars(
            select(Proposal)
            .join(ProposalSigner, ProposalSigner.proposal_id == Proposal.id)
            .where(
                ProposalSigner.member_id == member_id,
                ProposalSigner.role == "co",
                ProposalSigner.confirmed_at.is_(None),
            )
            .order_by(Proposal.id)
        )
        return list(rows)

    async def of_member(self, member_id: int, limit: int = 20) -> list[Proposal]:
        rows = await self.session.scalars(
            select(Proposal)
            .join(ProposalSigner, ProposalSigner.proposal_id == Proposal.id)
            .where(ProposalSigner.member_id == member_id)
            .order_by(Proposal.submitted_at.desc(), Proposal.id.desc())
            .limit(limit)
        )
        return list(rows)

    async def in_states(self, states: Iterable[str]) -> list[Proposal]:
        rows = await self.session.scalars(
            select(Proposal)
            .where(Proposal.state.in_(list(states)))
            .order_by(Proposal.state_since, Proposal.id)
        )
        return list(rows)

    async def waiting(self) -> list[Proposal]:
        """Proposals whose current step has a due time (审查, 答复, 满意度)."""
        rows = await self.session.scalars(
            select(Proposal).where(Proposal.due_at.is_not(None)).order_by(Proposal.due_at)
        )
        return list(rows)

    async def listing(
        self, *, state: str | None = None, year: int | None = None
    ) -> list[Proposal]:
        query = select(Proposal)
        if state is not None:
            query = query.where(Proposal.state == state)
        if year is not None:
            query = query.where(Proposal.year == year)
        rows = await self.session.scalars(query.order_by(Proposal.year, Proposal.seq))
        return list(rows)

    # -- history and attachments ---------------------------------------------------------------

    async def add_history(self, entry: ProposalHistory) -> ProposalHistory:
        self.session.add(entry)
        await self.session.flush()  # the id is part of the notifications' idempotency keys
        return entry

    async def history(self, proposal_id: int) -> list[ProposalHistory]:
        rows = await self.session.scalars(
            select(ProposalHistory)
            .where(ProposalHistory.proposal_id == proposal_id)
            .order_by(ProposalHistory.id)
        )
        return list(rows)

    async def add_attachment(self, attachment: ProposalAttachment) -> None:
        self.session.add(attachment)
        await self.session.flush()

    async def attachments(self, proposal_id: int) -> list[ProposalAttachment]:
        rows = await self.session.scalars(
            select(ProposalAttachment)
            .where(ProposalAttachment.proposal_id == proposal_id)
            .order_by(ProposalAttachment.id)
        )
        return list(rows)

    # -- the year ------------------------------------------------------------------------------

    async def year_rows(self, year: int) -> list[ProposalRow]:
        proposals = list(
            await self.session.scalars(
                select(Proposal).where(Proposal.year == year).order_by(Proposal.seq)
            )
        )
        names: dict[int, dict[str, list[str]]] = {}
        rows = await self.session.execute(
            select(ProposalSigner.proposal_id, ProposalSigner.role, Member.name)
            .join(Member, Member.id == ProposalSigner.member_id)
            .join(Proposal, Proposal.id == ProposalSigner.proposal_id)
            .where(Proposal.year == year)
            .order_by(Member.id)
        )
        for proposal_id, role, name in rows:
            names.setdefault(proposal_id, {"lead": [], "co": []})[role].append(name)
        return [
            ProposalRow(
                p,
                (names.get(p.id, {}).get("lead") or ["?"])[0],
                tuple(names.get(p.id, {}).get("co", ())),
            )
            for p in proposals
        ]

    async def year_history(self, year: int) -> list[tuple[str, ProposalHistory, str]]:
        """(number, step, actor's name) of every step of the year's proposals."""
        rows = await self.session.execute(
            select(Proposal.number, ProposalHistory, Member.name)
            .join(Proposal, Proposal.id == ProposalHistory.proposal_id)
            .outerjoin(Member, Member.id == ProposalHistory.actor_id)
            .where(Proposal.year == year)
            .order_by(Proposal.seq, ProposalHistory.id)
        )
        return [(number, h, name or h.actor) for number, h, name in rows]

    async def duty_counts(
        self, year: int, member_ids: MemberIds = None
    ) -> dict[int, dict[str, int]]:
        """member id → ``submitted`` (as proposer), ``cosigned`` (附议 confirmed), ``accepted``
        (their own proposals ever 立案, from the history), ``key`` (重点), ``satisfied`` (their
        own proposals whose proposer answered 满意 or 基本满意 last)."""
        found: dict[int, dict[str, int]] = {}
        roles = (
            select(ProposalSigner.member_id, ProposalSigner.role, func.count())
            .join(Proposal, Proposal.id == ProposalSigner.proposal_id)
            .where(Proposal.year == year, ProposalSigner.confirmed_at.is_not(None))
        )
        for member_id, role, count in await self.session.execute(
            _only(roles, ProposalSigner.member_id, member_ids).group_by(
                ProposalSigner.member_id, ProposalSigner.role
            )
        ):
            found.setdefault(member_id, {})["submitted" if role == "lead" else "cosigned"] = int(
                count
            )
        accepted = (
            select(Proposal.submitter_id, func.count(distinct(ProposalHistory.proposal_id)))
            .join(ProposalHistory, ProposalHistory.proposal_id == Proposal.id)
            .where(Proposal.year == year, ProposalHistory.action == "accept")
        )
        for member_id, count in await self.session.execute(
            _only(accepted, Proposal.submitter_id, member_ids).group_by(Proposal.submitter_id)
        ):
            found.setdefault(member_id, {})["accepted"] = int(count)
        flags = select(
            Proposal.submitter_id,
            func.sum(_flag(Proposal.key)),
            func.sum(_flag(Proposal.satisfaction.in_(("satisfied", "basic")))),
        ).where(Proposal.year == year)
        for member_id, key, satisfied in await self.session.execute(
            _only(flags, Proposal.submitter_id, member_ids).group_by(Proposal.submitter_id)
        ):
            entry = found.setdefault(member_id, {})
            entry["key"], entry["satisfied"] = int(key or 0), int(satisfied or 0)
        return found


class ActivityRepo(Repo):
    async def add(self, activity: Activity) -> Activity:
        self.session.add(activity)
        await self.session.flush()
        return activity

    async def get(self, activity_id: int) -> Activity | None:
        return await self.session.get(Activity, activity_id)

    async def add_attachment(self, attachment: ActivityAttachment) -> None:
        self.session.add(attachment)
        await self.session.flush()

    async def attachments(self, activity_id: int) -> list[ActivityAttachment]:
        rows = await self.session.scalars(
            select(ActivityAttachment)
            .where(ActivityAttachment.activity_id == activity_id)
            .order_by(ActivityAttachment.id)
        )
        return list(rows)

    async def of_member(self, member_id: int, limit: int = 20) -> list[Activity]:
        rows = await self.session.scalars(
            select(Activity)
            .where(Activity.member_id == member_id)
            .order_by(Activity.day.desc(), Activity.id.desc())
            .limit(limit)
        )
        return list(rows)

    async def pending(self, limit: int = 50) -> list[tuple[Activity, Member]]:
        rows = await self.session.execute(
            select(Activity, Member)
            .join(Member, Member.id == Activity.member_id)
            .where(Activity.state == "pending")
            .order_by(Activity.created_at, Activity.id)
            .limit(limit)
        )
        return [(a, m) for a, m in rows]

    async def for_meeting(self, meeting_id: int) -> set[int]:
        """Members whose attendance of the meeting is registered already."""
        rows = await self.session.scalars(
            select(Activity.member_id).where(Activity.meeting_id == meeting_id)
        )
        return set(rows)

    async def exists(self, member_id: int, day: date, kind: str, text: str) -> bool:
        found = await self.session.scalar(
            select(Activity.id).where(
                Activity.member_id == member_id,
                Activity.day == day,
                Activity.kind == kind,
                Activity.text == text,
                Activity.state != "returned",
            )
        )
        return found is not None

    async def year_rows(self, start: date, end: date) -> list[tuple[Activity, Member]]:
        rows = await self.session.execute(
            select(Activity, Member)
            .join(Member, Member.id == Activity.member_id)
            .where(Activity.day >= start, Activity.day <= end)
            .order_by(Activity.day, Activity.id)
        )
        return [(a, m) for a, m in rows]

    async def duty_counts(
        self, start: date, end: date, member_ids: MemberIds = None
    ) -> dict[int, dict[str, int]]:
        """member id → kind → confirmed activities on days in ``[start, end]``."""
        query = select(Activity.member_id, Activity.kind, func.count()).where(
            Activity.state == "confirmed", Activity.day >= start, Activity.day <= end
        )
        found: dict[int, dict[str, int]] = {}
        for member_id, kind, count in await self.session.execute(
            _only(query, Activity.member_id, member_ids).group_by(
                Activity.member_id, Activity.kind
            )
        ):
            found.setdefault(member_id, {})[kind] = int(count)
        return found


def _flag(condition: Any) -> Any:
    return case((condition, 1), else_=0)


def _only(query: Any, column: Any, member_ids: MemberIds) -> Any:
    return query if member_ids is None else query.where(column.in_(list(member_ids)))
