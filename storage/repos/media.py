"""Attachments kept from WeCom media, of every kind (社情民意, 提案, 履职登记), as the media job
sees them: the pending ones of all kinds oldest first, and one row locked to record the result.

Each kind is a table with the :class:`storage.base.KeptMedia` columns; :data:`KINDS` names it,
its owner, and the folder its files go to in the media store (a report's under its number, as
before; a proposal's under ``proposals/`` and its number; an activity's under ``activities/``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage.base import KeptMedia
from storage.models_proposals import Activity, ActivityAttachment, Proposal, ProposalAttachment
from storage.models_reports import Report, ReportAttachment
from storage.repos.base import Repo


@dataclass(frozen=True, slots=True)
class MediaKind:
    model: type[KeptMedia]
    owner_key: Any  # the attachment's column naming its owner
    owner_id: Any
    owner_label: Any  # the owner's column naming its folder
    folder: str  # the folder, from that column's value


KINDS: dict[str, MediaKind] = {
    "report": MediaKind(
        ReportAttachment, ReportAttachment.report_id, Report.id, Report.number, "{}"
    ),
    "proposal": MediaKind(
        ProposalAttachment,
        ProposalAttachment.proposal_id,
        Proposal.id,
        Proposal.number,
        "proposals/{}",
    ),
    "activity": MediaKind(
        ActivityAttachment,
        ActivityAttachment.activity_id,
        Activity.id,
        Activity.id,
        "activities/HD-{}",
    ),
}


@dataclass(frozen=True, slots=True)
class PendingMedia:
    """An attachment whose media still has to be fetched; ``folder`` is where it goes."""

    kind: str
    id: int
    media_id: str
    filename: str
    received_at: datetime
    attempts: int
    folder: str


class MediaRepo(Repo):
    async def pending(self, limit: int = 50) -> list[PendingMedia]:
        """The pending attachments of every kind, oldest first (at most ``limit``)."""
        found: list[PendingMedia] = []
        for name, kind in KINDS.items():
            model: Any = kind.model
            rows = await self.session.execute(
                select(model, kind.owner_label)
                .join_from(model, kind.owner_id.class_, kind.owner_id == kind.owner_key)
                .where(model.status == "pending")
                .order_by(model.received_at, model.id)
                .limit(limit)
            )
            found += [
                PendingMedia(
                    name,
                    row.id,
                    row.media_id,
                    row.filename,
                    row.received_at,
                    row.attempts,
                    kind.folder.format(label),
                )
                for row, label in rows
            ]
        found.sort(key=lambda item: (item.received_at, item.kind, item.id))
        return found[:limit]

    async def of_owners(self, kind: str, owner_ids: Iterable[int]) -> dict[int, list[Any]]:
        """The attachments of each owner (a proposal, an activity …) in ``owner_ids``, in the
        order received; an owner without any is absent."""
        media = KINDS[kind]
        model: Any = media.model
        found: dict[int, list[Any]] = {}
        ids = list(owner_ids)
        if not ids:
            return found
        rows = await self.session.execute(
            select(media.owner_key, model).where(media.owner_key.in_(ids)).order_by(model.id)
        )
        for owner, row in rows:
            found.setdefault(owner, []).append(row)
        return found

    async def attachment(self, kind: str, attachment_id: int) -> KeptMedia | None:
        """The attachment, locked on PostgreSQL while its result is written."""
        model: Any = KINDS[kind].model
        query = select(model).where(model.id == attachment_id)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        return await self.session.scalar(query)
