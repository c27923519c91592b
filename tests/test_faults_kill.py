"""Fault: ``lvzhi serve`` SIGKILLed in the middle of its work, then started again.

The server is a real process (:class:`tests.procs.ServeProcess`) with WeCom configured against
a fake WeCom in this process; callbacks are really encrypted. What the tests prove
(docs/architecture.md, "Delivery guarantees"):

- every callback answered 200 before the kill is in the database right after it (a 200 is a
  promise to keep the message: WeCom will not send it again);
- callbacks that got no 200 (cut by the kill) are sent again, as WeCom retries, after the
  restart, and then every message is stored exactly once and answered once;
- a reply or a fan-out post reaches WeCom twice only if it is inside the *crash window*
  measured at the kill — accepted by WeCom, not yet recorded as sent — and that window holds
  at most the sends one worker has in flight (its concurrency).

Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Collection, Iterable
from pathlib import Path

import aiohttp

from storage.models import Delivery
from tests.faults import (
    FAST_DELIVERY,
    WeComCaller,
    dedup_key,
    delivered_counts,
    deliveries,
    fake_wecom,
    inbound_keys,
    member_ids,
    outbox_settled,
    robot_keys_by_group,
    seed,
    server_settings,
    statuses,
    text_callback,
    wait_until,
)
from tests.procs import ServeProcess

CONCURRENCY = FAST_DELIVERY["concurrency"]
FAKE_LATENCY = 0.02  # a little slow, so that sends are in flight when the kill lands


def crash_window(
    accepted: Collection[str], rows: Iterable[Delivery], target_of: dict[str, str]
) -> set[str]:
    """Targets WeCom accepted whose delivery is not recorded as sent: what a restart may
    send again. ``target_of`` maps a delivery's target to what the fake records."""
    sent = {target_of.get(row.target, row.target) for row in rows if row.status == "sent"}
    return set(accepted) - sent


async def test_kill_during_a_burst_of_callbacks(sqlite_url: str, tmp_path: Path) -> None:
    """A burst of 100 "帮助" callbacks from 100 members, the server killed after 25 of them
    were answered 200: nothing answered 200 is lost, nothing is stored twice, and no reply
    reaches a member twice outside the measured crash window."""
    senders = member_ids(100)
    await seed(sqlite_url, members=senders)
    calls = [(dedup_key(s, 1), text_callback(s, 1)) for s in senders]
    async with fake_wecom(latency=FAKE_LATENCY) as fake:
        server = ServeProcess(tmp_path, server_settings(sqlite_url, fake))
        try:
            await server.start()
            async with aiohttp.ClientSession() as http:
                caller = WeComCaller(http, server.base_url)
                burst = asyncio.create_task(caller.burst(calls, concurrency=12))
                await wait_until(
                    lambda: len(caller.accepted) >= 25 and len(fake.accepted) >= 5,
                    "25 callbacks accepted and 5 replies sent",
                )
                await server.kill()
                first_round = await burst
                accepted_at_kill = set(caller.accepted)
                stored_at_kill = await inbound_keys(sqlite_url)
                await asyncio.sleep(FAKE_LATENCY + 0.3)  # sends in flight reach the fake
                replied = delivered_counts(fake, "message/send")
                window = crash_window(replied, await deliveries(sqlite_url), {})

                await server.start()
                resends = await caller.retry_until_accepted(calls)
                await wait_until(lambda: outbox_settled(sqlite_url), "the outbox to drain")
        finally:
            await server.stop()

    stored = await inbound_keys(sqlite_url)
    rows = await deliveries(sqlite_url)
    replies = delivered_counts(fake, "message/send")
    twice = {member for member, n in replies.items() if n > 1}
    unanswered_but_stored = set(stored_at_kill) - accepted_at_kill
    print(
        f"\nkill mid-burst: {len(accepted_at_kill)}/{len(calls)} answered 200 before the kill "
        f"({statuses(first_round)}); {len(stored_at_kill)} stored at the kill, "
        f"{len(unanswered_but_stored)} of them without a 200 (WeCom resends, deduplicated); "
        f"{resends} resends after the restart; replies: crash window {len(window)}, "
        f"delivered twice {len(twice)} (worker concurrency {CONCURRENCY}); "
        f"{fake.counts['gettoken']} gettoken calls"
    )
    assert len(accepted_at_kill) < len(calls), "the kill landed after the burst"
    assert accepted_at_kill <= set(stored_at_kill), "a callback answered 200 was lost"
    assert sorted(stored) == sorted(key for key, _ in calls)  # all stored, each once
    assert len(rows) == len(calls) and {r.status for r in rows} == {"sent"}
    assert set(replies) == set(senders)  # every member answered
    assert twice <= window and len(window) <= CONCURRENCY
    assert fake.counts["dropped"] == 0


async def test_kill_during_a_fan_out(sqlite_url: str, tmp_path: Path) -> None:
    """A secretary's notice to 全体委员 queues one robot post for each of 60 groups; the
    server is killed after 20 posts: after the restart every group has the notice, and no
    group has it twice outside the crash window."""
    groups = 60
    await seed(sqlite_url, secretary="mishu", robot_groups=groups)
    notice = text_callback("mishu", 1, "通知 全体委员（无需回复）：本周五下午三点集中学习。")
    async with fake_wecom(latency=FAKE_LATENCY) as fake:
        server = ServeProcess(tmp_path, server_settings(sqlite_url, fake))
        try:
            await server.start()
            async with aiohttp.ClientSession() as http:
                caller = WeComCaller(http, server.base_url)
                answer = await caller.send(dedup_key("mishu", 1), notice)
                assert answer.status == 200
                await wait_until(
                    lambda: len(fake.delivered("webhook/send")) >= 20, "20 robot posts"
                )
                await server.kill()
                await asyncio.sleep(FAKE_LATENCY + 0.3)
                robot_of = await robot_keys_by_group(sqlite_url)
                posted_at_kill = delivered_counts(fake, "webhook/send")
                window = crash_window(posted_at_kill, await deliveries(sqlite_url), robot_of)

                await server.start()
                await wait_until(lambda: outbox_settled(sqlite_url), "the fan-out to finish")
        finally:
            await server.stop()

    rows = await deliveries(sqlite_url)
    posts = delivered_counts(fake, "webhook/send")
    twice = {key for key, n in posts.items() if n > 1}
    print(
        f"\nkill mid-fan-out: {sum(posted_at_kill.values())}/{groups} robot posts before the "
        f"kill; crash window {len(window)}, posted twice {len(twice)} "
        f"(worker concurrency {CONCURRENCY}); "
        f"outbox {dict(collections.Counter(r.status for r in rows))}"
    )
    assert set(posts) == set(robot_of.values()) and len(posts) == groups  # every group
    assert twice <= window and len(window) <= CONCURRENCY
    assert {r.status for r in rows} == {"sent"}
    assert fake.counts["rate_limited"] == 0
