"""Group commit: the write steps that arrive together share one transaction.

The delivery worker's steps (reserve a gate slot before a send, record its outcome after) are
tiny, and a transaction each made its overhead the ceiling of the whole outbox: on SQLite a
commit is an fsync by the one writer; on PostgreSQL each transaction is a pool checkout with
its ping, BEGIN and COMMIT, every one a round trip (a context switch to the server, which on a
small machine cost more than the statements). Here steps queued while a transaction is running
are committed together in the next one — the database is told exactly what it was told before,
only in fewer transactions. A step's result (or error) reaches its caller only after its
commit, so nothing is sent on the strength of a reservation that was not stored.

A step names the gates it will lock; the batch takes all of them first, in one global order
(:meth:`storage.repos.delivery.GateRepo.lock`), so batches in different processes wait for
each other but never deadlock. If a batch fails, each of its steps is run again in a
transaction of its own, so one bad step cannot fail the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from storage import Database, Tx

log = logging.getLogger(__name__)

T = TypeVar("T")


class BulkOp(Protocol):
    """Steps of one kind that a batch runs together, as a few set-based statements instead of
    a few statements each (the worker's records of sent parts)."""

    async def run_all(self, tx: Tx, items: list[Any]) -> list[Any]:
        """Each item's result, in order."""
        ...


@dataclass(frozen=True, slots=True)
class _Bulk:
    op: BulkOp
    item: Any


Step = Callable[[Tx], Awaitable[Any]] | _Bulk
Queued = tuple[Step, tuple[str, ...], asyncio.Future[Any]]


class GroupCommit:
    def __init__(self, db: Database, *, max_batch: int = 64, parallel: int | None = None) -> None:
        """``parallel``: transactions in flight at once. SQLite has one writer, so 1; on
        PostgreSQL a few, so that one batch's round trips overlap another's."""
        self.db = db
        self.max_batch = max_batch
        self.parallel = parallel or (1 if db.is_sqlite else 3)
        self._queue: list[Queued] = []
        self._flushers: set[asyncio.Task[None]] = set()
        self.commits = 0  # for benchmarks and tests: how many transactions the steps took

    async def run(self, step: Callable[[Tx], Awaitable[T]], *, locks: tuple[str, ...] = ()) -> T:
        """Run ``step`` in a write transaction shared with the steps queued beside it;
        ``locks``: the gates it reserves slots of."""
        return await self._enqueue(step, locks)  # type: ignore[no-any-return]

    async def run_bulk(self, op: BulkOp, item: Any) -> Any:
        """Queue ``item`` for ``op``: the items of one batch are run by one ``op.run_all``."""
        return await self._enqueue(_Bulk(op, item), ())

    async def _enqueue(self, step: Step, locks: tuple[str, ...]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((step, locks, future))
        if len(self._flushers) < self.parallel:
            self._flushers.add(asyncio.create_task(self._flush()))
        return await future

    async def settle(self) -> None:
        """Wait until every step queued so far is committed (or has failed)."""
        if self._flushers:
            with contextlib.suppress(Exception):
                await asyncio.shield(asyncio.gather(*self._flushers))

    async def _flush(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                await self._commit(batch)
        finally:
            # Leave the set in the same step that found the queue empty: a step queued after
            # this starts a flusher of its own instead of waiting for this one.
            self._flushers.discard(asyncio.current_task())  # type: ignore[arg-type]

    async def _commit(self, batch: list[Queued]) -> None:
        try:
            results = await self._together(batch)
        except Exception:
            if len(batch) > 1:
                log.warning("a batch of %d writes failed; retrying each alone", len(batch))
            for queued in batch:
                await self._alone(queued)
            return
        for (_, _, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _together(self, batch: list[Queued]) -> list[Any]:
        async with self.db.transaction() as tx:
            await tx.gates.lock(gate for _, locks, _ in batch for gate in locks)
            results: list[Any] = [None] * len(batch)
            bulks: dict[int, tuple[BulkOp, list[int], list[Any]]] = {}
            for n, (step, _, _) in enumerate(batch):
                if isinstance(step, _Bulk):
                    _, numbers, items = bulks.setdefault(id(step.op), (step.op, [], []))
                    numbers.append(n)
                    items.append(step.item)
                else:
                    results[n] = await step(tx)
            for op, numbers, items in bulks.values():
                for n, result in zip(numbers, await op.run_all(tx, items), strict=True):
                    results[n] = result
        self.commits += 1
        return results

    async def _alone(self, queued: Queued) -> None:
        step, locks, future = queued
        try:
            async with self.db.transaction() as tx:
                await tx.gates.lock(locks)
                if isinstance(step, _Bulk):
                    [result] = await step.op.run_all(tx, [step.item])
                else:
                    result = await step(tx)
            self.commits += 1
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(result)
