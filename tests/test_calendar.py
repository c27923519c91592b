"""The holiday calendar never runs out: a year the package does not cover is derived from the
law (provisional), planned into, announced to admins weekly, and replaced by the office's
import of the official notice; ``lvzhi calendar show|import|confirm`` and their refusals."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from bot.calendar_file import ArrangementError, read_arrangement
from bot.clock import FakeClock
from bot.config import Config
from bot.planner import load_calendar
from bot.workcalendar import SpecialDay, WorkCalendar, chinesecalendar_days, statutory_days
from tests.conftest import make_config
from tests.harness import Bot, running_bot, shanghai
from tests.test_cli_members import Cli

STATUTORY_2027 = [
    ("2027-01-01", "元旦"),
    ("2027-02-05", "春节"),  # 除夕
    ("2027-02-06", "春节"),
    ("2027-02-07", "春节"),
    ("2027-02-08", "春节"),  # 初三
    ("2027-04-05", "清明节"),
    ("2027-05-01", "劳动节"),
    ("2027-05-02", "劳动节"),
    ("2027-06-09", "端午节"),
    ("2027-09-15", "中秋节"),
    ("2027-10-01", "国庆节"),
    ("2027-10-02", "国庆节"),
    ("2027-10-03", "国庆节"),
]

OFFICIAL_2027 = """\
# 国务院办公厅关于2027年部分节假日安排的通知 (an office's entry; dates for the test)
year = 2027
source = "国办发明电〔2026〕99号"

[[holidays]]
name = "元旦"
days = ["2027-01-01/2027-01-03"]

[[holidays]]
name = "春节"
days = ["2027-02-05/2027-02-12"]
workdays = ["2027-02-14", "2027-02-20"]

[[holidays]]
name = "清明节"
days = ["2027-04-03/2027-04-05"]

[[holidays]]
name = "劳动节"
days = ["2027-05-01/2027-05-05"]
workdays = ["2027-04-25"]

[[holidays]]
name = "端午节"
days = ["2027-06-09"]

[[holidays]]
name = "中秋节"
days = ["2027-09-15"]

[[holidays]]
name = "国庆节"
days = ["2027-10-01/2027-10-07"]
workdays = ["2027-10-09"]
"""


# --- the law ---------------------------------------------------------------------------------


def test_2027_is_derived_from_the_law() -> None:
    days = statutory_days(2027)
    assert [(d.isoformat(), s.name) for d, s in days.items()] == STATUTORY_2027
    assert all(s.kind == "holiday" for s in days.values())


def test_where_two_festivals_meet_the_day_carries_both() -> None:
    days = statutory_days(2031)  # 中秋 falls on 国庆 (lunar 8/15 = 2031-10-01)
    assert days[date(2031, 10, 1)].name == "国庆节、中秋节"
    assert [d for d in days if d.month == 10] == [date(2031, 10, d) for d in (1, 2, 3)]
    assert date(2031, 1, 22) in days and date(2031, 1, 25) in days  # 除夕 … 初三


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_derivation_agrees_with_the_official_years_under_the_same_law(year: int) -> None:
    """The 2024 revision is in force from 2025: every derived day is off in the State
    Council's arrangement that chinesecalendar carries (the arrangement adds 调休 on top)."""
    for day, special in statutory_days(year).items():
        assert chinese_calendar.is_holiday(day), (day, special.name)


def test_a_provisional_year_answers_every_question() -> None:
    calendar = WorkCalendar.empty()
    assert calendar.source(2027) == "provisional" and calendar.awaits_official(2027)
    assert not calendar.is_workday(date(2027, 2, 8))  # Monday, 春节 初三
    assert calendar.is_statutory_holiday(date(2027, 2, 5))
    assert calendar.is_workday(date(2027, 2, 9))  # no 补假 or 调休 guessed
    assert not calendar.is_workday(date(2027, 2, 20))  # a Saturday stays a weekend
    assert calendar.holiday_name(date(2027, 10, 2)) == "国庆节"
    assert calendar.next_non_holiday(date(2027, 10, 1)) == date(2027, 10, 4)


def test_an_override_wins_and_an_accepted_provisional_year_is_quiet() -> None:
    override = SpecialDay(date(2027, 2, 9), "holiday", "春节")
    calendar = WorkCalendar([override], {2027: "provisional"})
    assert not calendar.is_workday(date(2027, 2, 9))
    assert calendar.is_statutory_holiday(date(2027, 2, 8))  # the law's days still count
    assert calendar.source(2027) == "provisional" and not calendar.awaits_official(2027)
    official = WorkCalendar(*chinesecalendar_days())
    assert official.source(2026) == "official" and not official.awaits_official(2026)
    assert official.is_workday(date(2026, 2, 14))  # 调休: a Saturday worked


