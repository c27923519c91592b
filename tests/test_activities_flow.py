"""履职登记 in chat and from a spreadsheet: a member registers an activity with a photo, the
office confirms or returns it (or a whole meeting's attendance at once), only confirmed ones
count, and the scoring rules can score them and proposals — on SQLite and (when configured)
PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.clock import FakeClock
from bot.config import Config
from handlers.reports.media import (
    DirectoryMediaStore,
    MediaRun,
    SandboxMediaSource,
    fetch_pending_media,
)
from tests.conftest import make_config
from tests.harness import running_bot, shanghai
from tests.test_reports_dialog import send_media

GROUP = "第3学习小组"
RULES = """
name = "测试规则"
[[items]]
label = "提案"
fact = "proposals"
points = 10
[[items]]
label = "调研"
fact = "activities.调研"
points = 5
[[items]]
label = "履职活动"
fact = "activities"
points = 1
[[requirements]]
label = "全年至少提交1件提案"
fact = "proposals"
at_least = 1
[[grades]]
name = "合格"
at_least = 0
"""


@pytest.fixture
def cfg(db_url: str, tmp_path: Path) -> Config:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    return make_config(db_url, duty={"rules_file": str(rules)})


async def test_register_attach_confirm_return_and_count(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 12, 5, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await bot.add_member("mishu", "王秘书", role="secretary")
        await bot.add_member("m1", "张三", group=GROUP)
        assert await bot.say("m1", "履职登记") == [
            "请写明活动的日期和内容，例如「履职登记 12月3日 参加市政协乡村振兴专题调研」。"
        ]
        assert await bot.say("m1", "履职登记 明天 参加视察") == [
            "12月6日还没到，履职活动请在参加之后登记。"
        ]
        assert await bot.say("m1", "履职登记 12月3日 参加市政协乡村振兴专题调研") == [
            "已登记履职活动 HD-1 12月3日 调研：参加市政协乡村振兴专题调研，待机关秘书确认后计入"
            "履职档案。\n有现场照片或材料可以直接发送，发完回复「完成」。"
        ]
        assert await send_media(bot, "m1", "image", "photo-1") == [
            "已添加附件（共 1 个），发完回复「完成」。"
        ]
        assert await bot.say("m1", "完成") == ["好的，HD-1 共 1 个附件。"]
        assert await bot.say("m1", "履职登记 12月3日 参加市政协乡村振兴专题调研") == [
            "这项活动已经登记过了（12月3日 调研），无需重复。"
        ]
        await bot.say("m1", "履职登记：昨天在委员工作室接待群众")
        await bot.say("m1", "完成")
        assert await bot.say("m1", "确认 HD-1") == [
            "抱歉，确认履职登记仅限机关秘书。您可以发送「我的履职登记」查看自己的登记。"
        ]
        assert await bot.say("mishu", "待确认履职") == [
            "待确认履职登记 2 条：\n"
            "· 张三 HD-1 12月3日 调研：参加市政协乡村振兴专题调研（附件1）\n"
            "· 张三 HD-2 12月4日 委员工作室：委员工作室接待群众\n"
            "回复「确认 HD-编号」或「退回 HD-编号 理由」。"
        ]
        assert await bot.say("mishu", "确认 HD-1") == [
            "已确认张三的履职登记 HD-1 12月3日 调研：参加市政协乡村振兴专题调研，已通知本人。",
            "【履职登记】您登记的 HD-1 12月3日 调研：参加市政协乡村振兴专题调研 已确认，"
            "计入履职档案。",
        ]
        assert await bot.say("mishu", "退回 HD-2") == [
            "请写明退回理由，例如「退回 HD-2 请补充活动照片」。"
        ]
        assert await bot.say("mishu", "退回 HD-2 请写明接待人数") == [
            "已退回张三的履职登记 HD-2 12月4日 委员工作室：委员工作室接待群众，已通知本人。",
            "【履职登记】您登记的 HD-2 12月4日 委员工作室：委员工作室接待群众 被退回："
            "请写明接待人数\n修改后请重新发送「履职登记 日期 内容」。",
        ]
        assert await bot.say("mishu", "确认 HD-2") == ["履职登记 HD-2 已退回，无需再处理。"]
        assert await bot.say("m1", "我的履职登记") == [
            "您的履职登记（最近 2 条）：\n"
            "· HD-2 12月4日 委员工作室：委员工作室接待群众（已退回）\n"
            "· HD-1 12月3日 调研：参加市政协乡村振兴专题调研（已确认）"
        ]
        # A proposal too: the record shows both and the rules score them.
        await bot.say("m1", "提案：关于建设社区食堂的建议\n情况：老人吃饭难。\n建议：建食堂。")
        [record] = await bot.say("m1", "我的履职")
        assert record == (
            "张三 2025年履职档案（截至12月5日）\n"
            "学习打卡 0 次\n"
            "社情民意 提交 0 篇，采用 0，获批示 0，联名 0\n"
            "提案 提交 1 件，立案 0，重点 0，联名 0，满意 0\n"
            "履职活动 1 次（调研 1）\n"
            "通知 确认 0/0\n"
            "会议 出席 0，请假 0，未回执 0\n"
            "督办 按时完成 0，逾期完成 0，未完成 0\n"
            "目前积分 16 分（测试规则，等次在年度结束后评定）"
        )


async def test_a_meetings_attendance_confirmed_in_one_step(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await bot.add_member("mishu", "王秘书", role="secretary")
        await bot.add_member("m1", "张三", group=GROUP)
        await bot.add_member("m2", "李四", group=GROUP)
        await bot.add_member("m3", "王五", group=GROUP)
        await bot.say(
            "mishu",
            f"会议通知 {GROUP}：11月27日上午9点在县政府门口集合开展视察，请于11月26日前回复",
        )
        await bot.say("m1", "参加")
        await bot.say("m2", "参加")
        await bot.say("m3", "请假 出差在外")
        assert await bot.say("mishu", "确认出席 HY-1 联欢") == [
            "没有「联欢」这个履职类型。可选：调研、视察、界别活动、委员工作室、协商发言、培训、其他。"
        ]
        sent = await bot.say("mishu", "确认出席 HY-1 视察")
        assert sent[0] == "已确认 HY-1 会议的出席 2 人（视察，11月27日）：张三、李四"
        assert sorted(sent[1:]) == [
            "【履职登记】您登记的 HD-1 11月27日 视察：出席会议（HY-1） 已确认，计入履职档案。",
            "【履职登记】您登记的 HD-2 11月27日 视察：出席会议（HY-1） 已确认，计入履职档案。",
        ]
        assert await bot.say("mishu", "确认出席 HY-1") == [
            "HY-1 没有新的出席人需要确认（回执为参加的已全部登记）。"
        ]
        [record] = await bot.say("m2", "我的履职")
        assert "履职活动 1 次（视察 1）" in record
        [record] = await bot.say("m3", "我的履职")
        assert "履职活动" not in record


async def test_import_from_a_spreadsheet_refuses_bad_rows(
    tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "lvzhi.toml"
    config.write_text(f'[database]\nurl = "{sqlite_url}"\n', encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "姓名,手机号,企业微信账号,界别,角色\n张三,13800000001,zs,经济界,委员\n"
        "李四,13800000002,ls1,教育界,委员\n李四,13800000003,ls2,医药卫生界,委员\n",
        encoding="utf-8",
    )
    base = ["--config", str(config)]
    assert await asyncio.to_thread(main, [*base, "members", "import", str(roster)]) == 0
    sheet = tmp_path / "activities.csv"
    sheet.write_text(
        "姓名,企业微信账号,日期,类型,内容\n"
        "张三,,2025-11-20,调研,参加乡村振兴专题调研\n"
        ",ls2,2025/11/21,视察,视察县医院\n"
        "李四,,2025-11-22,培训,委员培训班\n"
        "王五,,2025-11-22,培训,委员培训班\n"
        "张三,,2099-01-01,调研,未来的调研\n"
        "张三,,2025-11-23,联欢,年终联欢\n"
        "张三,,昨天,调研,看不懂的日期\n"
        "张三,,2025-11-20,调研,参加乡村振兴专题调研\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    argv = [*base, "activities", "import", str(sheet)]
    assert await asyncio.to_thread(main, [*argv, "--dry-run"]) == 0
    refused = (
        "  第4行：名册中有 2 位「李四」，请填写企业微信账号或手机号\n"
        "  第5行：名册中没有「王五」\n"
        "  第6行：日期在今天之后\n"
        "  第7行：类型「联欢」不在 调研、视察、界别活动、委员工作室、协商发言、培训、其他 之中\n"
        "  第8行：日期看不懂：昨天\n"
        "  第9行：与前面的行重复\n"
    )
    assert capsys.readouterr().out == (
        "可导入 2 条履职活动，6 行未导入：\n" + refused + "（试运行，未写入数据库）\n"
    )
    assert await asyncio.to_thread(main, argv) == 0
    assert capsys.readouterr().out == "已导入 2 条履职活动，6 行未导入：\n" + refused
    assert await asyncio.to_thread(main, argv) == 0
    assert capsys.readouterr().out.startswith("已导入 0 条履职活动，2 条此前已登记，6 行未导入：")
    assert await asyncio.to_thread(main, [*base, "activities", "list", "--year", "2025"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[1:5] for line in listed] == [
        ["2025-11-20", "张三", "调研", "已确认"],
        ["2025-11-21", "李四", "视察", "已确认"],
    ]


async def test_activity_attachments_are_kept_or_expire(cfg: Config, tmp_path: Path) -> None:
    """An activity's photos are fetched into the media store as reports' are; one the job
    reaches only after WeCom's 3 days ends expired without asking WeCom."""
    clock = FakeClock(shanghai(2025, 12, 5, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await bot.add_member("mishu", "王秘书", role="secretary")
        await bot.add_member("m1", "张三", group=GROUP)
        await bot.say("m1", "履职登记 12月3日 参加市政协乡村振兴专题调研")
        await send_media(bot, "m1", "image", "photo-1")
        await send_media(bot, "m1", "file", "notes-1", "调研记录.docx")
        assert await bot.say("m1", "完成") == ["好的，HD-1 共 2 个附件。"]
        source = SandboxMediaSource()
        store = DirectoryMediaStore(tmp_path / "media")
        run = await fetch_pending_media(bot.db, source, store, clock.now() + timedelta(hours=1))
        assert run == MediaRun(stored=2)
        assert source.calls == ["photo-1", "notes-1"]
        async with bot.db.read() as tx:
            kept = await tx.activities.attachments(1)
        first, second = (a.id for a in kept)
        assert [(a.status, a.stored_ref, a.attempts) for a in kept] == [
            ("stored", f"activities/HD-1/{first}-photo-1.jpg", 1),
            ("stored", f"activities/HD-1/{second}-调研记录.docx", 1),
        ]
        assert (tmp_path / "media" / kept[0].stored_ref).read_bytes() == b"sandbox media photo-1"

        clock.advance(timedelta(hours=2))
        await bot.say("m1", "履职登记 12月4日 在委员工作室接待群众")
        await send_media(bot, "m1", "image", "photo-late")
        await bot.say("m1", "完成")
        assert await bot.say("mishu", "待确认履职") == [
            "待确认履职登记 2 条：\n"
            "· 张三 HD-1 12月3日 调研：参加市政协乡村振兴专题调研（附件2）\n"
            "· 张三 HD-2 12月4日 委员工作室：委员工作室接待群众（附件1）\n"
            "回复「确认 HD-编号」或「退回 HD-编号 理由」。"
        ]
        later = clock.now() + timedelta(days=3, minutes=1)
        assert await fetch_pending_media(bot.db, source, store, later) == MediaRun(expired=1)
        assert source.calls == ["photo-1", "notes-1"]  # the late one: not even asked for
        async with bot.db.read() as tx:
            [late] = await tx.activities.attachments(2)
        assert (late.status, late.stored_ref, late.attempts) == ("expired", "", 0)


async def test_a_message_after_a_registration_is_handled_not_lost(cfg: Config) -> None:
    """Attachments after a 履职登记 are optional: the next message that is neither a file nor
    「完成」 ends them and is then handled as what it is (a check-in here), never dropped."""
    clock = FakeClock(shanghai(2025, 12, 5, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await bot.add_member("m1", "张三", group=GROUP)
        await bot.say("m1", "履职登记 12月3日 参加市政协乡村振兴专题调研")
        said = await bot.say("m1", "打卡 读《乡土中国》半小时")
        assert said[0] == "HD-1 的附件已结束添加（共 0 个）。"
        assert said[1].startswith("已记录您的学习（《乡土中国》，30分钟）")
        assert len(said) == 2
