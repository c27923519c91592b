"""Benchmark (issues 9 and 19): encrypted check-in callbacks into ``lvzhi serve``, against a
minimal reference server and a same-work floor server measured in the same run.

    python bench/bench_callback.py [--quick] [-n 3000] [--concurrency 10,50,200] [--repeat N]
                                   [--pg-url URL] [--no-pg] [--no-sqlite] [--no-floor]
                                   [--json PATH]
                                   [--lvzhi-src DIR]

For each backend — SQLite (a temp file) and PostgreSQL (``--pg-url``, default
``$LVZHI_TEST_POSTGRES_URL``, when reachable) — and each number of concurrent clients:

1. **reference**: ``bench/_reference_server.py`` (aiohttp + wechatpy: verify, decrypt, ONE
   insert, 200) on a fresh database of the same backend;
2. **floor** (SQLite only): ``bench/_floor_server.py``, the same work as lvzhi for a check-in
   (the project's edge and dispatcher, one transaction writing the same rows, a minimal delivery
   worker) in plain ``sqlite3``, one thread hop per transaction — what this design costs in one
   Python process;
3. **lvzhi**: ``python -m bot serve`` (the real CLI) in WeCom mode against the fake WeCom.

The floor and lvzhi run on a fresh database holding ``n + 20`` generated members in study
groups of 30, each group with an active weekly campaign. Each server runs in its own process;
the load generator (and the fake WeCom, in a thread of it) in this one. All get the same
callbacks: a distinct member's 打卡 each, sealed with wechatpy before the clock starts, POSTed by
``c`` keep-alive clients in a closed loop after 20 unmeasured warm-up callbacks. Latency is the
client's: from sending to the whole answer read. CPU is the server process's (from /proc).

Afterwards, for lvzhi and the floor: every callback answered 200; inbound rows, check-ins and
queued replies each equal to the callbacks sent, with no duplicate; every reply delivered once to
the fake WeCom (the time until the last one, and the CPU until then, are reported). For the
reference: rows == callbacks.

Goals. Issue 19, SQLite at 50 clients: lvzhi ≥ 0.8× the floor and ≥ 0.25× the reference in
callbacks/s, CPU per check-in + reply ≤ 2.5 ms, p99 ≤ 150 ms. Issue 9: ≥ 0.8 of the
reference's throughput, p99 < 100 ms at 50 concurrent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from _load import (
    PG_ENV,
    LoadResult,
    Report,
    ServerProcess,
    aim,
    check_delivered_once,
    check_stored,
    checkin_posts,
    closed_loop,
    fake_in_thread,
    lvzhi_config,
    machine_line,
    postgres_reachable,
    postgres_version,
    scratch_database,
    seed_roster,
    senders,
    start_floor,
    start_lvzhi,
    start_reference,
    stored_counts,
    wait_delivered,
    warm_up,
    wecom_app,
)
from sqlalchemy import text

from storage import Database
from tests.fakewecom import FakeWeCom
from tests.wecom_client import WeComApp

WARM_UP = 20
# Issue 19's targets at 50 clients on SQLite (ratios within one run).
FLOOR_GOAL = 0.8
REFERENCE_GOAL = 0.25
CPU_GOAL_MS = 2.5
P99_GOAL_MS = 150.0


@dataclass(frozen=True, slots=True)
class Run:
    server: str
    load: LoadResult
    cpu_seconds: float  # the server process's CPU time during the measured callbacks
    drain_seconds: float | None = None  # after the last answer, until every reply was sent
    cpu_total_seconds: float | None = None  # … until every reply was sent

    def row(self, backend: str, concurrency: int) -> dict[str, object]:
        latency = self.load.latency_ms()
        return {
            "backend": backend,
            "concurrency": concurrency,
            "server": self.server,
            "callbacks": len(self.load.answers),
            "statuses": {str(k): v for k, v in self.load.statuses.items()},
            "per_second": round(self.load.per_second, 1),
            "p50_ms": round(latency.p50, 2),
            "p99_ms": round(latency.p99, 2),
            "p999_ms": round(latency.p999, 2),
            "cpu_ms_per_callback": round(self.cpu_seconds * 1000 / len(self.load.answers), 3),
            "cpu_ms_per_checkin_and_reply": None
            if self.cpu_total_seconds is None
            else round(self.cpu_total_seconds * 1000 / len(self.load.answers), 3),
            "drain_s": None if self.drain_seconds is None else round(self.drain_seconds, 2),
        }


async def run_reference(tmp: Path, url: str, n: int, concurrency: int) -> Run:
    app = wecom_app(FakeWeCom())  # the same ids as the lvzhi run; nothing is sent to it
    server = await start_reference(tmp, url, app)
    try:
        await warm_up(aim(checkin_posts(app, senders(n + 1, WARM_UP)), [server.base_url]))
        posts = checkin_posts(app, senders(1, n), first_msg_id=WARM_UP + 1)
        cpu = server.cpu_seconds()
        load = await closed_loop(aim(posts, [server.base_url]), concurrency)
        cpu = server.cpu_seconds() - cpu
    finally:
        await server.stop()
    rows, keys = await reference_rows(url)
    assert load.all_ok, f"reference answered {dict(load.statuses)}"
    assert rows == keys == n + WARM_UP, f"reference stored {rows} rows ({keys} keys)"
    return Run("reference", load, cpu)


async def reference_rows(url: str) -> tuple[int, int]:
    db = Database(url)
    try:
        async with db.read() as tx:
            row = await tx.session.execute(
                text("SELECT count(*), count(DISTINCT dedup_key) FROM reference_inbound")
            )
            rows, keys = row.one()
            return int(rows), int(keys)
    finally:
        await db.dispose()


async def run_lvzhi(
    tmp: Path, url: str, n: int, concurrency: int, source: Path | None = None
) -> Run:
    async def start(fake: FakeWeCom, app: WeComApp) -> ServerProcess:
        return await start_lvzhi(tmp, lvzhi_config(url, fake, app), source=source)

    return await run_same_work("lvzhi", start, url, n, concurrency)


async def run_floor(tmp: Path, url: str, n: int, concurrency: int) -> Run:
    async def start(fake: FakeWeCom, app: WeComApp) -> ServerProcess:
        return await start_floor(tmp, url, fake, app)

    return await run_same_work("floor", start, url, n, concurrency)


async def run_same_work(
    name: str,
    start: Callable[[FakeWeCom, WeComApp], Awaitable[ServerProcess]],
    url: str,
    n: int,
    concurrency: int,
) -> Run:
    """A server that does the whole check-in (lvzhi, or the floor): seeded roster, fake WeCom,
    warm-up, the measured callbacks, then until every reply was delivered; checked after."""
    await seed_roster(url, members=n + WARM_UP)
    async with fake_in_thread(0.0) as fake:
        app = wecom_app(fake)
        server = await start(fake, app)
        try:
            await warm_up(aim(checkin_posts(app, senders(n + 1, WARM_UP)), [server.base_url]))
            await wait_delivered(fake, WARM_UP, within=60)
            posts = checkin_posts(app, senders(1, n), first_msg_id=WARM_UP + 1)
            started = server.cpu_seconds()
            load = await closed_loop(aim(posts, [server.base_url]), concurrency)
            answered = server.cpu_seconds()
            drain = await wait_delivered(fake, n + WARM_UP, within=max(120, n / 10))
            done = server.cpu_seconds()
        finally:
            await server.stop()
        assert load.all_ok, f"{name} answered {dict(load.statuses)}:\n{server.log_tail()}"
        check_stored(await stored_counts(url), n + WARM_UP)
        check_delivered_once(fake, senders(1, n + WARM_UP))
    return Run(name, load, answered - started, drain, done - started)


def print_runs(
    backend: str, concurrency: int, reference: Run, lvzhi: Run, floor: Run | None
) -> None:
    for run in (reference, floor, lvzhi):
        if run is None:
            continue
        row = run.row(backend, concurrency)
        drain = (
            f"; replies all sent {row['drain_s']} s later "
            f"({row['cpu_ms_per_checkin_and_reply']:.2f} ms CPU per check-in + reply)"
            if run.drain_seconds is not None
            else ""
        )
        print(
            f"  {backend:<10} c={concurrency:<3} {run.server:<9} "
            f"{row['per_second']:7.1f} callbacks/s, {run.load.latency_ms().line()}; "
            f"server CPU {row['cpu_ms_per_callback']:.2f} ms/callback{drain}"
        )
    ratio = lvzhi.load.per_second / reference.load.per_second
    p99 = lvzhi.load.latency_ms().p99
    cpu = lvzhi.row(backend, concurrency)["cpu_ms_per_checkin_and_reply"]
    parts = [f"lvzhi/reference {ratio:.2f}"]
    if floor is not None:
        parts.append(f"lvzhi/floor {lvzhi.load.per_second / floor.load.per_second:.2f}")
        parts.append(f"floor/reference {floor.load.per_second / reference.load.per_second:.2f}")
    print(f"  {'':<10} {'':<5} → {'; '.join(parts)}")
    if concurrency != 50:
        return
    goals = [
        f"lvzhi/reference ≥ {REFERENCE_GOAL}: {_met(ratio >= REFERENCE_GOAL)}",
        f"CPU per check-in + reply ≤ {CPU_GOAL_MS} ms: {_met(cpu <= CPU_GOAL_MS)}",
        f"p99 ≤ {P99_GOAL_MS:.0f} ms: {_met(p99 <= P99_GOAL_MS)}",
    ]
    if floor is not None:
        vs_floor = lvzhi.load.per_second / floor.load.per_second
        goals.insert(
            0, f"lvzhi/floor ≥ {FLOOR_GOAL}: {'met' if vs_floor >= FLOOR_GOAL else 'NOT met'}"
        )
    print(f"  {'':<10} {'':<5}   issue 19: {'; '.join(goals)}")
    print(
        f"  {'':<10} {'':<5}   issue 9 (≥ 0.8 of the reference, p99 < 100 ms): "
        f"{_met(ratio >= 0.8 and p99 < 100)}"
    )


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


async def main(args: argparse.Namespace) -> None:
    print(
        f"bench_callback: {args.n} distinct check-in callbacks per run (+{WARM_UP} warm-up), "
        f"closed loop at {', '.join(map(str, args.concurrency))} concurrent clients; "
        "servers in their own processes"
    )
    print(f"  {machine_line()}")
    backends = [] if args.no_sqlite else ["sqlite"]
    if not args.no_pg and await postgres_reachable(args.pg_url):
        print(f"  PostgreSQL {await postgres_version(args.pg_url)}")
        backends.append("postgresql")
    report = Report()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        for backend in backends:
            for concurrency in args.concurrency:
                for _ in range(args.repeat):
                    async with scratch_database(backend, tmp, args.pg_url) as url:
                        reference = await run_reference(tmp, url, args.n, concurrency)
                    floor = None
                    if backend == "sqlite" and not args.no_floor:
                        async with scratch_database(backend, tmp, args.pg_url) as url:
                            floor = await run_floor(tmp, url, args.n, concurrency)
                    async with scratch_database(backend, tmp, args.pg_url) as url:
                        lvzhi = await run_lvzhi(tmp, url, args.n, concurrency, args.lvzhi_src)
                    print_runs(backend, concurrency, reference, lvzhi, floor)
                    report.add(**reference.row(backend, concurrency))
                    if floor is not None:
                        report.add(
                            **floor.row(backend, concurrency),
                            ratio=round(floor.load.per_second / reference.load.per_second, 3),
                        )
                    report.add(
                        **lvzhi.row(backend, concurrency),
                        ratio=round(lvzhi.load.per_second / reference.load.per_second, 3),
                        ratio_to_floor=None
                        if floor is None
                        else round(lvzhi.load.per_second / floor.load.per_second, 3),
                    )
    print(f"  after the runs: {machine_line().rsplit('; ', 1)[1]}")
    report.dump(args.json)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3000, help="measured callbacks per run")
    parser.add_argument(
        "--concurrency",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[10, 50, 200],
        help="comma-separated concurrent clients",
    )
    parser.add_argument("--pg-url", default=os.environ.get(PG_ENV))
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the same-work floor server (SQLite)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each (backend, clients) triple"
    )
    parser.add_argument("--quick", action="store_true", help="50 callbacks, c=10, SQLite only")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--lvzhi-src",
        type=Path,
        help="run lvzhi serve from this source tree (before/after comparisons)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.concurrency, args.no_pg = 50, [10], True
    return args


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:])))
