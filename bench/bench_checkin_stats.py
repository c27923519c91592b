"""Per-group weekly check-in statistics over 1,000,000 stored check-ins (SQLite).

Builds 3,000 members in 50 study groups with weekly campaigns and fills ~6.4 years of weekly
check-ins (about 1,000,000 rows, ~75 % attendance), then measures, through the real pipeline and
planner code:

* ``本周打卡情况 第N学习小组`` asked by a secretary (one group's week, with who is missing);
* the weekly summary of one group (count, names, streak leaders) as the planner expands it;
* the same with only 10,000 rows stored, as the baseline of this run.

Run: ``python bench/bench_checkin_stats.py [--rows 1000000] [--db PATH]`` (target: < 1 s).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from _load import insert_roster
from sqlalchemy import insert

from bot.clock import FakeClock
from bot.config import build_config
from bot.delivery.sandbox import SandboxSender
from bot.messages import Incoming
from bot.planner import Occurrence
from bot.runtime import open_runtime
from handlers.checkin.plan import CheckInSource
from storage.models import CheckIn

GROUPS = 50
PER_GROUP = 60
NOW = datetime(2025, 11, 27, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Shanghai
THIS_WEEK = date(2025, 11, 24)


async def fill(url: str, rows: int) -> int:
    """Roster, campaigns and ~``rows`` check-ins (bulk inserts); how many were written."""
    config = build_config({"database": {"url": url}}, environ={})
    async with open_runtime(
        config,
        clock=FakeClock(NOW),
        sender=SandboxSender(FakeClock(NOW)),
        start_worker=False,
        start_planner=False,
    ) as rt:
        engine = rt.db.write_engine
        members = GROUPS * PER_GROUP
        weeks = max(1, -(-rows * 4 // (members * 3)))  # ~75 % attendance fills ``rows``
        async with engine.begin() as conn:
            await insert_roster(
                conn,
                members=members,
                per_group=PER_GROUP,
                now=NOW,
                starts_on=THIS_WEEK - timedelta(weeks=weeks),
                updated_at=NOW - timedelta(weeks=weeks),
            )
        rng = random.Random(7)
        batch: list[dict[str, object]] = []
        written = 0
        for week in range(weeks):
            start = THIS_WEEK - timedelta(weeks=week)
            for i in range(members):
                if rng.random() > 0.75 or written >= rows:
                    continue
                batch.append(
                    {
                        "campaign_id": i // PER_GROUP + 1,
                        "member_id": i + 1,
                        "period_start": start,
                        "period_end": start + timedelta(days=6),
                        "titles": ["乡土中国"],
                        "minutes": 30,
                        "notes": [],
                        "entries": [],
                        "makeup": False,
                        "first_at": NOW,
                        "last_at": NOW,
                    }
                )
                written += 1
            if batch and (len(batch) >= 20000 or week == weeks - 1):
                async with engine.begin() as conn:
                    await conn.execute(insert(CheckIn), batch)
                batch = []
        async with engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
        print(f"  stored {written:,} check-ins over {weeks} weeks")
        return written


async def measure(url: str, repeat: int = 20) -> tuple[float, float]:
    config = build_config({"database": {"url": url}}, environ={})
    clock = FakeClock(NOW)
    async with open_runtime(
        config, clock=clock, sender=SandboxSender(clock), start_worker=False, start_planner=False
    ) as rt:
        query_times, summary_times = [], []
        source = CheckInSource()
        env = rt.planner.env()
        for n in range(repeat):
            group = n % GROUPS + 1
            started = time.perf_counter()
            await rt.pipeline.handle(
                Incoming(
                    channel="sandbox",
                    sender="u1",
                    text=f"本周打卡情况 第{group}学习小组",
                    sent_at=NOW,
                    dedup_key=f"bench:{time.time_ns()}",
                )
            )
            query_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            async with rt.db.read() as tx:
                planned = await source.expand(
                    tx,
                    Occurrence(
                        f"bench:{n}",
                        NOW,
                        "checkin",
                        {
                            "campaign": group,
                            "start": (THIS_WEEK - timedelta(weeks=1)).isoformat(),
                            "kind": "summary",
                        },
                    ),
                    env,
                )
            summary_times.append(time.perf_counter() - started)
            assert planned, "the summary produced nothing"
        return statistics.median(query_times), statistics.median(summary_times)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="reuse this SQLite file (filled if new)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for label, rows, path in (
            ("baseline", 10_000, Path(tmp) / "small.db"),
            ("full", args.rows, args.db or Path(tmp) / "full.db"),
        ):
            url = f"sqlite+aiosqlite:///{path}"
            fresh = not path.exists()
            print(f"{label}: {rows:,} check-ins → {path}")
            if fresh:
                started = time.perf_counter()
                await fill(url, rows)
                print(f"  filled in {time.perf_counter() - started:.1f} s")
            results[label] = await measure(url)
        for label, (query, summary) in results.items():
            print(
                f"{label:>8}: 本周打卡情况 (pipeline, one group) median {query * 1000:.1f} ms; "
                f"weekly summary expand median {summary * 1000:.1f} ms"
            )
        full_q, full_s = results["full"]
        print(f"target < 1000 ms: {'met' if max(full_q, full_s) < 1 else 'NOT met'}")


if __name__ == "__main__":
    asyncio.run(main())
