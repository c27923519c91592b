"""Fast-forward (sandbox mode): run the planner and the delivery worker over a stretch of
simulated time, as ``lvzhi serve`` would have run them, and collect what was sent.

Used by ``lvzhi tick`` and the console simulator's 快进 control, so that a newcomer or a
secretary can watch a week's reminders, summaries and chasers go by in seconds.

The clock does not crawl minute by minute: from where it stands it asks the planner for the
first occurrence due within the next ``STEP`` (the sources list every occurrence whose window
is open at some moment of that stretch, :class:`bot.planner.PlanEnv`) and the outbox for its
next due delivery, and jumps to the earliest of them, so each push is sent at its own minute
and none whose window opens and closes within a jump is stepped over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.clock import SettableClock
from bot.delivery.sandbox import SandboxMessage, SandboxSender
from bot.delivery.worker import DeliveryWorker
from bot.planner import Planner
from storage import Database

STEP = timedelta(hours=6)  # the longest jump without looking ahead again
MAX_SPAN = timedelta(days=400)  # a bound on one call (a typo in a year must not run for hours)


SETTLE_SECONDS = 5.0  # how long to wait for another worker (serve's own) to finish a send


class FastForwardError(ValueError):
    """The span asked for cannot be run; the message (Chinese) says why."""


async def fast_forward(
    *,
    clock: SettableClock,
    planner: Planner,
    worker: DeliveryWorker,
    db: Database,
    sandbox: SandboxSender,
    until: datetime,
    on_sent: Callable[[SandboxMessage], None] = lambda _: None,
) -> list[SandboxMessage]:
    """Step ``clock`` from its time to ``until``; every message the sandbox got on the way."""
    start = clock.now()
    if until.tzinfo is None:
        raise FastForwardError("结束时间需要带时区，例如 2027-01-11T10:00+08:00。")
    if until < start:
        raise FastForwardError("结束时间早于开始时间。")
    if until - start > MAX_SPAN:
        raise FastForwardError(f"一次最多快进 {MAX_SPAN.days} 天。")
    sent: list[SandboxMessage] = []
    seen = sandbox.total
    due = True  # at the start, whatever is due by now (as serve would on starting)
    while True:
        if due:
            await planner.tick()
            await _settle(worker, db, clock)
            fresh, seen = sandbox.since(seen), sandbox.total
            for message in fresh:
                on_sent(message)
            sent.extend(fresh)
        now = clock.now()
        if now >= until:
            return sent
        horizon = min(now + STEP, until)
        planned = await planner.next_due(now, horizon)
        async with db.read() as tx:
            queued = await tx.deliveries.next_due()
        stops = [t for t in (planned, queued) if t is not None and now < t <= horizon]
        # Nothing falls due on the way: jump to the horizon without a tick (the look-ahead was
        # the tick's own question, asked at the horizon).
        due = bool(stops)
        clock.set(min(stops, default=horizon))


async def _settle(worker: DeliveryWorker, db: Database, clock: SettableClock) -> None:
    """Send what is due now, and wait for what a running server's own worker took meanwhile,
    so that each push is reported at the time it fell due."""
    deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
    while True:
        await worker.drain()
        async with db.read() as tx:
            left = await tx.deliveries.due_count(clock.now())
        if not left or asyncio.get_running_loop().time() > deadline:
            return
        await asyncio.sleep(0.02)
