"""The Official Account (公众号) end to end: really signed and encrypted callbacks in the three
modes, binding, a check-in counted once, passive replies, custom messages, the 48-hour window.

The whole server runs on loopback against the fake WeCom, which also serves the Official
Account's API (``fake.wechat``); the callbacks are built with wechatpy (tests/wechat_client.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import create_app
from bot.appkeys import RUNTIME
from bot.clock import FakeClock
from bot.config import Config
from bot.delivery.outbox import queue
from bot.messages import Incoming, Outgoing
from bot.runtime import Runtime
from bot.wechat.binding import ASK_CODE, HOW_TO_BIND
from bot.wechat.crypto import OfficialAccountEnvelope, plain_signature
from storage.models import Alert, CheckIn, Delivery, InboundMessage, Member
from tests.conftest import make_config
from tests.fakewecom import FakeWeCom
from tests.wechat_client import (
    OfficialAccount,
    callback,
    event_xml,
    read_reply,
    text_xml,
    url_check,
)

OPENID = "oAbCdEfGhIjKlMnOpQrStUvWxYz0"
MOBILE = "13800138000"
SECRETARY = "sunli"
GROUP = "第1学习小组"


@dataclass
class Server:
    client: TestClient[Any, Any]
    runtime: Runtime
    fake: FakeWeCom
    clock: FakeClock
    account: OfficialAccount
    mode: str
    msg_ids: int = 9000

    async def post(self, xml: str, *, openid: str = OPENID) -> tuple[int, str]:
        request = callback(
            self.account, xml, mode=self.mode, timestamp=self.clock.now(), openid=openid
        )
        response = await request.send(self.client, self.account.path)
        return response.status, await response.text()

    async def say(self, text: str, *, openid: str = OPENID) -> str:
        """Send ``text`` as the follower; the passive reply's text ("" when none)."""
        self.msg_ids += 1
        xml = text_xml(
            self.account,
            openid=openid,
            content=text,
            msg_id=self.msg_ids,
            create_time=self.clock.now(),
        )
        status, body = await self.post(xml, openid=openid)
        assert status == 200, body
        return self.reply_text(body)

    def reply_text(self, body: str) -> str:
        if body in ("", "success"):
            return ""
        reply = read_reply(self.account, body, encrypted=self.mode != "plain")
        assert reply["MsgType"] == "text"
        assert reply["ToUserName"] == OPENID and reply["FromUserName"] == self.account.original_id
        return str(reply["Content"])

    async def wecom_says(self, userid: str, text: str) -> None:
        """A message through the WeCom side (the secretary's chat), straight to the pipeline."""
        self.msg_ids += 1
        await self.runtime.pipeline.handle(
            Incoming(
                channel="sandbox",
                sender=userid,
                text=text,
                sent_at=self.clock.now(),
                dedup_key=f"test:{self.msg_ids}",
            )
        )

    async def add_member(
        self, name: str, *, userid: str | None, mobile: str | None, role: str = "member"
    ) -> Member:
        """A roster member; plain members are put into the study group."""
        now = self.clock.now()
        async with self.runtime.db.transaction() as tx:
            member = await tx.members.add(
                Member(
                    userid=userid,
                    mobile=mobile,
                    name=name,
                    role=role,
                    created_at=now,
                    updated_at=now,
                )
            )
            group, _ = await tx.groups.get_or_create(GROUP, "study_group", now)
            if role == "member":
                await tx.groups.add_member(group.id, member.id)
        return member

    async def bind(self, member: Member) -> None:
        assert ASK_CODE[:6] in await self.say(f"绑定 {member.mobile}")
        async with self.runtime.db.read() as tx:
            (pending,) = await tx.wechat.pending_bindings(self.account.app_id, self.clock.now())
        assert "绑定成功" in await self.say(pending.code)

    async def drain(self) -> None:
        """Send what is due, and wait until no delivery is leased (the background worker may
        hold one for a moment)."""
        await self.runtime.worker.drain()
        async with asyncio.timeout(5):
            while await self._leased():  # noqa: ASYNC110 - polling the database
                await asyncio.sleep(0.01)
            await self.runtime.worker.drain()

    async def _leased(self) -> bool:
        async with self.runtime.db.read() as tx:
            return any(
                d.status == "pending" and d.lease_owner and d.next_attempt_at <= self.clock.now()
                for d in await tx.deliveries.list()
            )

    async def count(self, model: Any) -> int:
        async with self.runtime.db.read() as tx:
            return int(await tx.session.scalar(select(func.count()).select_from(model)) or 0)


def config_for(db_url: str, fake: FakeWeCom, mode: str, **wechat: Any) -> Config:
    return make_config(
        db_url,
        wecom=fake.wecom_settings(),
        wechat=fake.wechat.settings(mode=mode, **wechat),
        scheduler={"enabled": False},
    )


