"""The WeCom client, the shared access token and the sender, against the fake WeCom on loopback."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bot.clock import Clock, FakeClock, SystemClock
from bot.config import build_config
from bot.delivery.base import Address, Failed, Outcome, Retry, Sent, Throttled
from bot.wecom.api import WeComApi, message_body, robot_body, robot_key
from bot.wecom.sender import WeComSender
from storage import Database
from storage.migrate import upgrade
from tests.fakewecom import Delay, FakeWeCom, HttpError, Revoke

ZHANG = Address("member", "zhangsan", "member:zhangsan")


@pytest.fixture
async def sqlite_db(sqlite_url: str) -> AsyncIterator[Database]:
    db = Database(sqlite_url)
    await upgrade(db)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeCom]:
    async with FakeWeCom() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def make_sender(
    fake: FakeWeCom,
    db: Database,
    http: aiohttp.ClientSession,
    *,
    clock: Clock | None = None,
    owner: str = "test-process",
    **wecom: Any,
) -> WeComSender:
    config = build_config({"wecom": fake.wecom_settings(**wecom)}, environ={})
    return WeComSender(http, config.wecom, db, clock or SystemClock(), owner=owner)


def text(content: str, **extra: Any) -> dict[str, Any]:
    return {"msgtype": "text", "content": content, **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the access token ------------------------------------------------------------------------


async def test_token_fetched_once_and_shared_by_concurrent_sends(
    db: Database, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    sender = make_sender(fake, db, http)
    outcomes = await asyncio.gather(*(sender.send(ZHANG, text(f"消息{i}")) for i in range(20)))
    assert outcomes == [Sent()] * 20
    assert fake.counts["gettoken"] == 1
    async with db.read() as tx:
        row = await tx.tokens.get(f"{fake.corp_id}:{fake.agent_id}")
    assert row is not None and row.token == fake.tokens_issued[0]
    assert row.refresh_owner is None  # the refresh lease was released


async def test_processes_share_the_token_through_the_database(
    db_url: str, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    # Two Database handles and two owners: two processes as far as the token is concerned.
    first, second = Database(db_url), Database(db_url)
    try:
        senders = [
            make_sender(fake, first, http, owner="a"),
            make_sender(fake, second, http, owner="b"),
        ]
        outcomes = await asyncio.gather(
            *(senders[i % 2].send(ZHANG, text(f"m{i}")) for i in range(10))
        )
    finally:
        await first.dispose()
        await second.dispose()
    assert outcomes == [Sent()] * 10
    assert fake.counts["gettoken"] == 1
    assert sum(s.tokens.fetches for s in senders) == 1


async def test_revoked_token_is_refetched_exactly_once(
    db: Database, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    sender = make_sender(fake, db, http)
    assert await sender.send(ZHANG, text("before")) == Sent()
    fake.revoke_tokens()
    outcomes = await asyncio.gather(*(sender.send(ZHANG, text(f"after {i}")) for i in range(10)))
    assert outcomes == [Sent()] * 10
    assert fake.counts["gettoken"] == 2  # the first fetch and one refetch, for ten refusals
    contents = sorted(a.content for a in fake.accepted)
    assert contents == sorted(["before", *(f"after {i}" for i in range(10))])


async def test_token_expiring_early_is_refetched_once_and_the_message_sent_once(
    db: Database, http: aiohttp.ClientSession
) -> None:
    # gettoken claims 7200 s, but the token dies after 0.3 s: WeCom may do that.
    async with FakeWeCom(token_ttl=0.3, expires_in=7200) as fake:
        sender = make_sender(fake, db, http)
        assert await sender.send(ZHANG, text("one")) == Sent()
        await asyncio.sleep(0.35)
        outcomes = await asyncio.gather(*(sender.send(ZHANG, text(f"two {i}")) for i in range(5)))
        assert outcomes == [Sent()] * 5
        assert fake.counts["gettoken"] == 2
        assert len(fake.accepted) == 6 and len({a.content for a in fake.accepted}) == 6


async def test_token_refused_after_the_refetch_too_is_a_retry(
    sqlite_db: Database, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    sender = make_sender(fake, sqlite_db, http)
    fake.inject("message/send", 40014, 42001)
    outcome = await sender.send(ZHANG, text("x"))
    assert isinstance(outcome, Retry) and "42001" in outcome.error
    assert fake.counts["gettoken"] == 2  # fetched once more, not in a loop
    assert fake.counts["message/send"] == 2
    assert fake.accepted == []


async def test_token_refreshed_a_few_minutes_before_expiry(
    sqlite_db: Database, fake: FakeWeCom, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    sender = make_sender(fake, sqlite_db, http, clock=clock)
    assert await sender.send(ZHANG, text("a")) == Sent()
    clock.advance(timedelta(seconds=7200 - 600))  # 10 minutes left: still fresh
    assert await sender.send(ZHANG, text("b")) == Sent()
    assert fake.counts["gettoken"] == 1
    clock.advance(timedelta(seconds=400))  # under 5 minutes left: refresh now
    assert await sender.send(ZHANG, text("c")) == Sent()
    assert fake.counts["gettoken"] == 2


async def test_while_another_process_refreshes_the_still_valid_token_is_used(
    sqlite_db: Database, fake: FakeWeCom, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    sender = make_sender(fake, sqlite_db, http, clock=clock)
    assert await sender.send(ZHANG, text("a")) == Sent()
    app = f"{fake.corp_id}:{fake.agent_id}"
    clock.advance(timedelta(seconds=7200 - 60))  # within the margin, not yet expired
    async with sqlite_db.transaction() as tx:
        assert await tx.tokens.begin_refresh(
            app, owner="other-process", now=clock.now(), lease=timedelta(seconds=30)
        )
    assert await sender.send(ZHANG, text("b")) == Sent()
    assert fake.counts["gettoken"] == 1  # no second fetch while the other one holds the lease


async def test_waits_for_the_process_that_is_fetching(
    sqlite_db: Database, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    clock = SystemClock()
    sender = make_sender(fake, sqlite_db, http, clock=clock)
    app = f"{fake.corp_id}:{fake.agent_id}"
    async with sqlite_db.transaction() as tx:
        assert await tx.tokens.begin_refresh(
            app, owner="other-process", now=clock.now(), lease=timedelta(seconds=30)
        )

    async def other_process_stores_a_token() -> None:
        await asyncio.sleep(0.3)
        reply = await WeComApi(http, fake.url, timeout=5).get_token(fake.corp_id, fake.secret)
        async with sqlite_db.transaction() as tx:
            await tx.tokens.store(
                app, token=reply.body["access_token"], expires_at=clock.now() + timedelta(hours=2)
            )

    other = asyncio.create_task(other_process_stores_a_token())
    assert await sender.send(ZHANG, text("waited")) == Sent()
    await other
    assert sender.tokens.fetches == 0
    assert fake.counts["gettoken"] == 1


async def test_invalidate_keeps_a_token_another_process_already_replaced(
    sqlite_db: Database, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    sender = make_sender(fake, sqlite_db, http)
    app = f"{fake.corp_id}:{fake.agent_id}"
    first = await sender.tokens.get()
    async with sqlite_db.transaction() as tx:
        await tx.tokens.store(
            app, token="newer-token", expires_at=SystemClock().now() + timedelta(hours=2)
        )
    await sender.tokens.invalidate(first)  # a stale copy must not erase the newer token
    assert await sender.tokens.get() == "newer-token"


async def test_a_refused_token_never_comes_back_from_a_concurrent_read(
    sqlite_db: Database, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    """A get() that read the row before the refusal finishes after it and caches the refused
    token again (seen under load: the retry failed with 40014 a second time)."""
    sender = make_sender(fake, sqlite_db, http)
    refused = await sender.tokens.get()
    stale = sender.tokens._cached  # what the concurrent reader had in hand
    fake.revoke_tokens()
    await sender.tokens.invalidate(refused)
    sender.tokens._cached = stale  # ... and puts back when it finishes
    fresh = await sender.tokens.get()
    assert fresh != refused
    assert fake.counts["gettoken"] == 2


# -- errcodes → outcomes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "expected", "alert"),
    [
        (-1, Retry, False),
        (45033, Retry, False),
        (45009, Throttled, False),
        (60020, Failed, True),
        (40001, Failed, True),
        (48002, Failed, True),
        (81013, Failed, False),
        (HttpError(502), Retry, False),
        (HttpError(503), Retry, False),
        (99999, Retry, False),  # unknown: retried, and attempts are bounded
    ],
)
async def test_errcodes_map_to_outcomes(
    sqlite_db: Database,
    fake: FakeWeCom,
    http: aiohttp.ClientSession,
    fault: Any,
    expected: type,
    alert: bool,
) -> None:
    sender = make_sender(fake, sqlite_db, http)
    fake.inject("message/send", fault)
    outcome = await sender.send(ZHANG, text("x"))
    assert isinstance(outcome, expected)
    if isinstance(outcome, Failed):
        assert outcome.alert is alert
    if fault == 81013:
        assert isinstance(outcome, Failed) and "zhangsan" in outcome.error
    assert fake.accepted == []


async def test_some_invalid_recipients_are_reported_with_sent(
    sqlite_db: Database, http: aiohttp.ClientSession
) -> None:
    async with FakeWeCom(invalid_users={"ghost"}) as fake:
        sender = make_sender(fake, sqlite_db, http)
        both = Address("member", "zhangsan|ghost", "member:zhangsan|ghost")
        assert await sender.send(both, text("x")) == Sent(invalid_recipients=("ghost",))
        alone = Address("member", "ghost", "member:ghost")
        outcome = await sender.send(alone, text("y"))
        assert isinstance(outcome, Failed)
        assert "81013" in outcome.error and "ghost" in outcome.error


async def test_timeout_is_a_retry_and_the_duplicate_check_absorbs_the_resend(
    sqlite_db: Database, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    sender = make_sender(fake, sqlite_db, http, request_timeout_seconds=0.2)
    await sender.tokens.get()
    fake.inject("message/send", Delay(0.4))  # WeCom still accepts it after we gave up
    outcome = await sender.send(ZHANG, text("slow"))
    assert isinstance(outcome, Retry) and "timed out" in outcome.error
    await asyncio.sleep(0.4)
    assert await sender.send(ZHANG, text("slow")) == Sent()
    assert [a.content for a in fake.accepted] == ["slow"]
    assert fake.counts["duplicate_suppressed"] == 1


async def test_without_duplicate_check_an_identical_message_goes_twice(
    sqlite_db: Database, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    sender = make_sender(fake, sqlite_db, http, duplicate_check_seconds=0)
    assert await sender.send(ZHANG, text("same")) == Sent()
    assert await sender.send(ZHANG, text("same")) == Sent()
    assert [a.content for a in fake.accepted] == ["same", "same"]


async def test_connection_refused_is_a_retry(
    sqlite_db: Database, http: aiohttp.ClientSession
) -> None:
    async with FakeWeCom() as fake:
        sender = make_sender(fake, sqlite_db, http, api_base=f"http://127.0.0.1:{free_port()}")
        outcome = await sender.send(ZHANG, text("x"))
    assert isinstance(outcome, Retry) and "gettoken" in outcome.error


@pytest.mark.parametrize(
    ("gettoken", "expected", "alert"),
    [
        (60020, Failed, True),
        (40001, Failed, True),
        (-1, Retry, False),
        (HttpError(500), Retry, False),
    ],
)
async def test_gettoken_failures(
    sqlite_db: Database,
    fake: FakeWeCom,
    http: aiohttp.ClientSession,
    gettoken: Any,
    expected: type,
    alert: bool,
) -> None:
    sender = make_sender(fake, sqlite_db, http)
    fake.inject("gettoken", gettoken)
    outcome = await sender.send(ZHANG, text("x"))
    assert isinstance(outcome, expected)
    if isinstance(outcome, Failed):
        assert outcome.alert is alert
    # The refresh lease was given back: the next call fetches at once.
    assert await sender.send(ZHANG, text("y")) == Sent()


async def test_wrong_secret_is_a_configuration_failure(
    sqlite_db: Database, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    sender = make_sender(fake, sqlite_db, http, secret="not-the-secret")
    outcome = await sender.send(ZHANG, text("x"))
    assert isinstance(outcome, Failed) and outcome.alert and "40001" in outcome.error


async def test_markdown_to_a_member_is_capped_at_2048_bytes(
    sqlite_db: Database, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    sender = make_sender(fake, sqlite_db, http)
    assert await sender.send(ZHANG, {"msgtype": "markdown", "content": "a" * 2048}) == Sent()
    outcome = await sender.send(ZHANG, {"msgtype": "markdown", "content": "a" * 2049})
    assert isinstance(outcome, Failed) and "2048" in outcome.error
    assert len(fake.accepted) == 1


async def test_group_without_a_channel_is_a_configuration_failure(
    sqlite_db: Database, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    sender = make_sender(fake, sqlite_db, http)
    outcome = await sender.send(Address("group", "7", "group:学习一组"), text("x"))
    assert isinstance(outcome, Failed) and outcome.alert


# -- group robots, app chats, AI-bot responses ----------------------------------------------


async def test_robot_text_mentions_and_markdown(
    sqlite_db: Database, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    sender = make_sender(fake, sqlite_db, http)
    robot = Address("robot", "robot-key-1", "robot:学习一组")
    assert await sender.send(robot, text("请打卡", mentions=["zhangsan"])) == Sent()
    markdown = {"msgtype": "markdown", "content": "**通知**", "mentions": ["lisi"]}
    assert await sender.send(robot, markdown) == Sent()
    first, second = fake.delivered("webhook/send", "robot-key-1")
    assert (first.msgtype, first.content, first.mentions) == ("text", "请打卡", ("zhangsan",))
    assert second.msgtype == "markdown" and "<@lisi>" in second.content
    assert fake.counts["markdown_mentions_ignored"] == 0  # no mentioned_list on markdown
    assert fake.counts["gettoken"] == 0  # robots need no token


async def test_robot_limits_are_checked_before_sending(
    sqlite_db: Database, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    sender = make_sender(fake, sqlite_db, http)
    robot = Address("robot", "k", "robot:g")
    assert await sender.send(robot, {"msgtype": "markdown", "content": "字" * 1365}) == Sent()
    for part in (text("a" * 2049), {"msgtype": "markdown", "content": "a" * 4097}):
        outcome = await sender.send(robot, part)
        assert isinstance(outcome, Failed) and not outcome.alert
    assert fake.counts["webhook/send"] == 1


async def test_robot_rate_limit_is_throttled(
    sqlite_db: Database, http: aiohttp.ClientSession
) -> None:
    async with FakeWeCom(robot_limit=2) as fake:
        sender = make_sender(fake, sqlite_db, http)
        robot = Address("robot", "k", "robot:g")
        outcomes = [await sender.send(robot, text(f"m{i}")) for i in range(3)]
        assert outcomes[:2] == [Sent(), Sent()]
        assert isinstance(outcomes[2], Throttled)
        assert fake.counts["rate_limited"] == 1


async def test_robot_key_given_as_a_whole_webhook_url(
    sqlite_db: Database, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    sender = make_sender(fake, sqlite_db, http)
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123"
    assert await sender.send(Address("robot", url, "robot:g"), text("x")) == Sent()
    assert [a.target for a in fake.accepted] == ["abc-123"]  # sent to api_base, not the URL


async def test_robot_removed_from_its_group_alerts(
    sqlite_db: Database, http: aiohttp.ClientSession
) -> None:
    async with FakeWeCom(robot_keys={"good"}) as fake:
        sender = make_sender(fake, sqlite_db, http)
        outcome = await sender.send(Address("robot", "gone", "robot:g"), text("x"))
        assert isinstance(outcome, Failed) and outcome.alert and "93000" in outcome.error


async def test_appchat_create_and_send(
    sqlite_db: Database, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    sender = make_sender(fake, sqlite_db, http)
    chatid = await sender.create_appchat(
        name="第一学习小组", owner="zhangsan", userlist=["zhangsan", "lisi", "wangwu"]
    )
    assert fake.chats[chatid] == ["zhangsan", "lisi", "wangwu"]
    chat = Address("appchat", chatid, "appchat:第一学习小组")
    assert await sender.send(chat, text("本周学习材料已发布")) == Sent()
    assert [a.content for a in fake.delivered("appchat/send", chatid)] == ["本周学习材料已发布"]
    outcome = await sender.send(Address("appchat", "nochat", "appchat:x"), text("x"))
    assert isinstance(outcome, Retry)  # an unknown code: retried, bounded by attempts


async def test_ai_bot_response_url_once(
    sqlite_db: Database, fake: FakeWeCom, http: aiohttp.ClientSession
) -> None:
    sender = make_sender(fake, sqlite_db, http)
    reply = Address("response_url", fake.response_url("code-1"), "aibot-response:1")
    assert await sender.send(reply, text("已收到您的请假申请")) == Sent()
    assert [(a.msgtype, a.content) for a in fake.accepted] == [("markdown", "已收到您的请假申请")]
    assert not isinstance(await sender.send(reply, text("again")), Sent)


# -- secrets ---------------------------------------------------------------------------------


async def test_no_secret_in_logs_or_errors(
    sqlite_db: Database, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    outcomes: list[Outcome] = []
    async with FakeWeCom(robot_keys={"robot-secret-key"}) as fake:
        sender = make_sender(fake, sqlite_db, http, request_timeout_seconds=0.2)
        # Revoke: a real 40014, so a second token is issued (and must not leak either).
        fake.inject("message/send", Revoke(), HttpError(502), Delay(0.5), 60020, 81013, -1)
        for _ in range(5):  # the first send makes two calls (refused, then refetched)
            outcomes.append(await sender.send(ZHANG, text("x")))
        robot = Address("robot", "robot-secret-key", "robot:g")
        fake.inject("webhook/send", 45009, HttpError(500), -1)
        for _ in range(3):
            outcomes.append(await sender.send(robot, text("x")))
        outcomes.append(
            await sender.send(Address("robot", "robot-wrong-key", "robot:h"), text("x"))
        )
        reply = Address("response_url", fake.response_url("resp-secret-code"), "aibot:1")
        fake.inject("aibot/response", HttpError(502))
        outcomes.append(await sender.send(reply, text("x")))
        refused = make_sender(fake, sqlite_db, http, secret="wrong-secret-value")
        refused.tokens.app = "other-app"  # its own token row
        outcomes.append(await refused.send(ZHANG, text("x")))
        dead = make_sender(fake, sqlite_db, http, api_base=f"http://127.0.0.1:{free_port()}")
        dead.tokens.app = "dead-app"
        outcomes.append(await dead.send(ZHANG, text("x")))
        secrets = [
            fake.secret,
            "wrong-secret-value",
            "robot-secret-key",
            "robot-wrong-key",
            "resp-secret-code",
            *fake.tokens_issued,
        ]
    assert len(fake.tokens_issued) >= 2
    assert not any(isinstance(o, Sent) for o in outcomes)
    # Our code and aiohttp's. (aiosqlite's DEBUG lines print SQL parameters, the stored token
    # among them: that logger must stay above DEBUG in production.)
    ours = [r for r in caplog.records if not r.name.startswith(("aiosqlite", "sqlalchemy"))]
    texts = [str(o) for o in outcomes]
    texts += [r.getMessage() for r in ours]
    texts += [logging.Formatter().format(r) for r in ours]
    for secret in secrets:
        assert not any(secret in t for t in texts), secret


# -- pure helpers ----------------------------------------------------------------------------


def test_payload_builders() -> None:
    body = message_body(
        agent_id=7, touser="a|b", msgtype="text", content="hi", duplicate_check_seconds=600
    )
    assert body == {
        "touser": "a|b",
        "msgtype": "text",
        "agentid": 7,
        "text": {"content": "hi"},
        "enable_duplicate_check": 1,
        "duplicate_check_interval": 600,
    }
    assert "enable_duplicate_check" not in message_body(
        agent_id=7, touser="a", msgtype="text", content="hi", duplicate_check_seconds=0
    )
    assert robot_body("text", "hi", ["a"]) == {
        "msgtype": "text",
        "text": {"content": "hi", "mentioned_list": ["a"]},
    }
    assert robot_body("markdown", "hi", ["a"]) == {
        "msgtype": "markdown",
        "markdown": {"content": "hi\n<@a>"},
    }
    full = "a" * 4096  # no room for the mention: the content is kept whole, the @ dropped
    assert robot_body("markdown", full, ["a"])["markdown"]["content"] == full
    assert robot_key("https://example.invalid/cgi-bin/webhook/send?key=k1&x=y") == "k1"
    assert robot_key("  k2 ") == "k2"
