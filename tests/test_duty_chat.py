"""履职档案 in chat: 我的履职, a secretary's 履职 张伟 / 履职 第1学习小组, a member refused
another's record, and a rules file edited while the bot runs (re-scored, facts untouched)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.errors import ConfigError
from bot.runtime import open_runtime
from handlers.duty import DENIED
from tests.conftest import make_config
from tests.harness import Bot, running_bot, shanghai

GROUP = "第1学习小组"
REPORT = (
    "社情民意：关于加强农村饮水工程管护的建议\n"
    "基本情况：水管老化。\n存在问题：无人管护。\n建议：设立专岗。"
)
RULES = """
name = "测试规则"
[[items]]
label = "社情民意提交"
fact = "reports_submitted"
points = {points}
[[items]]
label = "学习打卡"
fact = "checkins"
points = 10
[[requirements]]
label = "全年至少报送1篇社情民意"
fact = "reports_submitted"
at_least = 1
[[grades]]
name = "称职"
at_least = 60
[[grades]]
name = "不称职"
at_least = 0
"""


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "scoring.toml"
    write(path, RULES.format(points=50))
    return path


@pytest.fixture
def cfg(db_url: str, rules_file: Path) -> Config:
    return make_config(db_url, duty={"rules_file": str(rules_file)})


async def seed(bot: Bot) -> None:
    await bot.add_member("sunli", "孙丽", role="secretary")
    await bot.add_member("zhangwei", "张伟", group=GROUP)
    await bot.add_member("lina", "李娜", group=GROUP)
    await bot.say("sunli", f"开启打卡 {GROUP} 每周 周五20:00提醒 周一09:00汇总")
    await bot.say("zhangwei", "打卡 读《乡土中国》30分钟")
    await bot.say("zhangwei", REPORT)
    await bot.say("sunli", "采用 SQ-2025-0001")


async def test_my_record_and_the_secretary_s_queries(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        assert await bot.say("zhangwei", "我的履职") == [
            "张伟 2025年履职档案（截至11月25日）\n"
            "学习打卡 1 次（应打卡 1，打卡率 100%），最长连续 1 周，学习 30 分钟\n"
            "社情民意 提交 1 篇，采用 1，获批示 0，联名 0\n"
            "通知 确认 0/0\n"
            "会议 出席 0，请假 0，未回执 0\n"
            "督办 按时完成 0，逾期完成 0，未完成 0\n"
            "目前积分 60 分（测试规则，等次在年度结束后评定）"
        ]
        lina = await bot.say("lina", "我的履职")
        assert lina[0].startswith("李娜 2025年履职档案（截至11月25日）\n学习打卡 0 次\n")
        assert lina[0].endswith(
            "目前积分 0 分（测试规则，等次在年度结束后评定）\n尚需完成：全年至少报送1篇社情民意"
        )

        # a member may not look at anyone else's record, by name or by group
        assert await bot.say("lina", "履职 张伟") == [DENIED]
        assert await bot.say("lina", f"履职 {GROUP}") == [DENIED]

        (answer,) = await bot.say("sunli", "履职 张伟")
        assert answer.startswith("张伟 2025年履职档案") and "目前积分 60 分" in answer
        (answer,) = await bot.say("sunli", f"履职 {GROUP}")
        assert answer.splitlines()[:4] == [
            f"{GROUP} 2025年履职情况（2人，截至11月25日）",
            "打卡率平均 100%；社情民意 提交 1 篇，采用 1 篇；会议出席 0 人次",
            "平均积分 30.0（等次在年度结束后评定）",
            "尚未完成基本要求 1 人：李娜",
        ]
        assert answer.splitlines()[4:] == ["· 张伟 60 分", "· 李娜 0 分", "评分规则：测试规则"]
        assert await bot.say("sunli", "履职 王五") == ["没有找到委员或小组「王五」。"]
        assert await bot.say("sunli", "履职 张伟 2031") == [
            "没有2031年的履职档案，请写 2000—2025 之间的年份。"
        ]
        (last_year,) = await bot.say("zhangwei", "我的履职 2024")
        assert last_year == (
            "张伟 2024年没有履职记录（全年）：这一年履职助手没有记下"
            "打卡、社情民意、提案、履职活动、通知、会议或督办。"
        )


async def test_editing_the_rules_rescores_at_once(
    cfg: Config, rules_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        (before,) = await bot.say("zhangwei", "我的履职")
        assert before.endswith("目前积分 60 分（测试规则，等次在年度结束后评定）")
        write(rules_file, RULES.format(points=20))
        (after,) = await bot.say("zhangwei", "我的履职")
        assert after.endswith("目前积分 30 分（测试规则，等次在年度结束后评定）")
        assert after.splitlines()[:-1] == before.splitlines()[:-1]  # the facts are the same

        write(rules_file, "[[items]]\nfact = 'proposals'\n")
        with caplog.at_level(logging.ERROR, logger="handlers.duty"):
            (broken,) = await bot.say("zhangwei", "我的履职")
        assert broken.splitlines()[-1] == "评分规则文件有误，暂不评分，请联系机关管理员。"
        assert f"评分规则文件 {rules_file} 中的 items[1].points 未填写" in caplog.text


async def test_a_grade_only_for_an_ended_year_by_the_office_s_rules(
    cfg: Config, db_url: str
) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        clock.set(shanghai(2026, 1, 5, 10, 0))  # 2025 has ended
        (year,) = await bot.say("zhangwei", "我的履职 2025")
        assert year.startswith("张伟 2025年履职档案（全年）")
        assert year.endswith("得分 60 分 · 称职（测试规则）")
        (lina,) = await bot.say("lina", "我的履职 2025")
        assert lina.endswith("得分 0 分 · 不称职（测试规则）\n尚未达到：全年至少报送1篇社情民意")
        (group,) = await bot.say("sunli", f"履职 {GROUP} 2025")
        assert group.splitlines()[2:] == [
            "平均得分 30.0；称职 1 人、不称职 1 人",
            "未达基本要求 1 人：李娜",
            "· 张伟 60 分 称职",
            "· 李娜 0 分 不称职",
            "评分规则：测试规则",
        ]
    # Without a rules file of the office's, the built-in example neither scores nor grades.
    async with running_bot(make_config(db_url), clock) as bot:  # message keys: a new series
        (lina,) = await bot.say("lina", "我的履职 2025", key="example:1")
        assert lina.splitlines()[-2:] == [
            "尚需完成：全年至少报送1篇社情民意",
            "机关尚未设定评分规则，暂不计分、不评等次。",
        ]
        (group,) = await bot.say("sunli", f"履职 {GROUP} 2025", key="example:2")
        assert group.splitlines()[2:] == [
            "尚未完成基本要求 1 人：李娜",
            "机关尚未设定评分规则，暂不计分、不评等次。",
        ]


async def test_bad_rules_file_stops_start_up(tmp_path: Path) -> None:
    """The scoring rules are the duty feature's file: its start-up check refuses a bad one
    before the runtime opens anything (the configuration itself loads)."""
    path = tmp_path / "bad.toml"
    path.write_text("[[items]]\nlabel = 'x'\nfact = 'reprots'\npoints = 1\n", encoding="utf-8")
    config = make_config(f"sqlite+aiosqlite:///{tmp_path}/x.db", duty={"rules_file": str(path)})
    with pytest.raises(ConfigError) as raised:
        async with open_runtime(config):
            pass
    assert str(raised.value).startswith(
        f"评分规则文件 {path} 中的 items[1].fact 写的 'reprots' 不是可用的事实名称，可用的有："
    )
    assert not (tmp_path / "x.db").exists()