@contextlib.asynccontextmanager
async def serve(
    db_url: str, clock: FakeClock, mode: str = "safe", **wechat: Any
) -> AsyncIterator[Server]:
    async with FakeWeCom() as fake:
        config = config_for(db_url, fake, mode, **wechat)
        account = OfficialAccount(
            config.wechat.app_id, config.wechat.token, config.wechat.encoding_aes_key
        )
        app = create_app(config, clock=clock)  # the real senders, against the fake
        async with TestClient(TestServer(app)) as client:
            yield Server(client, app[RUNTIME], fake, clock, account, mode)


@pytest.fixture
async def server(sqlite_url: str, clock: FakeClock) -> AsyncIterator[Server]:
    async with serve(sqlite_url, clock) as running:
        yield running


# -- the three modes, end to end ---------------------------------------------------------------


@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
async def test_binding_and_a_check_in_counted_once_in_each_mode(
    sqlite_url: str, clock: FakeClock, mode: str
) -> None:
    async with serve(sqlite_url, clock, mode) as s:
        member = await s.add_member("王芳", userid=None, mobile=MOBILE)
        await s.add_member("孙丽", userid=SECRETARY, mobile=None, role="secretary")
        await s.wecom_says(SECRETARY, f"开启打卡 {GROUP} 每周 周五20:00提醒 周一09:00汇总")

        # A stranger is told how to bind, in the passive reply.
        assert await s.say("打卡") == HOW_TO_BIND
        assert await s.count(CheckIn) == 0

        # 绑定 手机号 → the secretary sees the code (in chat) → the member sends it.
        assert ASK_CODE[:6] in await s.say(f"绑定 {MOBILE}")
        await s.wecom_says(SECRETARY, "绑定码")
        await s.drain()
        (listing,) = [
            a for a in s.fake.delivered("message/send", SECRETARY) if "绑定码" in a.content
        ]
        async with s.runtime.db.read() as tx:
            (pending,) = await tx.wechat.pending_bindings(s.account.app_id, clock.now())
        assert pending.member.id == member.id and pending.code in listing.content
        assert "138****8000" in listing.content
        assert "绑定成功" in await s.say(pending.code)

        # The check-in counts for the member's study-group campaign, once, however often
        # WeChat sends the callback.
        xml = text_xml(
            s.account,
            openid=OPENID,
            content="打卡 读《乡土中国》半小时",
            msg_id=4242,
            create_time=clock.now(),
        )
        status, body = await s.post(xml)
        assert status == 200
        answer = s.reply_text(body)
        assert "1/1" in answer, answer
        for _ in range(2):
            status, retry = await s.post(xml)
            assert status == 200 and s.reply_text(retry) == ""  # answered once, already
        async with s.runtime.db.read() as tx:
            (row,) = (await tx.session.scalars(select(CheckIn))).all()
            _, campaign = await tx.campaigns.of_study_group(member.id)
            assert campaign is not None and row.campaign_id == campaign.id
            assert row.member_id == member.id and row.minutes == 30
            keys = list(await tx.session.scalars(select(InboundMessage.dedup_key)))
        assert keys.count(f"mp:{s.account.app_id}:{OPENID}:4242") == 1
        await s.drain()
        # Every answer went passively: nothing through the customer-service API.
        assert s.fake.delivered("message/custom/send") == []


@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
async def test_url_check_answers_echostr_in_each_mode(
    sqlite_url: str, clock: FakeClock, mode: str
) -> None:
    async with serve(sqlite_url, clock, mode) as s:
        request, echo = url_check(s.account, timestamp=clock.now())
        response = await request.send(s.client, s.account.path)
        assert response.status == 200 and await response.text() == echo
        forged = request.with_query(signature="0" * 40)
        assert (await forged.send(s.client, s.account.path)).status == 403


# -- refusals ---------------------------------------------------------------------------------


async def test_forged_stale_unencrypted_and_hostile_requests_are_refused(server: Server) -> None:
    xml = text_xml(
        server.account, openid=OPENID, content="打卡", msg_id=1, create_time=server.clock.now()
    )
    good = callback(server.account, xml, mode="safe", timestamp=server.clock.now(), openid=OPENID)
    path = server.account.path

    async def status(request: Any) -> int:
        return (await request.send(server.client, path)).status

    assert await status(good.with_query(msg_signature="0" * 40)) == 403
    assert await status(good.with_query(signature="")) == 200  # safe mode signs the ciphertext
    plain = callback(
        server.account, xml, mode="plain", timestamp=server.clock.now(), openid=OPENID
    )
    assert await status(plain) == 403  # safe mode takes no plaintext
    stale = callback(
        server.account,
        xml,
        mode="safe",
        timestamp=server.clock.now() - timedelta(hours=5),
        openid=OPENID,
    )
    assert await status(stale) == 403
    assert await status(good.with_body(b"<!DOCTYPE x [<!ENTITY a 'b'>]><xml/>")) == 400
    assert await status(good.with_body(b"x" * (300 * 1024))) == 413
    # Only the one good request was stored.
    assert await server.count(InboundMessage) == 1


