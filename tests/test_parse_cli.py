"""``lvzhi parse``: the JSON contract that later issues extend."""

from __future__ import annotations

import json

import pytest

from bot.cli import main

NOW = "2025-11-25T10:00:00+08:00"


def parse(capsys: pytest.CaptureFixture[str], text: str, *extra: str) -> dict[str, object]:
    assert main(["parse", "--now", NOW, *extra, text]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "#打卡# 今日学习《习近平谈治国理政》第四卷第三章，30分钟",
            {"intent": "checkin", "titles": ["习近平谈治国理政"], "minutes": 30, "note": None},
        ),
        (
            "学习打卡：党的二十大报告 第三部分 一小时 心得：要把调查研究作为履职基础",
            {"intent": "checkin", "titles": [], "minutes": 60, "note": "要把调查研究作为履职基础"},
        ),
        (
            "@履职助手 打卡 今天读了《人民政协报》两篇评论，用时二十五分钟",
            {"intent": "checkin", "titles": ["人民政协报"], "minutes": 25, "note": None},
        ),
        ("打卡", {"intent": "checkin", "titles": [], "minutes": None, "note": None}),
        (
            "补卡 11月18日 读《乡土中国》40分钟",
            {"intent": "makeup", "date": "2025-11-18", "titles": ["乡土中国"], "minutes": 40},
        ),
        ("补卡 昨天 学习党章", {"intent": "makeup", "date": "2025-11-24"}),
        ("补卡 上周三 学习党章", {"intent": "makeup", "date": "2025-11-19"}),
        ("我的打卡", {"intent": "checkin_query"}),
        ("打卡统计", {"intent": "checkin_query"}),
        ("本周打卡情况", {"intent": "checkin_query"}),
        ("帮助", {"intent": "help"}),
        ("我的履职", {"intent": "duty_mine", "year": None}),
        ("我的履职 2024", {"intent": "duty_mine", "year": 2024}),
        ("履职 张伟", {"intent": "unknown"}),  # a member may ask for their own record only
        ("今天天气不错", {"intent": "unknown"}),
    ],
)
def test_parse_contract(
    capsys: pytest.CaptureFixture[str], text: str, expected: dict[str, object]
) -> None:
    result = parse(capsys, text)
    assert {key: result.get(key) for key in expected} == expected


def test_secretary_command_is_unknown_for_members(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse(capsys, "开启打卡 第3学习小组 每周")["intent"] == "unknown"
    result = parse(
        capsys, "开启打卡 第3学习小组 每周 周五20:00提醒 周日21:00汇总", "--role", "secretary"
    )
    assert result["intent"] == "campaign_start"
    assert result["group"] == "第3学习小组"


def test_duty_lookup_is_for_secretaries(capsys: pytest.CaptureFixture[str]) -> None:
    for text, target, year in (
        ("履职 张伟", "张伟", None),
        ("履职 第3学习小组 2024", "第3学习小组", 2024),
        ("张伟的履职档案", "张伟", None),
    ):
        result = parse(capsys, text, "--role", "secretary")
        assert result == {"intent": "duty_lookup", "target": target, "year": year}


def test_bad_now_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "--now", "yesterday", "打卡"]) == 2
    assert "ISO-8601" in capsys.readouterr().out


def test_a_question_is_its_own_intent(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse(capsys, "打卡每天几点截止啊") == {
        "intent": "question",
        "about": "checkin",
        "text": "打卡每天几点截止啊",
    }


def test_a_guess_shows_the_reading_to_confirm(capsys: pytest.CaptureFixture[str]) -> None:
    got = parse(capsys, "请各位委员在本月30日前报送调研报告", "--role", "secretary")
    assert got["intent"] == "task"
    assert got["groups"] == ["全体委员"]
    assert got["deadline"] == "2025-11-30T23:59:59+08:00"
    assert got["confirm"] == (
        "督办任务：请各位委员在本月30日前报送调研报告，完成时限11月30日23:59，交给全体委员"
    )
    assert parse(capsys, "确认") == {"intent": "confirm", "answer": "yes"}
