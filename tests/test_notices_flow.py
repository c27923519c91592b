"""Notice scenarios with an injected clock: a broadcast to three groups acknowledged by some
and chased once across restarts, acknowledgments that pick the latest notice in the chat,
scheduled notices, private copies, template-card clicks, and recurring notices over the 2025
National Day holiday."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.delivery.sandbox import SandboxMessage
from bot.messages import Action, Incoming
from bot.wecom.inbound import from_app_xml
from tests.conftest import make_config
from tests.harness import Bot, running_bot, shanghai

GROUPS = ("第3学习小组", "第5学习小组", "第7学习小组")
NOTICE = (
    "通知 第3学习小组、第5学习小组、第7学习小组：11月28日下午3点在三楼会议室集中学习，请准时参加。"
)
POST = "【通知 TZ-1】11月28日下午3点在三楼会议室集中学习，请准时参加。\n（请回复「收到」确认）"


@pytest.fixture
def cfg(db_url: str) -> Config:
    return make_config(db_url)


async def seed(bot: Bot) -> None:
    await bot.add_member("mishu", "王秘书", role="secretary")
    for group in GROUPS:
        digit = group[1]
        for n in range(1, 4):
            await bot.add_member(f"g{digit}m{n}", f"委员{digit}{n}", group=group)


async def said(bot: Bot, user: str, text: str, group: str | None = None) -> list[SandboxMessage]:
    """What the bot sent anywhere in answer, with addresses."""
    mark = len(bot.sandbox.messages)
    await bot.say(user, text, group=group)
    return list(bot.sandbox.messages)[mark:]


def where(messages: list[SandboxMessage]) -> list[tuple[str, str]]:
    return sorted((m.address.kind, m.address.value) for m in messages)


async def test_broadcast_acks_status_and_one_chase_across_restarts(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        out = await said(bot, "mishu", NOTICE)
        assert [m.text for m in out if m.address.kind == "member"] == [
            "通知 TZ-1 已发送至第3学习小组、第5学习小组、第7学习小组（3处），"
            "4小时后提醒未确认的委员。发送「通知情况 TZ-1」查看确认情况。"
        ]
        posts = [m for m in out if m.address.kind == "group"]
        assert [m.text for m in posts] == [POST] * 3
        assert len({m.address.value for m in posts}) == 3

        [ack] = await bot.say("g3m1", "收到", group="第3学习小组")
        assert ack == "已确认收到通知 TZ-1「11月28日下午3点在三楼会议室集中…」。"
        assert await bot.say("g5m1", "收到，谢谢") == [ack]  # 1:1: the latest sent to them
        assert await bot.say("g7m2", "好的收到！", group="第7学习小组") == [ack]
        [again] = await bot.say("g5m1", "已收到")
        assert again == "您已确认过通知 TZ-1「11月28日下午3点在三楼会议室集中…」，无需重复回复。"
        assert await bot.say("g5m2", "收到了吗？") != [ack]  # a question is no acknowledgment
        [status] = await bot.say("mishu", "通知情况 TZ-1")
        assert status == (
            "通知 TZ-1「11月28日下午3点在三楼会议室集中学习，请准时参加。」\n"
            "已于11月25日10:00发送至第3学习小组、第5学习小组、第7学习小组\n"
            "已确认 3/9\n"
            "未确认（6）：委员32、委员33、委员52、委员53、委员71、委员73"
        )
        assert await bot.say("g3m2", "通知情况 TZ-1") == [
            "抱歉，通知确认情况仅限机关秘书查看。收到通知请回复「收到」。"
        ]
        assert await bot.run_until(shanghai(2025, 11, 25, 12, 0), timedelta(hours=1)) == []

    async with running_bot(cfg, clock) as bot:  # a new process on the same database
        sent = await bot.run_until(shanghai(2025, 11, 25, 15, 0), timedelta(hours=1))
        assert {at for at, _ in sent} == {shanghai(2025, 11, 25, 14, 0)}
        chase = [m for _, m in sent]
        assert sorted(
            (m.address.kind, m.mentions) for m in chase if m.address.kind == "group"
        ) == [
            ("group", ("g3m2", "g3m3")),
            ("group", ("g5m2", "g5m3")),
            ("group", ("g7m1", "g7m3")),
        ]
        assert sorted(m.address.value for m in chase if m.address.kind == "member") == [
            "g3m2",
            "g3m3",
            "g5m2",
            "g5m3",
            "g7m1",
            "g7m3",
        ]
        private = next(m for m in chase if m.address.value == "g3m2")
        assert private.text == (
            "委员32您好，通知 TZ-1「11月28日下午3点在三楼会议室集中学习，请准时参加。」"
            "您还没有确认，请阅后回复「收到」。"
        )
        assert any(m.text.startswith("【通知提醒】通知 TZ-1「") for m in chase)

    async with running_bot(cfg, clock) as bot:  # again: the chase is never repeated
        assert await bot.run_until(shanghai(2025, 11, 27, 12, 0), timedelta(hours=2)) == []
        [late] = await bot.say("g3m3", "收到", key="after-restart")
        assert late.startswith("已确认收到通知 TZ-1")
        async with bot.db.read() as tx:
            keys = [d.idempotency_key for d in await tx.deliveries.list()]
    assert len([k for k in keys if k.startswith("notice:1:chase:")]) == 9
    assert len([k for k in keys if k.startswith("notice:1:group:")]) == 3


async def test_ack_goes_to_the_latest_notice_in_that_chat(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("mishu", NOTICE)
        clock.advance(timedelta(minutes=5))
        await bot.say("mishu", "通知 第3学习小组：请于周五前提交学习心得。")
        clock.advance(timedelta(minutes=5))
        await bot.say("mishu", "通知 第5学习小组：本周五调研活动取消。")
        [in_group] = await bot.say("g3m1", "收到", group="第3学习小组")
        assert in_group == (
            "已确认收到通知 TZ-2「请于周五前提交学习心得。」。\n"
            "您还有 1 条通知未确认（TZ-1），可回复「收到 编号」。"
        )
        [by_number] = await bot.say("g3m1", "收到 TZ-1")
        assert by_number.startswith("已确认收到通知 TZ-1「")
        [group5] = await bot.say("g5m1", "收到", group="第5学习小组")
        assert group5.startswith("已确认收到通知 TZ-3「本周五调研活动取消。」")
        [nothing] = await bot.say("g3m1", "收到")
        assert nothing.startswith("您已确认过通知 TZ-2")
        [missing] = await bot.say("g7m1", "收到 TZ-2")
        assert missing == "没有找到发给您的通知 TZ-2。"


async def test_scheduled_notice_private_copy_and_card_click(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        [pref] = await bot.say("g3m1", "通知私信")
        assert pref.startswith("好的，今后发到您所在群的通知也会私信发给您一份。")
        out = await said(bot, "mishu", "通知 第3学习小组 明天上午9点：请于下午3点前到三楼报到。")
        assert [m.text for m in out] == [
            "通知 TZ-1 将于11月26日09:00发送至第3学习小组（2处），4小时后提醒未确认的委员。"
            "发送「通知情况 TZ-1」查看确认情况。"
        ]
        assert await bot.say("g3m2", "收到") == ["目前没有需要您确认的通知。"]
        [status] = await bot.say("mishu", "通知情况")
        assert "定于11月26日09:00发送至第3学习小组" in status
    async with running_bot(cfg, clock) as bot:
        sent = await bot.run_until(shanghai(2025, 11, 26, 10, 0), timedelta(hours=1))
        assert sorted((at, m.address.kind, m.address.value) for at, m in sent) == [
            (shanghai(2025, 11, 26, 9, 0), "group", "1"),
            (shanghai(2025, 11, 26, 9, 0), "member", "g3m1"),
        ]
        post = "【通知 TZ-1】请于下午3点前到三楼报到。\n（请回复「收到」确认）"
        # The group gets the text; the private copy is a card with a 收到 button.
        assert sorted(m.text for _, m in sent) == [post, post + "\n［收到］"]
        # A click on the card's 收到 button, as the WeCom edge reads it: an action.
        click = from_app_xml(
            "<xml><ToUserName>corp</ToUserName><FromUserName>g3m2</FromUserName>"
            "<CreateTime>1764118800</CreateTime><MsgType>event</MsgType>"
            "<Event>template_card_event</Event><EventKey>ack:1</EventKey>"
            "<TaskId>notice-1</TaskId><CardType>button_interaction</CardType>"
            "<ResponseCode>code-1</ResponseCode><AgentID>1000002</AgentID></xml>",
            agent_id=1000002,
        )
        assert click.action == Action("ack", "1", "code-1")
        await bot.runtime.pipeline.handle(click)
        # The answer, and the clicked card's button replaced (sent side by side).
        assert sorted(m.text for m in await bot.flush()) == [
            "〔卡片已更新：已收到〕",
            "已确认收到通知 TZ-1「请于下午3点前到三楼报到。」。",
        ]
        image = Incoming("app", "g3m3", "", clock.now(), "app:1:g3m3:9", msg_type="image")
        await bot.runtime.pipeline.handle(image)
        [polite] = [m.text for m in await bot.flush()]
        assert polite.startswith("收到。目前我只能理解文字消息")
        sent = await bot.run_until(shanghai(2025, 11, 26, 14, 0), timedelta(hours=1))
        assert sorted((m.address.kind, m.address.value, m.mentions) for _, m in sent) == [
            ("group", "1", ("g3m1", "g3m3")),
            ("member", "g3m1", ()),
            ("member", "g3m3", ()),
        ]


async def test_notice_without_ack_is_never_chased(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        out = await said(bot, "mishu", "通知 全体委员（无需回复）：元旦放假安排见附件。")
        assert where(out) == [("group", "1"), ("group", "2"), ("group", "3"), ("member", "mishu")]
        texts = {m.address.kind: m.text for m in out}
        assert texts["member"] == "通知 TZ-1 已发送至全体委员（3处），无需回执。"
        assert texts["group"] == "【通知 TZ-1】元旦放假安排见附件。"
        assert await bot.say("g3m1", "收到") == ["目前没有需要您确认的通知。"]
        assert await bot.run_until(shanghai(2025, 11, 26, 10, 0), timedelta(hours=4)) == []
        [unknown] = await bot.say("mishu", "通知 第9学习小组：明天开会")
        assert unknown == "没有找到「第9学习小组」，请检查群名或姓名。"


async def test_recurring_notices_over_national_day(cfg: Config) -> None:
    """Weekly on Monday 8:00 and on the first working day of the month, 9:00, from 09-26.

    Monday 10-06 is a statutory holiday (国庆 10-01..10-08): no weekly notice that day. The
    first working day of October is Thursday 10-09; 调休 Sunday 09-28 is not in October.
    """
    clock = FakeClock(shanghai(2025, 9, 26, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        [weekly] = await bot.say(
            "mishu", "定期通知 第3学习小组 每周一8:00：请按本周学习安排完成打卡。"
        )
        assert weekly == (
            "已设置定期通知 DQ-1：每周一08:00发送至第3学习小组（法定节假日不发）。"
            "停止请发送「停止定期通知 DQ-1」。"
        )
        [monthly] = await bot.say(
            "mishu", "定期通知 全体委员 每月第一个工作日上午9点（无需回复）：本月履职安排。"
        )
        assert monthly.startswith("已设置定期通知 DQ-2：每月第一个工作日09:00发送至全体委员")
        sent = await bot.run_until(shanghai(2025, 10, 7, 0, 0), timedelta(hours=1))
    async with running_bot(cfg, clock) as bot:  # restart during the holiday
        sent += await bot.run_until(shanghai(2025, 10, 14, 0, 0), timedelta(hours=1))
        [stop] = await bot.say("mishu", "停止定期通知 DQ-1", key="after-restart")
        assert stop == "已停止定期通知 DQ-1。"
        sent += await bot.run_until(shanghai(2025, 10, 21, 0, 0), timedelta(hours=2))
    notices = [
        (at, m.text.split("】")[1][:6])
        for at, m in sent
        if m.address.kind == "group" and m.text.startswith("【通知 ")
    ]
    assert notices == [
        (shanghai(2025, 9, 29, 8, 0), "请按本周学习"),
        (shanghai(2025, 10, 9, 9, 0), "本月履职安排"),
        (shanghai(2025, 10, 9, 9, 0), "本月履职安排"),
        (shanghai(2025, 10, 9, 9, 0), "本月履职安排"),
        (shanghai(2025, 10, 13, 8, 0), "请按本周学习"),
    ]
    chases = [at for at, m in sent if m.text.startswith("【通知提醒】")]
    assert chases == [shanghai(2025, 9, 29, 12, 0), shanghai(2025, 10, 13, 12, 0)]
