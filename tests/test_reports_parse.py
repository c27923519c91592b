"""社情民意 parsers with plain strings, and the ``lvzhi parse`` contract for them."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from handlers.reports.parse import (
    DraftInput,
    Recategorize,
    ReportQuery,
    ReportStart,
    ReportText,
    Resubmit,
    ReviewCommand,
    parse_category,
    parse_draft_input,
    parse_names,
    parse_number,
    parse_query,
    parse_recategorize,
    parse_report,
    parse_resubmit,
    parse_review,
    parse_start,
    suggest_category,
)

FULL = (
    "社情民意：关于加强农村饮水工程管护的建议\n"
    "基本情况：全县农村饮水工程1200处，多数建成超过10年。\n"
    "存在问题：管护经费不足，专人缺位。\n"
    "建议：设立县级管护基金。"
)


def test_report_with_sections() -> None:
    assert parse_report(FULL) == ReportText(
        title="关于加强农村饮水工程管护的建议",
        category=None,
        content=(
            "基本情况：全县农村饮水工程1200处，多数建成超过10年。\n"
            "存在问题：管护经费不足，专人缺位。\n"
            "建议：设立县级管护基金。"
        ),
    )


def test_report_full_width_and_mention_and_brackets() -> None:
    value = parse_report("@履职助手 【社情民意】关于规范校外培训的建议\n内容：校外培训收费乱。")
    assert value == ReportText("关于规范校外培训的建议", None, "校外培训收费乱。")


def test_report_on_one_line_splits_before_sections() -> None:
    value = parse_report("社情民意:关于X的建议 基本情况:路窄 建议:拓宽")
    assert value == ReportText("关于X的建议", None, "基本情况：路窄 建议：拓宽")


def test_labelled_report_with_category_and_cosigners() -> None:
    text = "标题：关于加快老旧小区改造的建议\n类别：民生\n联名：张三、李四\n内容：第一段\n第二段"
    assert parse_report(text) == ReportText(
        "关于加快老旧小区改造的建议", "民生保障", "第一段\n第二段", ("张三", "李四")
    )


def test_labelled_report_on_one_line() -> None:
    value = parse_report("标题：关于X的建议 类别：生态 内容：河道 类别:不是标签")
    assert value == ReportText("关于X的建议", "生态环境", "河道 类别：不是标签")


def test_unknown_category_word_is_none_and_title_only_has_no_content() -> None:
    assert parse_report("标题:关于X 类别:天气 内容:正文") == ReportText("关于X", None, "正文")
    assert parse_report("社情民意：关于X的建议") == ReportText("关于X的建议", None, "")


@pytest.mark.parametrize(
    "text", ["社情民意", "我的社情民意", "今天开会", "标题", "打卡 读《社情民意》"]
)
def test_not_a_report(text: str) -> None:
    assert parse_report(text) is None


@pytest.mark.parametrize(
    "text", ["提交社情民意", "我要反映社情民意", "社情民意", "我要提交社情民意信息"]
)
def test_start(text: str) -> None:
    assert parse_start(text) == ReportStart()


def test_queries_and_numbers() -> None:
    assert parse_query("我的社情民意") == ReportQuery(None)
    assert parse_query("查询 SQ-2025-0042") == ReportQuery("SQ-2025-0042")
    assert parse_query("查询sq-2025-42") == ReportQuery("SQ-2025-0042")
    assert parse_query("查询 ＳＱ－２０２５－００４２") == ReportQuery("SQ-2025-0042")
    assert parse_query("SQ20250042") == ReportQuery("SQ-2025-0042")
    assert parse_query("查询 天气") is None
    assert parse_number("sq-2024-7") == "SQ-2024-0007"
    assert parse_number("2024") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("待审", ReviewCommand("list", None, None)),
        ("采用 SQ-2025-0042", ReviewCommand("adopt", "SQ-2025-0042", None)),
        ("采用 SQ-2025-0042 编入第5期", ReviewCommand("adopt", "SQ-2025-0042", "编入第5期")),
        (
            "退回 SQ-2025-0042 请补充具体数据",
            ReviewCommand("return", "SQ-2025-0042", "请补充具体数据"),
        ),
        (
            "不予采用 SQ-2025-0042 已有部门在办理",
            ReviewCommand("reject", "SQ-2025-0042", "已有部门在办理"),
        ),
        ("报送 SQ-2025-0042 省政协", ReviewCommand("forward", "SQ-2025-0042", None, "省政协")),
        ("报送 2025-42 至全国政协", ReviewCommand("forward", "SQ-2025-0042", None, "全国政协")),
        ("报送 SQ-2025-0042 某处", ReviewCommand("forward", "SQ-2025-0042", None, None)),
        (
            "批示 SQ-2025-0042 市领导 请市水务局研究办理",
            ReviewCommand("endorse", "SQ-2025-0042", "请市水务局研究办理", "市领导", "市领导"),
        ),
        (
            "批示 SQ-2025-0042 省政府领导：请研究",
            ReviewCommand("endorse", "SQ-2025-0042", "请研究", "省领导", "省政府领导"),
        ),
        (
            "转办 SQ-2025-0042 市水务局",
            ReviewCommand("assign", "SQ-2025-0042", None, None, "市水务局"),
        ),
        ("反馈 SQ-2025-0042 已安排资金", ReviewCommand("answer", "SQ-2025-0042", "已安排资金")),
        ("办结 SQ-2025-0042", ReviewCommand("close", "SQ-2025-0042", None)),
        ("采用", ReviewCommand("adopt", None, None)),
        ("反馈一下近况", None),
        ("待审 的东西", None),
    ],
)
def test_review_commands(text: str, expected: ReviewCommand | None) -> None:
    assert parse_review(text) == expected


def test_recategorize_resubmit() -> None:
    assert parse_recategorize("修改类别 SQ-2025-0042 民生保障") == Recategorize(
        "SQ-2025-0042", "民生保障", "民生保障"
    )
    assert parse_recategorize("修改类别 SQ-2025-0042 天气") == Recategorize(
        "SQ-2025-0042", None, "天气"
    )
    assert parse_resubmit("重新提交 SQ-2025-0042") == Resubmit("SQ-2025-0042", None)
    assert parse_resubmit("重新提交 SQ-2025-0042\n内容：补充了数据,共3处") == Resubmit(
        "SQ-2025-0042", "补充了数据，共3处"
    )


def test_categories_and_suggestions() -> None:
    assert parse_category("民生保障") == "民生保障"
    assert parse_category("2") == "民生保障"
    assert parse_category("医药卫生") == "医疗卫生"
    assert parse_category("9") is None
    assert suggest_category("关于加强农村饮水工程管护的建议", "") == "民生保障"
    assert suggest_category("关于治理河道污染的建议", "污水直排") == "生态环境"
    assert suggest_category("关于规范村医队伍的建议", "") == "医疗卫生"
    assert suggest_category("关于一件事", "没有关键词") == "其他"


def test_draft_input_and_names() -> None:
    assert parse_draft_input("确认提交") == DraftInput("confirm")
    assert parse_draft_input("类别 民生") == DraftInput("category", "民生")
    assert parse_draft_input("类别 天气") == DraftInput("text", "类别 天气")
    assert parse_draft_input("联名：张三、李四") == DraftInput("cosigners", "张三、李四")
    assert parse_draft_input("补充：还有一点") == DraftInput("append", "还有一点")
    assert parse_draft_input("一段正文") == DraftInput("text", "一段正文")
    assert parse_names("张三、李四,王五 张三") == ("张三", "李四", "王五")


# -- lvzhi parse ------------------------------------------------------------------------------

NOW = "2025-11-25T10:00:00+08:00"


def cli_parse(capsys: pytest.CaptureFixture[str], text: str, *extra: str) -> dict[str, object]:
    assert main(["parse", "--now", NOW, *extra, text]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("text", "role", "expected"),
    [
        (
            FULL,
            "member",
            {"intent": "report", "title": "关于加强农村饮水工程管护的建议", "category": None},
        ),
        (
            "标题：关于X的建议\n类别：民生保障\n内容：正文",
            "member",
            {
                "intent": "report",
                "title": "关于X的建议",
                "category": "民生保障",
                "content": "正文",
            },
        ),
        ("提交社情民意", "member", {"intent": "report_start"}),
        ("我要反映社情民意", "member", {"intent": "report_start"}),
        ("我的社情民意", "member", {"intent": "report_query", "number": None}),
        ("查询 SQ-2025-0042", "member", {"intent": "report_query", "number": "SQ-2025-0042"}),
        ("待审", "member", {"intent": "unknown"}),
        ("采用 SQ-2025-0042", "member", {"intent": "unknown"}),
        ("待审", "secretary", {"intent": "review", "action": "list", "number": None}),
        (
            "退回 SQ-2025-0042 请补充具体数据",
            "secretary",
            {
                "intent": "review",
                "action": "return",
                "number": "SQ-2025-0042",
                "comment": "请补充具体数据",
            },
        ),
        (
            "报送 SQ-2025-0042 省政协",
            "admin",
            {"intent": "review", "action": "forward", "level": "省政协"},
        ),
        ("办结 SQ-2025-0042", "secretary", {"intent": "review", "action": "close"}),
    ],
)
def test_parse_contract(
    capsys: pytest.CaptureFixture[str], text: str, role: str, expected: dict[str, object]
) -> None:
    result = cli_parse(capsys, text, "--role", role)
    assert {key: result.get(key) for key in expected} == expected
