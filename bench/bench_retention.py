"""A year of traffic for 3,000 members: the SQLite file's size with and without retention, and
what a backup of that year costs.

How it measures (in-process, loopback-free, bounded):

1. **Calibration through the real code.** One study group of 60 members lives one week
   through the real pipeline, delivery worker (sandbox sender) and planner: 75 % check in
   (``checkin_text`` shapes, each carrying WeCom's real XML as ``raw``), everyone asks
   ``我的打卡`` once, the Friday 20:00 reminder and the Monday summary go out. Every row that
   week left — inbound messages, check-ins, deliveries, the send log, planner marks — is read
   back with its time offset in the week.
2. **The year.** For 50 such groups (3,000 members) and 52 weeks, those rows are written again
   day by day in bulk, with fresh keys, ids and times: the same rows, row for row and byte for
   byte, as the real code leaves for that traffic, without running the pipeline 270,000
   times. With retention, the real ``prune()`` (``lvzhi prune``) runs at the end of each day
   with the default ``[retention]`` periods.
3. **Sizes** are read at each month's end (``PRAGMA wal_checkpoint(TRUNCATE)`` first; the file
   on disk), and at the end the real ``make_backup`` archives each database: time and size.

Run: ``python bench/bench_retention.py [--members 3000] [--weeks 52] [--json FILE]``; quick
mode for the smoke test: ``--quick`` (120 members, 16 weeks).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _load import checkin_text, insert_roster, machine_line
from sqlalchemy import insert, select

from bot.clock import FakeClock
from bot.config import build_config
from bot.delivery.sandbox import SandboxSender
from bot.maintenance.backup import make_backup
from bot.maintenance.retention import prune
from bot.messages import Incoming
from bot.runtime import open_runtime
from storage import Database
from storage.migrate import upgrade
from storage.models import (
    CheckIn,
    Delivery,
    InboundMessage,
    PlannerMark,
    SendLogEntry,
)
from tests.wecom_client import WeComApp, text_message_xml

PER_GROUP = 60
MONDAY = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
APP = WeComApp()
TABLES = (InboundMessage, CheckIn, Delivery, SendLogEntry, PlannerMark)


# -- 1. one real week --------------------------------------------------------------------------


async def calibrate(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """One group's week through the real code; its rows, times as offsets from MONDAY."""
    url = f"sqlite+aiosqlite:///{folder / 'calibration.db'}"
    config = build_config({"database": {"url": url}}, environ={})
    clock = FakeClock(MONDAY)
    async with open_runtime(
        config, clock=clock, sender=SandboxSender(clock), start_worker=False, start_planner=False
    ) as rt:
        async with rt.db.write_engine.begin() as conn:
            await insert_roster(
                conn, members=PER_GROUP, per_group=PER_GROUP, now=MONDAY, starts_on=MONDAY.date()
            )
        for n in range(1, PER_GROUP + 1):
            clock.set(MONDAY + timedelta(days=n % 4, hours=n % 9, minutes=n))
            texts = [checkin_text(n)] if n % 4 else []  # 75 % check in
            texts.append("我的打卡")
            for k, text in enumerate(texts):
                await rt.pipeline.handle(_incoming(n, k, text, clock.now()))
            await rt.worker.drain()
        for at in (MONDAY + timedelta(days=4, hours=11), MONDAY + timedelta(days=7)):
            clock.set(at)  # Friday 20:00 reminder; next Monday 09:00 summary
            await rt.planner.tick()
            await rt.worker.drain()
        rows: dict[str, list[dict[str, Any]]] = {}
        async with rt.db.read() as tx:
            for model in TABLES:
                table = model.__table__
                found = (await tx.session.execute(select(table))).mappings().all()
                rows[table.name] = [dict(row) for row in found]
    return rows


def _incoming(n: int, k: int, text: str, at: datetime) -> Incoming:
    sender = f"u{n}"
    raw = text_message_xml(APP, sender=sender, content=text, msg_id=n * 10 + k, create_time=at)
    return Incoming(
        channel="wecom",
        sender=sender,
        text=text,
        sent_at=at,
        dedup_key=f"app:{APP.agent_id}:{sender}:{n * 10 + k}",
        raw=raw,
    )


# -- 2. the year -------------------------------------------------------------------------------

TIME_COLUMNS = {
    "inbound_messages": ("sent_at", "received_at"),
    "checkins": ("first_at", "last_at"),
    "deliveries": ("next_attempt_at", "created_at", "sent_at", "deadline", "lease_until"),
    "send_log": ("at",),
    "planner_marks": ("at",),
}
ORDER_COLUMN = {
    "inbound_messages": "received_at",
    "checkins": "first_at",
    "deliveries": "created_at",
    "send_log": "at",
    "planner_marks": "at",
}


