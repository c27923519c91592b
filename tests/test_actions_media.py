"""What the edge types on Incoming (a message's media, a card button's action) and how a
button reaches the feature that registered it (``@router.action``), or a clear answer."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.dispatcher import UNKNOWN_ACTION, Context, Dispatcher, Router
from bot.messages import Action, Media
from bot.pipeline import Pipeline
from bot.wechat.inbound import from_mp_xml
from bot.wecom.inbound import from_aibot_json, from_app_xml
from handlers import routers
from storage import Database
from storage.models import DialogState, Member
from tests.conftest import make_config

AGENT = 1000002


def card_click(key: str, *, sender: str = "zhangwei", code: str = "rc-1") -> str:
    return (
        f"<xml><ToUserName>corp</ToUserName><FromUserName>{sender}</FromUserName>"
        "<CreateTime>1764118800</CreateTime><MsgType>event</MsgType>"
        f"<Event>template_card_event</Event><EventKey>{key}</EventKey>"
        "<TaskId>t-1</TaskId><CardType>button_interaction</CardType>"
        f"<ResponseCode>{code}</ResponseCode><AgentID>{AGENT}</AgentID></xml>"
    )


def media_message(kind: str, media_id: str, *, msg_id: int = 1, **extra: str) -> str:
    fields = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in extra.items())
    return (
        "<xml><ToUserName>corp</ToUserName><FromUserName>zhangwei</FromUserName>"
        f"<CreateTime>1764118800</CreateTime><MsgType>{kind}</MsgType>"
        f"<MediaId><![CDATA[{media_id}]]></MediaId>{fields}<MsgId>{msg_id}</MsgId>"
        f"<AgentID>{AGENT}</AgentID></xml>"
    )


# -- the edge ---------------------------------------------------------------------------------


def test_the_app_edge_types_a_messages_media() -> None:
    image = from_app_xml(media_message("image", "m-1", PicUrl="http://x/p"), agent_id=AGENT)
    assert (image.text, image.media, image.action) == ("", Media("image", "m-1", ""), None)
    file = from_app_xml(media_message("file", "m-2", FileName="调研.docx"), agent_id=AGENT)
    assert file.media == Media("file", "m-2", "调研.docx")
    video = from_app_xml(media_message("video", "m-3", Title="现场"), agent_id=AGENT)
    assert video.media == Media("video", "m-3", "现场")
    text = from_app_xml(
        "<xml><ToUserName>corp</ToUserName><FromUserName>zhangwei</FromUserName>"
        "<CreateTime>1764118800</CreateTime><MsgType>text</MsgType><Content>帮助</Content>"
        f"<MsgId>9</MsgId><AgentID>{AGENT}</AgentID></xml>",
        agent_id=AGENT,
    )
    assert (text.media, text.action) == (None, None)
    # An id longer than WeCom's is cut to what a draft keeps (200 characters).
    long = from_app_xml(media_message("image", "m" * 500), agent_id=AGENT)
    assert long.media is not None and long.media.media_id == "m" * 200


def test_the_app_edge_types_a_card_click_as_an_action() -> None:
    click = from_app_xml(card_click("attend:12", code="code-9"), agent_id=AGENT)
    assert click.action == Action("attend", "12", "code-9")
    assert click.action.number == 12
    assert (click.text, click.msg_type, click.media) == ("", "event:template_card_event", None)
    odd = from_app_xml(card_click("vote"), agent_id=AGENT)
    assert odd.action == Action("vote", "", "rc-1") and odd.action.number is None
    assert Action("ack", "abc").number is None and Action("ack", "1" * 13).number is None
    # Any other event (a menu click, entering the app) is no button of ours.
    menu = from_app_xml(
        card_click("ack:1").replace("template_card_event", "click"), agent_id=AGENT
    )
    assert menu.action is None


def test_the_other_channels_type_what_they_carry() -> None:
    mp = from_mp_xml(
        "<xml><ToUserName>gh_1</ToUserName><FromUserName>openid-1</FromUserName>"
        "<CreateTime>1764118800</CreateTime><MsgType>image</MsgType>"
        "<PicUrl>http://x/p</PicUrl><MediaId>mp-1</MediaId><MsgId>5</MsgId></xml>",
        app_id="wx1",
    )
    assert (mp.media, mp.action) == (Media("image", "mp-1", ""), None)
    # The AI bot's pictures come as URLs, not media ids: nothing a draft could keep.
    aibot = from_aibot_json(
        json.dumps(
            {
                "msgid": "m",
                "aibotid": "b",
                "chattype": "single",
                "from": {"userid": "zhangwei"},
                "msgtype": "image",
                "image": {"url": "http://127.0.0.1/i"},
            }
        ),
        received_at=datetime(2025, 11, 26, 1, 0, tzinfo=UTC),
    )
    assert aibot is not None and (aibot.media, aibot.action) == (None, None)


# -- routing a button -------------------------------------------------------------------------


@pytest.fixture
def cfg(db_url: str) -> Config:
    return make_config(db_url)


async def add_member(db: Database, userid: str) -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    async with db.transaction() as tx:
        await tx.members.add(
            Member(userid=userid, name="张伟", role="member", created_at=now, updated_at=now)
        )


async def outbox(db: Database) -> list[tuple[str, str, str]]:
    async with db.read() as tx:
        rows = await tx.deliveries.list()
    return [(row.channel, row.target, row.payload["content"]) for row in rows]


def poll_router(pressed: list[Action]) -> Router:
    """A feature of the test's own: a card with a 投票 button, and a dialog to interrupt."""
    router = Router("poll")

    @router.action("vote", done="已投票")
    async def vote(action: Action, ctx: Context) -> None:
        pressed.append(action)
        ctx.reply(f"已记下您的投票（第{action.number}号）。")

    @router.dialog("poll-note")
    async def note(text: str, ctx: Context, dialog: DialogState) -> None:
        await ctx.end_dialog()
        ctx.reply(f"备注：{text}")

    return router


