"""Crash tests: a delivery worker process SIGKILLed mid-run.

The guarantee under test (docs/architecture.md, "Delivery guarantees"): every delivery is sent, and
the only duplicates come from the crash window — parts WeCom accepted whose ``sent`` the killed
process never committed. Each test measures that window at the moment of the kill (accepted by
the fake WeCom, still pending in the database under the killed worker's lease), lets the
survivors finish, and checks that every duplicate the fake saw lies inside it and that it holds
no more than the sends one worker has in flight (its ``concurrency``). Run with ``-s`` to see
the numbers.

The workers are real processes (``tests/delivery_child.py``) talking to the fake over loopback;
leases are 2 s so the killed worker's deliveries come free quickly.
"""

from __future__ import annotations

import asyncio
import collections
import json
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import SystemClock
from bot.delivery.outbox import queue
from bot.messages import Outgoing
from storage import Database
from storage.migrate import upgrade
from tests.fakewecom import FakeWeCom

CHILD = Path(__file__).with_name("delivery_child.py")
REPO = CHILD.parent.parent
CONCURRENCY = 8
DELIVERY = {
    "concurrency": CONCURRENCY,
    "batch_size": 50,
    "lease_seconds": 2,
    "poll_interval_seconds": 0.05,
    "backoff_base_seconds": 0.1,
    "backoff_max_seconds": 0.5,
}


def content(n: int) -> str:
    return f"crash test {n:04d}"


async def enqueue(db_url: str, total: int) -> None:
    db = Database(db_url)
    try:
        await upgrade(db)
        now = SystemClock().now()
        async with db.transaction() as tx:
            for n in range(total):
                # One member each: the member gate (30/min) is not what this test is about.
                out = Outgoing(content(n), to_member=f"u{n:04d}")
                assert await queue(tx, out, key=f"crash:{n}", now=now)
    finally:
        await db.dispose()


async def outbox(db_url: str) -> tuple[set[str], set[str], dict[str, int]]:
    """(contents sent, contents pending, pending leased per owner)."""
    db = Database(db_url)
    try:
        async with db.read() as tx:
            rows = await tx.deliveries.list(limit=100_000)
    finally:
        await db.dispose()
    sent = {r.payload["content"] for r in rows if r.status == "sent"}
    pending = {r.payload["content"] for r in rows if r.status == "pending"}
    owners = collections.Counter(r.lease_owner or "-" for r in rows if r.status == "pending")
    return sent, pending, dict(owners)


async def leased_by(db_url: str, owner: str) -> set[str]:
    db = Database(db_url)
    try:
        async with db.read() as tx:
            rows = await tx.deliveries.list(status="pending", limit=100_000)
    finally:
        await db.dispose()
    return {r.payload["content"] for r in rows if r.lease_owner == owner}


async def spawn(
    db_url: str, fake: FakeWeCom, owner: str, log_dir: Path, *, wecom: dict[str, Any]
) -> asyncio.subprocess.Process:
    with (log_dir / f"{owner}.log").open("wb") as log:  # the child keeps its own copy
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(CHILD),
            "--db",
            db_url,
            "--wecom",
            json.dumps(fake.wecom_settings(**wecom)),
            "--delivery",
            json.dumps(DELIVERY),
            "--owner",
            owner,
            "--timeout",
            "60",
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
    assert process.stdout is not None
    async with asyncio.timeout(30):
        line = await process.stdout.readline()
    assert line.strip() == b"ready", read_log(log_dir / f"{owner}.log")
    return process


async def wait_until(
    condition: Callable[[], bool],
    what: str,
    processes: Sequence[asyncio.subprocess.Process],
    *,
    within: float = 30.0,
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        for process in processes:
            assert process.returncode is None, f"a worker exited early while waiting for {what}"
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.005)


async def finish(process: asyncio.subprocess.Process, log: Path, within: float = 60) -> None:
    async with asyncio.timeout(within):
        code = await process.wait()
    assert code == 0, read_log(log)


def read_log(log: Path) -> str:
    return log.read_text(errors="replace")


def kill_all(processes: Sequence[asyncio.subprocess.Process]) -> None:
    for process in processes:
        if process.returncode is None:
            process.kill()


def tally(fake: FakeWeCom) -> tuple[collections.Counter[str], collections.Counter[str]]:
    accepted = collections.Counter(a.content for a in fake.accepted)
    received = collections.Counter(a.content for a in fake.received)
    return accepted, received