async def test_plain_mode_refuses_a_wrong_signature_and_a_dtd(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with serve(sqlite_url, clock, "plain") as s:
        xml = text_xml(s.account, openid=OPENID, content="打卡", msg_id=1, create_time=clock.now())
        good = callback(s.account, xml, mode="plain", timestamp=clock.now(), openid=OPENID)
        assert (
            await good.with_query(signature="f" * 40).send(s.client, s.account.path)
        ).status == 403
        hostile = good.with_body('<!DOCTYPE xml [<!ENTITY e "x">]><xml><A>&e;</A></xml>')
        assert (await hostile.send(s.client, s.account.path)).status == 400
        assert await s.count(InboundMessage) == 0


@pytest.mark.parametrize("mode", ["compatible", "safe"])
async def test_encrypted_modes_take_only_the_signed_encrypted_form(
    sqlite_url: str, clock: FakeClock, mode: str
) -> None:
    """In 兼容 and 安全 modes a plain body (signed by nothing: ``signature`` covers only
    timestamp and nonce) is refused, whatever else the query says."""
    async with serve(sqlite_url, clock, mode) as s:
        xml = text_xml(s.account, openid=OPENID, content="打卡", msg_id=1, create_time=clock.now())
        plain = callback(s.account, xml, mode="plain", timestamp=clock.now(), openid=OPENID)
        assert (await plain.send(s.client, s.account.path)).status == 403
        no_aes = plain.with_query(encrypt_type="raw")
        assert (await no_aes.send(s.client, s.account.path)).status == 403
        assert await s.count(InboundMessage) == 0
        good = callback(s.account, xml, mode=mode, timestamp=clock.now(), openid=OPENID)
        assert (await good.send(s.client, s.account.path)).status == 200
        assert await s.count(InboundMessage) == 1


@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
async def test_a_nonce_seen_once_cannot_carry_another_request(
    sqlite_url: str, clock: FakeClock, mode: str
) -> None:
    async with serve(sqlite_url, clock, mode) as s:
        first = text_xml(
            s.account, openid=OPENID, content="帮助", msg_id=1, create_time=clock.now()
        )
        other = text_xml(
            s.account, openid=OPENID, content="打卡", msg_id=2, create_time=clock.now()
        )
        sent = callback(
            s.account, first, mode=mode, timestamp=clock.now(), openid=OPENID, nonce="424242"
        )
        assert (await sent.send(s.client, s.account.path)).status == 200
        # WeChat's retry is the very same request: accepted (and deduplicated).
        clock.advance(timedelta(seconds=5))
        assert (await sent.send(s.client, s.account.path)).status == 200
        # The same signature, timestamp and nonce with another body: refused, hours later too.
        clock.advance(timedelta(hours=2))
        replayed = sent.with_body(other.encode("utf-8"))
        assert (await replayed.send(s.client, s.account.path)).status in (400, 403)
        if mode == "plain":
            assert (await replayed.send(s.client, s.account.path)).status == 403
        # Even correctly signed again (what a leaked token could do), the nonce is spent.
        again = callback(
            s.account, other, mode=mode, timestamp=clock.now(), openid=OPENID, nonce="424242"
        )
        assert (await again.send(s.client, s.account.path)).status == 403
        assert await s.count(InboundMessage) == 1


async def test_plain_mode_says_at_start_up_that_bodies_are_unauthenticated(
    sqlite_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING"):
        async with serve(sqlite_url, clock, "plain"):
            pass
    assert any("NOT authenticated" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING"):
        async with serve(sqlite_url, clock, "safe"):
            pass
    assert not any("NOT authenticated" in r.getMessage() for r in caplog.records)


def test_plain_signature_matches_wechatpy() -> None:
    from wechatpy.utils import check_signature

    signature = plain_signature("tok", "1700000000", "42")
    check_signature("tok", signature, "1700000000", "42")
    envelope = OfficialAccountEnvelope("plain", "tok", None)
    query = {"signature": signature, "timestamp": "1700000000", "nonce": "42"}
    assert envelope.open(query, b"<xml/>").plaintext == "<xml/>"


# -- passive reply or customer-service message ----------------------------------------------


async def test_a_reply_not_ready_in_time_goes_through_custom_send(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with serve(sqlite_url, clock, "safe", passive_reply_seconds=0.0) as s:
        assert await s.say("你好") == ""  # no passive reply: "success"
        await s.drain()
        (sent,) = s.fake.delivered("message/custom/send", OPENID)
        assert sent.content == HOW_TO_BIND


async def test_a_subscribe_event_greets_a_stranger(server: Server) -> None:
    xml = event_xml(
        server.account, openid=OPENID, event="subscribe", create_time=server.clock.now()
    )
    status, body = await server.post(xml)
    assert status == 200 and server.reply_text(body) == HOW_TO_BIND


async def test_the_48_hour_window_decides_custom_or_template(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with serve(sqlite_url, clock, "safe", template_id="TPL-remind") as s:
        member = await s.add_member("王芳", userid=None, mobile=MOBILE)
        await s.bind(member)
        reminder = (
            "【打卡提醒】王芳您好，第1学习小组本周的学习打卡还没有完成，请在周日24时前发送打卡。"
        )

        async def remind(key: str) -> None:
            async with s.runtime.db.transaction() as tx:
                await queue(
                    tx, Outgoing(reminder, to_member=f"#{member.id}"), key=key, now=clock.now()
                )
            await s.drain()

        await remind("r1")  # inside the window: the whole text as a custom message
        assert [a.content for a in s.fake.delivered("message/custom/send", OPENID)] == [reminder]

        clock.advance(timedelta(hours=49))  # outside: the template, values cut to 20 characters
        await remind("r2")
        (template,) = s.fake.delivered("message/template/send", OPENID)
        assert "履职助手提醒" in template.content and "…" in template.content

        await s.say("收到")  # a message opens the window again
        s.fake.wechat.close_window(OPENID)  # …but WeChat says it is closed (45015)
        await remind("r3")
        async with s.runtime.db.read() as tx:
            r3 = await tx.deliveries.by_key("r3")
        assert r3 is not None and r3.status == "pending" and "45015" in (r3.last_error or "")
        clock.advance(timedelta(minutes=20))  # the retry goes as a template
        await s.drain()
        assert len(s.fake.delivered("message/template/send", OPENID)) == 2


async def test_outside_the_window_without_a_template_the_delivery_dies_visibly(
    server: Server,
) -> None:
    member = await server.add_member("王芳", userid=None, mobile=MOBILE)
    await server.bind(member)
    server.clock.advance(timedelta(hours=49))
    async with server.runtime.db.transaction() as tx:
        await queue(
            tx, Outgoing("提醒", to_member=f"#{member.id}"), key="late", now=server.clock.now()
        )
    await server.drain()
    async with server.runtime.db.read() as tx:
        late = await tx.deliveries.by_key("late")
        alerts = list(await tx.session.scalars(select(Alert)))
    assert late is not None and late.status == "dead" and "template_id" in (late.last_error or "")
    assert any("template_id" in a.message for a in alerts)


# -- one message, one channel ----------------------------------------------------------------


async def test_a_member_on_both_channels_gets_each_message_once_where_they_prefer(
    db_url: str, clock: FakeClock
) -> None:
    async with serve(db_url, clock) as server:  # both backends: routing and the passive claim
        await _each_message_once(server)


async def _each_message_once(server: Server) -> None:
    member = await server.add_member("张伟", userid="zhangwei", mobile=MOBILE)
    await server.bind(member)

    async def notify(key: str) -> None:
        async with server.runtime.db.transaction() as tx:
            await queue(
                tx,
                Outgoing("通知：明天开会", to_member="zhangwei"),
                key=key,
                now=server.clock.now(),
            )
        await server.drain()

    await notify("n1")  # default for a member with a userid: WeCom only
    assert len(server.fake.delivered("message/send", "zhangwei")) == 1
    assert server.fake.delivered("message/custom/send", OPENID) == []

    assert "公众号" in await server.say("接收方式 微信")
    await notify("n2")  # now the Official Account only
    assert len(server.fake.delivered("message/send", "zhangwei")) == 1
    assert [a.content for a in server.fake.delivered("message/custom/send", OPENID)] == [
        "通知：明天开会"
    ]
    async with server.runtime.db.read() as tx:
        statuses = {d.idempotency_key: d.status for d in await tx.deliveries.list()}
    assert statuses["n1"] == statuses["n2"] == "sent"


async def test_unknown_numbers_get_the_same_answer_and_no_visible_code(server: Server) -> None:
    await server.add_member("王芳", userid=None, mobile=MOBILE)
    assert ASK_CODE[:6] in await server.say("绑定 13900000000")
    async with server.runtime.db.read() as tx:
        assert await tx.wechat.pending_bindings(server.account.app_id, server.clock.now()) == []
    answers = [await server.say(f"{n:06d}") for n in range(5)]
    assert "错误次数过多" in answers[-1]
    assert "错误次数过多" in await server.say(f"绑定 {MOBILE}")  # locked for a while
    assert await server.count(Delivery) >= 1
