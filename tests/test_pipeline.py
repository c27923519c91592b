"""The pipeline and dispatcher with fakes: no server, a real database, a fake clock."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.delivery.text import TEXT_LIMIT, split_utf8
from bot.dispatcher import (
    SENT_PRIVATELY,
    Context,
    Dispatcher,
    ParseContext,
    Router,
)
from bot.messages import Incoming
from bot.pipeline import INTERNAL_ERROR, NOT_IN_ROSTER, Pipeline
from handlers import routers
from handlers.help import MEMBER_HELP, OFFICE_HELP, TOPICS, every_help_text, help_text
from storage import Database
from storage.models import DialogState, Member
from tests.conftest import make_config


async def add_member(db: Database, userid: str, role: str = "member") -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    async with db.transaction() as tx:
        await tx.members.add(
            Member(userid=userid, name=f"委员{userid}", role=role, created_at=now, updated_at=now)
        )


def message(
    text: str, sender: str = "zhangwei", key: str | None = None, chat_id: str | None = None
) -> Incoming:
    return Incoming(
        channel="sandbox",
        sender=sender,
        text=text,
        sent_at=datetime(2025, 11, 25, 2, 0, tzinfo=UTC),
        dedup_key=key or f"k:{sender}:{text}",
        chat_id=chat_id,
    )


async def outbox_texts(db: Database) -> list[tuple[str, str]]:
    async with db.read() as tx:
        rows = await tx.deliveries.list()
    return [(row.target, row.payload["content"]) for row in rows]


@pytest.fixture
def cfg(db_url: str) -> Config:
    return make_config(db_url)


@pytest.fixture
def pipeline(db: Database, cfg: Config, clock: FakeClock) -> Pipeline:
    return Pipeline(db, Dispatcher(routers()), cfg, clock)


async def test_help_depends_on_role(db: Database, pipeline: Pipeline) -> None:
    await add_member(db, "zhangwei")
    await add_member(db, "mishu", role="secretary")
    await pipeline.handle(message("帮助"))
    await pipeline.handle(message("帮助", sender="mishu"))
    assert await outbox_texts(db) == [
        ("zhangwei", MEMBER_HELP),
        ("mishu", OFFICE_HELP),
    ]


async def test_unknown_text_gets_a_helpful_answer(db: Database, pipeline: Pipeline) -> None:
    await add_member(db, "zhangwei")
    await pipeline.handle(message("今天天气怎么样"))
    [(target, text)] = await outbox_texts(db)
    assert target == "zhangwei"
    assert text.startswith("抱歉，我没有理解「今天天气怎么样」。")
    assert "帮助" in text


async def test_stranger_gets_refusal_and_nothing_else(db: Database, pipeline: Pipeline) -> None:
    result = await pipeline.handle(message("帮助", sender="stranger"))
    assert not result.duplicate
    assert await outbox_texts(db) == [("stranger", NOT_IN_ROSTER)]


async def test_retry_of_the_same_message_does_nothing(db: Database, pipeline: Pipeline) -> None:
    await add_member(db, "zhangwei")
    results = await asyncio.gather(
        *(pipeline.handle(message("帮助", key="same")) for _ in range(4))
    )
    assert sorted(r.duplicate for r in results) == [False, True, True, True]
    assert len(await outbox_texts(db)) == 1
    async with db.read() as tx:
        assert await tx.inbound.count() == 1


# -- a dispatcher of test routes ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Boom:
    intent: ClassVar[str] = "boom"


@dataclass(frozen=True, slots=True)
class Start:
    intent: ClassVar[str] = "start"


@dataclass(frozen=True, slots=True)
class Secret:
    intent: ClassVar[str] = "secret"


def build_test_router() -> Router:
    router = Router("test")

    @router.message(lambda text, _: Boom() if text == "boom" else None)
    async def boom(_: Boom, ctx: Context) -> None:
        await ctx.tx.audit.record(at=ctx.now, actor="t", action="half-done", entity="x")
        raise RuntimeError("handler bug")

    @router.message(lambda text, _: Start() if text == "开始" else None)
    async def start(_: Start, ctx: Context) -> None:
        await ctx.start_dialog("ask", "name", {})
        ctx.reply("请输入标题")

    @router.message(
        lambda text, _: Secret() if text == "审核" else None,
        roles=["secretary"],
        denied="抱歉，审核仅限秘书。",
    )
    async def secret(_: Secret, ctx: Context) -> None:
        ctx.reply("审核中")

    @router.dialog("ask")
    async def ask(text: str, ctx: Context, dialog: DialogState) -> None:
        await ctx.end_dialog()
        ctx.reply(f"标题是：{text}")

    return router


@pytest.fixture
def test_pipeline(db: Database, cfg: Config, clock: FakeClock) -> Pipeline:
    return Pipeline(db, Dispatcher([build_test_router(), *routers()]), cfg, clock)


async def test_handler_crash_rolls_back_its_writes_but_answers(
    db: Database, test_pipeline: Pipeline
) -> None:
    await add_member(db, "zhangwei")
    await test_pipeline.handle(message("boom"))
    assert await outbox_texts(db) == [("zhangwei", INTERNAL_ERROR)]
    async with db.read() as tx:
        assert await tx.inbound.count() == 1
        assert [e.action for e in await tx.audit.recent()] == []


async def test_role_refusal(db: Database, test_pipeline: Pipeline) -> None:
    await add_member(db, "zhangwei")
    await add_member(db, "mishu", role="secretary")
    await test_pipeline.handle(message("审核"))
    await test_pipeline.handle(message("审核", sender="mishu"))
    assert await outbox_texts(db) == [("zhangwei", "抱歉，审核仅限秘书。"), ("mishu", "审核中")]


async def test_dialog_continues_cancels_and_times_out(
    db: Database, test_pipeline: Pipeline, clock: FakeClock
) -> None:
    await add_member(db, "zhangwei")
    await test_pipeline.handle(message("开始", key="1"))
    await test_pipeline.handle(message("关于饮水的建议", key="2"))
    await test_pipeline.handle(message("开始", key="3"))
    await test_pipeline.handle(message("取消", key="4"))
    await test_pipeline.handle(message("开始", key="5"))
    clock.advance(timedelta(minutes=31))
    await test_pipeline.handle(message("帮助", key="6"))
    texts = [text for _, text in await outbox_texts(db)]
    assert texts[:5] == [
        "请输入标题",
        "标题是：关于饮水的建议",
        "请输入标题",
        "已取消。",
        "请输入标题",
    ]
    assert texts[5] == MEMBER_HELP  # the expired dialog no longer captures the message


async def test_dialogs_are_per_chat_and_user(db: Database, test_pipeline: Pipeline) -> None:
    await add_member(db, "a")
    await add_member(db, "b")
    await test_pipeline.handle(message("开始", sender="a", key="1", chat_id="g1"))
    await test_pipeline.handle(message("开始", sender="b", key="2", chat_id="g1"))
    await test_pipeline.handle(message("甲的标题", sender="a", key="3", chat_id="g1"))
    await test_pipeline.handle(message("乙的标题", sender="b", key="4", chat_id="g1"))
    assert await outbox_texts(db) == [
        ("a", "请输入标题"),
        ("b", "请输入标题"),
        ("a", "标题是：甲的标题"),
        ("b", "标题是：乙的标题"),
    ]


def test_parse_contract_for_help_and_unknown() -> None:
    dispatcher = Dispatcher(routers())
    pctx = ParseContext("member", datetime(2025, 11, 25, 10, tzinfo=UTC))
    assert type(dispatcher.parse_for_role("帮助", pctx)).intent == "help"
    assert type(dispatcher.parse_for_role("？", pctx)).intent == "help"
    assert type(dispatcher.parse_for_role("随便说说", pctx)).intent == "unknown"


SHANGHAI = ZoneInfo("Asia/Shanghai")

# Placeholders in the help text, and what a member would put there.
HELP_PLACEHOLDERS = {
    "通知情况 编号": "通知情况 TZ-1",
    "停止定期通知 编号": "停止定期通知 DQ-2",
    "会议情况 编号": "会议情况 HY-3",
    "销号 编号": "销号 DB-4",
    "编号": "SQ-2025-0042",
    "任务号": "DB-4",
    "……": "请按时参加学习",
    "理由": "出差在外",
    "意见": "请补充数据",
    "级别": "市领导",
    "内容": "请研究落实",
    "部门": "市交通局",
    "姓名": "张伟",
}


@pytest.mark.parametrize("role", ["member", "secretary"])
def test_every_example_in_the_help_is_understood(role: str) -> None:
    """Each 「…」 the help tells people to send parses as a command, not as 'unknown'."""
    dispatcher = Dispatcher(routers())
    context = ParseContext(role, datetime(2025, 11, 25, 10, tzinfo=SHANGHAI), None)
    examples = [e for text in every_help_text(role) for e in re.findall(r"「(.*?)」", text)]
    assert len(examples) >= (25 if role == "member" else 45)
    for example in examples:
        text = example
        for placeholder, value in HELP_PLACEHOLDERS.items():
            text = text.replace(placeholder, value)
        value = dispatcher.parse_for_role(text, context)
        assert value is not None and value.intent not in ("unknown", "fallback"), text


@pytest.mark.parametrize("role", ["member", "secretary", "admin"])
def test_every_help_answer_fits_one_message(role: str) -> None:
    """帮助 and each 帮助 主题 are one WeCom text message (2,048 bytes), never split."""
    for text in every_help_text(role):
        assert split_utf8(text, TEXT_LIMIT) == [text], text[:20]
    assert help_text(role, "补卡") == help_text(role, "打卡")
    assert help_text(role, "天气").startswith("没有「天气」这个说明主题。")
    assert ("【秘书】" in help_text(role, "会议")) == (role != "member")
    assert set(TOPICS) >= {"打卡", "社情民意", "审核", "通知", "会议", "督办", "履职"}


async def test_help_on_a_topic_through_the_pipeline(db: Database, pipeline: Pipeline) -> None:
    await add_member(db, "zhangwei")
    await add_member(db, "mishu", role="secretary")
    await pipeline.handle(message("帮助 社情民意"))
    await pipeline.handle(message("帮助 审核", sender="mishu"))
    await pipeline.handle(message("帮助 审核", key="m-2"))
    assert await outbox_texts(db) == [
        ("zhangwei", help_text("member", "社情民意")),
        ("mishu", help_text("secretary", "审核")),
        ("zhangwei", help_text("member", "审核")),
    ]
    assert "查询 SQ-2025-0042" in help_text("member", "审核")


async def test_a_new_features_answer_in_a_group_is_private_by_default(
    db: Database, cfg: Config, clock: FakeClock
) -> None:
    """A feature that says nothing about privacy cannot leak into a group: its answer goes to
    the asker, the group (the AI bot's response URL) reads one line saying so."""
    router = Router("new-feature")

    @router.message(lambda text, _: Secret() if text == "我的秘密" else None)
    async def secret(_: Secret, ctx: Context) -> None:
        ctx.reply("您的记录：第一行")
        ctx.reply("您的记录：第二行")

    pipeline = Pipeline(db, Dispatcher([router, *routers()]), cfg, clock)
    await add_member(db, "zhangwei")
    url = "http://127.0.0.1:9/cgi-bin/aibot/response?response_code=x"
    handled = await pipeline.handle(
        replace(message("我的秘密", chat_id="wrGroup"), channel="aibot", response_url=url)
    )
    assert [(r.response_url, r.to_member, r.text) for r in handled.replies] == [
        (url, None, SENT_PRIVATELY),
        (None, "zhangwei", "您的记录：第一行"),
        (None, "zhangwei", "您的记录：第二行"),
    ]
    # Asked 1:1, the same answers go where they were asked, without the line.
    handled = await pipeline.handle(
        replace(message("我的秘密", key="k2"), channel="aibot", response_url=url)
    )
    assert [r.text for r in handled.replies] == ["您的记录：第一行", "您的记录：第二行"]
