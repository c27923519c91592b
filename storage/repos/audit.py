"""The audit log (操作记录): who changed what, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage.models import AuditEntry
from storage.repos.base import Repo


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

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        rows = await self.session.scalars(
            select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        )
        return list(rows)
