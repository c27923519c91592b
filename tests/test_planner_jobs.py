"""Periodic housekeeping jobs run beside the planner, and a failing one does not stop them."""

from __future__ import annotations

import asyncio

from bot.clock import FakeClock
from bot.config import Config
from bot.delivery.outbox import queue_all
from bot.planner import Planner
from bot.workcalendar import WorkCalendar
from storage import Database
from tests.conftest import make_config
from tests.harness import shanghai


async def test_periodic_jobs_run_and_survive_their_failures(db: Database, db_url: str) -> None:
    config: Config = make_config(db_url, scheduler={"planner_interval_seconds": 3600})
    planner = Planner(
        db,
        [],
        config,
        FakeClock(shanghai(2025, 11, 25, 10)),
        WorkCalendar([], []),
        queue=queue_all,
    )
    runs: list[str] = []

    async def flaky() -> None:
        runs.append("flaky")
        raise RuntimeError("WeCom unreachable")

    async def steady() -> None:
        runs.append("steady")

    planner.every("flaky", 0.05, flaky)
    planner.every("steady", 0.05, steady)
    planner.start()
    try:
        async with asyncio.timeout(5):
            while runs.count("flaky") < 3 or runs.count("steady") < 3:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
    finally:
        planner.stop()
    assert runs.count("flaky") >= 3  # failed each time, and ran again each time
