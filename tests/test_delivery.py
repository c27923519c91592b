"""The delivery worker with the real WeCom sender, against the fake WeCom on loopback.

Time is scaled down: rate windows of 1 s instead of 60 s, backoffs of tens of milliseconds.
Tests that step through retries use the fake clock and ``run_once``; the storms run the worker
for real against the system clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import __version__
from bot.app import create_app
from bot.appkeys import RUNTIME
from bot.clock import Clock, FakeClock, SystemClock
from bot.config import DeliveryConfig, build_config
from bot.delivery.outbox import queue
from bot.delivery.worker import DeliveryWorker, Job
from bot.messages import Outgoing
from bot.wecom.sender import WeComSender
from storage import Database
from storage.migrate import head_revision
from storage.models import Alert, Delivery
from tests.fakewecom import FakeWeCom

FAST = {
    "concurrency": 4,
    "poll_interval_seconds": 0.02,
    "lease_seconds": 10,
    "max_attempts": 5,
    "backoff_base_seconds": 0.05,
    "backoff_max_seconds": 0.2,
}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def delivery_config(**overrides: Any) -> DeliveryConfig:
    return build_config({"delivery": {**FAST, **overrides}}, environ={}).delivery


def make_worker(
    db: Database,
    fake: FakeWeCom,
    http: aiohttp.ClientSession,
    clock: Clock,
    *,
    owner: str = "worker-test",
    wecom: dict[str, Any] | None = None,
    **delivery: Any,
) -> DeliveryWorker:
    config = build_config({"wecom": fake.wecom_settings(**(wecom or {}))}, environ={})
    sender = WeComSender(http, config.wecom, db, clock, owner=owner)
    return DeliveryWorker(db, sender, delivery_config(**delivery), clock, owner=owner)


async def enqueue(
    db: Database, clock: Clock, outs: Sequence[Outgoing], *, ttl: timedelta | None = None
) -> list[str]:
    keys = [f"test:{n:04d}" for n in range(len(outs))]
    async with db.transaction() as tx:
        for key, out in zip(keys, outs, strict=True):
            assert await queue(tx, out, key=key, now=clock.now(), ttl=ttl)
    return keys


async def deliveries(db: Database) -> list[Delivery]:
    async with db.read() as tx:
        return await tx.deliveries.list(limit=10_000)


async def alerts(db: Database) -> list[Alert]:
    async with db.read() as tx:
        return await tx.alerts.since(SystemClock().now() - timedelta(days=3650))


async def add_group(
    db: Database, name: str, *, robot_key: str | None = None, app_chat_id: str | None = None
) -> int:
    async with db.transaction() as tx:
        group, _ = await tx.groups.get_or_create(name, "custom", SystemClock().now())
        await tx.groups.set_channel(group, robot_key=robot_key, app_chat_id=app_chat_id)
        return group.id


async def until_outbox_empty(db: Database, *, within: float) -> None:
    async with asyncio.timeout(within):
        while True:
            async with db.read() as tx:
                stats = await tx.deliveries.stats(SystemClock().now(), timedelta(hours=1))
            if stats.pending == 0:
                return
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running(worker: DeliveryWorker) -> AsyncIterator[DeliveryWorker]:
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


# -- retries, dead, expired ------------------------------------------------------------------


async def test_busy_is_retried_with_backoff_then_sent(
    db: Database, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    async with FakeWeCom() as fake:
        worker = make_worker(db, fake, http, clock)
        await enqueue(db, clock, [Outgoing("您的请假已登记。", to_member="zhangsan")])
        fake.inject("message/send", -1)
        assert await worker.run_once() == 1
        [row] = await deliveries(db)
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.next_attempt_at > clock.now()  # backed off, not retried at once
        assert "errcode -1" in (row.last_error or "")
        assert await worker.run_once() == 0  # nothing due yet
        assert fake.accepted == []
        clock.advance(timedelta(seconds=1))
        assert await worker.run_once() == 1
        [row] = await deliveries(db)
        assert (row.status, row.attempts) == ("sent", 1)
        assert [a.content for a in fake.accepted] == ["您的请假已登记。"]


async def test_busy_beyond_max_attempts_is_dead_with_an_alert(
    db: Database, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    async with FakeWeCom() as fake:
        worker = make_worker(db, fake, http, clock, max_attempts=3)
        await enqueue(db, clock, [Outgoing("x", to_member="zhangsan")])
        fake.inject("message/send", -1, -1, -1, -1, -1)
        for _ in range(10):
            await worker.run_once()
            clock.advance(timedelta(seconds=1))
        [row] = await deliveries(db)
        assert (row.status, row.attempts) == ("dead", 3)
        assert fake.counts["message/send"] == 3 and fake.pending_faults("message/send") == 2
        assert fake.accepted == []
        assert [a.kind for a in await alerts(db)] == ["dead"]


async def test_no_valid_recipient_is_dead_and_names_the_recipient(
    db: Database, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    async with FakeWeCom(invalid_users={"left-the-corp"}) as fake:
        worker = make_worker(db, fake, http, clock)
        await enqueue(db, clock, [Outgoing("x", to_member="left-the-corp")])
        await worker.run_once()
        [row] = await deliveries(db)
        assert row.status == "dead" and row.attempts == 1
        assert "81013" in (row.last_error or "") and "left-the-corp" in (row.last_error or "")
        [alert] = await alerts(db)
        assert alert.kind == "dead" and "left-the-corp" in alert.message
        assert fake.counts["message/send"] == 1  # not retried


async def test_past_its_deadline_is_expired_not_sent(
    db: Database, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    async with FakeWeCom() as fake:
        worker = make_worker(db, fake, http, clock)
        await enqueue(
            db, clock, [Outgoing("今天的会议提醒", to_member="zhangsan")], ttl=timedelta(minutes=5)
        )
        clock.advance(timedelta(minutes=6))
        assert await worker.run_once() == 0
        [row] = await deliveries(db)
        assert row.status == "expired"
        assert fake.counts["message/send"] == 0 and fake.counts["gettoken"] == 0


async def test_throttled_cools_the_target_down_without_burning_an_attempt(
    db: Database, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    async with FakeWeCom() as fake:
        worker = make_worker(db, fake, http, clock, cooldown_seconds=60)
        group = await add_group(db, "学习一组", robot_key="robot-1")
        await enqueue(db, clock, [Outgoing("a", to_group=group), Outgoing("b", to_group=group)])
        fake.inject("webhook/send", 45009)
        await worker.run_once()
        rows = await deliveries(db)
        assert [(r.status, r.attempts) for r in rows] == [("pending", 0), ("pending", 0)]
        assert all(r.next_attempt_at == clock.now() + timedelta(seconds=60) for r in rows)
        clock.advance(timedelta(seconds=30))
        assert await worker.run_once() == 0  # still cooling down
        clock.advance(timedelta(seconds=31))
        await worker.run_once()
        assert [r.status for r in await deliveries(db)] == ["sent", "sent"]
        assert [a.content for a in fake.accepted] == ["a", "b"]


async def test_lost_lease_is_not_sent(
    db: Database, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    async with FakeWeCom() as fake:
        slow = make_worker(db, fake, http, clock, owner="slow", lease_seconds=10)
        other = make_worker(db, fake, http, clock, owner="other", lease_seconds=10)
        await enqueue(db, clock, [Outgoing("once", to_member="zhangsan")])
        async with db.transaction() as tx:
            [row] = await tx.deliveries.claim(
                owner="slow", now=clock.now(), limit=10, lease=timedelta(seconds=10)
            )
            job = Job.of(row)
        clock.advance(timedelta(seconds=11))  # "slow" stalled past its lease
        assert await other.run_once() == 1
        [address] = (await slow._resolve_all([job])).values()
        await slow._deliver(job, address)  # it wakes up: it must not send a second time
        assert [a.content for a in fake.received] == ["once"]
        [row] = await deliveries(db)
        assert row.status == "sent"


async def test_a_closed_gate_holds_back_every_message_due_for_its_target(
    db: Database, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """One claim at a time, one send a minute to a member: the refused message and the ones
    behind it that were not claimed yet all wait for the same moment, so they are claimed
    again in the order they were queued; another member's message is not held back."""
    async with FakeWeCom() as fake:
        worker = make_worker(db, fake, http, clock, batch_size=1, member_limit=1)
        await enqueue(
            db,
            clock,
            [Outgoing(f"m{n}", to_member="zhangsan") for n in range(1, 4)]
            + [Outgoing("other", to_member="lisi")],
        )
        assert await worker.run_once() == 1  # m1 goes, zhangsan's gate is full
        assert await worker.run_once() == 1  # m2 is refused
        rows = {r.payload["content"]: r for r in await deliveries(db)}
        opens = clock.now() + timedelta(seconds=60)
        assert [rows[k].status for k in ("m1", "m2", "m3")] == ["sent", "pending", "pending"]
        assert [rows[k].next_attempt_at for k in ("m2", "m3")] == [opens, opens]
        assert rows["m3"].lease_owner is None
        assert rows["other"].next_attempt_at == clock.now()  # another target: not held back
        await worker.drain()
        assert [a.content for a in fake.accepted] == ["m1", "other"]
        clock.advance(timedelta(seconds=61))
        await worker.drain()
        clock.advance(timedelta(seconds=61))
        await worker.drain()
        assert [a.content for a in fake.accepted] == ["m1", "other", "m2", "m3"]


