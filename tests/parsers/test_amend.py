"""One-slot corrections of a reading waiting for 是/确认 (handlers/understand/amend.py)."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.dispatcher import answer_word
from handlers.text.timephrase import SHANGHAI
from handlers.understand.amend import amend

NOW = datetime(2025, 11, 25, 10, 0, tzinfo=SHANGHAI)  # a Tuesday
MEETING = "定于12月3日上午9点在三楼会议室召开常委会，请第2学习小组委员于12月1日前回复"


@pytest.mark.parametrize(
    ("answer", "amended"),
    [
        # the start, not the reply date; 于 stays
        ("周四下午", "定于周四下午在三楼会议室召开常委会,请第2学习小组委员于12月1日前回复"),
        ("明天下午3点", "定于明天下午3点在三楼会议室召开常委会,请第2学习小组委员于12月1日前回复"),
        # a deadline replaces the deadline
        (
            "改成11月30日前",
            "定于12月3日上午9点在三楼会议室召开常委会,请第2学习小组委员于11月30日前回复",
        ),
        # the words named, as written: the clock time stays
        (
            "不是12月3日，是12月4日",
            "定于12月4日上午9点在三楼会议室召开常委会,请第2学习小组委员于12月1日前回复",
        ),
        (
            "不是第2组，是第3组",
            "定于12月3日上午9点在三楼会议室召开常委会,请第3组委员于12月1日前回复",
        ),
        (
            "第三组和第五组",
            "定于12月3日上午9点在三楼会议室召开常委会,请第三组和第五组委员于12月1日前回复",
        ),
    ],
)
def test_a_slot_replaces_the_slot_of_its_kind(answer: str, amended: str) -> None:
    assert amend(MEETING, answer, NOW) == amended


def test_a_missing_slot_is_put_in_front() -> None:
    assert amend("这篇采用", "SQ-2025-0042", NOW) == "SQ-2025-0042 这篇采用"
    assert amend("采用 SQ-2025-0041", "SQ-2025-0042", NOW) == "采用 SQ-2025-0042"
    notice = "通知:周五集中学习(明天早上8点发出)"
    assert (
        amend(notice, "后天上午9点", NOW) == "通知:周五集中学习(后天上午9点发出)"
    )  # the send time
    assert amend("社情民意:关于…的建议\n类别:乡村建设", "社会治理", NOW) == (
        "社情民意:关于…的建议\n类别：社会治理"
    )


@pytest.mark.parametrize(
    "answer", ["好的谢谢", "是", "参加", "打卡 《论语》30分钟", "第3组的材料呢"]
)
def test_anything_else_is_no_correction(answer: str) -> None:
    assert amend(MEETING, answer, NOW) is None


@pytest.mark.parametrize(
    ("said", "word"),
    [("不是的", "不是"), ("对的呀", "对"), ("没错的", "没错"), ("是的", "是的"), ("算了", "算了")],
)
def test_yes_and_no_with_particles(said: str, word: str) -> None:
    assert answer_word(said) == word


@pytest.mark.parametrize(
    ("said", "word"),
    [
        ("对 没错", "是"),
        ("嗯嗯 是这个意思", "是"),
        ("是的是的", "是"),
        ("不对，不是这个意思", "不是"),
        ("是 不是", "是 不是"),  # two answers at once: neither
        ("对 但是改到周四", "对 但是改到周四"),  # a yes with a correction: not a bare yes
    ],
)
def test_an_answer_in_several_pieces_that_agree(said: str, word: str) -> None:
    assert answer_word(said) == word
