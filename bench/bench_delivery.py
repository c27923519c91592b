"""Benchmark: how fast the delivery worker drains the outbox into (a fake) WeCom.

    python bench/bench_delivery.py [-n 2000] [--members 400] [--latency 0.0]
                                   [--concurrency 8] [--batch-size 50]

Queues N text deliveries to members (spread over ``--members`` distinct userids, so WeCom's real
per-member limit of 30 a minute, enforced by the worker's gate and by the fake, never binds),
then runs one :class:`~bot.delivery.worker.DeliveryWorker` with the real
:class:`~bot.wecom.sender.WeComSender` against :class:`~tests.fakewecom.FakeWeCom` on loopback
until nothing is pending, and reports deliveries per second on SQLite — and on PostgreSQL too
when ``LVZHI_TEST_POSTGRES_URL`` is set (a scratch database is created and dropped).

Each worker round leases a batch, reads its addresses and reserves its gate slots in one
transaction; every send is one HTTP call, and the sends finished together are recorded together
(group commit, a few set-based statements). The worker's CPU per delivery is the process's CPU
less the fake WeCom's thread's (both from the kernel's accounting).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import aiohttp
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.fakewecom: not installed

from bot.clock import SystemClock
from bot.config import build_config
from bot.delivery.outbox import queue
from bot.delivery.worker import DeliveryWorker
from bot.messages import Outgoing
from bot.wecom.sender import WeComSender
from storage import Database
from storage.migrate import upgrade
from tests.fakewecom import FakeWeCom

PG_ENV = "LVZHI_TEST_POSTGRES_URL"


async def run_once(url: str, args: argparse.Namespace) -> dict[str, float]:
    db = Database(url)
    clock = SystemClock()
    try:
        await upgrade(db)
        started = time.perf_counter()
        async with db.transaction() as tx:
            for n in range(args.n):
                out = Outgoing(f"基准测试消息 {n:05d}", to_member=f"m{n % args.members:04d}")
                await queue(tx, out, key=f"bench:{n}", now=clock.now())
        enqueue_seconds = time.perf_counter() - started

        async with fake_in_thread(args.latency) as fake, aiohttp.ClientSession() as http:
            config = build_config(
                {
                    "database": {"url": url},
                    "wecom": fake.wecom_settings(),
                    "delivery": {
                        "concurrency": args.concurrency,
                        "batch_size": args.batch_size,
                        "poll_interval_seconds": 0.02,
                    },
                },
                environ={},
            )
            sender = WeComSender(http, config.wecom, db, clock, owner="bench")
            worker = DeliveryWorker(db, sender, config.delivery, clock, owner="bench")
            started = time.perf_counter()
            cpu = process_cpu() - thread_cpu(fake)
            await worker.start()
            try:
                async with asyncio.timeout(600):
                    # Watch the fake (in memory), not the database: a query every 20 ms
                    # would be counted as the worker's CPU. Then wait for the last records.
                    while len(fake.accepted) < args.n:  # noqa: ASYNC110 - another thread
                        await asyncio.sleep(0.02)
                    while True:
                        async with db.read() as tx:
                            stats = await tx.deliveries.stats(clock.now(), timedelta(hours=1))
                        if stats.pending == 0:
                            break
                        await asyncio.sleep(0.02)
            finally:
                await worker.stop()
            drain_seconds = time.perf_counter() - started
            cpu = process_cpu() - thread_cpu(fake) - cpu
            delivered = len(fake.accepted)
            distinct = len({a.content for a in fake.accepted})
            assert stats.sent == args.n, f"only {stats.sent} of {args.n} sent"
            assert delivered == distinct == args.n, "lost or duplicated messages"
            assert fake.counts["dropped"] == 0
            return {
                "enqueue_s": enqueue_seconds,
                "drain_s": drain_seconds,
                "per_second": args.n / drain_seconds,
                "cpu_ms_per_delivery": cpu * 1000 / args.n,
                "gettoken": fake.counts["gettoken"],
                "commits": worker._group.commits,
            }
    finally:
        await db.dispose()


def process_cpu() -> float:
    """User + system CPU seconds of this process (every thread)."""
    times = os.times()
    return times.user + times.system


def thread_cpu(fake: FakeWeCom) -> float:
    """User + system CPU seconds of the fake WeCom's thread (from /proc): not the worker's."""
    native_id = getattr(fake, "thread_native_id", None)
    if native_id is None:
        return 0.0
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def fake_in_thread(latency: float) -> AsyncIterator[FakeWeCom]:
    """The fake WeCom on its own event loop in a thread, as the real one is elsewhere: in the
    worker's loop its handlers would queue behind the worker's callbacks and slow both."""
    fake = FakeWeCom(latency=latency)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-wecom", daemon=True)
    thread.start()
    fake.thread_native_id = thread.native_id  # type: ignore[attr-defined]  # for thread_cpu
    try:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(fake.__aenter__(), loop))
        try:
            yield fake
        finally:
            await asyncio.wrap_future(
                asyncio.run_coroutine_threadsafe(fake.__aexit__(None, None, None), loop)
            )
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


async def postgres_scratch(base: str) -> str:
    import asyncpg

    url = make_url(base)
    name = f"lvzhi_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def postgres_drop(base: str, scratch: str) -> None:
    import asyncpg

    url = make_url(base)
    admin = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{make_url(scratch).database}" WITH (FORCE)')
    finally:
        await admin.close()


def report(backend: str, result: dict[str, float]) -> None:
    print(
        f"{backend:<11} drained in {result['drain_s']:6.2f} s → "
        f"{result['per_second']:7.1f} deliveries/s, "
        f"worker CPU {result['cpu_ms_per_delivery']:.2f} ms per delivery "
        f"(the process less the fake WeCom's thread; enqueue {result['enqueue_s']:.2f} s, "
        f"gettoken calls {result['gettoken']:.0f}, {result['commits']:.0f} group commits)"
    )


T = TypeVar("T")


def machine() -> str:
    """What the figures were measured on, and how busy it was."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"  Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs, {platform.platform()}; load average {load}"
    )


async def on_each_backend(
    run: Callable[[str], Awaitable[T]],
    report: Callable[[str, T], None],
    *,
    skip_postgres: str = "",
) -> None:
    """``run`` on a fresh SQLite file, then on a scratch PostgreSQL database (created and dropped)
    when ``LVZHI_TEST_POSTGRES_URL`` is set and ``skip_postgres`` gives no reason not to."""
    with tempfile.TemporaryDirectory() as tmp:
        report("SQLite", await run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"))
    base = os.environ.get(PG_ENV)
    if not base or skip_postgres:
        print(f"PostgreSQL  skipped ({skip_postgres or f'set {PG_ENV}'})")
        return
    scratch = await postgres_scratch(base)
    try:
        report("PostgreSQL", await run(scratch))
    finally:
        await postgres_drop(base, scratch)


async def main(args: argparse.Namespace) -> None:
    print(
        f"bench_delivery: {args.n} deliveries to {args.members} members, one worker "
        f"(concurrency {args.concurrency}, batch {args.batch_size}), fake WeCom latency "
        f"{args.latency * 1000:.0f} ms, on loopback"
    )
    print(machine())
    await on_each_backend(lambda url: run_once(url, args), report)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="deliveries to drain")
    parser.add_argument("--members", type=int, default=400, help="distinct recipients")
    parser.add_argument("--latency", type=float, default=0.0, help="fake WeCom latency (s)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=50)
    args = parser.parse_args(argv)
    if args.n > args.members * 30:
        parser.error("more than 30 messages per member: the member gate would bind")
    return args


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:])))
