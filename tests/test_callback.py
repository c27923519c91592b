"""The WeCom callbacks over HTTP, with really encrypted requests (wechatpy on WeCom's side).

The whole server runs on loopback (aiohttp's TestServer) with a SandboxSender in place of
WeCom: the replies a callback causes are read back from the outbox and from the sandbox. Every
refusal also checks that nothing was stored.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import create_app
from bot.appkeys import RUNTIME
from bot.clock import FakeClock
from bot.config import Config
from bot.delivery.sandbox import SandboxMessage, SandboxSender
from bot.messages import Incoming
from bot.pipeline import NOT_IN_ROSTER, Handled
from bot.runtime import Runtime
from bot.wecom.crypto import (
    CallbackCrypto,
    DecryptionFailed,
    InvalidSignature,
    MalformedXml,
    StaleTimestamp,
    UnsafeXml,
    check_freshness,
    parse_xml,
)
from bot.wecom.inbound import MalformedMessage, from_aibot_json, from_app_xml
from handlers.common import EMPTY_OR_MEDIA
from handlers.help import MEMBER_HELP
from storage.models import Delivery, InboundMessage, Member
from tests.conftest import make_config
from tests.wecom_client import (
    AIBot,
    Callback,
    WeComApp,
    aibot_callback,
    aibot_text_payload,
    cdata,
    encrypted_callback,
    event_xml,
    message_xml,
    seal,
    sign,
    text_message_xml,
    unix,
    url_verification,
)

APP = WeComApp()
BOT = AIBot()
MEMBER = "zhangwei"


# -- the server under test -------------------------------------------------------------------


@dataclass
class Server:
    client: TestClient[Any, Any]
    runtime: Runtime
    sandbox: SandboxSender
    clock: FakeClock

    async def send(self, callback: Callback, path: str = APP.path) -> tuple[int, str]:
        response = await callback.send(self.client, path)
        return response.status, await response.text()

    async def add_member(self, userid: str = MEMBER) -> None:
        now = self.clock.now()
        async with self.runtime.db.transaction() as tx:
            await tx.members.add(
                Member(userid=userid, name="张伟", created_at=now, updated_at=now)
            )

    async def inbound(self) -> list[InboundMessage]:
        # The repository has no listing (the app never needs one): read the table directly.
        async with self.runtime.db.read() as tx:
            rows = await tx.session.scalars(select(InboundMessage).order_by(InboundMessage.id))
            return list(rows)

    async def deliveries(self) -> list[Delivery]:
        async with self.runtime.db.read() as tx:
            return await tx.deliveries.list()

    async def delivered(self, count: int) -> list[SandboxMessage]:
        """Drain the outbox and wait until the sandbox holds ``count`` messages."""
        await self.runtime.worker.drain()
        async with asyncio.timeout(5):
            # The background worker may hold a lease on the last one for a moment.
            while len(self.sandbox.messages) < count:  # noqa: ASYNC110 - polling a deque
                await asyncio.sleep(0.01)
        return list(self.sandbox.messages)

    async def assert_nothing_stored(self) -> None:
        assert await self.inbound() == []
        assert await self.deliveries() == []


def wecom_config(db_url: str, **sections: dict[str, Any]) -> Config:
    # No planner: nothing here is scheduled, and its ticks would only race the assertions.
    return make_config(
        db_url, wecom={**APP.config(), **BOT.config()}, scheduler={"enabled": False}, **sections
    )


@contextlib.asynccontextmanager
async def serve(config: Config, clock: FakeClock) -> AsyncIterator[Server]:
    # Credentials are configured, so without ``sender=`` the runtime would build a real
    # WeComSender: always hand it the sandbox.
    sandbox = SandboxSender(clock)
    app = create_app(config, clock=clock, sender=sandbox)
    async with TestClient(TestServer(app)) as client:
        yield Server(client, app[RUNTIME], sandbox, clock)


@pytest.fixture
async def server(sqlite_url: str, clock: FakeClock) -> AsyncIterator[Server]:
    async with serve(wecom_config(sqlite_url), clock) as running:
        yield running


def text_callback(
    clock: FakeClock, content: str = "帮助", *, msg_id: int = 7001, sender: str = MEMBER
) -> Callback:
    now = clock.now()
    xml = text_message_xml(APP, sender=sender, content=content, msg_id=msg_id, create_time=now)
    return encrypted_callback(APP, xml, timestamp=now)


def signed_body(encrypted: str, *, timestamp: datetime, nonce: str = "424242") -> Callback:
    """A POST whose Encrypt is ``encrypted`` as it is, correctly signed with the app's token:
    whatever goes wrong afterwards is the decryption's business, not the signature's."""
    ts = unix(timestamp)
    body = f"<xml><ToUserName>{cdata(APP.corp_id)}</ToUserName><Encrypt>{cdata(encrypted)}"
    body += f"</Encrypt><AgentID>{APP.agent_id}</AgentID></xml>"
    query = {
        "msg_signature": sign(APP.token, ts, nonce, encrypted),
        "timestamp": ts,
        "nonce": nonce,
    }
    return Callback("POST", query, body.encode("utf-8"), {"Content-Type": "text/xml"})


# -- URL verification ------------------------------------------------------------------------


async def test_url_verification_answers_the_plaintext_alone(server: Server) -> None:
    callback, echo = url_verification(APP, timestamp=server.clock.now())
    response = await callback.send(server.client, APP.path)
    assert response.status == 200
    assert await response.read() == echo.encode("ascii")  # no quotes, BOM or newline


async def test_url_verification_survives_a_plus_sent_as_is(server: Server) -> None:
    # The ciphertext starts with 16 random bytes: seal until it holds a '+' (2 in 3 do).
    for _ in range(100):
        callback, echo = url_verification(APP, timestamp=server.clock.now())
        if "+" in callback.query["echostr"]:
            break
    else:
        pytest.fail("no ciphertext with a '+' in 100 tries")
    # Unencoded: the '+' reaches the server's query parser as a space.
    raw = "&".join(f"{k}={v}" for k, v in callback.query.items())
    response = await server.client.get(f"{APP.path}?{raw}")
    assert response.status == 200
    assert await response.text() == echo


@pytest.mark.parametrize(
    "change",
    [
        {"msg_signature": "0" * 40},
        {"msg_signature": ""},
        {"echostr": ""},
        {"nonce": "other"},
        {"echostr": "bm90IHRoZSBzaWduZWQgb25l"},
    ],
)
async def test_url_verification_refuses_what_was_not_signed(
    server: Server, change: dict[str, str]
) -> None:
    callback, _ = url_verification(APP, timestamp=server.clock.now())
    status, body = await server.send(callback.with_query(**change))
    assert status == 403
    assert body == "forbidden"


async def test_url_verification_refuses_a_stale_request(server: Server) -> None:
    callback, _ = url_verification(APP, timestamp=server.clock.now() - timedelta(hours=5))
    status, body = await server.send(callback)
    assert (status, body) == (403, "forbidden: stale timestamp")


async def test_aibot_url_verification_uses_an_empty_receive_id(server: Server) -> None:
    callback, echo = url_verification(BOT, timestamp=server.clock.now())
    response = await callback.send(server.client, BOT.path)
    assert response.status == 200
    assert await response.text() == echo


# -- messages from the self-built app --------------------------------------------------------


async def test_member_text_is_stored_and_answered(server: Server) -> None:
    await server.add_member()
    now = server.clock.now()

    status, body = await server.send(text_callback(server.clock, "帮助"))

    assert (status, body) == (200, "")  # never a passive reply
    [row] = await server.inbound()
    assert row.dedup_key == f"app:{APP.agent_id}:{MEMBER}:7001"
    assert (row.channel, row.sender, row.chat_id, row.msg_type, row.content) == (
        "app",
        MEMBER,
        None,
        "text",
        "帮助",
    )
    assert row.sent_at == now.replace(microsecond=0)
    assert "<Content><![CDATA[帮助]]></Content>" in row.raw
    [delivery] = await server.deliveries()
    assert (delivery.channel, delivery.target) == ("member", MEMBER)
    [sent] = await server.delivered(1)
    assert (sent.address.kind, sent.address.value, sent.text) == ("member", MEMBER, MEMBER_HELP)


async def test_the_callback_answers_fast(server: Server) -> None:
    await server.add_member()
    callback = text_callback(server.clock, "你好")
    started = time.perf_counter()
    status, _ = await server.send(callback)
    elapsed = time.perf_counter() - started
    assert status == 200
    assert elapsed < 1.0  # "well under 1 s" (WeCom gives 5 s); no network I/O at all


async def test_retries_are_stored_once_and_answered_once(db_url: str, clock: FakeClock) -> None:
    async with serve(wecom_config(db_url), clock) as server:
        await server.add_member()
        now = clock.now()
        xml = text_message_xml(APP, sender=MEMBER, content="帮助", msg_id=8123, create_time=now)
        callback = encrypted_callback(APP, xml, timestamp=now)

        # WeCom's retries: the same request again, and freshly encrypted copies (new random
        # prefix, nonce and timestamp) of the same message, one after the other...
        assert await server.send(callback) == (200, "")
        assert await server.send(callback) == (200, "")
        clock.advance(timedelta(seconds=5))
        again = encrypted_callback(APP, xml, timestamp=clock.now())
        assert await server.send(again) == (200, "")
        assert await server.send(encrypted_callback(APP, xml, timestamp=clock.now())) == (200, "")
        # ...and all at once.
        results = await asyncio.gather(*(server.send(callback) for _ in range(4)))
        assert results == [(200, "")] * 4

        assert len(await server.inbound()) == 1
        assert len(await server.deliveries()) == 1
        assert [m.text for m in await server.delivered(1)] == [MEMBER_HELP]


async def test_a_first_delivery_racing_its_retries_is_stored_once(
    db_url: str, clock: FakeClock
) -> None:
    async with serve(wecom_config(db_url), clock) as server:
        await server.add_member()
        now = clock.now()
        xml = text_message_xml(APP, sender=MEMBER, content="帮助", msg_id=9, create_time=now)
        copies = [encrypted_callback(APP, xml, timestamp=now) for _ in range(4)]
        results = await asyncio.gather(*(server.send(c) for c in copies))
        assert results == [(200, "")] * 4
        assert len(await server.inbound()) == 1
        assert len(await server.deliveries()) == 1


async def test_two_messages_are_two_rows(server: Server) -> None:
    await server.add_member()
    await server.send(text_callback(server.clock, "帮助", msg_id=1))
    await server.send(text_callback(server.clock, "帮助", msg_id=2))
    assert len(await server.inbound()) == 2


async def test_a_stranger_gets_a_polite_refusal_and_nothing_else(server: Server) -> None:
    status, _ = await server.send(text_callback(server.clock, "帮助", sender="lisi"))
    assert status == 200
    [row] = await server.inbound()
    assert row.sender == "lisi"
    [delivery] = await server.deliveries()
    assert (delivery.target, delivery.payload["content"]) == ("lisi", NOT_IN_ROSTER)
    [sent] = await server.delivered(1)
    assert (sent.address.value, sent.text) == ("lisi", NOT_IN_ROSTER)


async def test_media_is_recorded_with_its_type_and_answered_politely(server: Server) -> None:
    await server.add_member()
    now = server.clock.now()
    xml = message_xml(
        APP,
        "image",
        sender=MEMBER,
        msg_id=55,
        create_time=now,
        PicUrl="http://127.0.0.1/p.jpg",
        MediaId="media-1",
    )
    assert await server.send(encrypted_callback(APP, xml, timestamp=now)) == (200, "")
    [row] = await server.inbound()
    assert (row.msg_type, row.content) == ("image", "")
    [delivery] = await server.deliveries()
    assert delivery.payload["content"] == EMPTY_OR_MEDIA


async def test_events_are_stored_once_by_payload_hash(server: Server) -> None:
    await server.add_member()
    now = server.clock.now()
    xml = event_xml(APP, "enter_agent", sender=MEMBER, create_time=now, EventKey="")
    for _ in range(3):
        callback = encrypted_callback(APP, xml, timestamp=now)
        assert await server.send(callback) == (200, "")
    [row] = await server.inbound()
    assert row.dedup_key == "event:" + hashlib.sha256(xml.encode("utf-8")).hexdigest()
    assert (row.msg_type, row.content) == ("event:enter_agent", "")
    # The same event a second later is another event.
    later = event_xml(APP, "enter_agent", sender=MEMBER, create_time=now + timedelta(seconds=1))
    await server.send(encrypted_callback(APP, later, timestamp=now))
    assert len(await server.inbound()) == 2


# -- refusals: nothing is stored -------------------------------------------------------------


async def test_forged_signature_is_refused(server: Server) -> None:
    callback = text_callback(server.clock)
    forged = callback.with_query(msg_signature=sign("guessed", "1", "2", "3"))
    assert await server.send(forged) == (403, "forbidden")
    await server.assert_nothing_stored()


@pytest.mark.parametrize("dropped", ["msg_signature", "timestamp", "nonce"])
async def test_missing_signature_fields_are_refused(server: Server, dropped: str) -> None:
    callback = text_callback(server.clock)
    query = {k: v for k, v in callback.query.items() if k != dropped}
    assert await server.send(Callback("POST", query, callback.body)) == (403, "forbidden")
    await server.assert_nothing_stored()


async def test_a_changed_timestamp_breaks_the_signature(server: Server) -> None:
    callback = text_callback(server.clock)
    moved = str(int(callback.query["timestamp"]) + 1)
    assert await server.send(callback.with_query(timestamp=moved)) == (403, "forbidden")
    await server.assert_nothing_stored()


async def test_wrong_token_is_refused(server: Server) -> None:
    now = server.clock.now()
    xml = text_message_xml(APP, sender=MEMBER, content="帮助", msg_id=1, create_time=now)
    callback = encrypted_callback(APP, xml, timestamp=now, token="not-our-token")
    assert await server.send(callback) == (403, "forbidden")
    await server.assert_nothing_stored()


@pytest.mark.parametrize("offset", [timedelta(hours=-4), timedelta(hours=4), timedelta(days=-30)])
async def test_stale_timestamp_is_refused(server: Server, offset: timedelta) -> None:
    await server.add_member()
    now = server.clock.now()
    xml = text_message_xml(APP, sender=MEMBER, content="帮助", msg_id=1, create_time=now)
    callback = encrypted_callback(APP, xml, timestamp=now + offset)
    assert await server.send(callback) == (403, "forbidden: stale timestamp")
    await server.assert_nothing_stored()


async def test_a_timestamp_within_the_tolerance_is_accepted(server: Server) -> None:
    await server.add_member()
    now = server.clock.now()
    xml = text_message_xml(APP, sender=MEMBER, content="帮助", msg_id=1, create_time=now)
    callback = encrypted_callback(APP, xml, timestamp=now - timedelta(hours=2, minutes=50))
    assert await server.send(callback) == (200, "")


@pytest.mark.parametrize(
    "encrypted",
    [
        "this is not base64!",
        "@@@@",
        base64.b64encode(b"short").decode(),  # not a whole AES block
        base64.b64encode(bytes(64)).decode(),  # blocks, but not our key's: bad padding
    ],
)
async def test_garbled_ciphertext_is_refused(server: Server, encrypted: str) -> None:
    callback = signed_body(encrypted, timestamp=server.clock.now())
    assert await server.send(callback) == (403, "forbidden")
    await server.assert_nothing_stored()


@pytest.mark.parametrize("keep_bytes", [16, 32, 47, 48])
async def test_truncated_ciphertext_is_refused(server: Server, keep_bytes: int) -> None:
    await server.add_member()
    now = server.clock.now()
    xml = text_message_xml(APP, sender=MEMBER, content="帮助" * 20, msg_id=1, create_time=now)
    encrypted, *_ = seal(
        xml,
        token=APP.token,
        encoding_aes_key=APP.encoding_aes_key,
        receive_id=APP.corp_id,
        timestamp=now,
    )
    raw = base64.b64decode(encrypted)
    cut = base64.b64encode(raw[: len(raw) - keep_bytes]).decode()
    assert await server.send(signed_body(cut, timestamp=now)) == (403, "forbidden")
    await server.assert_nothing_stored()


async def test_another_corps_message_is_refused(server: Server) -> None:
    await server.add_member()
    now = server.clock.now()
    xml = text_message_xml(APP, sender=MEMBER, content="帮助", msg_id=1, create_time=now)
    callback = encrypted_callback(APP, xml, timestamp=now, receive_id="wwsomeothercorp0000")
    assert await server.send(callback) == (403, "forbidden")
    await server.assert_nothing_stored()


async def test_another_key_is_refused(server: Server) -> None:
    await server.add_member()
    now = server.clock.now()
    other = WeComApp(encoding_aes_key=BOT.encoding_aes_key)
    xml = text_message_xml(APP, sender=MEMBER, content="帮助", msg_id=1, create_time=now)
    assert await server.send(encrypted_callback(other, xml, timestamp=now)) == (403, "forbidden")
    await server.assert_nothing_stored()


async def test_another_apps_message_is_refused(server: Server) -> None:
    await server.add_member()
    now = server.clock.now()
    other = WeComApp(agent_id=1000099)
    xml = text_message_xml(other, sender=MEMBER, content="帮助", msg_id=1, create_time=now)
    assert await server.send(encrypted_callback(APP, xml, timestamp=now)) == (400, "bad request")
    await server.assert_nothing_stored()


@pytest.mark.parametrize(
    "body",
    [
        b"<xml><Encrypt>abc</Encrypt>",  # not well-formed
        b"<xml><ToUserName>corp</ToUserName><AgentID>1</AgentID></xml>",  # no Encrypt
        b"<xml><Encrypt></Encrypt></xml>",  # empty Encrypt
        b"<other><Encrypt>abc</Encrypt></other>",  # not WeCom's root
        b'{"encrypt": "abc"}',  # JSON instead of XML
        b"",  # nothing
        "<xml><Encrypt>é</Encrypt></xml>".encode("latin-1"),  # not UTF-8
    ],
)
async def test_malformed_bodies_are_refused(server: Server, body: bytes) -> None:
    callback = text_callback(server.clock).with_body(body)
    assert await server.send(callback) == (400, "bad request")
    await server.assert_nothing_stored()


XXE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>x</ToUserName><Encrypt>&xxe;</Encrypt></xml>"
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]><xml><Encrypt>&lol9;</Encrypt></xml>"
)
SNEAKY_CASE = '<!doctype xml [<!entity a "b">]><xml><Encrypt>&a;</Encrypt></xml>'


@pytest.mark.parametrize("document", [XXE, BILLION_LAUGHS, SNEAKY_CASE])
async def test_dtds_in_the_body_are_refused(server: Server, document: str) -> None:
    callback = text_callback(server.clock).with_body(document)
    assert await server.send(callback) == (400, "bad request")
    await server.assert_nothing_stored()


@pytest.mark.parametrize("document", [XXE, BILLION_LAUGHS])
async def test_dtds_inside_the_encrypted_payload_are_refused(
    server: Server, document: str
) -> None:
    await server.add_member()
    inner = document.replace("<Encrypt>", f"<FromUserName>{MEMBER}</FromUserName><Content>")
    inner = inner.replace("</Encrypt>", "</Content><MsgType>text</MsgType><MsgId>1</MsgId>")
    callback = encrypted_callback(APP, inner, timestamp=server.clock.now())
    assert await server.send(callback) == (400, "bad request")
    await server.assert_nothing_stored()


async def test_a_body_over_the_limit_is_refused(server: Server) -> None:
    callback = text_callback(server.clock).with_body(b"<xml>" + b"A" * 10_000_000 + b"</xml>")
    assert (await server.send(callback))[0] == 413
    await server.assert_nothing_stored()


async def test_a_chunked_body_over_the_limit_is_refused(server: Server) -> None:
    callback = text_callback(server.clock)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"<xml><Encrypt>"
        for _ in range(40):  # 10 MB in all, with no Content-Length
            yield b"A" * 256_000

    response = await server.client.post(callback.url(APP.path), data=chunks())
    assert response.status == 413
    response.release()
    await server.assert_nothing_stored()


# -- the pipeline failing --------------------------------------------------------------------


async def test_a_message_that_could_not_be_stored_gets_a_500(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    await server.add_member()

    async def broken(_: Incoming) -> Handled:
        raise ConnectionError("database went away")

    callback = text_callback(server.clock)
    monkeypatch.setattr(server.runtime.pipeline, "handle", broken)
    assert (await server.send(callback))[0] == 500  # WeCom will retry: that is what we want
    await server.assert_nothing_stored()
    monkeypatch.undo()
    assert await server.send(callback) == (200, "")  # ...and the retry is stored
    assert len(await server.inbound()) == 1


async def test_a_failure_after_storing_still_answers_200(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    await server.add_member()
    real: Callable[[Incoming], Awaitable[Handled]] = server.runtime.pipeline.handle

    async def stores_then_fails(incoming: Incoming) -> Handled:
        await real(incoming)
        raise RuntimeError("after the commit")

    monkeypatch.setattr(server.runtime.pipeline, "handle", stores_then_fails)
    assert await server.send(text_callback(server.clock)) == (200, "")
    assert len(await server.inbound()) == 1


# -- the AI bot ------------------------------------------------------------------------------

RESPONSE_URL = "http://127.0.0.1:9/cgi-bin/aibot/response?response_code=abc"


async def test_aibot_group_mention_is_stored_and_answered_through_the_response_url(
    server: Server,
) -> None:
    await server.add_member()
    payload = aibot_text_payload(
        BOT,
        sender=MEMBER,
        content="帮助",
        msg_id="CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=",
        chat_id="wrkSFfCgAAtest",
        response_url=RESPONSE_URL,
    )
    callback = aibot_callback(BOT, payload, timestamp=server.clock.now())

    for _ in range(3):
        assert await server.send(callback, BOT.path) == (200, "")

    [row] = await server.inbound()
    assert row.dedup_key == f"aibot:{BOT.aibot_id}:CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI="
    assert (row.channel, row.sender, row.chat_id, row.content) == (
        "aibot",
        MEMBER,
        "wrkSFfCgAAtest",
        "帮助",
    )
    [delivery] = await server.deliveries()
    assert (delivery.channel, delivery.target) == ("response_url", RESPONSE_URL)
    [sent] = await server.delivered(1)
    assert (sent.address.kind, sent.address.value, sent.text) == (
        "response_url",
        RESPONSE_URL,
        MEMBER_HELP,
    )


async def test_aibot_single_chat_has_no_chat_id(server: Server) -> None:
    await server.add_member()
    payload = aibot_text_payload(
        BOT, sender=MEMBER, content="帮助", msg_id="m-1", response_url=RESPONSE_URL
    )
    assert await server.send(
        aibot_callback(BOT, payload, timestamp=server.clock.now()), BOT.path
    ) == (200, "")
    [row] = await server.inbound()
    assert (row.chat_id, row.content) == (None, "帮助")


@pytest.mark.parametrize(
    "body", [b"<xml><Encrypt>abc</Encrypt></xml>", b"{not json", b"[]", b'{"encrypt": 5}', b"{}"]
)
async def test_aibot_malformed_envelopes_are_refused(server: Server, body: bytes) -> None:
    payload = aibot_text_payload(BOT, sender=MEMBER, content="帮助", msg_id="m-1")
    callback = aibot_callback(BOT, payload, timestamp=server.clock.now()).with_body(body)
    assert await server.send(callback, BOT.path) == (400, "bad request")
    await server.assert_nothing_stored()


@pytest.mark.parametrize(
    "plaintext",
    [
        "{not json",
        "[1, 2]",
        json.dumps({"msgtype": "text", "text": {"content": "x"}}),  # no msgid, aibotid, from
        json.dumps(
            {
                "msgid": "1",
                "aibotid": "b",
                "from": {"userid": "u"},
                "msgtype": "text",
                "text": {"content": "x"},
                "response_url": "file:///etc/passwd",
            }
        ),
    ],
)
async def test_aibot_malformed_payloads_are_refused(server: Server, plaintext: str) -> None:
    callback = aibot_callback(BOT, plaintext, timestamp=server.clock.now())
    assert await server.send(callback, BOT.path) == (400, "bad request")
    await server.assert_nothing_stored()


async def test_aibot_forgeries_are_refused(server: Server) -> None:
    payload = aibot_text_payload(BOT, sender=MEMBER, content="帮助", msg_id="m-1")
    now = server.clock.now()
    wrong_token = aibot_callback(BOT, payload, timestamp=now, token="nope")
    wrong_key = aibot_callback(
        AIBot(encoding_aes_key=APP.encoding_aes_key), payload, timestamp=now
    )
    stale = aibot_callback(BOT, payload, timestamp=now - timedelta(days=1))
    for callback in (wrong_token, wrong_key, stale):
        assert (await server.send(callback, BOT.path))[0] == 403
    # The app's callback is sealed for the corp id, not the AI bot's "".
    assert (await server.send(text_callback(server.clock), BOT.path))[0] == 400
    await server.assert_nothing_stored()


# -- which routes exist ----------------------------------------------------------------------


async def test_sandbox_mode_has_no_callback(sqlite_url: str, clock: FakeClock) -> None:
    async with serve(make_config(sqlite_url, scheduler={"enabled": False}), clock) as server:
        assert (await server.send(text_callback(clock)))[0] == 404
        assert (await server.send(text_callback(clock), BOT.path))[0] == 404


async def test_the_aibot_callback_exists_only_when_configured(
    sqlite_url: str, clock: FakeClock
) -> None:
    config = make_config(sqlite_url, wecom=APP.config(), scheduler={"enabled": False})
    async with serve(config, clock) as server:
        payload = aibot_text_payload(BOT, sender=MEMBER, content="帮助", msg_id="m-1")
        callback = aibot_callback(BOT, payload, timestamp=clock.now())
        assert (await server.send(callback, BOT.path))[0] == 404


# -- the pieces on their own -----------------------------------------------------------------


def test_crypto_round_trips_with_wechatpy() -> None:
    crypto = CallbackCrypto(APP.token, APP.encoding_aes_key, APP.corp_id)
    encrypted, signature, ts, nonce = seal(
        "你好",
        token=APP.token,
        encoding_aes_key=APP.encoding_aes_key,
        receive_id=APP.corp_id,
        timestamp=1_700_000_000,
    )
    assert crypto.decrypt(signature, ts, nonce, encrypted) == "你好"
    assert signature == sign(APP.token, ts, nonce, encrypted)
    ours, our_signature = crypto.encrypt("再见", "n1", "1700000000")
    assert crypto.decrypt(our_signature, "1700000000", "n1", ours) == "再见"
    # A different last digit (replacing it with a fixed "0" left it unchanged one time in 16).
    tampered = our_signature[:-1] + ("1" if our_signature[-1] == "0" else "0")
    with pytest.raises(InvalidSignature):
        crypto.decrypt(tampered, "1700000000", "n1", ours)
    with pytest.raises(DecryptionFailed):
        CallbackCrypto(APP.token, APP.encoding_aes_key, "").decrypt(
            our_signature, "1700000000", "n1", ours
        )


def test_freshness_window() -> None:
    now = datetime(2025, 11, 25, 2, 0, tzinfo=UTC)
    check_freshness(unix(now - timedelta(minutes=59)), now, timedelta(hours=1))
    for bad in (unix(now - timedelta(minutes=61)), unix(now + timedelta(hours=2)), "x", ""):
        with pytest.raises(StaleTimestamp):
            check_freshness(bad, now, timedelta(hours=1))


def test_parse_xml_refuses_dtds_before_parsing() -> None:
    with pytest.raises(UnsafeXml):
        parse_xml(XXE)
    with pytest.raises(UnsafeXml):
        parse_xml("<xml><a>1</a></xml><!ENTITY x 'y'>")
    with pytest.raises(MalformedXml):
        parse_xml("<xml>just text</xml>")
    assert parse_xml("<xml><A><![CDATA[<b>]]></A><B/></xml>") == {"A": "<b>", "B": None}


def test_app_voice_with_recognition_keeps_the_text() -> None:
    now = datetime(2025, 11, 25, 2, 0, tzinfo=UTC)
    xml = message_xml(
        APP,
        "voice",
        sender=MEMBER,
        msg_id=3,
        create_time=now,
        MediaId="m",
        Format="amr",
        Recognition="帮助",
    )
    incoming = from_app_xml(xml, agent_id=APP.agent_id)
    assert (incoming.msg_type, incoming.text) == ("voice", "帮助")


def test_app_message_without_msgid_is_malformed() -> None:
    xml = (
        f"<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime>"
        f"<MsgType>text</MsgType><Content>x</Content><AgentID>{APP.agent_id}</AgentID></xml>"
    )
    with pytest.raises(MalformedMessage):
        from_app_xml(xml, agent_id=APP.agent_id)


def test_aibot_translation_of_other_shapes() -> None:
    received = datetime(2025, 11, 25, 2, 0, tzinfo=UTC)
    base = {
        "msgid": "m",
        "aibotid": "b",
        "chattype": "group",
        "chatid": "c",
        "from": {"userid": "u"},
        "response_url": RESPONSE_URL,
    }
    mixed = {
        **base,
        "msgtype": "mixed",
        "mixed": {
            "msg_item": [
                {"msgtype": "text", "text": {"content": "@履职助手\u2005打卡 读书"}},
                {"msgtype": "image", "image": {"url": "http://127.0.0.1/i"}},
                {"msgtype": "text", "text": {"content": "30分钟"}},
            ]
        },
    }
    incoming = from_aibot_json(json.dumps(mixed), received_at=received)
    assert incoming is not None
    assert (incoming.text, incoming.sent_at) == ("打卡 读书\n30分钟", received)
    event = {
        **base,
        "msgtype": "event",
        "create_time": 1_700_000_000,
        "event": {"eventtype": "enter_chat"},
    }
    incoming = from_aibot_json(json.dumps(event), received_at=received)
    assert incoming is not None
    assert (incoming.msg_type, incoming.text) == ("event:enter_chat", "")
    assert incoming.sent_at == datetime.fromtimestamp(1_700_000_000, UTC)
    stream = {**base, "msgtype": "stream", "stream": {"id": "s"}}
    assert from_aibot_json(json.dumps(stream), received_at=received) is None
