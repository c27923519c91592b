"""End to end against WeCom's two edges at once: callbacks really encrypted with wechatpy go in
over HTTP, and the answers come out through the real aiohttp client to the fake WeCom API —
no sandbox anywhere. What the fake accepted is what a member would have seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import create_app
from bot.appkeys import RUNTIME
from bot.clock import FakeClock
from bot.media import MediaFetchError
from bot.runtime import Runtime, media_job, media_source
from bot.wechat.sender import ChannelSender
from handlers.help import MEMBER_HELP
from handlers.reports.media import MediaRun
from storage.models import InboundMessage, Member
from tests.conftest import make_config
from tests.fakewecom import Accepted, FakeWeCom
from tests.harness import shanghai
from tests.wecom_client import (
    Callback,
    WeComApp,
    encrypted_callback,
    event_xml,
    message_xml,
    text_message_xml,
)

APP = WeComApp()
ROBOT_KEY = "robot-key-group-3"


@dataclass
class Edge:
    client: TestClient[Any, Any]
    runtime: Runtime
    fake: FakeWeCom
    clock: FakeClock
    msg_ids: int = 9000

    async def say(self, sender: str, text: str) -> Callback:
        """A member's 1:1 text to the app, sent once; the callback, to send again."""
        self.msg_ids += 1
        now = self.clock.now()
        xml = text_message_xml(
            APP, sender=sender, content=text, msg_id=self.msg_ids, create_time=now
        )
        callback = encrypted_callback(APP, xml, timestamp=now)
        await self.post(callback)
        return callback

    async def send_file(self, sender: str, media_id: str, filename: str) -> None:
        self.msg_ids += 1
        now = self.clock.now()
        xml = message_xml(
            APP,
            "file",
            sender=sender,
            msg_id=self.msg_ids,
            create_time=now,
            MediaId=media_id,
            FileName=filename,
        )
        await self.post(encrypted_callback(APP, xml, timestamp=now))

    def click(self, sender: str, key: str, task_id: str, response_code: str) -> Callback:
        """A tap on a template card's button, as WeCom reports it."""
        now = self.clock.now()
        xml = event_xml(
            APP,
            "template_card_event",
            sender=sender,
            create_time=now,
            EventKey=key,
            TaskId=task_id,
            CardType="button_interaction",
            ResponseCode=response_code,
        )
        return encrypted_callback(APP, xml, timestamp=now)

    async def post(self, callback: Callback) -> None:
        response = await callback.send(self.client, APP.path)
        assert (response.status, await response.text()) == (200, "")

    async def settle(self) -> None:
        """Until nothing is pending: the background worker may hold a lease for a moment."""
        async with asyncio.timeout(10):
            while True:
                await self.runtime.worker.drain()
                async with self.runtime.db.read() as tx:
                    if not await tx.deliveries.list(status="pending"):
                        return
                await asyncio.sleep(0.01)

    def to(self, userid: str) -> list[Accepted]:
        return [a for a in self.fake.accepted if a.target == userid]

    async def inbound_count(self) -> int:
        async with self.runtime.db.read() as tx:
            return int(await tx.session.scalar(select(func.count(InboundMessage.id))) or 0)


@contextlib.asynccontextmanager
async def edge(db_url: str, **sections: dict[str, Any]) -> AsyncIterator[Edge]:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with FakeWeCom(corp_id=APP.corp_id, secret=APP.secret, agent_id=APP.agent_id) as fake:
        config = make_config(
            db_url,
            wecom={**APP.config(), "api_base": fake.url},
            scheduler={"enabled": False},
            **sections,
        )
        app = create_app(config, clock=clock)  # no sender given: the real WeComSender
        async with TestClient(TestServer(app)) as client:
            runtime = app[RUNTIME]
            await seed(runtime, clock)
            yield Edge(client, runtime, fake, clock)


