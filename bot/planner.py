"""The planner: turns due scheduled occurrences into deliveries, once each, ever.

Everything scheduled is data: campaigns, notices, tasks… Each feature contributes a
:class:`PlanSource` that lists the occurrences due by now (a reminder for this week, a summary
for last week). The planner claims each one with a row in ``planner_marks`` (a primary key, so
running it twice, after a restart, or in several processes at once inserts nothing twice) and, in
the same transaction, queues the deliveries the source expands it into, each under its own
idempotency key.

APScheduler 3.11 (``AsyncIOScheduler``, in-memory job store) only wakes the planner; its
SQLAlchemy job store cannot be shared by processes and would block the loop (docs/architecture.md).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock
from bot.config import Config
from bot.messages import Outgoing, Send, member_address
from bot.quiet import EARLY, QuietHours
from bot.workcalendar import SpecialDay, WorkCalendar, chinesecalendar_days
from storage import Database, Tx
from storage.models import Member

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One due firing of a scheduled rule. ``key`` is unique forever (rule + occasion)."""

    key: str
    due_at: datetime
    source: str
    args: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None  # deliveries not sent by then end as expired
    # Who it is for, for quiet hours: ``member`` (members and groups: kept), ``office`` (the
    # office's own alerts: kept unless ``quiet_hours_office`` is off), ``dialog`` (part of a
    # conversation the member is having, such as a draft about to expire: never held).
    push: str = "member"


def privately(key: str, text: str, members: Iterable[Member]) -> list[Send]:
    """The same text to each of ``members`` privately, one delivery each under
    ``{key}:{member address}`` (so an occurrence reaches nobody twice)."""
    return [
        Send(f"{key}:{member_address(m)}", Outgoing(text, to_member=member_address(m)))
        for m in members
    ]


@dataclass(frozen=True, slots=True)
class PlanEnv:
    now: datetime  # aware, in the configured zone
    zone: ZoneInfo
    calendar: WorkCalendar
    config: Config
    # An occurrence is listed when it is due by ``now`` and its window (until it expires) is
    # still open after ``since``. A tick asks at one moment (``since`` is ``now``); the
    # fast-forward's look-ahead asks for a whole stretch (``since`` is where it stands).
    since: datetime | None = None

    @property
    def open_after(self) -> datetime:
        return self.since if self.since is not None else self.now

    def days(self) -> list[date]:
        """The local dates from ``open_after`` to ``now``: whose daily pushes may be listed."""
        first, last = self.open_after.astimezone(self.zone).date(), self.now.date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class PlanSource(Protocol):
    name: str

    async def due(self, tx: Tx, env: PlanEnv) -> list[Occurrence]:
        """Occurrences due by ``env.now`` that may still be sent (marked ones are filtered)."""
        ...

    async def expand(self, tx: Tx, occurrence: Occurrence, env: PlanEnv) -> list[Send]:
        """The deliveries of one occurrence, computed now (who has not checked in, …); they go
        when the planner expands it (quiet hours are its business), so their ``at`` is None."""
        ...


async def load_calendar(db: Database, *, seed: bool = True) -> WorkCalendar:
    """The working calendar from the database, first copying in what chinesecalendar knows.
    Years nobody entered are derived from the law (:mod:`bot.workcalendar`)."""
    if seed:
        package_days, package_years = chinesecalendar_days()
        async with db.transaction() as tx:
            await tx.calendar.seed(package_days, package_years)
    async with db.read() as tx:
        rows, years = await tx.calendar.load()
    return WorkCalendar((SpecialDay(r.day, r.kind, r.name) for r in rows), years)


class QueueFn(Protocol):
    """Puts deliveries in the outbox inside ``tx`` (the shell passes
    :func:`bot.delivery.outbox.queue_all`); how many were new."""

    async def __call__(
        self, tx: Tx, sends: Iterable[Send], *, now: datetime, ttl: timedelta | None = None
    ) -> int: ...


