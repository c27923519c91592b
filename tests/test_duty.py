"""履职档案 over a generated year of 300 members: the facts, the scores under two rule files,
and the three workbooks read back with openpyxl.

Expected values come from the generator's own ledger (tests/duty_data.py) and from the two
rule files' schemes written out again below by hand, never from the code under test.
"""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from bot.cli import main
from bot.config import Config
from bot.workcalendar import WorkCalendar
from handlers.duty import year_records
from handlers.duty.facts import FACTS, YearWindow
from handlers.duty.rules import load_rules
from handlers.exports import EXPORTS
from storage import Database
from storage.migrate import upgrade
from tests.conftest import make_config
from tests.duty_data import ACTIVITY_KINDS, NOW, YEAR, Ledger, generate

ROOT = Path(__file__).parent.parent
DONGCHENG = ROOT / "examples" / "scoring-dongcheng.toml"
MINHANG = ROOT / "examples" / "scoring-minhang.toml"
MEMBERS = 300


def expected_facts(ledger: Ledger, member: int) -> dict[str, int]:
    counted = ledger.facts[member]
    facts = {key: counted[key] for key in FACTS if key != "checkin_rate"}
    due = counted["checkins_due"]
    facts["checkin_rate"] = round(100 * counted["on_due"] / due) if due else 0
    for kind in ACTIVITY_KINDS:  # one fact per kind of activity
        facts[f"activities.{kind}"] = counted[f"activities.{kind}"]
    return facts


def dongcheng(f: dict[str, int]) -> tuple[float, str]:
    """examples/scoring-dongcheng.toml, restated: 100 points, 60 to pass."""
    points = (
        10 * (f["checkin_rate"] >= 60)
        + 10 * (f["checkin_rate"] >= 90)
        + min(20, 4 * f["meetings_attended"])
        - min(15, 5 * f["meetings_missed"])
        + min(20, 5 * f["reports_submitted"])
        + min(15, 5 * f["reports_adopted"])
        + min(10, 10 * f["reports_endorsed"])
        + min(5, 0.5 * f["notices_acked_24h"])
        + min(15, 3 * f["tasks_on_time"])
        - min(9, 3 * f["tasks_not_done"])
        + min(10, 5 * f["proposals_accepted"])
        + min(10, 2 * (f["activities.调研"] + f["activities.视察"]))
    )
    total = min(100, max(0, points))
    grade = (
        "优秀" if total >= 90 else "良好" if total >= 75 else "合格" if total >= 60 else "不合格"
    )
    return total, grade


def minhang(f: dict[str, int]) -> tuple[float, str]:
    """examples/scoring-minhang.toml, restated: ≥3 activities (meetings attended and confirmed
    registered activities), ≥1 opinion report and ≥1 proposal."""
    activities = f["meetings_attended"] + f["activities"]
    total = (
        min(40, 10 * activities)
        + min(20, 10 * f["proposals_accepted"])
        + min(30, 10 * f["reports_submitted"])
        + min(20, 10 * f["reports_adopted"])
        + min(10, 0.2 * f["checkins"])
    )
    met = activities >= 3 and f["reports_submitted"] >= 1 and f["proposals"] >= 1
    return round(min(100, total), 1), "达标" if met else "未达标"


def config_for(db_url: str, rules: Path) -> Config:
    return make_config(db_url, duty={"rules_file": str(rules)})