async def test_hold_back_leaves_live_leases_of_others_and_later_messages(db: Database) -> None:
    now = SystemClock().now()
    until = now + timedelta(seconds=30)
    lease = timedelta(seconds=10)
    async with db.transaction() as tx:
        for key, target, due in [
            ("due", "zhangsan", now),
            ("mine", "zhangsan", now),
            ("theirs", "zhangsan", now),
            ("stale", "zhangsan", now),
            ("later", "zhangsan", until + timedelta(seconds=1)),
            ("elsewhere", "lisi", now),
        ]:
            await tx.deliveries.enqueue(
                key=key, channel="member", target=target, payload={}, now=now, send_at=due
            )
    leased = {"mine": ("me", now + lease), "theirs": ("them", now + lease)}
    leased["stale"] = ("gone", now - timedelta(seconds=1))
    async with db.transaction() as tx:
        for row in await tx.deliveries.list(limit=10):
            if row.idempotency_key in leased:
                row.lease_owner, row.lease_until = leased[row.idempotency_key]
    async with db.transaction() as tx:
        moved = await tx.deliveries.hold_back(
            "member", "zhangsan", until=until, owner="me", now=now
        )
    assert moved == 3
    rows = {r.idempotency_key: r for r in await deliveries(db)}
    assert {k for k, r in rows.items() if r.next_attempt_at == until} == {"due", "mine", "stale"}
    assert all(rows[k].lease_owner is None for k in ("due", "mine", "stale"))
    assert rows["theirs"].lease_owner == "them" and rows["theirs"].next_attempt_at == now
    assert rows["later"].next_attempt_at == until + timedelta(seconds=1)
    assert rows["elsewhere"].next_attempt_at == now