async def seed(runtime: Runtime, clock: FakeClock) -> None:
    now = clock.now()
    async with runtime.db.transaction() as tx:
        group, _ = await tx.groups.get_or_create("第3学习小组", "study_group", now)
        group.robot_key = ROBOT_KEY
        await tx.members.add(
            Member(userid="mishu", name="王秘书", role="secretary", created_at=now, updated_at=now)
        )
        for userid, name in (("zhangwei", "张伟"), ("lina", "李娜")):
            member = await tx.members.add(
                Member(userid=userid, name=name, created_at=now, updated_at=now)
            )
            await tx.groups.add_member(group.id, member.id)


async def test_a_text_message_is_answered_through_message_send(db_url: str) -> None:
    async with edge(db_url) as e:
        await e.say("zhangwei", "帮助")
        await e.settle()
        [answer] = e.to("zhangwei")
        assert (answer.endpoint, answer.msgtype, answer.content) == (
            "message/send",
            "text",
            MEMBER_HELP,
        )


async def test_one_callback_delivered_four_times_in_20_s_is_one_record_and_one_answer(
    db_url: str,
) -> None:
    async with edge(db_url) as e:
        callback = await e.say("zhangwei", "帮助")
        for _ in range(3):  # WeCom's retries: the same request, seconds apart
            e.clock.advance(timedelta(seconds=5))
            await e.post(callback)
        await e.settle()
        assert await e.inbound_count() == 1
        assert len(e.to("zhangwei")) == 1


async def test_notice_card_is_clicked_acknowledged_and_updated_once(db_url: str) -> None:
    async with edge(db_url) as e:
        await e.say("zhangwei", "通知私信")  # wants private copies of group notices
        await e.say("mishu", "通知 第3学习小组：明天下午3点集中学习，请准时参加。")
        await e.settle()

        [group_post] = [a for a in e.fake.accepted if a.endpoint == "webhook/send"]
        assert group_post.target == ROBOT_KEY
        assert group_post.content.startswith("【通知 TZ-1】明天下午3点集中学习")
        [card_message] = [a for a in e.to("zhangwei") if a.msgtype == "template_card"]
        assert card_message.msgtype == "template_card"
        card = json.loads(card_message.content)
        assert card["card_type"] == "button_interaction"
        assert card["main_title"]["desc"] == "TZ-1"
        assert card["sub_title_text"] == "明天下午3点集中学习，请准时参加。"
        assert card["button_list"] == [{"text": "收到", "style": 1, "key": "ack:1"}]
        assert e.to("lina") == []  # no private copy asked for: the group post reaches her

        click = e.click("zhangwei", "ack:1", card["task_id"], "resp-code-1")
        await e.post(click)
        await e.post(click)  # WeCom's retry of the same event
        await e.settle()

        # The answer and the card's update go out side by side, in either order.
        reply, update = sorted(e.to("zhangwei")[2:], key=lambda a: a.endpoint)
        assert (reply.endpoint, reply.msgtype) == ("message/send", "text")
        assert reply.content.startswith("已确认收到通知 TZ-1")
        assert (update.endpoint, update.content) == ("message/update_template_card", "已收到")

        mark = len(e.fake.accepted)
        await e.say("mishu", "通知情况 TZ-1")
        await e.settle()
        [status] = e.fake.accepted[mark:]
        assert "已确认 1/2\n未确认（1）：李娜" in status.content


async def test_meeting_card_offers_attend_and_leave(db_url: str) -> None:
    async with edge(db_url) as e:
        await e.say("zhangwei", "通知私信")
        await e.say(
            "mishu",
            "会议通知 第3学习小组：11月28日下午3点在三楼会议室召开专题协商会，"
            "请于11月27日18:00前回复",
        )
        await e.settle()
        [card_message] = [a for a in e.to("zhangwei") if a.msgtype == "template_card"]
        card = json.loads(card_message.content)
        assert [(b["text"], b["key"]) for b in card["button_list"]] == [
            ("参加", "attend:1"),
            ("请假", "leave:1"),
        ]
        click = e.click("zhangwei", "leave:1", card["task_id"], "resp-code-2")
        await e.post(click)
        await e.settle()
        reply, update = sorted(e.to("zhangwei")[-2:], key=lambda a: a.endpoint)
        assert reply.content.startswith("已为您登记请假")
        assert (update.endpoint, update.content) == ("message/update_template_card", "已请假")


