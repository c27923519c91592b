"""What every repository shares: its session, and the dialect-specific INSERT … ON CONFLICT."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


class Repo:
    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

    def upsert_insert(self, table: Any) -> Any:
        """An INSERT that supports ``on_conflict_do_nothing`` / ``do_update`` on both backends."""
        module = postgresql if self.dialect == "postgresql" else sqlite
        return module.insert(table)

    async def changed(self, statement: Any, params: dict[str, Any] | None = None) -> int:
        """Run an INSERT/UPDATE/DELETE; how many rows it touched."""
        result = cast(CursorResult[Any], await self.session.execute(statement, params))
        return int(result.rowcount or 0)