async def test_facts_and_scores_under_two_rule_files(db: Database, db_url: str) -> None:
    ledger = await generate(db, MEMBERS)
    window = YearWindow.of(YEAR, NOW, config_for(db_url, DONGCHENG).time.zone)
    async with db.read() as tx:
        roster = await tx.duty.roster()
        assert [m.id for m in roster] == list(range(1, MEMBERS + 1))  # not the secretaries
        scored = {
            rules: await year_records(tx, window, WorkCalendar.empty(), load_rules(rules), roster)
            for rules in (DONGCHENG, MINHANG)
        }
    wrong = [
        (r.member.id, key, r.facts.value(key), value)
        for r in scored[DONGCHENG]
        for key, value in expected_facts(ledger, r.member.id).items()
        if r.facts.value(key) != value
    ]
    assert wrong == []
    assert sum(r.facts.reports_endorsed for r in scored[DONGCHENG]) > 0  # the generator did
    assert sum(r.facts.notices_acked_24h for r in scored[DONGCHENG]) > 0  # its job
    for fact in ("proposals_accepted", "proposals_key", "proposals_cosigned", "activities"):
        assert sum(r.facts.value(fact) for r in scored[DONGCHENG]) > 0, fact
    assert sum(r.facts.proposals_satisfied for r in scored[DONGCHENG]) > 0
    for rules, scheme, grades in (
        (DONGCHENG, dongcheng, {"优秀", "良好", "合格", "不合格"}),
        (MINHANG, minhang, {"达标", "未达标"}),
    ):
        seen = set()
        for record in scored[rules]:
            expected = scheme(expected_facts(ledger, record.member.id))
            assert (record.score.total, record.score.grade) == expected, record.member.name
            seen.add(record.score.grade)
        assert seen == grades  # every grade occurs: the expectations are not vacuous


async def test_workbooks_read_back(sqlite_url: str) -> None:
    """SQLite only: the PostgreSQL queries are the same ones the test above runs there."""
    db = Database(sqlite_url)
    await upgrade(db)
    try:
        ledger = await generate(db, MEMBERS)
        await _check_workbooks(db, ledger, config_for(sqlite_url, MINHANG))
    finally:
        await db.dispose()


async def _check_workbooks(db: Database, ledger: Ledger, config: Config) -> None:
    # 委员履职档案: one row per member, sector and committee, 合计 and 平均, frozen header;
    # its scores are those of the rules in force (MINHANG here)
    data = await EXPORTS["members"].build(db, config, YEAR, now=NOW)
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    assert sheet.title == f"{YEAR}年委员履职档案"
    assert sheet.freeze_panes == "C2"
    assert book.sheetnames[1:] == ["按界别", "按专委会", "各项得分", "评分规则", "履职活动"]
    activities = list(book["履职活动"].iter_rows(values_only=True))[1:]
    confirmed = Counter(row[0] for row in activities if row[5] == "已确认")
    for m in range(1, MEMBERS + 1):
        assert confirmed[ledger.names[m]] == ledger.facts[m]["activities"], m
    header, *body = list(sheet.iter_rows(values_only=True))
    members, (total, average) = body[:-2], body[-2:]
    assert header[:5] == ("序号", "姓名", "界别", "专委会", "学习小组")
    assert len(members) == MEMBERS
    first = dict(zip(header, members[0], strict=True))
    assert (first["界别"], first["专委会"], first["学习小组"]) == (
        ledger.sectors[1],
        ledger.committees[1],
        "第1学习小组",
    )
    assert total[0] == "合计" and average[0] == "平均"
    for key in ("checkins", "reports_submitted", "meetings_attended", "tasks_not_done"):
        column = header.index(FACTS[key])
        expected = sum(ledger.facts[m][key] for m in range(1, MEMBERS + 1))
        assert total[column] == expected
        assert all(isinstance(row[column], int) for row in members)
    scores = [dict(zip(header, row, strict=True)) for row in members]
    for n, row in enumerate(scores, start=1):
        assert (row["得分"], row["等次"]) == minhang(expected_facts(ledger, n))
    sectors = list(book["按界别"].iter_rows(values_only=True))
    assert sum(r[1] for r in sectors[1:-1]) == MEMBERS == sectors[-1][1]

    # 学习打卡统计: group × week, with real dates; one sheet per group
    data = await EXPORTS["checkins"].build(db, config, YEAR, now=NOW)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["按小组和周期", *(f"第{g}学习小组" for g in range(1, 11))]
    header, *body = list(book["按小组和周期"].iter_rows(values_only=True))
    weeks, total = body[:-1], body[-1]
    start, end = header.index("开始日期"), header.index("结束日期")
    assert all(isinstance(r[start], datetime) and r[start].weekday() == 0 for r in weeks)
    assert all((r[end] - r[start]).days == 6 for r in weeks)
    due = sum(ledger.facts[m]["checkins_due"] for m in range(1, MEMBERS + 1))
    done = sum(ledger.facts[m]["on_due"] for m in range(1, MEMBERS + 1))
    assert (total[4], total[5]) == (due, done)
    assert book["按小组和周期"]["C2"].number_format == "yyyy-mm-dd"
    stopped = list(book["第10学习小组"].iter_rows(values_only=True))
    last_week = stopped[0][-4]  # the campaign stopped on 1 September: its last week began 8/25
    assert last_week == "8/25"

    # 社情民意: every report of the year with its dates as datetimes, and each step
    data = await EXPORTS["reports"].build(db, config, YEAR, now=NOW)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == [
        "社情民意",
        "办理记录",
        "各版本内容",
        "汇总",
        "按类别",
        "按界别",
        "按委员",
    ]
    header, *reports = list(book["社情民意"].iter_rows(values_only=True))
    submitted = sum(ledger.facts[m]["reports_submitted"] for m in range(1, MEMBERS + 1))
    assert len(reports) == submitted
    when = reports[0][header.index("提交时间")]
    assert isinstance(when, datetime) and when.time().hour == 10  # 10:00 in Shanghai
    assert all(str(r[0]).startswith(f"SQ-{YEAR}-") for r in reports)
    adopted = sum(r[header.index("采用")] == "是" for r in reports)
    assert adopted == sum(ledger.facts[m]["reports_adopted"] for m in range(1, MEMBERS + 1))
    steps = list(book["办理记录"].iter_rows(values_only=True))[1:]
    assert {s[3] for s in steps} <= {"提交", "采用", "报送", "批示", "不予采用"}
    assert all(isinstance(s[2], datetime) for s in steps)
    summary = dict(zip(*list(book["汇总"].iter_rows(values_only=True)), strict=True))
    assert summary["提交"] == submitted


