"""Answers asked for in a group chat through the AI bot: the group reads only what is meant
for it. Really encrypted AI-bot callbacks go in over HTTP; what the fake WeCom accepted on the
response URL (the group) and through message/send (the asker alone) is what people saw."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.appkeys import RUNTIME
from bot.clock import FakeClock
from bot.dispatcher import SENT_PRIVATELY
from bot.runtime import Runtime
from handlers.help import MEMBER_HELP
from storage.models import Member
from tests.conftest import make_config
from tests.console_support import say
from tests.fakewecom import Accepted, FakeWeCom
from tests.harness import shanghai
from tests.wecom_client import AIBot, WeComApp, aibot_callback, aibot_text_payload

APP = WeComApp()
BOT = AIBot()
CHAT = "wrkSFfCgAAgroup3"
TITLE = "关于加强农村饮水工程管护的建议"
REPORT = f"社情民意：{TITLE}\n基本情况：水管老化。\n存在问题：无人管护。\n建议：设立专岗。"


@dataclass
class Group:
    client: TestClient[Any, Any]
    runtime: Runtime
    fake: FakeWeCom
    clock: FakeClock
    serial: int = 0

    async def mention(self, sender: str, text: str) -> tuple[list[str], list[str]]:
        """``@履职助手 text`` in the group: (what the group saw, what only the sender got)."""
        self.serial += 1
        code = f"code-{self.serial}"
        payload = aibot_text_payload(
            BOT,
            sender=sender,
            content=text,
            msg_id=f"msg-{self.serial}",
            chat_id=CHAT,
            response_url=self.fake.response_url(code),
        )
        callback = aibot_callback(BOT, payload, timestamp=self.clock.now())
        mark = len(self.fake.accepted)
        response = await callback.send(self.client, BOT.path)
        assert response.status == 200
        await self.settle()
        new: list[Accepted] = self.fake.accepted[mark:]
        group = [a.content for a in new if a.endpoint == "aibot/response"]
        private = [a.content for a in new if a.endpoint == "message/send" and a.target == sender]
        return group, private

    async def settle(self) -> None:
        async with asyncio.timeout(10):
            while True:
                await self.runtime.worker.drain()
                async with self.runtime.db.read() as tx:
                    if not await tx.deliveries.list(status="pending"):
                        return
                await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def group_chat(db_url: str) -> AsyncIterator[Group]:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with FakeWeCom(corp_id=APP.corp_id, secret=APP.secret, agent_id=APP.agent_id) as fake:
        config = make_config(
            db_url,
            wecom={**APP.config(), **BOT.config(), "api_base": fake.url},
            scheduler={"enabled": False},
        )
        app = create_app(config, clock=clock)
        async with TestClient(TestServer(app)) as client:
            runtime = app[RUNTIME]
            now = clock.now()
            async with runtime.db.transaction() as tx:
                group, _ = await tx.groups.get_or_create("第3学习小组", "study_group", now)
                await tx.members.add(
                    Member(
                        userid="mishu",
                        name="王秘书",
                        role="secretary",
                        created_at=now,
                        updated_at=now,
                    )
                )
                for userid, name in (("zhangwei", "张伟"), ("lina", "李娜")):
                    member = await tx.members.add(
                        Member(userid=userid, name=name, created_at=now, updated_at=now)
                    )
                    await tx.groups.add_member(group.id, member.id)
            await say(runtime, "lina", REPORT)  # SQ-2025-0001, waiting for review
            chat = Group(client, runtime, fake, clock)
            await chat.settle()
            yield chat


@pytest.mark.parametrize(
    ("sender", "text", "private_part"),
    [
        ("mishu", "待审", "SQ-2025-0001"),  # the review queue: numbers, titles, submitters
        ("mishu", "履职 李娜", "李娜"),  # someone's duty record and grade
        ("lina", "我的履职", "李娜"),  # one's own record
        ("lina", "我的社情民意", "SQ-2025-0001"),
        ("lina", "查询 SQ-2025-0001", TITLE),
        ("mishu", "查询 SQ-2025-0001", TITLE),
        ("lina", "我的打卡", ""),
    ],
)
async def test_private_answers_asked_in_a_group_go_privately(
    db_url: str, sender: str, text: str, private_part: str
) -> None:
    async with group_chat(db_url) as chat:
        group, private = await chat.mention(sender, text)
        assert group == [SENT_PRIVATELY], (text, group)
        assert private and private_part in "\n".join(private)
        for line in group:
            assert "SQ-" not in line and "李娜" not in line and TITLE not in line


async def test_what_the_group_may_read_is_still_posted_there(db_url: str) -> None:
    async with group_chat(db_url) as chat:
        group, private = await chat.mention("zhangwei", "帮助")
        assert (group, private) == ([MEMBER_HELP], [])
        group, private = await chat.mention("zhangwei", "这是什么")
        assert len(group) == 1 and "没有理解" in group[0] and private == []
        # A refusal carries nothing private: the group reads it where it was asked.
        group, private = await chat.mention("zhangwei", "待审")
        assert len(group) == 1 and "仅限机关秘书" in group[0] and private == []
        # Any other error may be about the asker's own things (here: their report's state).
        group, private = await chat.mention("lina", "重新提交 SQ-2025-0001")
        assert group == [SENT_PRIVATELY]
        assert len(private) == 1 and "不能重新提交" in private[0]