def by_day(week: dict[str, list[dict[str, Any]]]) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """The week's rows grouped by the day (0–7) they were written on."""
    days: dict[int, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for table, rows in week.items():
        for row in rows:
            day = (row[ORDER_COLUMN[table]] - MONDAY).days
            days[day][table].append(row)
    return days


def copy_row(
    table: str, row: dict[str, Any], *, week: int, group: int, shift: timedelta
) -> dict[str, Any]:
    """The template row as group ``group`` (0-based) writes it in week ``week``."""
    out = dict(row)
    out.pop("id", None)
    for column in TIME_COLUMNS[table]:
        if out.get(column) is not None:
            out[column] = out[column] + shift
    tag = f":w{week}:g{group}"
    offset = group * PER_GROUP
    if table == "inbound_messages":
        out["dedup_key"] += tag
        out["sender"] = f"u{int(out['sender'][1:]) + offset}"
    elif table == "deliveries":
        out["idempotency_key"] = out["idempotency_key"][:180] + tag
    elif table == "checkins":
        out["member_id"] += offset
        out["campaign_id"] = group + 1
        out["period_start"] += timedelta(weeks=week)
        out["period_end"] += timedelta(weeks=week)
    elif table == "planner_marks":
        out["key"] = out["key"][:140] + tag
    elif table == "send_log":
        out["gate"] = out["gate"][:80] + f":g{group}"
    return out


def file_size(path: Path) -> int:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


async def simulate_year(
    folder: Path, week: dict[str, list[dict[str, Any]]], members: int, weeks: int, keep: bool
) -> dict[str, Any]:
    path = folder / ("with-retention.db" if keep else "without-retention.db")
    url = f"sqlite+aiosqlite:///{path}"
    config = build_config(
        {"database": {"url": url}, "backup": {"dir": str(folder / "backups")}}, environ={}
    )
    groups = members // PER_GROUP
    models = {model.__table__.name: model for model in TABLES}
    db = Database(url)
    sizes: list[tuple[str, int]] = []
    rows_written = 0
    prune_seconds = 0.0
    try:
        await upgrade(db)
        async with db.write_engine.begin() as conn:
            await insert_roster(
                conn, members=members, per_group=PER_GROUP, now=MONDAY, starts_on=MONDAY.date()
            )
        sizes.append(("start", file_size(path)))
        days = by_day(week)
        last_month = MONDAY.month
        for w in range(weeks):
            for day in range(7):
                shift = timedelta(weeks=w)
                today = MONDAY + shift + timedelta(days=day)
                # Day 7 of the template (the Monday summary) is written on the next Monday.
                todays = dict(days.get(day, {}))
                if w > 0 and day == 0:
                    for table, rows in days.get(7, {}).items():
                        todays[table] = todays.get(table, []) + rows
                batch = {
                    table: [
                        copy_row(
                            table,
                            row,
                            week=w,
                            group=g,
                            shift=shift
                            if (row[ORDER_COLUMN[table]] - MONDAY).days < 7
                            else shift - timedelta(weeks=1),
                        )
                        for g in range(groups)
                        for row in rows
                    ]
                    for table, rows in todays.items()
                }
                async with db.transaction() as tx:
                    for table, rows in batch.items():
                        if rows:
                            await tx.session.execute(insert(models[table]), rows)
                            rows_written += len(rows)
                if keep:
                    started = time.perf_counter()
                    await prune(db, config, today + timedelta(hours=14))
                    prune_seconds += time.perf_counter() - started
                if today.month != last_month:
                    month_end = today - timedelta(days=1)
                    sizes.append((f"{month_end.year}-{last_month:02d}", file_size(path)))
                    last_month = today.month
        sizes.append(("end", file_size(path)))
        counts = await _counts(db)
        started = time.perf_counter()
        done = await make_backup(config, db, MONDAY + timedelta(weeks=weeks))
        backup_seconds = time.perf_counter() - started
        archive_bytes = done.size
    finally:
        await db.dispose()
    return {
        "retention": keep,
        "rows_written": rows_written,
        "sizes": sizes,
        "counts": counts,
        "prune_seconds": round(prune_seconds, 2),
        "backup_seconds": round(backup_seconds, 2),
        "archive_bytes": archive_bytes,
    }


async def _counts(db: Database) -> dict[str, int]:
    from storage.backup import table_counts

    found = await table_counts(db)
    return {k: found[k] for k in ("members", *ORDER_COLUMN)}


def megabytes(count: int) -> str:
    return f"{count / 1048576:.1f} MB"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--quick", action="store_true", help="120 members, 16 weeks (smoke)")
    args = parser.parse_args()
    if args.quick:
        args.members, args.weeks = 120, 16
    assert args.members % PER_GROUP == 0, f"--members must be a multiple of {PER_GROUP}"
    print(machine_line())
    with tempfile.TemporaryDirectory(prefix="lvzhi-bench-retention-") as scratch:
        folder = Path(scratch)
        week = await calibrate(folder)
        per_group = {table: len(rows) for table, rows in week.items()}
        print(f"one group's week through the real code ({PER_GROUP} members): {per_group}")
        results = []
        for keep in (False, True):
            started = time.perf_counter()
            result = await simulate_year(folder, week, args.members, args.weeks, keep)
            result["seconds"] = round(time.perf_counter() - started, 1)
            results.append(result)
            label = "with retention (defaults)" if keep else "without retention"
            print(
                f"\n{label}: {args.members} members, {args.weeks} weeks, "
                f"{result['rows_written']} rows written in {result['seconds']} s"
            )
            print(
                "  size by month: " + ", ".join(f"{m} {megabytes(s)}" for m, s in result["sizes"])
            )
            print(f"  rows at the end: {result['counts']}")
            if keep:
                print(f"  prune, 365 daily runs: {result['prune_seconds']} s in all")
            archive = megabytes(result["archive_bytes"])
            print(f"  backup: {result['backup_seconds']} s, archive {archive}")
    without, with_ = results
    # Invariants: retention never touched a check-in, and kept the file from growing with
    # the operational tables (the last months add only check-ins and planner marks).
    assert with_["counts"]["checkins"] == without["counts"]["checkins"] > 0
    assert with_["sizes"][-1][1] < without["sizes"][-1][1] or args.weeks < 14
    if args.json:
        args.json.write_text(json.dumps(results, default=str, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