async def test_a_button_goes_to_the_router_that_registered_it(
    db: Database, cfg: Config, clock: FakeClock
) -> None:
    pressed: list[Action] = []
    pipeline = Pipeline(db, Dispatcher([poll_router(pressed), *routers()]), cfg, clock)
    await add_member(db, "zhangwei")
    handled = await pipeline.handle(from_app_xml(card_click("vote:7"), agent_id=AGENT))
    assert pressed == [Action("vote", "7", "rc-1")]
    assert [r.text for r in handled.replies] == ["已记下您的投票（第7号）。"]
    # The clicked card's buttons become what the feature said (one update, by response code).
    assert await outbox(db) == [
        ("member", "zhangwei", "已记下您的投票（第7号）。"),
        ("card_update", "rc-1", "已投票"),
    ]


def test_each_feature_owns_its_buttons() -> None:
    """The product's buttons are registered by the features that send their cards: notices
    its 收到, meetings 参加 / 请假, tasks 完成 (no feature dispatches another's)."""
    owners = {
        name: route.handler.__module__ for name, route in Dispatcher(routers()).actions.items()
    }
    assert sorted(owners) == ["ack", "attend", "done", "leave"]
    assert owners["ack"].startswith("handlers.notices")
    assert owners["attend"].startswith("handlers.meetings")
    assert owners["leave"].startswith("handlers.meetings")
    assert owners["done"].startswith("handlers.tasks")


def test_two_routers_may_not_claim_one_button() -> None:
    with pytest.raises(ValueError, match="vote"):
        Dispatcher([poll_router([]), poll_router([])])


@pytest.mark.parametrize("key", ["vote:1", "ack:abc", "attend:"])
async def test_an_unknown_button_gets_a_clear_chinese_answer(
    db: Database, cfg: Config, clock: FakeClock, key: str
) -> None:
    """A button nobody registered (a card from an older version, a forged key), or one of
    ours naming no row: an answer in Chinese, never silence, and the card is left alone."""
    pipeline = Pipeline(db, Dispatcher(routers()), cfg, clock)
    await add_member(db, "zhangwei")
    await pipeline.handle(from_app_xml(card_click(key), agent_id=AGENT))
    assert UNKNOWN_ACTION == (
        "抱歉，这个按钮已失效，无法处理。请直接回复文字，发送「帮助」查看我能做什么。"
    )
    assert await outbox(db) == [("member", "zhangwei", UNKNOWN_ACTION)]


async def test_a_button_pressed_in_the_middle_of_a_dialog_leaves_it_open(
    db: Database, cfg: Config, clock: FakeClock
) -> None:
    """A click is not the answer the dialog waits for: it is handled as the button it is, and
    the next words still go to the dialog."""
    pressed: list[Action] = []
    pipeline = Pipeline(db, Dispatcher([poll_router(pressed), *routers()]), cfg, clock)
    await add_member(db, "zhangwei")
    async with db.transaction() as tx:
        await tx.dialogs.save(
            "single:zhangwei",
            "zhangwei",
            kind="poll-note",
            state="waiting",
            data={},
            now=clock.now(),
            lifetime=timedelta(minutes=cfg.dialog.timeout_minutes),
        )
    handled = await pipeline.handle(from_app_xml(card_click("vote:3"), agent_id=AGENT))
    assert [r.text for r in handled.replies] == ["已记下您的投票（第3号）。"]
    text = from_app_xml(
        "<xml><ToUserName>corp</ToUserName><FromUserName>zhangwei</FromUserName>"
        "<CreateTime>1764118800</CreateTime><MsgType>text</MsgType><Content>周五前</Content>"
        f"<MsgId>10</MsgId><AgentID>{AGENT}</AgentID></xml>",
        agent_id=AGENT,
    )
    handled = await pipeline.handle(text)
    assert [r.text for r in handled.replies] == ["备注：周五前"]


def test_no_feature_reads_the_channels_payload() -> None:
    """Features read ``Incoming``'s typed fields; ``raw`` (the decrypted XML or JSON) is the
    edge's and the inbound record's alone. Checked in the source, as the layer rules are."""
    root = Path(__file__).resolve().parent.parent / "handlers"
    readers = sorted(
        str(path.relative_to(root.parent))
        for path in root.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute)
        and node.attr == "raw"
        and isinstance(node.value, ast.Attribute | ast.Name)
        and getattr(node.value, "attr", getattr(node.value, "id", "")) == "incoming"
    )
    assert readers == []
