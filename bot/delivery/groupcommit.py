"""Group commit: the write steps that arrive together share one transaction.

On SQLite every commit is an fsync by the one writer, and the delivery worker's steps (reserve a
gate slot before a send, record its outcome after) are tiny: a commit each made the disk's fsync
rate the ceiling of the whole outbox. Here steps queued while a transaction is running are
committed together in the next one — the database is told exactly what it was told before, only
in fewer commits. A step's result (or error) reaches its caller only after its commit, so nothing
is sent on the strength of a reservation that was not stored.

If a batch fails, each of its steps is run again in a transaction of its own, so one bad step
cannot fail the others. PostgreSQL needs none of this (many writers; the worker commits per
step there): batching would only hold advisory locks longer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from storage import Database, Tx

log = logging.getLogger(__name__)

T = TypeVar("T")
Step = Callable[[Tx], Awaitable[Any]]


class GroupCommit:
    def __init__(self, db: Database, *, max_batch: int = 64) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: list[tuple[Step, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.commits = 0  # for benchmarks and tests: how many transactions the steps took

    async def run(self, step: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``step`` in a write transaction shared with the steps queued beside it."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((step, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def settle(self) -> None:
        """Wait until every step queued so far is committed (or has failed)."""
        flusher = self._flusher
        if flusher is not None and not flusher.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(flusher)

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                results = await self._together(batch)
            except Exception:
                if len(batch) > 1:
                    log.warning("a batch of %d writes failed; retrying each alone", len(batch))
                for step, future in batch:
                    await self._alone(step, future)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _together(self, batch: list[tuple[Step, asyncio.Future[Any]]]) -> list[Any]:
        async with self.db.transaction() as tx:
            results = [await step(tx) for step, _ in batch]
        self.commits += 1
        return results

    async def _alone(self, step: Step, future: asyncio.Future[Any]) -> None:
        try:
            async with self.db.transaction() as tx:
                result = await step(tx)
            self.commits += 1
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(result)