class Planner:
    def __init__(
        self,
        db: Database,
        sources: Sequence[PlanSource],
        config: Config,
        clock: Clock,
        calendar: WorkCalendar,
        *,
        queue: QueueFn,
        on_queued: Any = lambda: None,
    ) -> None:
        self.db = db
        self.sources = {source.name: source for source in sources}
        self.config = config
        self.clock = clock
        self.calendar = calendar
        self.queue = queue
        self.on_queued = on_queued
        self._scheduler: AsyncIOScheduler | None = None
        self._periodic: list[tuple[str, float, Callable[[], Awaitable[object]]]] = []
        self.quiet = QuietHours.parse(config.scheduler.quiet_hours, config.time.zone)

    def env(self) -> PlanEnv:
        zone = self.config.time.zone
        return PlanEnv(self.clock.now().astimezone(zone), zone, self.calendar, self.config)

    def sends_at(self, occ: Occurrence, now: datetime) -> datetime:
        """When an occurrence goes, seen at ``now``: its time (or now, if that has passed), or
        where quiet hours move it (:mod:`bot.quiet`)."""
        at = max(occ.due_at, now)
        exempt = occ.push == "dialog" or (
            occ.push == "office" and not self.config.scheduler.quiet_hours_office
        )
        if self.quiet is None or exempt:
            return at
        return self.quiet.place(at, occ.expires_at)

    async def _listed(self, tx: Tx, env: PlanEnv) -> list[Occurrence]:
        return [occ for source in self.sources.values() for occ in await source.due(tx, env)]

    def _night_ahead(self, env: PlanEnv) -> PlanEnv | None:
        """Within ``EARLY`` of quiet hours, the stretch from now to their end: what falls due
        inside them and would miss its deadline by waiting goes now (``sends_at``)."""
        if self.quiet is None:
            return None
        start, end = self.quiet.next_window(env.now)
        if env.now < start - EARLY:
            return None
        return replace(env, now=end.astimezone(env.zone), since=env.now)

    async def tick(self) -> int:
        """Expand everything due; returns how many occurrences this call expanded."""
        env = self.env()
        async with self.db.read() as tx:
            listed = {occ.key: occ for occ in await self._listed(tx, env)}
            night = self._night_ahead(env)
            if night is not None:
                for occ in await self._listed(tx, night):
                    listed.setdefault(occ.key, occ)
            candidates = list(listed.values())
            done = await tx.planner.marked(occ.key for occ in candidates)
        expanded = 0
        for occ in sorted(candidates, key=lambda o: o.due_at):
            # Held back by quiet hours until ``sends_at``. One that should have gone before
            # they began but was made inside them (a meeting announced at 22:00 whose reply
            # reminder is due at 23:00) goes at once: waiting for their end would miss it.
            if occ.key in done or self.sends_at(occ, env.now) > env.now:
                continue
            async with self.db.transaction() as tx:
                if not await tx.planner.mark(occ.key, env.now):
                    continue  # another process (or an earlier tick) got there first
                planned = await self.sources[occ.source].expand(tx, occ, env)
                now_utc = env.now.astimezone(ZoneInfo("UTC"))
                ttl = occ.expires_at - env.now if occ.expires_at else timedelta(hours=24)
                await self.queue(tx, planned, now=now_utc, ttl=ttl)
            expanded += 1
            log.info("planned %s: %d deliveries", occ.key, len(planned))
        if expanded:
            self.on_queued()
        return expanded

    async def next_due(self, after: datetime, horizon: datetime) -> datetime | None:
        """When the earliest occurrence not yet expanded falls due after ``after`` and by
        ``horizon``, as the sources see it at ``horizon`` (fast-forwarding looks ahead with it
        instead of ticking every minute); None if nothing does."""
        zone = self.config.time.zone
        env = PlanEnv(horizon.astimezone(zone), zone, self.calendar, self.config, since=after)
        async with self.db.read() as tx:
            candidates = await self._listed(tx, env)
            done = await tx.planner.marked(occ.key for occ in candidates)
        # One due earlier but listed only now (a warning whose window starts on the way)
        # became due somewhere on the way: the horizon is the first time known to list it.
        times = [
            at if after < at else horizon
            for at in (self.sends_at(o, after) for o in candidates if o.key not in done)
        ]
        if self.quiet is not None:  # the tick that looks into the coming quiet hours
            early = self.quiet.next_window(after)[0] - EARLY
            if after < early <= horizon:
                times.append(early)
        return min(times, default=None)

    def every(self, name: str, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        """Run ``job`` every ``seconds`` besides the planner's ticks (housekeeping such as
        fetching media before it expires); a failure is logged and the next run tries again.
        Register before :meth:`start`."""
        self._periodic.append((name, seconds, job))

    async def _safe_tick(self) -> None:
        try:
            await self.tick()
        except Exception:
            log.exception("planner tick failed; the next tick tries again")

    def start(self) -> None:
        interval = self.config.scheduler.planner_interval_seconds
        self._scheduler = AsyncIOScheduler(timezone=self.config.time.zone)
        self._scheduler.add_job(
            self._safe_tick,
            IntervalTrigger(seconds=interval),
            id="planner",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(self.config.time.zone),
        )
        for name, seconds, job in self._periodic:
            self._scheduler.add_job(
                _logged(name, job),
                IntervalTrigger(seconds=seconds),
                id=name,
                max_instances=1,
                coalesce=True,
            )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None


def _logged(name: str, job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await job()
        except Exception:
            log.exception("periodic job %s failed; its next run tries again", name)

    return run
