"""Benchmark: a broadcast to 300 groups through 300 robots plus private nudges to 3,000 members,
through the real code path, against the fake WeCom with WeCom's real limits.

    python bench/bench_broadcast.py [--groups 300] [--per-group 10] [--notices 19]
                                    [--concurrency 16] [--reminders] [--quick] [--at ISO]
                                    [--checkins-per-second R] [--checkin-seconds S]
                                    [--inline-budget-ms MS]

A secretary sends ``--notices`` notices to 全体委员 through the pipeline (all but the last
need no 回执), every study group reached by its own robot; the last notice's one reminder
(the chase) then goes to every group again, @-ing its members, and privately to each of the
members. Each robot thus carries ``notices + 1`` messages, each member one nudge (the
secretary gets one answer per notice). The runtime's clock is shifted back by the reminder
delay while the notices are sent, so the chase is due at once; the worker then drains the
outbox with the real :class:`~bot.wecom.sender.WeComSender` into
:class:`~tests.fakewecom.FakeWeCom` (robots: 20 a minute, the worker's gate 18; members: 30 a
minute), and the run ends when nothing is pending.

The rate-limit bound is the least time the limits allow: a target that must carry ``n``
messages through ``L`` per ``W`` seconds needs ``(ceil(n / L) - 1) * W``; the bound is the
largest over all targets (60 s by default: 20 messages through a robot gate of 18/min). The
benchmark reports the drain time against it (target: within 1.1×) and checks that the fake
answered no 45009, dropped nothing, and that every target got each of its messages once.

``--reminders``: the weekly check-in reminders of the same groups instead (issue 9). Every
group has a weekly campaign (reminder 周五20:00) and nobody has checked in; the runtime's clock
is set to Friday 2025-11-28 20:01 in Shanghai (a working day), one planner tick expands the 300
reminders, and the worker drains them: each group's robot posts the reminder @-ing its members,
each member gets a private nudge. Every target carries ONE message, so the rate-limit bound is
0 s: the drain time is the worker's own throughput (reported per second), not WeCom's limits.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import math
import sys
import time
from datetime import UTC, datetime, timedelta

from bench_delivery import fake_in_thread, machine, on_each_backend

from bot.clock import Clock
from bot.config import build_config
from bot.messages import SYSTEM_ALERT, Incoming
from bot.runtime import Runtime, open_runtime
from storage import Database
from storage import fast as storage_fast
from storage.migrate import upgrade
from storage.models import Campaign, Group, GroupMember, Member
from storage.repos.delivery import OutboxStats

PG_ENV = "LVZHI_TEST_POSTGRES_URL"
REMINDER_HOURS = 4.0
# The reminders' Friday: a working day, its week's Monday the campaigns' start (Shanghai time).
REMIND_AT = datetime(2025, 11, 28, 12, 1, tzinfo=UTC)  # 20:01 in Shanghai
CAMPAIGNS_SET = datetime(2025, 11, 23, 16, 0, tzinfo=UTC)  # Monday 2025-11-24 00:00 there


class ShiftedClock:
    """The system clock moved by ``shift``: the notices are sent "4 hours ago", the reminders
    on a fixed Friday evening."""

    def __init__(self, at: datetime | None = None) -> None:
        self.shift = timedelta(0)
        # ``--at``: the run starts at this time instead of now (the chase is not sent in the
        # quiet hours, so a run started in the Shanghai evening planned nothing).
        if at is not None:
            self.shift = at - datetime.now(UTC)
        self.base = self.shift

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift


class LoopLag:
    """How long the event loop ran something else when a 1 ms sleep was due: the longest
    stretch it was held (a long inline write transaction, a long handler)."""

    def __init__(self) -> None:
        self.lags: list[float] = []

    async def run(self) -> None:
        while True:
            due = time.perf_counter() + 0.001
            await asyncio.sleep(0.001)
            self.lags.append(max(0.0, time.perf_counter() - due))

    def summary(self) -> str:
        if not self.lags:
            return "no samples"
        lags = sorted(self.lags)
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
        return (
            f"longest {lags[-1] * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms of {len(lags)} "
            f"1-ms wake-ups ({sum(1 for x in lags if x > 0.020)} late by > 20 ms)"
        )


CHECKED_IN = "已记录您的学习"  # a check-in's answer (no campaign in this benchmark)


class CheckInProbe:
    """Members' check-ins through the pipeline at a steady rate while the broadcast is sent
    and drained: how long each took to be answered (from when it was due), i.e. what a
    member feels while long write transactions run."""

    def __init__(self, runtime: Runtime, clock: Clock, members: int) -> None:
        self.runtime, self.clock, self.members = runtime, clock, members
        self.latencies: list[float] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, per_second: float) -> None:
        if not per_second:
            return
        start = time.perf_counter()
        try:
            for n in itertools.count():
                due = start + n / per_second
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                task = asyncio.create_task(self._one(n, due))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        finally:
            await asyncio.gather(*self._tasks)

    async def _one(self, n: int, due: float) -> None:
        await self.runtime.pipeline.handle(
            Incoming(
                channel="sandbox",
                sender=f"u{n % self.members:05d}",
                text=f"打卡 读《乡土中国》{20 + n % 5 * 10}分钟",
                sent_at=self.clock.now(),
                dedup_key=f"probe:{n}",
            )
        )
        self.latencies.append(time.perf_counter() - due)

    def summary(self) -> str:
        if not self.latencies:
            return "none"
        lat = sorted(self.latencies)

        def at(q: float) -> float:
            return lat[min(len(lat) - 1, math.ceil(q * len(lat)) - 1)] * 1000

        return (
            f"{len(lat)} answered, p50 {at(0.5):.1f} ms, p99 {at(0.99):.1f} ms, "
            f"longest {lat[-1] * 1000:.1f} ms"
        )


async def seed(url: str, groups: int, per_group: int) -> None:
    db = Database(url)
    try:
        await upgrade(db)
        now = datetime.now(UTC)
        async with db.transaction() as tx:
            tx.session.add(
                Member(
                    userid="mishu", name="王秘书", role="secretary", created_at=now, updated_at=now
                )
            )
            for g in range(groups):
                group = Group(
                    name=f"第{g + 1}学习小组",
                    kind="study_group",
                    robot_key=f"robot-{g:03d}",
                    created_at=now,
                )
                tx.session.add(group)
                await tx.flush()
                for n in range(per_group):
                    number = g * per_group + n
                    member = Member(
                        userid=f"u{number:05d}",
                        name=f"委员{number:05d}",
                        created_at=now,
                        updated_at=now,
                    )
                    tx.session.add(member)
                    await tx.flush()
                    tx.session.add(GroupMember(group_id=group.id, member_id=member.id))
    finally:
        await db.dispose()


async def run_once(url: str, args: argparse.Namespace) -> dict[str, float]:
    await seed(url, args.groups, args.per_group)
    clock = ShiftedClock(args.at)
    async with fake_in_thread(0.0) as fake:
        config = build_config(
            {
                "database": {"url": url},
                "wecom": fake.wecom_settings(),
                "delivery": {
                    "concurrency": args.concurrency,
                    "batch_size": args.batch_size,
                    "poll_interval_seconds": 0.05,
                },
                "notices": {"ack_reminder_hours": REMINDER_HOURS},
            },
            environ={},
        )
        async with open_runtime(
            config, clock=clock, start_worker=False, start_planner=False, migrate=True
        ) as runtime:
            lag_probe = LoopLag()
            lag = asyncio.create_task(lag_probe.run())
            checkins = CheckInProbe(runtime, clock, args.groups * args.per_group)
            probe = asyncio.create_task(checkins.run(args.checkins_per_second))
            clock.shift = clock.base - timedelta(hours=REMINDER_HOURS, minutes=1)
            started = time.perf_counter()
            for n in range(args.notices):
                ack = "" if n == args.notices - 1 else "（无需回复）"
                text = f"通知 全体委员{ack}：第{n + 1}号通知，请各位委员按时参加本周学习。"
                await runtime.pipeline.handle(
                    Incoming(
                        channel="sandbox",
                        sender="mishu",
                        text=text,
                        sent_at=clock.now(),
                        dedup_key=f"bench:{n}",
                    )
                )
            clock.shift = clock.base
            planned = await runtime.planner.tick()
            plan_seconds = time.perf_counter() - started
            # The chase, and in December the office's weekly warning that next year's
            # holidays are provisional (SYSTEM_ALERT, one message to the secretary).
            assert planned >= 1, f"expected the one chase, planned {planned}"

            drain_seconds, stats = await drain(runtime, clock, probe, args.checkin_seconds)
            lag.cancel()
            if args.checkins_per_second:
                print(f"  check-ins meanwhile: {checkins.summary()}")
            if runtime.db.is_sqlite:
                print(f"  SQLite: {runtime.db.inline_spans.summary()}")
            print(f"  event loop held: {lag_probe.summary()}")

    per_robot = args.notices + 1
    accepted = [
        a
        for a in fake.accepted
        if not a.content.startswith(SYSTEM_ALERT) and not a.content.startswith(CHECKED_IN)
    ]
    answered = sum(1 for a in fake.accepted if a.content.startswith(CHECKED_IN))
    assert answered == len(checkins.latencies), f"{answered} check-in answers delivered"
    alerts = sum(1 for a in fake.accepted if a.content.startswith(SYSTEM_ALERT))
    assert alerts <= planned - 1, f"{alerts} system alerts for {planned - 1} warnings planned"
    robots = collections.Counter(a.target for a in accepted if a.endpoint == "webhook/send")
    robot_texts = {(a.target, a.content) for a in accepted if a.endpoint == "webhook/send"}
    members = collections.Counter(a.target for a in accepted if a.endpoint == "message/send")
    expected = args.groups * per_robot + args.groups * args.per_group + args.notices
    assert stats.sent == expected + alerts + answered and stats.dead == 0, (
        f"{stats} (expected {expected} sent, and {alerts} system alerts)"
    )
    assert fake.counts["rate_limited"] == 0, f"{fake.counts['rate_limited']} × 45009"
    assert fake.counts["dropped"] == 0, f"{fake.counts['dropped']} dropped by WeCom"
    assert len(robots) == args.groups and set(robots.values()) == {per_robot}
    assert len(robot_texts) == args.groups * per_robot, "duplicate robot messages"
    nudged = {u: c for u, c in members.items() if u != "mishu"}
    assert len(nudged) == args.groups * args.per_group and set(nudged.values()) == {1}
    assert members["mishu"] == args.notices
    gate = config.delivery
    bound = max(
        (math.ceil(per_robot / gate.robot_limit) - 1) * gate.robot_window_seconds,
        (math.ceil(args.notices / gate.member_limit) - 1) * gate.member_window_seconds,
    )
    return {
        "plan_s": plan_seconds,
        "drain_s": drain_seconds,
        "bound_s": bound,
        "messages": len(accepted),
    }


async def add_campaigns(url: str) -> None:
    """A weekly campaign (reminder 周五20:00, summary 周一09:00) for every group."""
    db = Database(url)
    try:
        async with db.transaction() as tx:
            for group in await tx.groups.all():
                tx.session.add(
                    Campaign(
                        group_id=group.id,
                        cadence="weekly",
                        reminders=[{"offset_days": -2, "time": "20:00"}],
                        summary={"offset_days": 1, "time": "09:00"},
                        starts_on=CAMPAIGNS_SET.date() + timedelta(days=1),
                        created_at=CAMPAIGNS_SET,
                        updated_at=CAMPAIGNS_SET,
                    )
                )
    finally:
        await db.dispose()


async def run_reminders(url: str, args: argparse.Namespace) -> dict[str, float]:
    await seed(url, args.groups, args.per_group)
    await add_campaigns(url)
    clock = ShiftedClock()
    clock.shift = REMIND_AT - datetime.now(UTC)
    async with fake_in_thread(0.0) as fake:
        config = build_config(
            {
                "database": {"url": url},
                "wecom": fake.wecom_settings(),
                "delivery": {
                    "concurrency": args.concurrency,
                    "batch_size": args.batch_size,
                    "poll_interval_seconds": 0.05,
                },
            },
            environ={},
        )
        async with open_runtime(
            config, clock=clock, start_worker=False, start_planner=False, migrate=True
        ) as runtime:
            started = time.perf_counter()
            planned = await runtime.planner.tick()
            plan_seconds = time.perf_counter() - started
            assert planned == args.groups, f"expected {args.groups} reminders, planned {planned}"
            drain_seconds, stats = await drain(runtime, clock)

    robots = collections.Counter(a.target for a in fake.accepted if a.endpoint == "webhook/send")
    members = collections.Counter(a.target for a in fake.accepted if a.endpoint == "message/send")
    mentioned = {m for a in fake.accepted if a.endpoint == "webhook/send" for m in a.mentions}
    expected = args.groups * (1 + args.per_group)
    assert stats.sent == expected and stats.dead == 0, f"{stats} (expected {expected} sent)"
    assert fake.counts["rate_limited"] == 0 and fake.counts["dropped"] == 0
    assert len(robots) == args.groups and set(robots.values()) == {1}, "a group reminded twice"
    assert len(members) == args.groups * args.per_group and set(members.values()) == {1}
    assert mentioned == set(members), "a reminder that does not @ its missing members"
    return {
        "plan_s": plan_seconds,
        "drain_s": drain_seconds,
        "bound_s": 0.0,
        "messages": len(fake.accepted),
        "per_second": len(fake.accepted) / drain_seconds,
    }


def report_reminders(backend: str, result: dict[str, float]) -> None:
    print(
        f"{backend:<11} {result['messages']:.0f} reminders (robot posts + private nudges) "
        f"drained in {result['drain_s']:6.1f} s = {result['per_second']:.1f}/s; rate-limit "
        f"bound {result['bound_s']:.0f} s (one message per target: the worker's throughput "
        f"bounds it); planner tick {result['plan_s']:.1f} s; no 45009, nothing dropped, "
        "every group and member reminded once"
    )


def report(backend: str, result: dict[str, float]) -> None:
    ratio = result["drain_s"] / result["bound_s"] if result["bound_s"] else float("nan")
    verdict = "OK" if ratio <= 1.1 else "over target"
    if not result["bound_s"]:  # too few messages per target for any limit to bind (--quick)
        verdict = "no limit binds"
    print(
        f"{backend:<11} {result['messages']:.0f} messages drained in {result['drain_s']:6.1f} s;"
        f" rate-limit bound {result['bound_s']:.0f} s → {ratio:.3f}× ({verdict}); "
        f"notices + chase planned in {result['plan_s']:.1f} s; "
        "no 45009, nothing dropped, no duplicates, nothing lost"
    )


async def main(args: argparse.Namespace) -> None:
    if args.inline_budget_ms is not None:
        storage_fast.INLINE_BUDGET_SECONDS = args.inline_budget_ms / 1000
    if args.reminders:
        await main_reminders(args)
        return
    print(
        f"bench_broadcast: {args.notices} notices to {args.groups} groups (one robot each), "
        f"then one chase: {args.groups * (args.notices + 1)} robot posts + "
        f"{args.groups * args.per_group} private nudges; worker concurrency "
        f"{args.concurrency}, batch {args.batch_size}"
    )
    print(machine())
    await on_each_backend(lambda url: run_once(url, args), report)


async def main_reminders(args: argparse.Namespace) -> None:
    print(
        f"bench_broadcast --reminders: the weekly check-in reminders of {args.groups} groups "
        f"(one robot each, {args.per_group} members, nobody checked in): "
        f"{args.groups} robot posts + {args.groups * args.per_group} private nudges; worker "
        f"concurrency {args.concurrency}, batch {args.batch_size}"
    )
    print(machine())
    skip = "--quick" if args.quick else ""
    await on_each_backend(
        lambda url: run_reminders(url, args), report_reminders, skip_postgres=skip
    )


async def drain(
    runtime: Runtime,
    clock: Clock,
    probe: asyncio.Task[None] | None = None,
    probe_seconds: float = 0.0,
) -> tuple[float, OutboxStats]:
    """Run the worker until nothing is pending: the seconds it took, and the outbox then.
    ``probe``: check-ins sent meanwhile, stopped ``probe_seconds`` into the drain."""
    started = time.perf_counter()
    await runtime.worker.start()
    try:
        async with asyncio.timeout(1800):
            if probe is not None:
                await asyncio.sleep(probe_seconds)
                probe.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await probe
            while True:
                async with runtime.db.read() as tx:
                    stats = await tx.deliveries.stats(clock.now(), timedelta(hours=1))
                if stats.pending == 0:
                    break
                await asyncio.sleep(0.05)
    finally:
        await runtime.worker.stop()
    return time.perf_counter() - started, stats


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--per-group", type=int, default=10)
    parser.add_argument("--notices", type=int, default=19, help="broadcasts (the last is chased)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--reminders", action="store_true", help="weekly check-in reminders")
    parser.add_argument(
        "--checkins-per-second",
        type=float,
        default=0.0,
        help="members' check-ins through the pipeline meanwhile (from the first notice until "
        "--checkin-seconds into the drain): their answer latency",
    )
    parser.add_argument("--checkin-seconds", type=float, default=20.0)
    parser.add_argument(
        "--inline-budget-ms",
        type=float,
        help="SQLite: how long a write transaction's statements run inline before the rest "
        "go to the database's thread (default: storage/fast.py INLINE_BUDGET_SECONDS, all)",
    )
    parser.add_argument(
        "--at",
        type=lambda s: datetime.fromisoformat(s).astimezone(UTC),
        help="start the broadcast at this time (ISO, with offset), e.g. 2026-12-02T10:00+08:00",
    )
    parser.add_argument("--quick", action="store_true", help="10 groups of 5, 3 notices, SQLite")
    args = parser.parse_args(argv)
    if args.quick:
        args.groups, args.per_group, args.notices = 10, 5, 3
    return args


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:])))
