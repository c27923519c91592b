"""Everything that runs behind the HTTP edge, opened and closed as one: the database, the
pipeline, the sender (WeCom or sandbox) and the delivery worker.

``lvzhi serve`` opens it inside the aiohttp app's cleanup context; ``lvzhi simulate`` and the
tests open it without any server.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp

from bot.clock import Clock, SimulatedClock, SystemClock
from bot.config import Config
from bot.delivery.base import Sender
from bot.delivery.outbox import queue_all
from bot.delivery.sandbox import SandboxSender
from bot.delivery.worker import ConfirmedSends, DeliveryWorker
from bot.dispatcher import Dispatcher
from bot.maintenance.daily import CHECK_SECONDS as UPKEEP_CHECK_SECONDS
from bot.maintenance.daily import BackupAlertSource, DailyUpkeep
from bot.media import MediaSource, SandboxMediaSource
from bot.pipeline import Pipeline
from bot.planner import Planner, load_calendar
from bot.wechat.binding import identifier
from bot.workcalendar import WorkCalendar
from handlers import plan_sources, routers, startup_checks
from handlers.reports.media import DirectoryMediaStore, fetch_pending_media
from storage import Database
from storage.migrate import upgrade
from storage.serving import serving

if TYPE_CHECKING:
    from bot.wecom.sender import WeComSender

log = logging.getLogger(__name__)

# How soon a running server sees ``lvzhi calendar import|set|confirm`` from another process.
CALENDAR_RELOAD_SECONDS = 300


@dataclass
class Runtime:
    config: Config
    clock: Clock
    db: Database
    dispatcher: Dispatcher
    pipeline: Pipeline
    sender: Sender
    worker: DeliveryWorker
    planner: Planner
    http: aiohttp.ClientSession
    sandbox: SandboxSender | None
    # The self-built app's sender, whatever ``sender`` wraps it in (the 公众号's channel
    # sender): media downloads and the console's WeCom login call WeCom through it.
    wecom: WeComSender | None = None
    # Real time for what must not be simulated (console sessions, lockouts, the audit log):
    # ``clock`` itself unless sandbox mode runs a SimulatedClock on top of it.
    wall_clock: Clock | None = None

    def real_now(self) -> datetime:
        return (self.wall_clock or self.clock).now()


def process_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def with_official_account(
    config: Config, sender: Sender, db: Database, clock: Clock, http: aiohttp.ClientSession
) -> Sender:
    """``sender``, plus the 公众号 for ``wechat*`` addresses when ``[wechat]`` is configured."""
    if not config.wechat.configured:
        return sender
    from bot.wechat.sender import ChannelSender, WeChatSender

    official = WeChatSender(
        http,
        config.wechat,
        db,
        clock,
        owner=process_name(),
        timeout=config.wecom.request_timeout_seconds,
    )
    return ChannelSender(official, sender)


def open_database(config: Config) -> Database:
    return Database(
        config.database.url,
        pool_size=config.database.pool_size,
        sqlite_busy_timeout_ms=config.database.sqlite_busy_timeout_ms,
        echo=config.database.echo,
    )


@contextlib.asynccontextmanager
async def command_database(config: Config) -> AsyncIterator[Database]:
    """The database for one CLI command: on SQLite migrated first, as ``lvzhi serve`` does;
    PostgreSQL is migrated deliberately, with ``lvzhi db upgrade``."""
    db = open_database(config)
    try:
        if db.is_sqlite:
            await upgrade(db)
        yield db
    finally:
        await db.dispose()


@contextlib.asynccontextmanager
async def serving_lock(config: Config) -> AsyncIterator[None]:
    """Held by a running server for its lifetime, so that ``lvzhi restore`` refuses to run
    meanwhile (:mod:`storage.serving`); raises ``DatabaseInUse`` during a restore."""
    db = open_database(config)
    try:
        async with serving(db):
            yield
    finally:
        await db.dispose()


@contextlib.asynccontextmanager
async def open_runtime(
    config: Config,
    *,
    clock: Clock | None = None,
    sender: Sender | None = None,
    start_worker: bool = True,
    start_planner: bool | None = None,
    migrate: bool | None = None,
    wall_clock: Clock | None = None,
) -> AsyncIterator[Runtime]:
    """Open the runtime. ``migrate`` defaults to True on SQLite (embedded: the app owns its
    schema) and False on PostgreSQL (scale-out: run ``lvzhi db upgrade`` once, deliberately).

    ``clock`` is the office's time (sandbox mode: the system's, which the simulator's 快进 can
    move forward); ``wall_clock`` is real time for sessions and the audit log (default: the
    system's, or ``clock`` when one is given)."""
    for check in startup_checks():
        check(config)
    wall_clock = wall_clock or clock or SystemClock()
    if clock is None:
        clock = SimulatedClock(wall_clock) if config.sandbox and sender is None else wall_clock
    db = open_database(config)
    http = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=config.wecom.request_timeout_seconds)
    )
    try:
        if migrate if migrate is not None else db.is_sqlite:
            await upgrade(db)
        from bot.wecom.sender import WeComSender

        sandbox: SandboxSender | None = None
        confirmed: ConfirmedSends | None = None
        wecom = sender if isinstance(sender, WeComSender) else None
        if sender is None:
            if config.sandbox:
                sandbox = SandboxSender(clock)
                sender = sandbox
                log.warning("no WeCom credentials configured: sandbox mode, nothing goes out")
            else:
                from bot.wecom.customer_groups import CustomerGroups

                wecom = WeComSender(http, config.wecom, db, clock, owner=process_name())
                sender, confirmed = wecom, CustomerGroups(db, wecom, config, clock)
            sender = with_official_account(config, sender, db, clock, http)
        elif isinstance(sender, SandboxSender):
            sandbox = sender
        worker = DeliveryWorker(
            db,
            sender,
            config.delivery,
            clock,
            owner=process_name(),
            wechat=config.wechat if config.wechat.configured else None,
            confirmed_sends=confirmed,
        )
        dispatcher = Dispatcher(routers())
        pipeline = Pipeline(db, dispatcher, config, clock, on_queued=worker.wake)
        pipeline.identify_channel("wechat", identifier(config.wechat))
        calendar = await load_calendar(db)
        pipeline.calendar = calendar
        sources = [*plan_sources(), BackupAlertSource()]
        planner = Planner(
            db, sources, config, clock, calendar, queue=queue_all, on_queued=worker.wake
        )
        planner.every("calendar", CALENDAR_RELOAD_SECONDS, calendar_job(db, calendar))
        fetch_media = media_job(config, db, wecom, clock)
        planner.every("media", config.reports.media_fetch_seconds, fetch_media)
        # Backups and retention keep real time, also while the simulator's 快进 moves ``clock``.
        planner.every("upkeep", UPKEEP_CHECK_SECONDS, DailyUpkeep(config, db, wall_clock).run)
        runtime = Runtime(
            config,
            clock,
            db,
            dispatcher,
            pipeline,
            sender,
            worker,
            planner,
            http,
            sandbox,
            wecom,
            wall_clock,
        )
        if start_worker:
            await worker.start()
        if (
            start_planner
            if start_planner is not None
            else start_worker and config.scheduler.enabled
        ):
            planner.start()
        try:
            yield runtime
        finally:
            planner.stop()
            await worker.stop()
    finally:
        await http.close()
        if db.is_sqlite and start_worker:  # a server's shutdown, not a one-off command's
            log.info("%s", db.inline_spans.summary())
        await db.dispose()


def calendar_job(db: Database, calendar: WorkCalendar) -> Callable[[], Awaitable[object]]:
    """Reload the holiday calendar in place (the pipeline and the planner share it)."""

    async def run() -> object:
        calendar.replace(await load_calendar(db, seed=False))
        return None

    return run


def media_source(config: Config, wecom: WeComSender | None) -> MediaSource:
    """WeCom's ``media/get`` when the app is configured, a placeholder in sandbox mode."""
    if wecom is not None:
        from bot.wecom.media import WeComMediaSource

        return WeComMediaSource(wecom, max_bytes=config.reports.max_attachment_bytes)
    return SandboxMediaSource()


def media_job(
    config: Config, db: Database, wecom: WeComSender | None, clock: Clock
) -> Callable[[], Awaitable[object]]:
    """Fetch the attachments (社情民意, 提案, 履职登记) whose WeCom media is still pending, and
    keep them."""
    source = media_source(config, wecom)
    store = DirectoryMediaStore(Path(config.reports.media_dir))

    async def run() -> object:
        return await fetch_pending_media(db, source, store, clock.now())

    return run