@pytest.mark.parametrize("duplicate_check", [0, 1800], ids=["raw", "duplicate-check"])
async def test_sqlite_worker_killed_mid_run_and_restarted(
    sqlite_url: str, tmp_path: Path, duplicate_check: int
) -> None:
    total = 300
    await enqueue(sqlite_url, total)
    processes: list[asyncio.subprocess.Process] = []
    wecom = {"duplicate_check_seconds": duplicate_check, "request_timeout_seconds": 1.0}
    try:
        async with FakeWeCom(latency=0.01) as fake:  # a little slow, so sends are in flight
            first = await spawn(sqlite_url, fake, "first", tmp_path, wecom=wecom)
            processes.append(first)
            # Not a multiple of the batch size, so the kill lands mid-batch.
            await wait_until(lambda: len(fake.received) >= 117, "117 sent", processes)
            first.kill()
            await first.wait()
            await asyncio.sleep(fake.latency + 0.3)  # what was in flight reaches the fake
            sent, _, _ = await outbox(sqlite_url)
            leased = await leased_by(sqlite_url, "first")
            accepted_at_kill, _ = tally(fake)
            window = set(accepted_at_kill) - sent  # WeCom has them; we never recorded it

            second = await spawn(sqlite_url, fake, "second", tmp_path, wecom=wecom)
            processes.append(second)
            await finish(second, tmp_path / "second.log")
            accepted, received = tally(fake)
    finally:
        kill_all(processes)

    final_sent, final_pending, _ = await outbox(sqlite_url)
    duplicates = sorted(c for c, n in accepted.items() if n > 1)
    resent = sorted(c for c, n in received.items() if n > 1)
    print(
        f"\nSQLite crash ({'duplicate check on' if duplicate_check else 'raw'}): "
        f"killed after {len(accepted_at_kill)}/{total} accepted; at the kill {len(sent)} "
        f"recorded sent, {len(leased)} leased by the killed worker, crash window "
        f"(accepted, not recorded) {len(window)}; after the restart: resent {len(resent)}, "
        f"delivered twice {len(duplicates)} (concurrency {CONCURRENCY})"
    )
    assert final_pending == set() and len(final_sent) == total
    assert set(accepted) == {content(n) for n in range(total)}  # nothing lost
    assert window <= leased
    assert len(window) <= CONCURRENCY
    assert set(resent) <= window and set(duplicates) <= window
    if duplicate_check:
        assert duplicates == []  # WeCom's duplicate check absorbed the resends
    assert fake.counts["dropped"] == 0


async def test_postgres_three_workers_one_killed(pg_url: str, tmp_path: Path) -> None:
    total = 1000
    await enqueue(pg_url, total)
    processes: list[asyncio.subprocess.Process] = []
    # Raw: no duplicate check, so the fake shows every resend as a delivered duplicate.
    wecom = {"duplicate_check_seconds": 0, "request_timeout_seconds": 1.0}
    try:
        async with FakeWeCom(latency=0.01) as fake:
            for n in range(3):
                processes.append(await spawn(pg_url, fake, f"pg-{n}", tmp_path, wecom=wecom))
            victim, survivors = processes[0], processes[1:]
            await wait_until(lambda: len(fake.received) >= 373, "373 sent", processes)
            victim.kill()
            await victim.wait()
            # Right away, before its 2 s leases run out: what the killed worker held.
            leased = await leased_by(pg_url, "pg-0")
            await asyncio.sleep(fake.latency + 0.3)
            accepted_at_kill, _ = tally(fake)
            window = set(accepted_at_kill) & leased
            for n, process in enumerate(survivors, start=1):
                await finish(process, tmp_path / f"pg-{n}.log")
            accepted, received = tally(fake)
    finally:
        kill_all(processes)

    final_sent, final_pending, _ = await outbox(pg_url)
    duplicates = sorted(c for c, n in accepted.items() if n > 1)
    print(
        f"\nPostgreSQL crash: 3 workers, killed one after {len(accepted_at_kill)}/{total} "
        f"accepted; it held {len(leased)} leases, crash window (accepted, not recorded) "
        f"{len(window)}; delivered twice {len(duplicates)} {duplicates} "
        f"(concurrency {CONCURRENCY}); gettoken calls {fake.counts['gettoken']}"
    )
    assert final_pending == set() and len(final_sent) == total
    assert set(accepted) == {content(n) for n in range(total)}  # nothing lost
    assert set(duplicates) <= window  # exactly once, except the crash window
    assert len(duplicates) <= CONCURRENCY
    assert sum(received.values()) == total + len(duplicates)
    assert fake.counts["gettoken"] == 1  # three processes, one token fetch
    assert fake.counts["dropped"] == 0


def test_lease_is_short_enough_for_the_crash_tests() -> None:
    # The killed worker's leases must run out well inside the tests' time budget.
    assert timedelta(seconds=DELIVERY["lease_seconds"]) <= timedelta(seconds=5)