def test_export_contract() -> None:
    """What the web console relies on (handlers/exports/__init__.py's docstring)."""
    assert set(EXPORTS) == {"members", "checkins", "reports", "meetings", "proposals"}
    for key, export in EXPORTS.items():
        assert export.key == key
        assert export.title and all("\u4e00" <= ch <= "\u9fff" for ch in export.title)
        assert export.filename(2025).startswith("2025年") and export.filename(2025).endswith(
            ".xlsx"
        )
    with pytest.raises(AttributeError):
        EXPORTS["members"].title = "x"  # type: ignore[misc]


async def test_cli_writes_the_file_and_refuses_bad_rules(
    tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "lvzhi.toml"
    config.write_text(f'[database]\nurl = "{sqlite_url}"\n', encoding="utf-8")
    out = tmp_path / "exports"
    out.mkdir()
    argv = ["--config", str(config), "export", "members", "--year", "2025", "-o", str(out)]
    assert await asyncio.to_thread(main, argv) == 0  # the CLI runs its own event loop
    assert capsys.readouterr().out.startswith(
        f"已导出2025年委员履职档案：{out}/2025年委员履职档案.xlsx"
    )
    book = openpyxl.load_workbook(out / "2025年委员履职档案.xlsx", read_only=True)
    assert book.sheetnames[0] == "2025年委员履职档案"
    book.close()
    rules = tmp_path / "rules.toml"
    rules.write_text("name = 'x'\n[[grades]]\nname = '合格'\nat_least = 60\n", encoding="utf-8")
    config.write_text(
        f'[database]\nurl = "{sqlite_url}"\n[duty]\nrules_file = "{rules}"\n', encoding="utf-8"
    )
    assert await asyncio.to_thread(main, argv) == 2
    assert (
        capsys.readouterr().err
        == f"lvzhi: 配置有误：评分规则文件 {rules} 中的 grades 中最低的等次「合格」的 at_least "
        "必须是 0，这样每个总分都有等次（现在是 60）\n"
    )
