"""社情民意 in chat: submission, the office's commands, refusals, privacy, notifications once,
and review nudges — on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.messages import Incoming
from tests.conftest import make_config
from tests.harness import Bot, running_bot, shanghai

GROUP = "第3学习小组"
NUMBER = "SQ-2025-0001"
TITLE = "关于加强农村饮水工程管护的建议"
REPORT = f"社情民意：{TITLE}\n基本情况：水管老化。\n存在问题：无人管护。\n建议：设立专岗。"
DENIED = (
    "抱歉，审核和办理社情民意仅限机关秘书。"
    "您可以发送「我的社情民意」查看自己提交的社情民意和办理进度。"
)
NOT_FOUND = f"没有找到编号为 {NUMBER} 的社情民意，请核对编号。"
HEAD = f"【社情民意】《{TITLE}》（{NUMBER}）"


@pytest.fixture
def cfg(db_url: str) -> Config:
    return make_config(db_url, reports={"review_nudge_hours": 24.0})


async def seed(bot: Bot) -> None:
    await bot.add_member("mishu", "王秘书", role="secretary")
    await bot.add_member("m1", "张三", group=GROUP)
    await bot.add_member("m2", "李四", group=GROUP)
    await bot.add_member("m3", "王五", group=GROUP)
    async with bot.db.transaction() as tx:
        for member in await tx.members.all():
            member.sector = "经济界"


async def report_keys(bot: Bot) -> list[str]:
    async with bot.db.read() as tx:
        return sorted(
            d.idempotency_key
            for d in await tx.deliveries.list()
            if d.idempotency_key.startswith("report:")
        )


async def test_submit_in_one_message_notifies_cosigners(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        answer = await bot.say("m1", REPORT + "\n联名：李四")
        assert answer == [
            f"已提交社情民意《{TITLE}》，编号 {NUMBER}。\n"
            f"类别按内容归入「民生保障」，如需更正请发送「修改类别 {NUMBER} 民生保障」。\n"
            "联名：李四（已通知）。\n"
            f"办理进展会通知您，也可发送「查询 {NUMBER}」查看。",
            f"{HEAD}已由张三提交，您是联名人。我们会及时告诉您办理进展。",
        ]
        async with bot.db.read() as tx:
            report = await tx.reports.by_number(NUMBER)
            assert report is not None
            assert (report.state, report.category, report.sector) == (
                "submitted",
                "民生保障",
                "经济界",
            )
            assert report.content == "基本情况：水管老化。\n存在问题：无人管护。\n建议：设立专岗。"
            submitters = [(m.userid, role) for m, role in await tx.reports.submitters(report.id)]
            assert submitters == [("m1", "lead"), ("m2", "co")]
            history = await tx.reports.history(report.id)
            assert [(h.action, h.from_state, h.to_state, h.actor) for h in history] == [
                ("submit", "draft", "submitted", "user:m1")
            ]
        [mine] = await bot.say("m2", "我的社情民意")
        assert mine == (
            f"您的社情民意（最近 1 条）：\n· {NUMBER}《{TITLE}》已提交（联名）\n"
            "发送「查询 编号」查看办理过程。"
        )


async def test_labelled_submission_keeps_the_given_category(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        [answer] = await bot.say("m1", "标题：关于X的建议\n类别：社会治理\n内容：正文。")
        assert answer.startswith(
            f"已提交社情民意《关于X的建议》，编号 {NUMBER}。\n类别：社会治理。"
        )


async def test_bad_cosigners_are_refused_and_burn_no_number(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.add_member("z1", "赵六")
        await bot.add_member("z2", "赵六")
        async with bot.db.transaction() as tx:
            for member in await tx.members.by_name("赵六"):
                member.sector = "教育界" if member.userid == "z1" else "医药卫生界"
        assert await bot.say("m1", REPORT + "\n联名：钱七") == [
            "联名人「钱七」不在名册中，请核对姓名后重新发送联名。"
        ]
        assert await bot.say("m1", REPORT + "\n联名：李四、赵六") == [
            "名册中有 2 位「赵六」（教育界、医药卫生界），无法确定是哪一位。"
            "请联系机关秘书处理联名。"
        ]
        [ok] = await bot.say("m1", REPORT)
        assert f"编号 {NUMBER}。" in ok  # the refused attempts used no number


async def test_the_whole_life_cycle_in_chat_notifies_each_change_once(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m1", REPORT + "\n联名：李四")
        [listing] = await bot.say("mishu", "待审")
        assert listing.startswith(
            f"待审社情民意 1 条：\n· {NUMBER}《{TITLE}》张三（民生保障，已提交"
        )
        steps = [
            ("查询 " + NUMBER, f"{HEAD}已受理，正在审核。"),
            ("采用 " + NUMBER, f"{HEAD}已被采用。"),
            (f"报送 {NUMBER} 省政协", f"{HEAD}已报送省政协。"),
            (
                f"批示 {NUMBER} 市领导 请市水务局研究办理",
                f"{HEAD}获市领导批示：请市水务局研究办理",
            ),
            (f"转办 {NUMBER} 市水务局", f"{HEAD}已转市水务局办理。"),
            (f"反馈 {NUMBER} 已安排专项资金", f"{HEAD}收到办理反馈：已安排专项资金"),
            (f"办结 {NUMBER}", f"{HEAD}已办结。"),
        ]
        for command, told in steps:
            sent = await bot.say("mishu", command, key=command)
            assert len(sent) == 3, command  # the answer, then once to 张三 and once to 李四
            assert sent.count(told) == 2, command
            assert any(s.startswith(f"{NUMBER}《{TITLE}》") for s in sent), command
            assert await bot.say("mishu", command, key=command) == []  # WeCom's retry
        assert await bot.say("mishu", f"采用 {NUMBER}") == [
            f"{NUMBER}目前为「已办结」，不能采用。流程已结束。"
        ]
        keys = await report_keys(bot)
        assert len(keys) == 1 + 2 * 7  # co-signer told of the submission; both of 7 steps
        assert len(set(keys)) == len(keys)
        [shown] = await bot.say("m1", f"查询 {NUMBER}")
        assert shown.splitlines()[-8:] == [
            "· 2025-11-25 10:00 提交",
            "· 2025-11-25 10:00 受理",
            "· 2025-11-25 10:00 采用",
            "· 2025-11-25 10:00 报送省政协",
            "· 2025-11-25 10:00 批示市领导：请市水务局研究办理",
            "· 2025-11-25 10:00 转办市水务局",
            "· 2025-11-25 10:00 反馈：已安排专项资金",
            "· 2025-11-25 10:00 办结",
        ]


async def test_refused_transitions_and_missing_details(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m1", REPORT)
        assert await bot.say("mishu", f"报送 {NUMBER} 省政协") == [
            f"{NUMBER}目前为「已提交」，不能报送。现在可以：采用、退回、不予采用。"
        ]
        assert await bot.say("mishu", f"办结 {NUMBER}") == [
            f"{NUMBER}目前为「已提交」，不能办结。现在可以：采用、退回、不予采用。"
        ]
        assert await bot.say("mishu", f"退回 {NUMBER}") == [
            "请写明退回意见，例如「退回 SQ-2025-0042 请补充具体数据」。"
        ]
        assert await bot.say("mishu", "采用") == ["请写明编号，例如「采用 SQ-2025-0042」。"]
        assert await bot.say("mishu", "采用 SQ-2025-0999") == [
            "没有找到编号为 SQ-2025-0999 的社情民意，请核对编号。"
        ]
        [rejected, told] = await bot.say("mishu", f"不予采用 {NUMBER} 已有部门在办理")
        assert (
            rejected == f"{NUMBER}《{TITLE}》已不予采用，现为「不予采用」。已通知提交人（1 人）。"
        )
        assert told == f"{HEAD}未予采用，理由：已有部门在办理"
        assert await bot.say("mishu", f"采用 {NUMBER}") == [
            f"{NUMBER}目前为「不予采用」，不能采用。流程已结束。"
        ]
        assert await bot.say("m1", f"重新提交 {NUMBER}") == [
            f"{NUMBER}目前为「不予采用」，不能重新提交。流程已结束。"
        ]
        async with bot.db.read() as tx:
            report = await tx.reports.by_number(NUMBER)
            assert report is not None and report.state == "rejected"
            assert len(await tx.reports.history(report.id)) == 2


OFFICE_COMMANDS = (
    "待审",
    f"采用 {NUMBER}",
    f"退回 {NUMBER} 请补充",
    f"不予采用 {NUMBER} 重复",
    f"报送 {NUMBER} 省政协",
    f"批示 {NUMBER} 市领导 同意",
    f"转办 {NUMBER} 市水务局",
    f"反馈 {NUMBER} 已办",
    f"办结 {NUMBER}",
)


async def test_a_member_cannot_review(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m1", REPORT)
        for command in OFFICE_COMMANDS:
            assert await bot.say("m1", command) == [DENIED], command  # the submitter
            assert await bot.say("m2", command, group=GROUP) == [DENIED], command
        assert await report_keys(bot) == []  # nobody was told of a change
        async with bot.db.read() as tx:
            report = await tx.reports.by_number(NUMBER)
            assert report is not None and report.state == "submitted"


async def test_privacy_a_member_never_reads_another_members_report(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m1", REPORT)
        missing = "SQ-2025-0002"
        gone = [f"没有找到编号为 {missing} 的社情民意，请核对编号。"]
        # Every way of asking gets the answer a number that does not exist gets.
        assert await bot.say("m2", f"查询 {NUMBER}") == [NOT_FOUND]
        assert await bot.say("m2", f"查询 {missing}") == gone
        assert await bot.say("m2", NUMBER) == [NOT_FOUND]
        assert await bot.say("m2", f"修改类别 {NUMBER} 民生保障") == [NOT_FOUND]
        assert await bot.say("m2", f"修改类别 {missing} 民生保障") == gone
        assert await bot.say("m2", f"重新提交 {NUMBER}\n内容：改了") == [NOT_FOUND]
        assert await bot.say("m2", f"查询 {NUMBER}", group=GROUP) == [NOT_FOUND]
        assert await bot.say("m2", "我的社情民意") == [
            "您还没有提交过社情民意。发送「提交社情民意」开始填写。"
        ]
        # The submitter asking in the group gets the details privately.
        async with bot.db.read() as tx:
            before = len(await tx.deliveries.list())
        answer = await bot.say("m1", f"查询 {NUMBER}", group=GROUP)
        assert len(answer) == 1  # in the sandbox group, only the private answer
        assert answer[0].startswith(f"{NUMBER}《{TITLE}》\n类别：民生保障")
        async with bot.db.read() as tx:
            new = (await tx.deliveries.list())[before:]
            assert {(d.channel, d.target) for d in new} == {("member", "m1")}
            report = await tx.reports.by_number(NUMBER)
            assert report is not None and report.state == "submitted"  # nobody reviewed it


async def test_returned_report_is_resubmitted_with_new_content(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m1", REPORT)
        [_, told] = await bot.say("mishu", f"退回 {NUMBER} 请补充具体数据")
        assert told == (
            f"{HEAD}被退回修改，意见：请补充具体数据\n"
            f"修改后请发送「重新提交 {NUMBER}」并在下一行写上修改后的内容。"
        )
        [preview] = await bot.say("m1", f"重新提交 {NUMBER}\n内容：全县1200处,其中300处失修。")
        assert preview.startswith(f"请核对重新提交的社情民意 {NUMBER}（将作为第2版")
        assert "内容：全县1200处，其中300处失修。" in preview
        assert await bot.say("m1", "确认提交") == [
            f"已重新提交 {NUMBER}《{TITLE}》（第2版），等待审核。"
            f"之前的版本仍保留，可发送「查询 {NUMBER}」查看。"
        ]
        assert await bot.say("m1", f"重新提交 {NUMBER}") == [
            f"{NUMBER}目前为「已提交」，不能重新提交。现在可以：采用、退回、不予采用。"
        ]
        async with bot.db.read() as tx:
            report = await tx.reports.by_number(NUMBER)
            assert report is not None
            assert (report.state, report.content) == ("submitted", "全县1200处，其中300处失修。")
            history = [(h.action, h.to_state) for h in await tx.reports.history(report.id)]
            assert history == [
                ("submit", "submitted"),
                ("return", "returned"),
                ("resubmit", "submitted"),
            ]


async def test_category_correction(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m1", REPORT + "\n联名：李四")
        assert await bot.say("m1", f"修改类别 {NUMBER} 社会治理") == [
            f"已将 {NUMBER} 的类别改为「社会治理」。",
            f"{HEAD}的类别已调整为「社会治理」。",
        ]
        [unknown] = await bot.say("m1", f"修改类别 {NUMBER} 天气")
        assert unknown.startswith("没有「天气」这个类别。可选：经济发展、民生保障、")
        await bot.say("mishu", f"采用 {NUMBER}")
        assert await bot.say("m1", f"修改类别 {NUMBER} 民生保障") == [
            f"{NUMBER}已进入办理，类别请联系机关秘书修改。"
        ]
        assert sorted(await bot.say("mishu", f"修改类别 {NUMBER} 民生保障")) == sorted(
            [f"已将 {NUMBER} 的类别改为「民生保障」。"]
            + [f"{HEAD}的类别已调整为「民生保障」。"] * 2
        )


async def test_review_nudges_once_per_report_per_day(db_url: str) -> None:
    cfg = make_config(db_url, reports={"review_nudge_hours": 24.0, "review_nudge_time": "09:00"})
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))  # Tuesday
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.add_member("mishu2", "李秘书", role="secretary")
        await bot.say("m1", REPORT)
        sent = await bot.run_until(shanghai(2025, 11, 28, 11, 0), timedelta(minutes=30))
        nudging = [(at, m) for at, m in sent if m.text.startswith("【审核提醒】")]
        nudges = sorted((at, m.address.value) for at, m in nudging)
        assert nudges == [
            (shanghai(2025, 11, 26, 10, 0), "mishu"),
            (shanghai(2025, 11, 26, 10, 0), "mishu2"),
            (shanghai(2025, 11, 27, 9, 0), "mishu"),
            (shanghai(2025, 11, 27, 9, 0), "mishu2"),
            (shanghai(2025, 11, 28, 9, 0), "mishu"),
            (shanghai(2025, 11, 28, 9, 0), "mishu2"),
        ]
        first = next(m.text for _, m in sent if m.text.startswith("【审核提醒】"))
        assert first == (
            f"【审核提醒】社情民意 {NUMBER}《{TITLE}》（张三，已提交）"
            "已等待1天0小时，请及时处理：\n"
            f"发送「查询 {NUMBER}」查看全文，「采用 / 退回 / 不予采用 {NUMBER}」审核。"
        )
        await bot.say("mishu", f"采用 {NUMBER}")
        later = await bot.run_until(shanghai(2025, 11, 30, 12, 0), timedelta(hours=1))
        assert not [m for _, m in later if m.text.startswith("【审核提醒】")]


async def test_media_message_outside_a_draft_is_not_a_report(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.runtime.pipeline.handle(
            Incoming("sandbox", "m1", "", clock.now(), "media-1", msg_type="image")
        )
        assert [m.text for m in await bot.flush()] == [
            "收到。目前我只能理解文字消息，发送「帮助」查看我能做什么。"
        ]
        assert await bot.say("m1", "确认提交") == [
            "您没有待提交的社情民意草稿（草稿可能已超时作废）。发送「提交社情民意」重新开始。"
        ]