# --- the file an office imports --------------------------------------------------------------


def test_the_toml_form_reads_ranges_and_workdays() -> None:
    plan = read_arrangement("2027.toml", OFFICIAL_2027.encode())
    assert (plan.year, plan.source) == (2027, "国办发明电〔2026〕99号")
    assert len(plan.holidays) == 3 + 8 + 3 + 5 + 1 + 1 + 7
    assert [d.day for d in plan.workdays] == [
        date(2027, 2, 14),
        date(2027, 2, 20),
        date(2027, 4, 25),
        date(2027, 10, 9),
    ]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (OFFICIAL_2027.replace('"2027-06-09"', '"2027-06-10"'), "2027年6月9日（周三）（端午节）"),
        (OFFICIAL_2027.replace('"2027-02-14"', '"2027-02-15"'), "本来就是工作日"),
        (OFFICIAL_2027.replace('days = ["2027-09-15"]', 'days = ["2028-09-15"]'), "同一年"),
        (OFFICIAL_2027.replace("year = 2027", 'year = "明年"'), "缺少 year"),
        (OFFICIAL_2027.replace("2027-04-03/2027-04-05", "2027-04-3/2027-04-05"), "不是 YYYY"),
        (OFFICIAL_2027.replace('"2027-10-09"', '"2027-10-09", "2027-10-03"'), "既写成放假又"),
    ],
)
def test_a_bad_file_is_refused_with_the_reason(text: str, said: str) -> None:
    with pytest.raises(ArrangementError, match=re.escape(said)):
        read_arrangement("2027.toml", text.encode())


def test_the_shipped_example_is_the_official_2026_arrangement() -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "calendar-2026.toml"
    plan = read_arrangement(example.name, example.read_bytes())
    official = [d for d in chinesecalendar_days()[0] if d.day.year == 2026]
    assert sorted(plan.days, key=lambda d: d.day) == sorted(official, key=lambda d: d.day)


def test_the_csv_form() -> None:
    rows = ["日期,类型,名称", *(f"{day},放假,{name}" for day, name in STATUTORY_2027)]
    plan = read_arrangement("安排.csv", "\n".join([*rows, "2027-02-20,上班,春节"]).encode())
    assert plan.year == 2027 and len(plan.holidays) == 13 and len(plan.workdays) == 1
    with pytest.raises(ArrangementError, match="放假 或 上班"):
        read_arrangement("安排.csv", "日期,类型,名称\n2027-01-01,休息日,元旦\n".encode())


# --- the commands ----------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, capsys)


def test_show_2027_as_json(cli: Cli) -> None:
    code, out, err = cli("calendar", "show", "2027", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "year": 2027,
        "source": "provisional",
        "holidays": [day for day, _ in STATUTORY_2027],
        "workdays": [],
    }
    shown = cli.json("calendar", "show", "2026")
    assert shown["source"] == "official" and "2026-02-14" in shown["workdays"]


def test_confirm_refuses_an_empty_year_unless_told_provisional(cli: Cli) -> None:
    code, out, err = cli("calendar", "confirm", "2027")
    assert code == 1 and out == ""
    assert "2027年还没有录入任何放假或调休日，不能确认为正式安排" in err
    assert cli.json("calendar", "show", "2027")["source"] == "provisional"
    code, out, _ = cli("calendar", "confirm", "2027", "--provisional")
    assert code == 0 and "已确认2027年沿用临时日历" in out
    assert cli.json("calendar", "show", "2027")["source"] == "provisional"
    assert [a for _, a, _ in cli.audit()] == ["calendar.confirm"]


def test_confirm_after_set_checks_the_statutory_days(cli: Cli) -> None:
    assert cli("calendar", "set", "2027-01-01", "holiday", "元旦")[0] == 0
    code, _, err = cli("calendar", "confirm", "2027")
    assert code == 1 and "2027年2月5日（周五）（春节）" in err and "2027年1月1日" not in err
    for day, name in STATUTORY_2027[1:]:
        assert cli("calendar", "set", day, "holiday", name)[0] == 0
    code, out, _ = cli("calendar", "confirm", "2027")
    assert code == 0 and "已录入 13 天" in out
    assert cli.json("calendar", "show", "2027")["source"] == "office"