# -- configuration errors and /healthz -------------------------------------------------------


async def test_ip_not_trusted_is_dead_with_a_config_alert_and_healthz_503(
    sqlite_url: str,
) -> None:
    async with FakeWeCom() as fake:
        config = build_config(
            {"database": {"url": sqlite_url}, "wecom": fake.wecom_settings(), "delivery": FAST},
            environ={},
        )
        assert not config.sandbox
        fake.inject("message/send", 60020)
        async with TestClient(TestServer(create_app(config))) as client:
            response = await client.get("/healthz")
            assert response.status == 200, await response.text()
            runtime = client.app[RUNTIME]
            await enqueue(runtime.db, runtime.clock, [Outgoing("x", to_member="zhangsan")])
            runtime.worker.wake()
            await until_outbox_empty(runtime.db, within=10)
            [row] = await deliveries(runtime.db)
            assert row.status == "dead" and "60020" in (row.last_error or "")
            response = await client.get("/healthz")
            body = await response.json()
        assert response.status == 503
        assert body == {
            "status": "degraded",
            "reasons": ["wecom_config_error"],
            "version": __version__,
            "schema": head_revision(),
        }
        assert fake.counts["message/send"] == 1  # a configuration error is not retried


async def test_healthz_tells_no_details_to_anyone(sqlite_url: str) -> None:
    """Unauthenticated: a status, reason codes, the version and the schema revision only,
    never an alert's text (it names members); the console's overview, signed in, has the
    details."""
    async with FakeWeCom() as fake:
        config = build_config(
            {"database": {"url": sqlite_url}, "wecom": fake.wecom_settings(), "delivery": FAST},
            environ={},
        )
        fake.inject("message/send", 81013)  # the member left: a dead delivery and an alert
        async with TestClient(TestServer(create_app(config))) as client:
            runtime = client.app[RUNTIME]
            await enqueue(runtime.db, runtime.clock, [Outgoing("x", to_member="left-the-corp")])
            runtime.worker.wake()
            await until_outbox_empty(runtime.db, within=10)
            assert [a.kind for a in await alerts(runtime.db)] == ["dead"]
            response = await client.get("/healthz")
            text = await response.text()
        assert response.status == 200
        assert await response.json() == {
            "status": "ok",
            "reasons": [],
            "version": __version__,
            "schema": head_revision(),
        }
        assert "left-the-corp" not in text and "81013" not in text


