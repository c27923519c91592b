"""Natural phrasings through the whole pipeline (issue 15): a guessed action waits for a
confirmation, is confirmed (是/确认), dropped (不是) or corrected; a question is answered with
how to use the feature and never executed."""

from __future__ import annotations

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.dispatcher import CONFIRM_ASK
from handlers.understand.answers import ANSWERS
from tests.conftest import make_config
from tests.harness import Bot, running_bot, shanghai


@pytest.fixture
def cfg(db_url: str) -> Config:
    return make_config(db_url)


async def seed(bot: Bot) -> None:
    await bot.add_member("mishu", "王秘书", role="secretary")
    for group in ("第3学习小组", "第5学习小组"):
        for n in (1, 2):
            await bot.add_member(f"g{group[1]}m{n}", f"委员{group[1]}{n}", group=group)


async def test_guessed_notice_waits_then_is_confirmed(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        # No 通知 command form: the office's own wording, read as a notice to 第3学习小组.
        [asked] = await bot.say("mishu", "给第三组发个通知：周五下午集中学习，请准时参加")
        assert asked == (
            "我理解为：通知第3学习小组，立即发出：周五下午集中学习，请准时参加\n" + CONFIRM_ASK
        )
        sent = await bot.say_and_collect("mishu", "是")
        posts = [m for m in sent if m.address.kind == "group"]
        assert [m.text for m in posts] == [
            "【通知 TZ-1】周五下午集中学习，请准时参加\n（请回复「收到」确认）"
        ]
        [status] = await bot.say("mishu", "TZ-1 谁还没收到")
        assert "已确认 0/2" in status


async def test_guessed_send_time_is_confirmed_before_scheduling(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        text = "通知 第5学习小组：周五的学习交流会改到线上（明天早上8点发出）"
        [asked] = await bot.say("mishu", text)
        assert asked.startswith(
            "我理解为：通知第5学习小组，11月26日08:00发出：周五的学习交流会改到线上"
        )
        [done] = await bot.say("mishu", "确认")
        assert done.startswith("通知 TZ-1 将于11月26日08:00发送至第5学习小组")


async def test_guessed_task_is_corrected_by_the_next_message(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        [asked] = await bot.say("mishu", "请第3学习小组的委员于12月10日前提交调研报告")
        assert asked.startswith("我理解为：督办任务：")
        assert "交给第3学习小组" in asked
        # The secretary meant another group: the correction replaces the guess and acts.
        sent = await bot.say_and_collect("mishu", "督办 第5学习小组：请于12月10日前提交调研报告")
        assert [(m.address.kind, m.address.label) for m in sent] == [
            ("member", "member:mishu"),
            ("group", "group:第5学习小组"),
        ]
        assert sent[0].text.startswith("已交办督办 DB-1 至第5学习小组，承办 2 人")
        [status] = await bot.say("mishu", "督办情况")
        assert status.startswith("未销号的督办任务（1项）：\nDB-1「请于12月10日前提交调研报告」")


async def test_guess_dropped_with_no(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say(
            "mishu", "定于12月3日上午9点在三楼会议室召开常委会，请第3学习小组委员于12月1日前回复"
        )
        sent = await bot.say_and_collect("mishu", "不是")
        assert [m.text for m in sent] == ["好的，没有执行。可以重新发送正确的内容。"]
        assert await bot.say("mishu", "是") == [
            "目前没有等待您确认的操作。发送「帮助」查看我能做什么。"
        ]


async def test_questions_are_answered_never_executed(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        assert await bot.say("g3m1", "打卡每天几点截止啊") == [ANSWERS["checkin"]]
        assert await bot.say("g3m1", "社情民意一般怎么写，有没有范文？") == [ANSWERS["report"]]
        [mine] = await bot.say("g3m1", "我的社情民意")
        assert "SQ-" not in mine  # the question did not become a report


async def test_a_question_about_a_known_meeting_gets_its_time_and_place(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say(
            "mishu",
            "会议通知 第3学习小组：11月26日上午9点在政协三楼会议室召开常委会，"
            "请于11月25日18:00前回复",
        )
        [reply] = await bot.say("g3m1", "请问明天的会议在哪里开？")
        assert reply == (
            "您近期的会议：\nHY-1 常委会（11月26日（周三）09:00，政协三楼会议室），"
            "回执截止11月25日18:00\n\n" + ANSWERS["meeting"]
        )
        [other] = await bot.say("g5m1", "请问明天的会议在哪里开？")
        assert other == ANSWERS["meeting"]  # not invited: only how to use it


async def test_the_fallback_names_what_is_open_for_the_member(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say(
            "mishu",
            "会议通知 第3学习小组：11月26日上午9点在政协三楼会议室召开常委会，"
            "请于11月25日18:00前回复",
        )
        [reply] = await bot.say("g3m1", "今天天气怎么样")
        assert reply == (
            "抱歉，我没有理解「今天天气怎么样」。\n"
            "您目前待办：\n"
            "· 会议 HY-1 常委会（11月26日（周三）09:00，政协三楼会议室）待回执，"
            "回复「参加」或「请假 理由」\n"
            "可以试试：「打卡 读《乡土中国》30分钟」「我的打卡」「提交社情民意」「我的履职」，"
            "或发送「帮助」查看全部功能。"
        )
        [in_group] = await bot.say("g3m1", "今天天气怎么样", group="第3学习小组")
        assert "待办" not in in_group


async def test_a_look_up_during_a_draft_is_answered_and_the_draft_stays(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        [prompt] = await bot.say("g3m1", "提交社情民意")
        assert prompt.endswith("请发送标题，例如「关于加强农村饮水工程管护的建议」。")
        [mine] = await bot.say("g3m1", "我的打卡")
        assert mine.startswith("委员31的打卡记录：")
        [next_prompt] = await bot.say("g3m1", "关于加强社区养老服务的建议")
        assert next_prompt.startswith("请选择类别")  # the title went to the draft


async def test_an_announcement_naming_nobody_goes_to_the_group_it_was_written_in(
    cfg: Config,
) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.add_member("mishu3", "李秘书", role="secretary", group="第3学习小组")
        text = "定于12月3日上午9点在三楼会议室召开常委会，请于12月1日前回复"
        [asked] = await bot.say("mishu3", text, group="第3学习小组")
        assert asked.startswith(
            "我理解为：会议通知：常委会，12月3日（周三）09:00，三楼会议室，发给本群"
        )
        sent = await bot.say("mishu3", "是", group="第3学习小组")
        assert any("至第3学习小组，共 3 人" in text for text in sent)
        [asked] = await bot.say("mishu", text)  # 1:1: nobody named, nobody to send to
        assert "（未写明对象）" in asked
        assert await bot.say("mishu", "是") == [
            "请写明发给哪些群或哪些人，例如「第3学习小组」或「全体委员」，再发一次。"
        ]


async def test_a_one_slot_correction_updates_the_reading_and_asks_again(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        [asked] = await bot.say(
            "mishu", "定于12月3日上午9点在三楼会议室召开常委会，请第三组委员于12月1日前回复"
        )
        assert asked.startswith("我理解为：会议通知：常委会，12月3日（周三）09:00，三楼会议室")
        assert "发给第3学习小组" in asked
        # Only the group was wrong: the secretary names it, the reading is stated again.
        [again] = await bot.say("mishu", "不是第3组，是第5组")
        assert again == (
            "已更正。我理解为：会议通知：常委会，12月3日（周三）09:00，三楼会议室，"
            "发给第5学习小组\n" + CONFIRM_ASK
        )
        # Then the time: a bare day and part of the day replaces the start, not the reply date.
        [third] = await bot.say("mishu", "周四下午")
        assert third.startswith(
            "已更正。我理解为：会议通知：常委会，11月27日（周四）15:00，三楼会议室，发给第5学习小组"
        )
        sent = await bot.say_and_collect("mishu", "是")
        posts = [m for m in sent if m.address.kind == "group"]
        assert [m.address.label for m in posts] == ["group:第5学习小组"]
        assert "11月27日" in posts[0].text and "常委会" in posts[0].text
        assert await bot.say("mishu", "是") == [
            "目前没有等待您确认的操作。发送「帮助」查看我能做什么。"
        ]


async def test_a_review_without_its_number_asks_for_the_number_then_acts(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say(
            "g3m1",
            "社情民意：关于加强农村饮水工程管护的建议\n基本情况：水管老化。\n建议：设立专岗。",
        )
        [asked] = await bot.say("mishu", "这篇采用")
        assert asked.startswith("我理解为：采用（未写编号），还缺少编号，例如 SQ-2025-0042")
        # 是 cannot act on a report nobody named: the bot asks for the number again.
        [missing] = await bot.say("mishu", "是")
        assert missing == "还缺少编号，例如 SQ-2025-0042，请直接回复；回复「不是」放弃。"
        [again] = await bot.say("mishu", "SQ-2025-0001")
        assert again == "已更正。我理解为：采用 SQ-2025-0001\n" + CONFIRM_ASK
        assert await bot.say("mishu", "确认") == [
            "SQ-2025-0001《关于加强农村饮水工程管护的建议》已采用，现为「已采用」。"
            "已通知提交人（1 人）。",
            "【社情民意】《关于加强农村饮水工程管护的建议》（SQ-2025-0001）已被采用。",
        ]


async def test_a_review_with_only_the_serial_states_it_and_asks_for_the_number(
    cfg: Config,
) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say(
            "g3m1",
            "社情民意：关于加强农村饮水工程管护的建议\n基本情况：水管老化。\n建议：设立专岗。",
        )
        # 0001 is the serial written short: a guess, never an action on its own
        [asked] = await bot.say("mishu", "0001 退回，请补充数据")
        assert asked.startswith(
            "我理解为：退回 尾号0001（未写完整编号），还缺少编号，例如 SQ-2025-0042"
        )
        [again] = await bot.say("mishu", "SQ-2025-0001")
        assert again == "已更正。我理解为：退回 SQ-2025-0001\n" + CONFIRM_ASK
        # a yes with an emoji and an agreeing word around it is a yes
        done = await bot.say("mishu", "好的 确认👌")
        assert done[0] == (
            "SQ-2025-0001《关于加强农村饮水工程管护的建议》已退回，现为「退回修改」。"
            "已通知提交人（1 人）。"
        )
        assert "请补充数据" in done[1]  # the comment written after the short serial


async def test_cancel_words_with_nothing_waiting_say_nothing_waits(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        for word in ("取消", "算了"):
            assert await bot.say("g3m1", word) == [
                "目前没有等待您确认的操作。发送「帮助」查看我能做什么。"
            ]


async def test_two_actions_scored_alike_are_asked_about_not_picked(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        # A secretary's own make-up that mentions a coming meeting: 补卡 and 会议通知 score
        # alike (a meeting already held, 昨天在外地开会, is no announcement and would not tie).
        [asked] = await bot.say(
            "mishu", "明天下午要开会，先把昨天的卡补上：学习《政府工作报告》，一个小时"
        )
        assert asked.startswith("我理解为：补卡 11月24日：《政府工作报告》 60分钟")
        assert "也可能是「发会议通知」" in asked
        assert await bot.say("mishu", "不是") == ["好的，没有执行。可以重新发送正确的内容。"]


async def test_the_fallback_suggests_what_the_words_scored_for(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        [reply] = await bot.say("g3m1", "会议那个事", group="第3学习小组")
        assert reply.endswith("可以试试：「参加」或「请假 理由」，或发送「帮助」查看全部功能。")
        [office] = await bot.say("mishu", "会议那个事")
        assert "可以试试：「会议通知 第3学习小组：" in office  # the office's own meeting form


async def test_a_task_done_without_its_number_waits_then_is_confirmed(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say_and_collect("mishu", "督办 第5学习小组：请于12月10日前提交调研报告")
        # No number, only what was handed in: a guess, stated and asked about first.
        [asked] = await bot.say("g5m1", "那个调研报告我昨天已经发给办公室了")
        assert asked.startswith("我理解为：报告督办任务完成（未写编号")
        [done] = await bot.say("g5m1", "对的没错")  # yes, run together
        assert done.startswith("已登记：您已完成督办 DB-1「请于12月10日前提交调研报告」")


async def test_a_reply_quoting_a_notice_is_read_as_the_reply(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say_and_collect("mishu", "通知 第5学习小组：周五下午集中学习，请准时参加")
        # The quoted notice holds 参加 and 通知; the member's own words are only 收到.
        quoted = "「王秘书：【通知 TZ-1】周五下午集中学习，请准时参加」\n- - - - - - - - - -\n收到"
        [reply] = await bot.say("g5m1", quoted)
        assert reply == "已确认收到通知 TZ-1「周五下午集中学习，请准时参加」。"
        [status] = await bot.say("mishu", "TZ-1 谁还没收到")
        assert "已确认 1/2" in status