def test_an_office_import_replaces_the_provisional_year(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "2027.toml"
    path.write_text(OFFICIAL_2027, encoding="utf-8")
    code, out, _ = cli("calendar", "import", str(path), "--dry-run")
    assert code == 0 and out.startswith("检查通过（未保存）：2027年：放假 28 天，调休上班 4 天")
    assert cli.json("calendar", "show", "2027")["source"] == "provisional"
    code, out, _ = cli("calendar", "import", str(path))
    assert code == 0 and "（依据：国办发明电〔2026〕99号）" in out
    shown = cli.json("calendar", "show", "2027")
    assert shown["source"] == "office"
    assert shown["workdays"] == ["2027-02-14", "2027-02-20", "2027-04-25", "2027-10-09"]
    assert "2027-02-12" in shown["holidays"] and len(shown["holidays"]) == 28
    bad = tmp_path / "错.toml"
    bad.write_text(OFFICIAL_2027.replace('"2027-09-15"', '"2027-09-16"'), encoding="utf-8")
    code, _, err = cli("calendar", "import", str(bad))
    assert code == 1 and "中秋节" in err
    assert cli.json("calendar", "show", "2027") == shown  # nothing changed
    assert [a for _, a, _ in cli.audit()] == ["calendar.import"]


# --- the planner in years the package does not know -----------------------------------------


@pytest.fixture
def cfg(sqlite_url: str) -> Config:
    return make_config(sqlite_url)


async def seed(bot: Bot) -> None:
    await bot.add_member("mishu", "王秘书", role="secretary")
    await bot.add_member("admin", "管理员", role="admin")
    for n, name in enumerate(("张伟", "李娜", "王芳"), 1):
        await bot.add_member(f"m{n}", name, group="第3学习小组")


def group_posts(sent: list) -> list[tuple[object, str]]:
    return [(at, m.text[:6]) for at, m in sent if m.address.kind == "group" and m.image is None]


@pytest.mark.parametrize(
    ("monday", "holiday_friday"),
    [
        (date(2026, 12, 28), date(2027, 1, 1)),  # 元旦 2027
        (date(2031, 9, 29), date(2031, 10, 3)),  # 国庆 2031 (and 中秋 on the 1st)
    ],
)
async def test_weekly_reminders_skip_a_provisional_holiday(
    cfg: Config, monday: date, holiday_friday: date
) -> None:
    clock = FakeClock(shanghai(monday.year, monday.month, monday.day, 9, 30))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("mishu", "开启打卡 第3学习小组 每周 周五20:00提醒 周一09:00汇总")
        await bot.say("m1", "打卡 读《乡土中国》半小时")
        end = monday + timedelta(days=14)
        sent = await bot.fast_forward(shanghai(end.year, end.month, end.day, 10, 0))
    next_monday, next_friday = monday + timedelta(days=7), holiday_friday + timedelta(days=7)
    at = lambda day, hour: shanghai(day.year, day.month, day.day, hour, 0)  # noqa: E731
    assert group_posts(sent) == [
        (at(next_monday, 9), "【打卡汇总】"),  # no reminder on the holiday Friday
        (at(next_friday, 20), "【打卡提醒】"),
        (at(end, 9), "【打卡汇总】"),
    ]
    summary = next(m for _, m in sent if m.text.startswith("【打卡汇总】第3学习小组"))
    assert "已打卡 1/3" in summary.text


async def test_a_summary_on_a_provisional_holiday_waits_for_the_first_day_back(
    cfg: Config,
) -> None:
    clock = FakeClock(shanghai(2027, 2, 1, 9, 30))  # 春节 2027: 2-05 … 2-08 (a Monday)
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        await bot.say("mishu", "开启打卡 第3学习小组 每周 周四20:00提醒 周一09:00汇总")
        sent = await bot.fast_forward(shanghai(2027, 2, 10, 12, 0))
    assert group_posts(sent) == [
        (shanghai(2027, 2, 4, 20, 0), "【打卡提醒】"),
        (shanghai(2027, 2, 9, 9, 0), "【打卡汇总】"),  # 2-08 is 初三: deferred a day
    ]


async def test_the_office_import_changes_what_is_planned(cfg: Config, tmp_path: Path) -> None:
    """A daily campaign over 春节 2027: provisionally 2-09 is a working day and Saturday 2-20
    is not; the office's notice gives 2-09 … 2-12 off and 2-20 to work (调休)."""
    days = [date(2027, 2, 9), date(2027, 2, 20)]
    office = make_config(f"sqlite+aiosqlite:///{tmp_path / 'office.db'}")
    plan = read_arrangement("2027.toml", OFFICIAL_2027.encode())
    reminded: dict[str, list[date]] = {}
    for name, config in (("provisional", cfg), ("office", office)):
        clock = FakeClock(shanghai(2027, 2, 8, 8, 0))
        async with running_bot(config, clock) as bot:
            if name == "office":
                async with bot.db.transaction() as tx:
                    await tx.calendar.replace_year(2027, plan.days, plan.source)
                bot.runtime.planner.calendar.replace(await load_calendar(bot.db, seed=False))
            assert bot.runtime.planner.calendar.source(2027) == name
            await seed(bot)
            await bot.say("mishu", "开启打卡 第3学习小组 每天 20:00提醒 次日09:00汇总")
            sent = await bot.fast_forward(shanghai(2027, 2, 21, 8, 0))
        posts = group_posts(sent)
        reminded[name] = [at.date() for at, text in posts if text == "【打卡提醒】"]
    assert days[0] in reminded["provisional"] and days[1] not in reminded["provisional"]
    assert days[0] not in reminded["office"] and days[1] in reminded["office"]
    assert date(2027, 2, 11) not in reminded["office"]  # a Thursday of the office's 春节


async def test_admins_are_told_weekly_until_the_year_is_entered(cfg: Config) -> None:
    clock = FakeClock(shanghai(2026, 11, 30, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await seed(bot)
        sent = await bot.fast_forward(shanghai(2027, 1, 19, 12, 0))
        warned = [at for at, m in sent if m.address.value == "admin"]
        assert all(
            m.text.startswith("【系统提醒】2027年的节假日安排还没有录入")
            for m in [m for _, m in sent if m.address.value == "admin"]
        )
        assert warned == [
            shanghai(2026, 12, 2, 9, 0),  # 30 days before 2027-01-01
            *(shanghai(2026, 12, 7, 9, 0) + timedelta(weeks=n) for n in range(7)),
        ]
        assert not [m for _, m in sent if m.address.value == "mishu"]  # an admin exists
        async with bot.db.transaction() as tx:
            await tx.calendar.confirm_year(2027, "provisional")
        bot.runtime.planner.calendar.replace(await load_calendar(bot.db, seed=False))
        assert not await bot.fast_forward(shanghai(2027, 2, 1, 12, 0))


# --- watching time pass from the command line (docs/usage.md's walkthrough) -----------------

ROSTER = Path(__file__).resolve().parent.parent / "examples" / "roster.csv"


def test_simulate_at_and_tick_over_new_year_2027(cli: Cli) -> None:
    assert cli("members", "import", str(ROSTER))[0] == 0
    opened = "开启打卡 第1学习小组 每周 周五20:00提醒 周一09:00汇总"
    assert cli("simulate", "--user", "sunli", "--at", "2026-12-28T09:30+08:00", opened)[0] == 0
    code, out, _ = cli(
        "simulate", "--user", "zhangwei", "--at", "2026-12-28T12:00", "打卡 读《乡土中国》半小时"
    )
    assert code == 0 and "已计入本周（12月28日—1月3日）" in out  # no offset: Asia/Shanghai
    cli("simulate", "--user", "lina", "--at", "2026-12-29T21:00+08:00", "打卡 学习党章 四十分钟")
    code, out, err = cli(
        "tick", "--from", "2026-12-29T21:30+08:00", "--until", "2027-01-11T10:00+08:00"
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[-1] == f"（2026-12-29 21:30 至 2027-01-11 10:00，共发出 {len(lines) - 1} 条）"
    groups = [line for line in lines if "→ group:第1学习小组" in line and "图片" not in line]
    assert [line[:16] for line in groups] == [
        "2027-01-04 09:00",  # the summary; no reminder on Friday 2027-01-01 (元旦)
        "2027-01-08 20:00",
        "2027-01-11 09:00",
    ]
    assert "已打卡 2/5（40%）" in groups[0]
    assert "@zhangwei @lina @wangfang @liuyang @chenjing: 【打卡提醒】" in groups[1]
    admin = [line for line in lines if "→ member:machao: 【系统提醒】2027年" in line]
    assert [line[:16] for line in admin] == [
        "2026-12-30 07:30",  # after quiet hours
        "2027-01-04 09:00",
        "2027-01-11 09:00",
    ]
    # The database is left as if that time had passed: the same stretch sends nothing again.
    code, out, _ = cli(
        "tick", "--from", "2027-01-04T08:00+08:00", "--until", "2027-01-11T10:00+08:00"
    )
    assert out.splitlines() == ["（2027-01-04 08:00 至 2027-01-11 10:00，共发出 0 条）"]


def test_tick_refuses_what_it_cannot_run(cli: Cli) -> None:
    code, _, err = cli("tick", "--from", "2027-01-11T10:00", "--until", "2027-01-04T10:00")
    assert code == 2 and "结束时间早于开始时间" in err
    code, _, err = cli("tick", "--until", "明天")
    assert code == 2 and "不是 ISO-8601 时间：明天" in err
    code, _, err = cli("tick", "--from", "2027-01-01T00:00", "--until", "2029-01-01T00:00")
    assert code == 2 and "一次最多快进 400 天" in err
