"""社情民意 drafted over several messages: the steps, attachments and their media, cancel,
timeout (warning, then expiry), a restart in the middle, two members drafting in one group."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.wecom.inbound import from_app_xml
from handlers.reports.media import (
    DirectoryMediaStore,
    MediaRun,
    SandboxMediaSource,
    fetch_pending_media,
)
from tests.conftest import make_config
from tests.harness import Bot, running_bot, shanghai

GROUP = "第3学习小组"
TITLE = "关于规范校外培训机构收费的建议"
CATEGORY_PROMPT = (
    "请选择类别（回复名称或序号）：1.经济发展、2.民生保障、3.社会治理、4.生态环境、5.文化教育、"
    "6.医疗卫生、7.民族宗教、8.其他。不确定可回复「跳过」，我按内容推荐（目前看像「其他」）。"
)
CONTENT_PROMPT = "请发送正文，建议分「基本情况」「存在问题」「建议」三部分写。"
HINTS = "也可以发送「类别 民生保障」「联名：张三、李四」，或直接发送图片、文件作为附件。"


@pytest.fixture
def cfg(db_url: str) -> Config:
    return make_config(
        db_url, dialog={"timeout_minutes": 30}, reports={"draft_warning_minutes": 5}
    )


async def seed(bot: Bot) -> None:
    await bot.add_member("mishu", "王秘书", role="secretary")
    await bot.add_member("m1", "张三", group=GROUP)
    await bot.add_member("m2", "李四", group=GROUP)


async def send_media(bot: Bot, user: str, kind: str, media_id: str, name: str = "") -> list[str]:
    extra = f"<FileName><![CDATA[{name}]]></FileName>" if name else ""
    raw = (
        f"<xml><ToUserName>corp</ToUserName><FromUserName>{user}</FromUserName>"
        f"<CreateTime>1764036000</CreateTime><MsgType>{kind}</MsgType>"
        f"<MediaId><![CDATA[{media_id}]]></MediaId>{extra}<MsgId>{media_id}</MsgId>"
        "<AgentID>1</AgentID></xml>"
    )
    # As the WeCom edge reads it (the media typed on Incoming), at the bot's clock.
    incoming = replace(from_app_xml(raw, agent_id=1), sent_at=bot.clock.now())
    await bot.runtime.pipeline.handle(incoming)
    return [m.text for m in await bot.flush()]


async def test_draft_step_by_step_with_attachments(cfg: Config, tmp_path: Path) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        assert await bot.say("m1", "我要反映社情民意") == [
            "好的，我们来填写社情民意信息（随时回复「取消」可放弃）。\n"
            "请发送标题，例如「关于加强农村饮水工程管护的建议」。"
        ]
        assert await bot.say("m1", TITLE) == [CATEGORY_PROMPT]
        assert await bot.say("m1", "天气") == ["没有这个类别。" + CATEGORY_PROMPT]
        assert await bot.say("m1", "跳过") == [CONTENT_PROMPT]
        [preview] = await bot.say("m1", "基本情况：收费混乱。\n建议：学校和教育部门联合监管。")
        assert preview == (
            "请核对您的社情民意：\n"
            f"标题：{TITLE}\n"
            "类别：文化教育（根据内容推荐）\n"
            "内容：基本情况：收费混乱。\n建议：学校和教育部门联合监管。\n"
            "回复「确认提交」提交，回复「取消」放弃。" + HINTS
        )
        [corrected] = await bot.say("m1", "类别 民生保障")
        assert corrected.startswith("类别：民生保障。\n请核对您的社情民意：")
        assert "类别：民生保障\n" in corrected
        assert await bot.say("m1", "联名：王五") == [
            "联名人「王五」不在名册中，请核对姓名后重新发送联名。"
        ]
        [cosigned] = await bot.say("m1", "联名：李四")
        assert cosigned.startswith("已记下联名人。\n") and "\n联名：李四\n" in cosigned
        [attached] = await send_media(bot, "m1", "image", "MEDIA-1")
        assert attached.startswith("已添加附件（共 1 个）。\n请核对您的社情民意：")
        [attached] = await send_media(bot, "m1", "file", "MEDIA-2", "收费表.xlsx")
        assert "附件：2 个" in attached
        assert await bot.say("m1", "随便说点什么") == [
            "草稿已填好。回复「确认提交」提交，「取消」放弃；要补充正文请以「补充：」开头。"
        ]
        [appended] = await bot.say("m1", "补充：涉及12家机构。")
        assert "建议：学校和教育部门联合监管。\n涉及12家机构。" in appended
        [done, told] = await bot.say("m1", "确认提交")
        assert done == (
            f"已提交社情民意《{TITLE}》，编号 SQ-2025-0001。\n类别：民生保障。\n"
            "联名：李四（已通知）。\n附件 2 个已保存。\n"
            "办理进展会通知您，也可发送「查询 SQ-2025-0001」查看。"
        )
        assert told.startswith(f"【社情民意】《{TITLE}》（SQ-2025-0001）已由张三提交")
        assert await bot.say("m1", "确认提交") == [
            "您没有待提交的社情民意草稿（草稿可能已超时作废）。发送「提交社情民意」重新开始。"
        ]
        async with bot.db.read() as tx:
            report = await tx.reports.by_number("SQ-2025-0001")
            assert report is not None
            assert report.content.endswith("涉及12家机构。")
            items = await tx.reports.attachments(report.id)
            assert [(a.kind, a.media_id, a.filename, a.status) for a in items] == [
                ("image", "MEDIA-1", "", "pending"),
                ("file", "MEDIA-2", "收费表.xlsx", "pending"),
            ]
        # The media job: fetched and stored within the 3 days WeCom keeps media.
        source = SandboxMediaSource()
        store = DirectoryMediaStore(tmp_path / "media")
        run = await fetch_pending_media(bot.db, source, store, clock.now() + timedelta(hours=1))
        assert run == MediaRun(stored=2)
        assert source.calls == ["MEDIA-1", "MEDIA-2"]
        async with bot.db.read() as tx:
            items = await tx.reports.attachments(report.id)
        assert [(a.status, a.stored_ref, a.attempts) for a in items] == [
            ("stored", f"SQ-2025-0001/{items[0].id}-MEDIA-1.jpg", 1),
            ("stored", f"SQ-2025-0001/{items[1].id}-收费表.xlsx", 1),
        ]
        stored = tmp_path / "media" / items[0].stored_ref
        assert stored.read_bytes() == b"sandbox media MEDIA-1"
        assert await fetch_pending_media(bot.db, source, store, clock.now()) == MediaRun()


async def test_media_that_expired_or_vanished(cfg: Config, tmp_path: Path) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        for n, media in enumerate(("OLD", "GONE")):
            await bot.say("m1", "提交社情民意")
            await bot.say("m1", f"标题：关于{n}的建议")
            await bot.say("m1", "跳过")
            await bot.say("m1", "正文")
            await send_media(bot, "m1", "image", media)
            await bot.say("m1", "确认提交")
            clock.advance(timedelta(days=2))
        source = SandboxMediaSource(missing=frozenset({"GONE"}))
        run = await fetch_pending_media(
            bot.db, source, DirectoryMediaStore(tmp_path), shanghai(2025, 11, 29, 11, 0)
        )
        assert run == MediaRun(failed=1, expired=1)
        assert source.calls == ["GONE"]  # OLD was past 3 days: not even asked for


async def test_cancel(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m1", "提交社情民意")
        await bot.say("m1", TITLE)
        assert await bot.say("m1", "取消") == ["已取消。"]
        assert (await bot.say("m1", "我的社情民意"))[0].startswith("您还没有提交过社情民意")
        async with bot.db.read() as tx:
            assert await tx.dialogs.get("single:m1", "m1", clock.now()) is None


async def test_title_only_message_continues_as_a_draft(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        assert await bot.say("m1", f"社情民意：{TITLE}") == [
            "好的，我们来填写社情民意信息（随时回复「取消」可放弃）。\n"
            f"标题：{TITLE}\n" + CATEGORY_PROMPT
        ]
        assert await bot.say("m1", "5") == [CONTENT_PROMPT]
        [preview] = await bot.say("m1", "正文。")
        assert "类别：文化教育\n" in preview


async def test_timeout_warns_then_expires(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m1", "提交社情民意")
        clock.advance(timedelta(minutes=1))
        await bot.say("m1", TITLE)  # the draft now expires at 10:31
        sent = await bot.run_until(shanghai(2025, 11, 25, 10, 45), timedelta(minutes=1))
        assert [(at, m.address.value, m.text) for at, m in sent] == [
            (
                shanghai(2025, 11, 25, 10, 26),
                "m1",
                f"您的社情民意草稿《{TITLE}》将在约 5 分钟后作废。"
                "继续填写请直接回复；已填好可回复「确认提交」。",
            ),
            (
                shanghai(2025, 11, 25, 10, 31),
                "m1",
                f"您的社情民意草稿《{TITLE}》超过 30 分钟没有回复，已作废。"
                "需要时请发送「提交社情民意」重新填写。",
            ),
        ]
        # The draft is gone: the next message is understood afresh.
        assert await bot.say("m1", "确认提交") == [
            "您没有待提交的社情民意草稿（草稿可能已超时作废）。发送「提交社情民意」重新开始。"
        ]


async def test_a_reply_after_the_warning_renews_the_draft(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m1", "提交社情民意")  # expires 10:30
        sent = await bot.run_until(shanghai(2025, 11, 25, 10, 27), timedelta(minutes=1))
        assert [at for at, _ in sent] == [shanghai(2025, 11, 25, 10, 25)]
        await bot.say("m1", TITLE)  # renewed: expires 10:57
        sent = await bot.run_until(shanghai(2025, 11, 25, 10, 56), timedelta(minutes=1))
        assert [at for at, _ in sent] == [shanghai(2025, 11, 25, 10, 52)]
        assert await bot.say("m1", "跳过") == [CONTENT_PROMPT]


async def test_expired_draft_is_dropped_at_the_next_message(cfg: Config) -> None:
    """Before the planner got to it: the dispatcher drops the draft itself."""
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m1", "提交社情民意")
        clock.advance(timedelta(minutes=31))
        [fallback] = await bot.say("m1", TITLE)
        assert fallback.startswith("抱歉，我没有理解")
        assert not await bot.tick()  # nothing left to warn about or expire


async def test_restart_in_the_middle_of_a_draft(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m1", "提交社情民意")
        await bot.say("m1", TITLE)
    clock.advance(timedelta(minutes=5))
    async with running_bot(cfg, clock) as bot:  # a new process on the same database
        # (keys of their own: each harness numbers its messages from 1 again)
        assert await bot.say("m1", "民生", key="after-restart-1") == [CONTENT_PROMPT]
        await bot.say("m1", "正文。", key="after-restart-2")
    async with running_bot(cfg, clock) as bot:
        [done, *_] = await bot.say("m1", "确认提交", key="after-restart-3")
        assert done.startswith(f"已提交社情民意《{TITLE}》，编号 SQ-2025-0001。\n类别：民生保障。")


async def test_two_members_drafting_at_once_in_one_group(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m1", "提交社情民意", group=GROUP)
        await bot.say("m2", "提交社情民意", group=GROUP)
        await bot.say("m1", "关于甲的建议", group=GROUP)
        await bot.say("m2", "关于乙的建议", group=GROUP)
        await bot.say("m2", "经济", group=GROUP)
        await bot.say("m1", "生态", group=GROUP)
        await bot.say("m1", "甲的正文", group=GROUP)
        await bot.say("m2", "乙的正文", group=GROUP)
        await bot.say("m1", "提交社情民意")  # m1's own 1:1 chat is a separate draft
        [second] = await bot.say("m2", "确认提交", group=GROUP)
        [first] = await bot.say("m1", "确认提交", group=GROUP)
        assert second.startswith(
            "已提交社情民意《关于乙的建议》，编号 SQ-2025-0001。\n类别：经济发展。"
        )
        assert first.startswith(
            "已提交社情民意《关于甲的建议》，编号 SQ-2025-0002。\n类别：生态环境。"
        )
        async with bot.db.read() as tx:
            one = await tx.reports.by_number("SQ-2025-0001")
            two = await tx.reports.by_number("SQ-2025-0002")
            assert one is not None and two is not None
            assert (one.content, two.content) == ("乙的正文", "甲的正文")
            assert await tx.dialogs.get("single:m1", "m1", clock.now()) is not None
