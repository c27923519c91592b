"""Check-ins, make-ups and check-in queries as members really type them (docs/domain.md §1)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.checkin.parse import (
    CheckInIntent,
    MakeUpIntent,
    QueryIntent,
    parse_checkin,
    parse_checkin_query,
    parse_makeup,
)
from handlers.text.timephrase import SHANGHAI

NOW = datetime(2025, 11, 25, 10, 0, tzinfo=SHANGHAI)  # a Tuesday


def ci(
    material: str = "", *titles: str, minutes: int | None = None, note: str | None = None
) -> CheckInIntent:
    return CheckInIntent(titles=titles, minutes=minutes, note=note, material=material)


def mk(
    day: date | None,
    material: str = "",
    *titles: str,
    minutes: int | None = None,
    note: str | None = None,
) -> MakeUpIntent:
    return MakeUpIntent(date=day, titles=titles, minutes=minutes, note=note, material=material)


CHECK_INS = [
    # the phrasings of docs/domain.md
    ("打卡", ci()),
    (
        "#打卡# 今日学习《习近平谈治国理政》第四卷第三章，30分钟",
        ci("《习近平谈治国理政》第四卷第三章", "习近平谈治国理政", minutes=30),
    ),
    (
        "学习打卡：党的二十大报告 第三部分 一小时 心得：要把调查研究作为履职基础",
        ci("党的二十大报告 第三部分", minutes=60, note="要把调查研究作为履职基础"),
    ),
    ("打卡 读《乡土中国》 半小时", ci("《乡土中国》", "乡土中国", minutes=30)),
    (
        "【打卡】学习《中国共产党政治协商工作条例》40min",
        ci("《中国共产党政治协商工作条例》", "中国共产党政治协商工作条例", minutes=40),
    ),
    (
        "@履职助手 打卡 今天读了《人民政协报》两篇评论，用时二十五分钟",
        ci("《人民政协报》两篇评论", "人民政协报", minutes=25),
    ),
    # triggers
    ("[打卡] 读《论语》", ci("《论语》", "论语")),
    ("打卡学习 《论语》", ci("《论语》", "论语")),
    ("今日打卡：读《论语》", ci("《论语》", "论语")),
    ("读书打卡 《红楼梦》第五回", ci("《红楼梦》第五回", "红楼梦")),
    ("#学习打卡# 党章", ci("党章")),
    ("打卡啦", ci()),
    ("#打卡#", ci()),
    ("读《乡土中国》半小时 #打卡#", ci("《乡土中国》", "乡土中国", minutes=30)),
    ("读《乡土中国》半小时，打卡", ci("《乡土中国》", "乡土中国", minutes=30)),
    ("读《乡土中国》半小时打卡", ci("《乡土中国》", "乡土中国", minutes=30)),
    ("＠履职助手\u2005打卡　读《论语》", ci("《论语》", "论语")),
    # full-width, spacing, line breaks, emoji
    ("打卡：３０分钟　《论语》", ci("《论语》", "论语", minutes=30)),
    (
        "打卡\n读《乡土中国》\n半小时\n心得：\n差序格局",
        ci("《乡土中国》", "乡土中国", minutes=30, note="差序格局"),
    ),
    ("打卡✅ 📚读《乡土中国》半小时👍", ci("《乡土中国》", "乡土中国", minutes=30)),
    ("打卡 读\u200b《论语》\u3000四十分钟", ci("《论语》", "论语", minutes=40)),
    # durations
    ("打卡 1.5小时 《论语》", ci("《论语》", "论语", minutes=90)),
    ("打卡 1个半小时 《论语》《孟子》", ci("《论语》《孟子》", "论语", "孟子", minutes=90)),
    ("打卡 一个半小时 党章", ci("党章", minutes=90)),
    ("打卡 一个小时 党章", ci("党章", minutes=60)),
    ("打卡 两小时 党章", ci("党章", minutes=120)),
    ("打卡 90分钟 党章", ci("党章", minutes=90)),
    ("打卡 党章 十分钟", ci("党章", minutes=10)),
    ("打卡 党章 学习三分之一", ci("党章 学习三分之一")),
    ("打卡：一小时二十分 学习《政协章程》", ci("《政协章程》", "政协章程", minutes=80)),
    ("打卡 1小时20分钟 党章", ci("党章", minutes=80)),
    ("打卡 40 mins 读书", ci("读书", minutes=40)),
    ("打卡 1h30m 党史", ci("党史", minutes=90)),
    ("打卡 学习强国 共计45分钟", ci("学习强国", minutes=45)),
    (
        "打卡 上午读《乡土中国》30分钟，晚上读《论语》40分钟",
        ci("上午读《乡土中国》，晚上读《论语》", "乡土中国", "论语", minutes=70),
    ),
    # titles
    (
        "打卡 读《半小时漫画中国史》 二十分钟",
        ci("《半小时漫画中国史》", "半小时漫画中国史", minutes=20),
    ),
    ("打卡 读《乡土中国 半小时", ci("《乡土中国》", "乡土中国", minutes=30)),
    ("打卡 〈论语〉学而篇", ci("〈论语〉学而篇", "论语")),
    (
        "打卡 《学习〈论语〉心得》 心得：温故知新",
        ci("《学习〈论语〉心得》", "学习〈论语〉心得", note="温故知新"),
    ),
    ("打卡 《论语》《论语》", ci("《论语》《论语》", "论语")),
    ("打卡 读<<乡土中国>>", ci("《乡土中国》", "乡土中国")),  # typed without a Chinese keyboard
    # reflections
    ("今日打卡：学习《论语》 心得 学而时习之", ci("《论语》", "论语", note="学而时习之")),
    ("打卡 党章 感悟：初心不改", ci("党章", note="初心不改")),
    ("打卡 党章，收获很大", ci("党章", note="收获很大")),
    ("打卡 党章 心得要把调查研究作为履职基础", ci("党章", note="要把调查研究作为履职基础")),
    ("打卡 党章 【体会】守正创新", ci("党章", note="守正创新")),
    ("打卡 《乡土中国》 读书收获:熟人社会", ci("《乡土中国》", "乡土中国", note="熟人社会")),
    ("打卡 读书 心得：调研要深入,用时40分钟", ci("读书", minutes=40, note="调研要深入")),
    ("打卡 《深刻体会两个确立》", ci("《深刻体会两个确立》", "深刻体会两个确立")),
    ("打卡 心得：我们做到了吗？", ci(note="我们做到了吗？")),
    # material clean-up
    ("打卡第37天 读《习近平谈治国理政》", ci("《习近平谈治国理政》", "习近平谈治国理政")),
    ("打卡 今天学习党章，十分受益", ci("学习党章，十分受益")),
    ("打卡 学习强国 30分钟", ci("学习强国", minutes=30)),
    ("打卡 今日头条上的两篇文章", ci("今日头条上的两篇文章")),
]

NOT_CHECK_INS = [
    "补卡 11月18日 读《乡土中国》40分钟",
    "补卡",
    "我的打卡",
    "打卡统计",
    "本周打卡情况",
    "怎么打卡",
    "如何打卡？",
    "打卡了吗",
    "打卡了吗？",
    "今天打卡了没",
    "打卡要写心得吗",
    "打卡 要写心得吗？",
    "打卡规则是什么",
    "打卡 今天学什么？",
    "打卡点在哪里",
    "我今天忘记打卡了",
    "谁还没打卡",
    "读书半小时",
    "收到",
    "",
    "@履职助手",
]


@pytest.mark.parametrize(("text", "expected"), CHECK_INS)
def test_check_ins(text: str, expected: CheckInIntent) -> None:
    assert parse_checkin(text) == expected


@pytest.mark.parametrize("text", NOT_CHECK_INS)
def test_not_check_ins(text: str) -> None:
    assert parse_checkin(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "补卡 11月18日 读《乡土中国》40分钟",
            mk(date(2025, 11, 18), "《乡土中国》", "乡土中国", minutes=40),
        ),
        ("补卡 昨天 学习党章", mk(date(2025, 11, 24), "学习党章")),
        ("补卡2025-11-17 读《论语》", mk(date(2025, 11, 17), "《论语》", "论语")),
        ("补卡 上周三 读书半小时", mk(date(2025, 11, 19), "读书", minutes=30)),
        ("补卡 11月30日 读书", mk(date(2024, 11, 30), "读书")),  # the latest 11-30 so far
        (
            "补卡：11月18号，党章 一小时 心得：守纪律",
            mk(date(2025, 11, 18), "党章", minutes=60, note="守纪律"),
        ),
        ("【补卡】前天 《论语》", mk(date(2025, 11, 23), "《论语》", "论语")),
        ("@履职助手 补卡 周日 党章", mk(date(2025, 11, 23), "党章")),
        (
            "补卡 读《2035年远景目标》 11月20号",
            mk(date(2025, 11, 20), "《2035年远景目标》", "2035年远景目标"),
        ),
        ("补卡 12.1 学习党章第3.2节", mk(date(2024, 12, 1), "学习党章第3.2节")),
        ("补打卡 十一月二十日 党史", mk(date(2025, 11, 20), "党史")),
        ("补卡", mk(None)),
        ("补卡 学习党章", mk(None, "学习党章")),
        ("补卡规则", None),
        ("怎么补卡", None),
        ("补卡 可以补几次？", None),
        ("打卡 读书", None),
    ],
)
def test_make_ups(text: str, expected: MakeUpIntent | None) -> None:
    assert parse_makeup(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的打卡", QueryIntent("mine")),
        ("我的打卡记录", QueryIntent("mine")),
        ("查询我的打卡", QueryIntent("mine")),
        ("@履职助手 我的打卡", QueryIntent("mine")),
        ("我的本周打卡情况", QueryIntent("mine")),
        ("打卡统计", QueryIntent("stats")),
        ("打卡排行榜", QueryIntent("stats")),
        ("打卡统计 第3学习小组", QueryIntent("stats", "第3学习小组")),
        ("本周打卡情况", QueryIntent("group_week")),
        ("打卡情况", QueryIntent("group_week")),
        ("本周打卡情况 第3学习小组", QueryIntent("group_week", "第3学习小组")),
        ("本周打卡情况：第三学习小组", QueryIntent("group_week", "第3学习小组")),
        ("第3学习小组本周打卡情况", QueryIntent("group_week", "第3学习小组")),
        ("查看第3学习小组的打卡情况", QueryIntent("group_week", "第3学习小组")),
        ("第3学习小组本周打卡情况怎么样？", QueryIntent("group_week", "第3学习小组")),
        ("这周打卡进度", QueryIntent("group_week")),
        ("学习打卡情况", QueryIntent("group_week")),
        ("第3学习小组未打卡名单", QueryIntent("group_week", "第3学习小组")),
        ("打卡", None),
        ("打卡 读《论语》", None),
        ("怎么打卡", None),
        ("请大家关注本周打卡情况，尽快完成学习任务并按时提交", None),
    ],
)
def test_queries(text: str, expected: QueryIntent | None) -> None:
    assert parse_checkin_query(text) == expected


_ALPHABET = st.one_of(
    st.characters(exclude_categories=()),
    st.sampled_from(
        list("打卡补《》〈〉心得体会小时分钟半个点月日号周年前@#【】[] \u3000\u2005\u200b\n")
        + list("一二两三十百0123456789.:：，,？?吗的我本情况统计")
    ),
)


@settings(max_examples=200, deadline=timedelta(seconds=2), database=None)
@given(st.text(_ALPHABET, max_size=300))
def test_no_text_makes_the_parsers_raise(text: str) -> None:
    for prefix in ("", "打卡 ", "补卡 "):
        parse_checkin(prefix + text)
        parse_makeup(prefix + text, NOW)
        parse_checkin_query(prefix + text)


@settings(
    max_examples=20,
    deadline=timedelta(seconds=5),
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.text(_ALPHABET, min_size=1, max_size=20))
def test_very_long_input_does_not_hang(seed: str) -> None:
    text = (seed * (10_000 // len(seed) + 1))[:10_000]
    for prefix in ("打卡 ", "补卡 "):
        parse_checkin(prefix + text)
        parse_makeup(prefix + text, NOW)
        parse_checkin_query(prefix + text)
