"""The audit log (操作记录): who changed what, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select

from storage.models import AuditEntry
from storage.repos.base import Repo


class Step(Protocol):
    """A workflow's history row (a report's or a proposal's): the step being audited."""

    at: datetime
    actor: str
    action: str
    from_state: str
    to_state: str
    comment: str
    level: str
    target: str


class AuditRepo(Repo):
    async def record(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        entity: str,
        entity_id: str | int = "",
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.session.add(
            AuditEntry(
                at=at,
                actor=actor,
                action=action,
                entity=entity,
                entity_id=str(entity_id),
                detail=detail or {},
            )
        )

    async def step(self, entity: str, number: str, entry: Step, notified: int) -> None:
        """The audit row of an office step on a report or a proposal: the same whichever door
        (chat, CLI, console) the step came through (docs/architecture.md, one audit rule)."""
        await self.record(
            at=entry.at,
            actor=entry.actor,
            action=f"{entity}.{entry.action}",
            entity=entity,
            entity_id=number,
            detail={
                "from": entry.from_state,
                "to": entry.to_state,
                "comment": entry.comment[:200],
                "level": entry.level,
                "target": entry.target,
                "notified": notified,
            },
        )

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        rows = await self.session.scalars(
            select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        )
        return list(rows)
