"""提案 in chat, through the pipeline: a proposal's whole life (附议, 立案, 重点, 领办, 交办,
答复, 不满意 → 重新办理, 满意, 办结), 不予立案 → 转为社情民意, the refusals, privacy, each step
told once, the three-colour chasers — on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.commands.proposals import run_show
from bot.config import Config
from handlers.reports.media import (
    DirectoryMediaStore,
    MediaRun,
    SandboxMediaSource,
    fetch_pending_media,
)
from tests.conftest import make_config
from tests.harness import Bot, running_bot, shanghai
from tests.test_reports_dialog import send_media

GROUP = "第3学习小组"
NO = "TA-2025-0001"
TITLE = "关于加快农村寄递物流体系建设的建议"
PROPOSAL = f"提案：{TITLE}\n案据：快递进村难。\n建议：整合网点。\n联名：李四"
HEAD = f"【提案】《{TITLE}》（{NO}）"
RATE = f"请评价办理结果：回复「满意 {NO}」「基本满意 {NO}」或「不满意 {NO} 理由」。"


@pytest.fixture
def cfg(db_url: str) -> Config:
    return make_config(db_url)


async def seed(bot: Bot) -> None:
    await bot.add_member("mishu", "王秘书", role="secretary")
    await bot.add_member("m1", "张三", group=GROUP)
    await bot.add_member("m2", "李四", group=GROUP)
    await bot.add_member("m3", "王五", group=GROUP)


async def proposal_keys(bot: Bot) -> list[str]:
    async with bot.db.read() as tx:
        return [
            d.idempotency_key
            for d in await tx.deliveries.list()
            if d.idempotency_key.startswith("proposal:")
        ]


async def test_a_proposals_whole_life_told_once_at_each_step(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        assert await bot.say("m1", PROPOSAL) == [
            f"已提交提案《{TITLE}》，编号 {NO}。\n联名：李四（已请他们回复附议）。\n"
            f"审查、交办和答复的进展会通知您，也可发送「查询 {NO}」查看。",
            f"【提案联名】张三提交了提案《{TITLE}》（{NO}），将您列为联名提案人。"
            f"同意请回复「附议 {NO}」，不同意请回复「不附议 {NO}」。",
        ]
        # Before the 附议, the co-proposer is not told of the office's steps.
        assert await bot.say("m2", "附议") == [
            f"已附议提案 {NO}《{TITLE}》，您是联名提案人。",
            f"{HEAD}李四已附议（同意联名）。",
        ]
        assert await bot.say("m2", f"附议 {NO}") == [f"您已附议提案 {NO}，无需重复。"]
        assert await bot.say("mishu", "待审提案") == [
            f"待审查提案 1 件：\n· {NO}《{TITLE}》张三\n"
            "发送「查询 编号」查看全文，「立案 / 不予立案 / 并案 编号」审查。"
        ]
        steps = [
            (f"立案 {NO}", "已立案", f"{HEAD}已立案。"),
            (f"列为重点 {NO}", "已立案", f"{HEAD}已列为重点提案。"),
            (f"领办 {NO} 王副主席", "已立案", f"{HEAD}由王副主席领办。"),
            (
                f"交办 {NO} 市交通运输局 协办：市邮政管理局",
                "已交办",
                f"{HEAD}已交市交通运输局（协办：市邮政管理局）办理。",
            ),
            (
                f"答复 {NO} B 已列入明年计划",
                "已答复",
                f"{HEAD}收到市交通运输局的答复（B 列入计划）：已列入明年计划\n{RATE}",
            ),
        ]
        for command, state, told in steps:
            sent = await bot.say("mishu", command)
            verb = command.split()[0].replace("列为重点", "列为重点提案")
            assert sent[0] == (
                f"{NO}《{TITLE}》已{verb}，现为「{state}」。已通知提案人（2 人）。"
            ), command
            assert sent[1:] == [told, told], command  # once to 张三, once to 李四
        # 不满意: a reason is needed; with one, back to the unit (重新办理), the office told.
        assert await bot.say("m1", f"不满意 {NO}") == [
            f"请写明不满意的理由，例如「不满意 {NO} 答复没有具体措施」。"
        ]
        assert await bot.say("m2", f"满意 {NO}") == [f"满意度由提案人评价，{NO}的提案人不是您。"]
        assert await bot.say("m1", f"{NO} 不满意，没有具体时间表") == [
            f"已记下您对 {NO} 的评价：不满意。提案已转重新办理，结果会通知您。",
            f"{HEAD}提案人评价：不满意：没有具体时间表\n已转重新办理。",
            f"【提案满意度】{NO}《{TITLE}》提案人评价：不满意，理由：没有具体时间表\n"
            f"已转重新办理，请重新交办或答复（「交办 {NO} 单位」）。",
        ]
        assert (await bot.say("mishu", f"办结 {NO}"))[0] == (
            f"{NO}目前为「重新办理」，不能办结。现在可以：交办、答复。"
        )
        await bot.say("mishu", f"交办 {NO} 市交通运输局")
        sent = await bot.say("mishu", f"答复 {NO} A 已建成村级寄递站")
        assert (
            sent[1] == f"{HEAD}收到市交通运输局的答复（A 已解决/采纳）：已建成村级寄递站\n{RATE}"
        )
        assert await bot.say("m1", f"满意 {NO}") == [
            f"已记下您对 {NO} 的评价：满意。谢谢！",
            f"{HEAD}提案人评价：满意。",
            f"【提案满意度】{NO}《{TITLE}》提案人评价：满意\n可发送「办结 {NO}」办结。",
        ]
        assert (await bot.say("mishu", f"办结 {NO}"))[1:] == [f"{HEAD}已办结。"] * 2
        [shown] = await bot.say("m2", f"查询 {NO}")
        assert shown.startswith(
            f"{NO}《{TITLE}》\n状态：已办结　重点提案　领办：王副主席\n提案人：张三　联名：李四\n"
            "主办单位：市交通运输局\n案据：快递进村难。\n办法：整合网点。\n办理过程：\n"
            "· 2025-11-25 10:00 提交\n· 2025-11-25 10:00 附议\n· 2025-11-25 10:00 立案\n"
        )
        assert shown.endswith("· 2025-11-25 10:00 满意度评价（满意）\n· 2025-11-25 10:00 办结")
        async with bot.db.read() as tx:
            proposal = await tx.proposals.by_seq(2025, 1)
            assert proposal is not None
            assert (proposal.state, proposal.satisfaction, proposal.classification) == (
                "closed",
                "satisfied",
                "A 已解决/采纳",
            )
            assert proposal.due_at is None
            history = await tx.proposals.history(proposal.id)
            assert [(h.action, h.to_state) for h in history] == [
                ("submit", "submitted"),
                ("cosign", "submitted"),
                ("accept", "accepted"),
                ("key", "accepted"),
                ("lead", "accepted"),
                ("assign", "assigned"),
                ("answer", "answered"),
                ("dissatisfied", "reopened"),
                ("assign", "assigned"),
                ("answer", "answered"),
                ("rate", "rated"),
                ("close", "closed"),
            ]
            assert {h.actor for h in history} == {"user:m1", "user:m2", "user:mishu"}
        keys = await proposal_keys(bot)
        assert len(keys) == len(set(keys))  # every step told to each proposer exactly once


async def test_not_accepted_and_turned_into_an_opinion_report(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m3", "提案：关于修缮某村道路的建议\n情况：道路破损。\n建议：尽快修缮。")
        assert await bot.say("mishu", f"不予立案 {NO}") == [
            "请写明不予立案的理由，例如「不予立案 TA-2025-0001 属于个案诉求 转为社情民意」。"
        ]
        assert await bot.say("mishu", f"不予立案 {NO} 属于个案诉求 转为社情民意") == [
            f"{NO}《关于修缮某村道路的建议》已不予立案，现为「不予立案」。"
            "已转为社情民意 SQ-2025-0001。已通知提案人（1 人）。",
            f"【提案】《关于修缮某村道路的建议》（{NO}）不予立案，"
            "理由：属于个案诉求 转为社情民意\n"
            "已转为社情民意 SQ-2025-0001，可发送「查询 SQ-2025-0001」查看。",
        ]
        [mine] = await bot.say("m3", "我的社情民意")
        assert "SQ-2025-0001《关于修缮某村道路的建议》已提交" in mine
        async with bot.db.read() as tx:
            report = await tx.reports.by_number("SQ-2025-0001")
            assert report is not None
            assert report.content == "道路破损。\n建议：尽快修缮。"
            proposal = await tx.proposals.by_seq(2025, 1)
            assert proposal is not None and proposal.converted_to == "SQ-2025-0001"
        assert (await bot.say("mishu", f"立案 {NO}"))[0] == (
            f"{NO}目前为「不予立案」，不能立案。流程已结束。"
        )


async def test_merge_refusals_and_privacy(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m1", PROPOSAL)
        await bot.say("m3", "提案：关于农村快递的建议\n情况：偏远村寄件难。\n建议：设代办点。")
        assert await bot.say("m1", f"立案 {NO}") == [
            "抱歉，审查和交办提案仅限机关秘书。您可以发送「我的提案」查看自己的提案和办理进度。"
        ]
        assert await bot.say("m3", f"查询 {NO}") == [f"没有找到编号为 {NO} 的提案，请核对编号。"]
        assert await bot.say("m3", f"附议 {NO}") == [f"没有找到编号为 {NO} 的提案，请核对编号。"]
        assert await bot.say("mishu", "并案 TA-2025-0002") == [
            f"请写明并入哪件提案，例如「并案 TA-2025-0003 并入 {NO}」。"
        ]
        sent = await bot.say("mishu", f"并案 TA-2025-0002 并入 {NO}")
        assert sent == [
            "TA-2025-0002《关于农村快递的建议》已并案，现为「已并案」。已通知提案人（1 人）。",
            f"【提案】《关于农村快递的建议》（TA-2025-0002）已并入提案 {NO} 办理。",
        ]
        assert await bot.say("mishu", f"答复 {NO} 已解决") == [
            "请写明答复的类别（A 已解决/采纳、B 列入计划、C 留作参考）和内容，"
            f"例如「答复 {NO} A 已安排专项资金……」。"
        ]
        # 不附议: the co-proposer leaves, the proposer is told.
        assert await bot.say("m2", f"不附议 {NO}") == [
            f"已记下：您不附议提案 {NO}，已从联名人中移除。",
            f"【提案】《{TITLE}》（{NO}）李四不同意联名，已从联名人中移除。",
        ]


async def test_step_by_step_and_the_offices_number_format(db_url: str) -> None:
    cfg = make_config(db_url, proposals={"number_format": "ZX{year}{seq:03d}"})
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        assert await bot.say("m1", "我要提交提案") == [
            "好的，我们来填写提案（随时回复「取消」可放弃）。\n"
            "请发送案由（提案标题），例如「关于加快农村寄递物流体系建设的建议」。"
        ]
        assert await bot.say("m1", "关于建设社区食堂的建议") == [
            "请发送案据：基本情况和存在的问题。"
        ]
        assert await bot.say("m1", "老人吃饭难。") == ["请发送办法：具体的意见建议。"]
        [preview] = await bot.say("m1", "由街道建设社区食堂。")
        assert preview.startswith(
            "请核对您的提案：\n案由：关于建设社区食堂的建议\n案据：老人吃饭难。\n"
            "办法：由街道建设社区食堂。\n回复「确认提交」提交"
        )
        [done] = await bot.say("m1", "确认提交")
        assert done.startswith("已提交提案《关于建设社区食堂的建议》，编号 ZX2025001。")
        assert (await bot.say("mishu", "立案 ZX2025001"))[0].startswith(
            "ZX2025001《关于建设社区食堂的建议》已立案"
        )
        assert await bot.say("m1", "我的提案") == [
            "您的提案（最近 1 件）：\n· ZX2025001《关于建设社区食堂的建议》已立案\n"
            "发送「查询 编号」查看办理过程。"
        ]


async def test_the_three_colour_chasers_of_each_step(cfg: Config) -> None:
    """答复 within answer_days (90): yellow in its last 7 days, red once overdue, in the
    secretaries' daily list on working days; the proposer is nudged to rate an answer."""
    clock = FakeClock(shanghai(2025, 9, 1, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m1", PROPOSAL)
        await bot.say("mishu", f"立案 {NO}")
        await bot.say("mishu", f"交办 {NO} 市交通运输局")  # 答复 due 2025-11-30 10:00
        sent = await bot.fast_forward(shanghai(2025, 11, 25, 9, 30))
        lists = [m.text for _, m in sent if m.text.startswith("【提案督办】")]
        assert lists[0] == (
            "【提案督办】11月24日\n红黄提案清单（1件）：\n"
            f"🟡黄色 {NO}《{TITLE}》答复期限11月30日，市交通运输局"
        )
        days = {at.date().isoformat() for at, m in sent if m.text.startswith("【提案督办】")}
        assert days == {"2025-11-24", "2025-11-25"}  # yellow from the 23rd 10:00, a Sunday
        sent = await bot.fast_forward(shanghai(2025, 12, 1, 9, 30))
        red = [m.text for _, m in sent if m.text.startswith("【提案督办】12月1日")]
        assert red == [
            "【提案督办】12月1日\n红黄提案清单（1件）：\n"
            f"🔴红色（已逾期） {NO}《{TITLE}》答复期限11月30日，市交通运输局"
        ]
        await bot.say("mishu", f"答复 {NO} A 已建成村级寄递站")  # rating due 12月16日
        sent = await bot.fast_forward(shanghai(2025, 12, 16, 9, 30))
        nudges = [(at, m.address.value) for at, m in sent if m.text.startswith("【提案满意度】")]
        assert [a.astimezone(clock.now().tzinfo).date().isoformat() for a, _ in nudges] == [
            "2025-12-13",
            "2025-12-15",
            "2025-12-16",
        ]
        assert {address for _, address in nudges} == {"m1"}
        await bot.say("m1", f"基本满意 {NO}")
        sent = await bot.fast_forward(shanghai(2025, 12, 30, 10, 0))
        assert not [m for _, m in sent if m.text.startswith("【提案满意度】")]


async def test_attachments_with_the_proposal_and_with_the_answer(
    cfg: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m1", "提交提案")
        await bot.say("m1", TITLE)
        assert await send_media(bot, "m1", "image", "photo-1") == [
            "已添加附件（共 1 个）。\n请发送案据：基本情况和存在的问题。"
        ]
        await bot.say("m1", "快递进村难。")
        await bot.say("m1", "整合网点。")
        [done] = await bot.say("m1", "确认提交")
        assert "附件 1 个已保存。" in done
        await bot.say("mishu", f"立案 {NO}")
        await bot.say("mishu", f"交办 {NO} 市交通运输局")
        [answer, *_] = await bot.say("mishu", f"答复 {NO} A 已建成寄递站，答复函见附件")
        assert answer == (
            f"{NO}《{TITLE}》已答复，现为「已答复」。已通知提案人（1 人）。\n"
            "请发送答复附件（图片或文件），发完回复「完成」。"
        )
        assert await send_media(bot, "mishu", "file", "reply-1", "答复函.pdf") == [
            "已添加答复附件（共 1 个），发完回复「完成」。"
        ]
        assert await bot.say("mishu", "完成") == [f"好的，{NO} 的答复附件共 1 个。"]
        [shown] = await bot.say("m1", f"查询 {NO}")
        assert "附件：提交 1 个（待保存 1 个）；答复 1 个（待保存 1 个）" in shown
        async with bot.db.read() as tx:
            kept = await tx.proposals.attachments(1)
        assert [(a.stage, a.media_id, a.filename, a.status) for a in kept] == [
            ("submit", "photo-1", "", "pending"),
            ("answer", "reply-1", "答复函.pdf", "pending"),
        ]
        # The media job keeps them as it keeps reports' (WeCom forgets a media id in 3 days).
        source = SandboxMediaSource()
        store = DirectoryMediaStore(tmp_path / "media")
        run = await fetch_pending_media(bot.db, source, store, clock.now() + timedelta(hours=1))
        assert run == MediaRun(stored=2)
        assert source.calls == ["photo-1", "reply-1"]
        async with bot.db.read() as tx:
            kept = await tx.proposals.attachments(1)
        first, second = (a.id for a in kept)
        assert [(a.status, a.stored_ref, a.attempts) for a in kept] == [
            ("stored", f"proposals/{NO}/{first}-photo-1.jpg", 1),
            ("stored", f"proposals/{NO}/{second}-答复函.pdf", 1),
        ]
        assert (tmp_path / "media" / kept[1].stored_ref).read_bytes() == b"sandbox media reply-1"
        [shown] = await bot.say("m1", f"查询 {NO}")
        assert "附件：提交 1 个（已保存 1 个）；答复 1 个（已保存 1 个）" in shown
        capsys.readouterr()
        assert await run_show(cfg, argparse.Namespace(number=NO)) == 0
        out = capsys.readouterr().out
        assert f"附件 {first}（提交）：图片，已保存（proposals/{NO}/{first}-photo-1.jpg）" in out
        assert (
            f"附件 {second}（答复）：文件 答复函.pdf，已保存（proposals/{NO}/{second}-答复函.pdf）"
            in out
        )


async def test_proposal_media_past_three_days_expires(cfg: Config, tmp_path: Path) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("m1", "提交提案")
        await bot.say("m1", TITLE)
        await send_media(bot, "m1", "image", "photo-old")
        await bot.say("m1", "快递进村难。")
        await bot.say("m1", "整合网点。")
        await bot.say("m1", "确认提交")
        source = SandboxMediaSource()
        later = clock.now() + timedelta(days=3, minutes=1)
        run = await fetch_pending_media(bot.db, source, DirectoryMediaStore(tmp_path), later)
        assert run == MediaRun(expired=1)
        assert source.calls == []  # past WeCom's 3 days: not even asked for
        async with bot.db.read() as tx:
            [kept] = await tx.proposals.attachments(1)
        assert (kept.status, kept.stored_ref, kept.attempts) == ("expired", "", 0)
        [shown] = await bot.say("m1", f"查询 {NO}")
        assert "附件：提交 1 个（已过期 1 个）" in shown