async def test_report_attachments_are_fetched_from_wecom_and_kept(
    db_url: str, tmp_path: Path
) -> None:
    media_dir = tmp_path / "media"
    async with edge(db_url, reports={"media_dir": str(media_dir)}) as e:
        e.fake.add_media("MEDIA-OK", b"%PDF-1.7 table", "application/pdf", "收费表.pdf")
        e.fake.add_media("MEDIA-GONE", b"never fetched")
        await e.say("zhangwei", "提交社情民意")
        await e.say("zhangwei", "关于规范校外培训机构收费的建议")
        await e.say("zhangwei", "跳过")
        await e.say("zhangwei", "基本情况：收费混乱。建议：联合监管。")
        await e.send_file("zhangwei", "MEDIA-OK", "收费表.pdf")
        await e.send_file("zhangwei", "MEDIA-GONE", "旧表.xls")
        await e.say("zhangwei", "确认提交")
        e.fake.expire_media("MEDIA-GONE")  # WeCom keeps media 3 days, or less
        e.fake.revoke_tokens()  # and may revoke the token early: fetched again, once

        job = media_job(e.runtime.config, e.runtime.db, e.runtime.wecom, e.clock)
        assert await job() == MediaRun(stored=1, failed=1)

        async with e.runtime.db.read() as tx:
            report = await tx.reports.by_number("SQ-2025-0001")
            assert report is not None
            items = await tx.reports.attachments(report.id)
        kept = {a.media_id: (a.status, a.stored_ref) for a in items}
        assert kept["MEDIA-GONE"][0] == "failed"  # 40007: no use trying again
        status, ref = kept["MEDIA-OK"]
        assert status == "stored"
        assert (media_dir / ref).read_bytes() == b"%PDF-1.7 table"
        assert ref.endswith("收费表.pdf")
        assert await job() == MediaRun()  # nothing left to fetch


async def test_the_servers_own_media_job_fetches_from_wecom_with_the_official_account_on(
    db_url: str, tmp_path: Path
) -> None:
    """With [wechat] configured the worker's sender is a channel sender wrapping the WeCom
    one; the media job the server schedules must still download from WeCom (it once fell
    back to the sandbox's placeholder bytes, and stored those as the member's file)."""
    official = {
        "app_id": "wx-test",
        "app_secret": "official-secret",
        "token": "official-token",
        "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    }
    media_dir = tmp_path / "media"
    async with edge(db_url, reports={"media_dir": str(media_dir)}, wechat=official) as e:
        assert isinstance(e.runtime.sender, ChannelSender)
        e.fake.add_media("MEDIA-OK", b"%PDF-1.7 table", "application/pdf", "收费表.pdf")
        await e.say("zhangwei", "提交社情民意")
        await e.say("zhangwei", "关于规范校外培训机构收费的建议")
        await e.say("zhangwei", "跳过")
        await e.say("zhangwei", "基本情况：收费混乱。建议：联合监管。")
        await e.send_file("zhangwei", "MEDIA-OK", "收费表.pdf")
        await e.say("zhangwei", "确认提交")
        scheduled = {name: job for name, _, job in e.runtime.planner._periodic}
        assert await scheduled["media"]() == MediaRun(stored=1)
        async with e.runtime.db.read() as tx:
            [report] = await tx.reports.listing()
            [item] = await tx.reports.attachments(report.id)
        assert (media_dir / (item.stored_ref or "")).read_bytes() == b"%PDF-1.7 table"


async def test_media_larger_than_the_limit_is_refused_without_reading_it_all(
    db_url: str,
) -> None:
    async with edge(db_url, reports={"max_attachment_bytes": 1000}) as e:
        e.fake.add_media("BIG", b"x" * 5000)
        source = media_source(e.runtime.config, e.runtime.wecom)
        with pytest.raises(MediaFetchError) as refused:
            await source.fetch("BIG")
        assert not refused.value.permanent
        assert "larger than 1000 bytes" in str(refused.value)
