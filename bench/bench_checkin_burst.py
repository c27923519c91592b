"""Benchmark (issue 4): 3,000 members checking in within minutes, through the encrypted callback.

    python bench/bench_checkin_burst.py [--quick] [--members 3000] [--window 60]
                                        [--mode poisson|flat|both] [--concurrency 50]
                                        [--backend sqlite|postgresql] [--pg-url URL]
                                        [--json PATH]

The issue's 3,000 check-ins in 10 minutes, compressed: every member of a generated roster (study
groups of 30, each with an active weekly campaign) sends one 打卡 callback, sealed with wechatpy
beforehand, to ``python -m bot serve`` (its own process, WeCom mode against the fake WeCom, which
runs in a thread of this process). Two ways:

- **poisson**: members arrive independently — a Poisson process spread over ``--window``
  seconds (default 60 s: ten times the issue's rate), each request sent at its arrival time
  whatever the others are doing (open loop);
- **flat**: ``--concurrency`` clients send as fast as the server answers (closed loop): the
  most the server takes.

Figures: callbacks per second, the answer latency (HTTP 200 of the callback, from when the
request was due) and the reply latency (from when the check-in was due until the fake WeCom
accepted its reply from the delivery worker), p50/p99/p999. The baseline of the run is the
same server's idle answer: 20 warm-up check-ins sent one at a time before the burst.

Afterwards: every callback answered 200; check-ins, inbound rows and queued replies each equal
to the members; every member's reply delivered exactly once (no 45009, nothing dropped).
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
    Percentiles,
    Report,
    aim,
    check_delivered_once,
    check_stored,
    checkin_posts,
    closed_loop,
    fake_in_thread,
    lvzhi_config,
    machine_line,
    open_loop,
    poisson_offsets,
    postgres_reachable,
    postgres_version,
    scratch_database,
    seed_roster,
    senders,
    start_lvzhi,
    stored_counts,
    wait_delivered,
    wecom_app,
)

WARM_UP = 20


@dataclass(frozen=True, slots=True)
class Burst:
    mode: str
    load: LoadResult
    idle: LoadResult  # the warm-up, one at a time: the unloaded answer
    replies_ms: Percentiles
    last_reply_s: float  # after the last answer, until the last reply was accepted

    def row(self, backend: str) -> dict[str, object]:
        answer = self.load.latency_ms()
        return {
            "backend": backend,
            "mode": self.mode,
            "callbacks": len(self.load.answers),
            "statuses": {str(k): v for k, v in self.load.statuses.items()},
            "seconds": round(self.load.seconds, 2),
            "per_second": round(self.load.per_second, 1),
            "idle_p50_ms": round(self.idle.latency_ms().p50, 2),
            "answer_p50_ms": round(answer.p50, 2),
            "answer_p99_ms": round(answer.p99, 2),
            "answer_p999_ms": round(answer.p999, 2),
            "reply_p50_ms": round(self.replies_ms.p50, 1),
            "reply_p99_ms": round(self.replies_ms.p99, 1),
            "reply_p999_ms": round(self.replies_ms.p999, 1),
            "last_reply_s": round(self.last_reply_s, 2),
        }


async def run_burst(tmp: Path, url: str, args: argparse.Namespace, mode: str) -> Burst:
    members = args.members
    await seed_roster(url, members=members + WARM_UP)
    async with fake_in_thread(0.0) as fake:
        app = wecom_app(fake)
        server = await start_lvzhi(tmp, lvzhi_config(url, fake, app))
        try:
            warm = aim(checkin_posts(app, senders(members + 1, WARM_UP)), [server.base_url])
            idle = await closed_loop(warm, 1)
            await wait_delivered(fake, WARM_UP, within=60)
            requests = aim(
                checkin_posts(app, senders(1, members), first_msg_id=WARM_UP + 1),
                [server.base_url],
            )
            if mode == "poisson":
                load = await open_loop(requests, poisson_offsets(members, args.window))
            else:
                load = await closed_loop(requests, args.concurrency)
            last_reply = await wait_delivered(fake, members + WARM_UP, within=max(300, members))
        finally:
            await server.stop()
        assert idle.all_ok and load.all_ok, f"answers {dict(load.statuses)}:\n{server.log_tail()}"
        check_stored(await stored_counts(url), members + WARM_UP)
        check_delivered_once(fake, senders(1, members + WARM_UP))
        assert fake.counts["rate_limited"] == 0, "45009 from the fake WeCom"
        accepted = {a.target: a.at for a in fake.accepted if a.endpoint == "message/send"}
        replies = Percentiles.of(
            [(accepted[a.request.post.sender] - a.due) * 1000 for a in load.answers]
        )
    return Burst(mode, load, idle, replies, last_reply)


def print_burst(backend: str, burst: Burst, args: argparse.Namespace) -> None:
    how = (
        f"Poisson arrivals over {args.window:g} s"
        if burst.mode == "poisson"
        else f"flat out, {args.concurrency} clients"
    )
    row = burst.row(backend)
    print(
        f"  {backend:<10} {how}: {row['callbacks']} check-ins in {row['seconds']} s = "
        f"{row['per_second']} callbacks/s, all answered 200"
    )
    print(f"  {'':<10} answer (HTTP 200)        {burst.load.latency_ms().line()}")
    print(f"  {'':<10} reply sent to WeCom      {burst.replies_ms.line()}")
    print(
        f"  {'':<10} idle answer (baseline)   p50 {row['idle_p50_ms']} ms; last reply "
        f"{row['last_reply_s']} s after the last answer; every reply delivered once"
    )


async def main(args: argparse.Namespace) -> None:
    print(
        f"bench_checkin_burst: {args.members} members check in once each through the "
        f"encrypted callback (+{WARM_UP} warm-up); lvzhi serve in its own process"
    )
    print(f"  {machine_line()}")
    if args.backend == "postgresql":
        if not await postgres_reachable(args.pg_url):
            return
        print(f"  PostgreSQL {await postgres_version(args.pg_url)}")
    modes = ["poisson", "flat"] if args.mode == "both" else [args.mode]
    report = Report()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        for mode in modes:
            async with scratch_database(args.backend, tmp, args.pg_url) as url:
                burst = await run_burst(tmp, url, args, mode)
            print_burst(args.backend, burst, args)
            report.add(**burst.row(args.backend))
    print(f"  after the runs: {machine_line().rsplit('; ', 1)[1]}")
    report.dump(args.json)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--window", type=float, default=60.0, help="Poisson window (s)")
    parser.add_argument("--mode", choices=["poisson", "flat", "both"], default="both")
    parser.add_argument("--concurrency", type=int, default=50, help="flat-out clients")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get(PG_ENV))
    parser.add_argument("--quick", action="store_true", help="50 members over 2 s (Poisson)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.members, args.window, args.mode = 50, 2.0, "poisson"
    return args


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:])))
