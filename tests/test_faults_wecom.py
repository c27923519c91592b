"""Fault: WeCom's API slow, failing, revoking the token, or rate-limiting, while members keep
writing.

The server runs in this process with the real WeCom sender against the fake WeCom, whose
faults are injected per call (:meth:`tests.fakewecom.FakeWeCom.inject`); the client timeout is
1 s. What each case proves:

- the callback path does not wait for WeCom: every callback sent while the fault is active is
  answered 200 in well under 500 ms (WeCom gives 5 s, and the edge does no network I/O);
- the deliveries wait and retry, and every reply reaches its member exactly once in the end;
- a 45009 cools the target down without burning an attempt, a revoked token is fetched again
  once, and passing failures (timeouts, 5xx, -1) are retried with backoff, counting attempts.

Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.config import build_config
from tests.fakewecom import Delay, Fault, HttpError, Revoke
from tests.faults import (
    WeComCaller,
    dedup_key,
    delivered_counts,
    deliveries,
    fake_wecom,
    latency_summary,
    member_ids,
    outbox_settled,
    seed,
    serve_in_process,
    server_settings,
    statuses,
    text_callback,
    wait_until,
)

CALLBACK_BUDGET = 1.0  # seconds: issue 3's "well under 1 s", far inside WeCom's 5 s


@dataclass(frozen=True, slots=True)
class WeComFault:
    endpoint: str
    faults: tuple[Fault, ...]
    attempts_burnt: bool  # does each fault count an attempt (Retry) or not (Throttled)?
    gettoken_calls: int = 1


CASES = {
    # 10 s each, against a 1 s client timeout: the fake serves them after the client gave up.
    "slow-10s": WeComFault("message/send", (Delay(10.0), Delay(10.0)), attempts_burnt=True),
    "http-5xx": WeComFault("message/send", (HttpError(502), HttpError(503)), True),
    "system-busy": WeComFault("message/send", (-1, -1, -1), attempts_burnt=True),
    "token-revoked": WeComFault("message/send", (Revoke(),), False, gettoken_calls=2),
    "token-expired": WeComFault("message/send", (42001,), False, gettoken_calls=2),
    "rate-limited": WeComFault("message/send", (45009, 45009), attempts_burnt=False),
    "gettoken-slow": WeComFault("gettoken", (Delay(10.0),), True, gettoken_calls=2),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_wecom_fault_delays_deliveries_not_callbacks(
    sqlite_url: str, tmp_path: Path, case: str
) -> None:
    fault = CASES[case]
    senders = member_ids(5)
    await seed(sqlite_url, members=senders)
    async with fake_wecom() as fake:
        fake.inject(fault.endpoint, *fault.faults)
        config = build_config(
            server_settings(
                sqlite_url,
                fake,
                wecom={"request_timeout_seconds": 1.0, "duplicate_check_seconds": 1800},
            ),
            environ={},
        )
        async with serve_in_process(config) as server, aiohttp.ClientSession() as http:
            caller = WeComCaller(http, server.base_url)
            answers = []
            for sender in senders:  # spread over the fault, not all before it bites
                answers.append(await caller.send(dedup_key(sender, 1), text_callback(sender, 1)))
                await asyncio.sleep(0.05)
            drained_in = await wait_until(
                lambda: outbox_settled(sqlite_url), "the outbox to drain", within=40
            )
            rows = await deliveries(sqlite_url)

    replies = delivered_counts(fake, "message/send")
    attempts = sum(r.attempts for r in rows)
    print(
        f"\nWeCom {case}: callbacks {statuses(answers)} ({latency_summary(answers)}); "
        f"outbox drained {drained_in:.1f} s after the last callback; attempts burnt {attempts}; "
        f"faults left {fake.pending_faults(fault.endpoint)}; gettoken {fake.counts['gettoken']}; "
        f"duplicates suppressed by WeCom {fake.counts['duplicate_suppressed']}"
    )
    assert all(a.status == 200 for a in answers)
    assert max(a.seconds for a in answers) < CALLBACK_BUDGET
    assert fake.pending_faults(fault.endpoint) == 0  # every fault was met
    assert {r.status for r in rows} == {"sent"}
    assert replies == dict.fromkeys(senders, 1)  # each member answered once, late or not
    assert (attempts > 0) == fault.attempts_burnt
    assert fake.counts["gettoken"] == fault.gettoken_calls
