"""What every repository shares: its session, and the dialect-specific INSERT … ON CONFLICT."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.fast import Outcome, Prepared, Source, run


class Repo:
    def __init__(self, session: Source, dialect: str) -> None:
        # A session, or a SQLite write transaction's lazy one (storage/fast.py: Lazy).
        self._source = session
        self.dialect = dialect

    @property
    def session(self) -> AsyncSession:
        source = self._source
        return source if isinstance(source, AsyncSession) else source.get()

    def upsert_insert(self, table: Any) -> Any:
        """An INSERT that supports ``on_conflict_do_nothing`` / ``do_update`` on both backends."""
        module = postgresql if self.dialect == "postgresql" else sqlite
        return module.insert(table)

    async def fast(self, prepared: Prepared, params: dict[str, Any] | None = None) -> Outcome:
        """Run a hot-path statement compiled once, on the driver (storage/fast.py)."""
        return await run(self._source, prepared, params)

    async def changed(self, statement: Any, params: dict[str, Any] | None = None) -> int:
        """Run an INSERT/UPDATE/DELETE; how many rows it touched."""
        if isinstance(statement, Prepared):
            return (await run(self._source, statement, params)).rowcount
        result = cast(CursorResult[Any], await self.session.execute(statement, params))
        return int(result.rowcount or 0)

    async def next_in_year(self, counter: Any, year: int) -> int:
        """The next number of ``year`` from a counter table (columns ``year``, ``last``: the
        reports' SQ-, the proposals' TA- numbers); the counter row stays locked until commit.

        The year's first number creates the row. Two doing so at once: the second INSERT waits
        for the first to commit, does nothing, and its UPDATE then sees the row."""
        seq = await self._increment(counter, year)
        if seq is None:
            await self.session.execute(
                self.upsert_insert(counter)
                .values(year=year, last=0)
                .on_conflict_do_nothing(index_elements=["year"])
            )
            seq = await self._increment(counter, year)
        assert seq is not None
        return seq

    async def _increment(self, counter: Any, year: int) -> int | None:
        result = await self.session.execute(
            update(counter)
            .where(counter.year == year)
            .values(last=counter.last + 1)
            .returning(counter.last)
            .execution_options(synchronize_session=False)
        )
        value = result.scalar_one_or_none()
        return None if value is None else int(value)
