"""Benchmark (issue 9): 1, 2 and 3 ``lvzhi serve`` processes sharing PostgreSQL, behind the
same load — and every message sent twice, to two different processes, to prove the
de-duplication holds across them.

    python bench/bench_scaleout.py [--quick] [-n 2000] [--processes 1,2,3]
                                   [--concurrency 50] [--pg-url URL] [--json PATH]

For each process count ``k``: a fresh scratch database (migrated, ``n`` generated members in
study groups with weekly campaigns), ``k`` identical ``python -m bot serve`` processes on their
own ports (WeCom mode, one fake WeCom in a thread of this process), then ``n`` distinct check-in
callbacks, each POSTed twice — the original to process ``i mod k`` and, right behind it in the
queue (so usually in flight at the same time), WeCom's retry to process ``i+1 mod k`` — by
``--concurrency`` keep-alive clients in a closed loop. With one process both copies go to it.

Figures: distinct check-ins per second (``n`` / wall time) and requests per second, answer
latency p50/p99/p999, and the CPU the servers used. Afterwards: every request answered 200;
exactly ``n`` inbound rows, check-ins and queued replies; every member's reply delivered to the
fake WeCom exactly once.

The ceiling: this machine has 2 cores, shared by the ``k`` servers, PostgreSQL, and this load
generator (with the fake WeCom). More processes cannot add CPU here; what the figures can show
is that they cost little and that nothing is stored or sent twice.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _load import (
    PG_ENV,
    LoadResult,
    Post,
    Report,
    Request,
    ServerProcess,
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
    start_lvzhi,
    stored_counts,
    wait_delivered,
    warm_up,
    wecom_app,
)

WARM_UP = 10  # per process


@dataclass(frozen=True, slots=True)
class Scale:
    processes: int
    messages: int
    load: LoadResult
    cpu_seconds: float  # all servers, during the measured requests

    def row(self) -> dict[str, object]:
        latency = self.load.latency_ms()
        return {
            "processes": self.processes,
            "messages": self.messages,
            "requests": len(self.load.answers),
            "statuses": {str(k): v for k, v in self.load.statuses.items()},
            "checkins_per_second": round(self.messages / self.load.seconds, 1),
            "requests_per_second": round(self.load.per_second, 1),
            "p50_ms": round(latency.p50, 2),
            "p99_ms": round(latency.p99, 2),
            "p999_ms": round(latency.p999, 2),
            "cpu_ms_per_checkin": round(self.cpu_seconds * 1000 / self.messages, 3),
        }


def with_retries(posts: Sequence[Post], servers: Sequence[ServerProcess]) -> list[Request]:
    """Each post to server ``i mod k``, followed by its retry to the next server."""
    k = len(servers)
    requests = []
    for i, post in enumerate(posts):
        first, retry = servers[i % k], servers[(i + 1) % k]
        requests.append(Request(f"{first.base_url}{post.path_query}", post))
        requests.append(Request(f"{retry.base_url}{post.path_query}", post))
    return requests


async def run_scale(tmp: Path, url: str, processes: int, args: argparse.Namespace) -> Scale:
    n = args.n
    warm = WARM_UP * processes
    await seed_roster(url, members=n + warm)
    async with fake_in_thread(0.0) as fake:
        app = wecom_app(fake)
        sections = lvzhi_config(url, fake, app)
        servers = list(
            await asyncio.gather(*(start_lvzhi(tmp, sections) for _ in range(processes)))
        )
        try:
            await warm_up(with_retries(checkin_posts(app, senders(n + 1, warm)), servers))
            posts = checkin_posts(app, senders(1, n), first_msg_id=warm + 1)
            cpu = sum(s.cpu_seconds() for s in servers)
            load = await closed_loop(with_retries(posts, servers), args.concurrency)
            cpu = sum(s.cpu_seconds() for s in servers) - cpu
            await wait_delivered(fake, n + warm, within=max(120, n / 5))
            await asyncio.sleep(1.0)  # a second worker's duplicate would show up by now
        finally:
            await asyncio.gather(*(s.stop() for s in servers))
        logs = "\n".join(s.log_tail(5) for s in servers)
        assert load.all_ok, f"answers {dict(load.statuses)}:\n{logs}"
        check_stored(await stored_counts(url), n + warm)
        check_delivered_once(fake, senders(1, n + warm))
    return Scale(processes, n, load, cpu)


def print_scale(scale: Scale, first: Scale) -> None:
    row = scale.row()
    gain = float(row["checkins_per_second"]) / float(first.row()["checkins_per_second"])
    print(
        f"  {scale.processes} process{'es' if scale.processes > 1 else '  '}: "
        f"{row['checkins_per_second']:6.1f} check-ins/s ({row['requests_per_second']:.1f} "
        f"requests/s, ×{gain:.2f} of {first.processes}), {scale.load.latency_ms().line()}; "
        f"servers' CPU {row['cpu_ms_per_checkin']:.2f} ms/check-in; "
        f"{row['requests']} requests all 200, stored once, replied once"
    )


async def main(args: argparse.Namespace) -> None:
    print(
        f"bench_scaleout: {args.n} distinct check-ins, each sent twice to two different "
        f"processes, {args.concurrency} clients, lvzhi serve × {args.processes} on PostgreSQL"
    )
    print(f"  {machine_line()}")
    if not await postgres_reachable(args.pg_url):
        print("  needs PostgreSQL: pass --pg-url or set " + PG_ENV)
        return
    print(f"  PostgreSQL {await postgres_version(args.pg_url)} (on this machine)")
    report = Report()
    first: Scale | None = None
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        for processes in args.processes:
            async with scratch_database("postgresql", tmp, args.pg_url) as url:
                scale = await run_scale(tmp, url, processes, args)
            first = first or scale
            print_scale(scale, first)
            report.add(**scale.row())
    print(f"  after the runs: {machine_line().rsplit('; ', 1)[1]}")
    report.dump(args.json)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="distinct check-ins per run")
    parser.add_argument(
        "--processes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 2, 3],
        help="comma-separated process counts",
    )
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--pg-url", default=os.environ.get(PG_ENV))
    parser.add_argument("--quick", action="store_true", help="30 check-ins, 2 processes")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.processes, args.concurrency = 30, [2], 10
    return args


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:])))