# -- long texts ------------------------------------------------------------------------------


def long_text() -> str:
    lines = "".join(f"第{n:03d}条：委员履职情况汇报。\n" for n in range(60))
    return lines + "履" * 1000 + "完"  # a long run with no newline to break at


async def test_long_text_is_split_in_order_and_a_retry_resumes_at_the_failed_part(
    db: Database, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    text = long_text()
    assert len(text.encode("utf-8")) > 2 * 2048
    async with FakeWeCom() as fake:
        worker = make_worker(db, fake, http, clock)
        await enqueue(db, clock, [Outgoing(text, to_member="zhangsan")])
        fake.inject("message/send", None, -1)  # part 1 goes through, part 2 fails
        await worker.run_once()
        [row] = await deliveries(db)
        assert (row.status, row.parts_sent, row.attempts) == ("pending", 1, 1)
        clock.advance(timedelta(seconds=1))
        await worker.run_once()
        [row] = await deliveries(db)
        assert row.status == "sent"
        parts = [a.content for a in fake.accepted]
    assert len(parts) == 3
    assert "".join(parts) == text  # in order, nothing lost, nothing repeated
    assert all(len(p.encode("utf-8")) <= 2048 for p in parts)
    assert [a.content for a in fake.received] == parts  # part 1 was not sent again
    assert fake.counts["message/send"] == 4


async def test_markdown_parts_are_4096_bytes_for_robots_and_2048_for_members(
    db: Database, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    text = long_text()
    async with FakeWeCom() as fake:
        worker = make_worker(db, fake, http, clock)
        group = await add_group(db, "学习二组", robot_key="robot-2")
        await enqueue(
            db,
            clock,
            [
                Outgoing(text, to_member="zhangsan", markdown=True),
                Outgoing(text, to_group=group, markdown=True),
                Outgoing(text, to_group=group, mentions=("lisi",)),
            ],
        )
        await worker.run_once()
        member = fake.delivered("message/send")
        robot = fake.delivered("webhook/send")
    assert [r.status for r in await deliveries(db)] == ["sent"] * 3
    assert len(member) == 3 and "".join(a.content for a in member) == text
    markdown = [a for a in robot if a.msgtype == "markdown"]
    assert len(markdown) == 2 and "".join(a.content for a in markdown) == text
    texts = [a for a in robot if a.msgtype == "text"]
    assert [a.mentions for a in texts] == [("lisi",), (), ()]  # @ once, with the first part


# -- the other channels ----------------------------------------------------------------------


async def test_app_chat_and_ai_bot_response_through_the_worker(
    db: Database, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    async with FakeWeCom() as fake:
        worker = make_worker(db, fake, http, clock)
        assert isinstance(worker.sender, WeComSender)
        chatid = await worker.sender.create_appchat(
            name="提案委员会", owner="zhangsan", userlist=["zhangsan", "lisi"]
        )
        group = await add_group(db, "提案委员会", app_chat_id=chatid)
        await enqueue(
            db,
            clock,
            [
                Outgoing("周五下午开会", to_group=group),
                Outgoing("已为您登记", response_url=fake.response_url("code-9")),
            ],
        )
        await worker.run_once()
        assert [r.status for r in await deliveries(db)] == ["sent", "sent"]
        assert [a.content for a in fake.delivered("appchat/send", chatid)] == ["周五下午开会"]
        assert [a.content for a in fake.delivered("aibot/response")] == ["已为您登记"]


# -- rate limits, for real -------------------------------------------------------------------


async def test_45009_storm_loses_nothing_and_sends_nothing_twice(
    db: Database, http: aiohttp.ClientSession
) -> None:
    window = 0.75  # WeCom's 60 s, scaled down
    total = 200
    async with FakeWeCom(robot_limit=20, robot_window=window) as fake:
        keys = [f"storm-robot-{n}" for n in range(3)]
        groups = [await add_group(db, f"学习{n}组", robot_key=key) for n, key in enumerate(keys)]
        clock = SystemClock()
        worker = make_worker(
            db,
            fake,
            http,
            clock,
            robot_limit=18,
            robot_window_seconds=window,
            cooldown_seconds=window,
            concurrency=4,
        )
        await enqueue(
            db, clock, [Outgoing(f"storm {n:03d}", to_group=groups[n % 3]) for n in range(total)]
        )
        # 45009s beyond the robot's own limit (WeCom's frequency control has other reasons).
        injected = ([None] * 9 + [45009]) * 4
        fake.inject("webhook/send", *injected)
        started = time.monotonic()
        async with running(worker):
            await until_outbox_empty(db, within=40)
        elapsed = time.monotonic() - started
        rows = await deliveries(db)
        peaks = [fake.peak("webhook/send", key, window) for key in keys]
        print(
            f"\n45009 storm: {total} messages to 3 robots in {elapsed:.1f}s, "
            f"peaks per rolling {window}s window {peaks}, "
            f"injected 45009 {injected.count(45009)}, rate-limited by the fake "
            f"{fake.counts['rate_limited']}"
        )
        assert fake.pending_faults("webhook/send") == 0
        assert [r.status for r in rows] == ["sent"] * total
        assert all(r.attempts == 0 for r in rows)  # 45009 never burns an attempt
        contents = [a.content for a in fake.accepted]
        assert sorted(contents) == sorted(f"storm {n:03d}" for n in range(total))  # once each
        assert fake.counts["rate_limited"] == 0
        assert max(peaks) <= 20
        for n, key in enumerate(keys):  # and in order, per robot
            sent = [a.content for a in fake.delivered("webhook/send", key)]
            assert sent == [f"storm {i:03d}" for i in range(n, total, 3)]


async def test_member_gate_never_exceeds_30_per_window(
    db: Database, http: aiohttp.ClientSession
) -> None:
    window = 0.75
    total = 70
    async with FakeWeCom(member_limit=30, member_window=window) as fake:
        clock = SystemClock()
        worker = make_worker(
            db,
            fake,
            http,
            clock,
            member_limit=30,
            member_window_seconds=window,
            concurrency=8,
        )
        await enqueue(
            db, clock, [Outgoing(f"提醒 {n:02d}", to_member="zhangsan") for n in range(total)]
        )
        async with running(worker):
            await until_outbox_empty(db, within=20)
        peak = fake.peak("message/send", "zhangsan", window)
        print(
            f"\nmember gate: {total} messages to one member, peak {peak} per {window}s, "
            f"dropped by the fake {fake.counts['dropped']}"
        )
        assert fake.counts["dropped"] == 0  # WeCom would have dropped them silently
        assert peak <= 30
        assert [a.content for a in fake.accepted] == [f"提醒 {n:02d}" for n in range(total)]
