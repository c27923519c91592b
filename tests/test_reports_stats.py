"""A year of generated 社情民意 activity (500 reports): the yearly statistics, and the xlsx the
``lvzhi reports stats`` command writes, checked against totals the generator kept itself."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from bot.cli import main
from handlers.reports.parse import CATEGORIES, ENDORSE_LEVELS, FORWARD_LEVELS
from handlers.reports.stats import YearStats, compute_stats
from handlers.reports.workflow import Actor, apply_action, submit_report
from storage import Database, Tx
from storage.models import Member

SECTORS = ("中共界", "民革界", "经济界", "教育界", "医药卫生界", "少数民族界")
START = datetime(2025, 1, 1, 1, 0, tzinfo=UTC)


async def generate(db: Database, reports: int, seed: int = 2025) -> Counter[str]:
    """Submit ``reports`` reports through 2025 and move each along a random path; return the
    totals the office would count, kept independently of the code under test."""
    rng = random.Random(seed)
    expected: Counter[str] = Counter()
    async with db.transaction() as tx:
        members = [
            await tx.members.add(
                Member(
                    userid=f"u{n}",
                    name=f"委员{n:02d}",
                    sector=SECTORS[n % len(SECTORS)],
                    created_at=START,
                    updated_at=START,
                )
            )
            for n in range(40)
        ]
    office = Actor("cli")
    for chunk in range(0, reports, 50):  # a session per 50 reports keeps flushes cheap
        async with db.transaction() as tx:
            for n in range(chunk, min(chunk + 50, reports)):
                await _one(tx, n, rng, members, expected, reports)
    async with db.transaction() as tx:  # last year's reports are not this year's
        old = START - timedelta(days=30)
        for _ in range(3):
            report, _ = await submit_report(
                tx,
                submitter=members[0],
                title="去年的",
                category="其他",
                content="正文",
                cosigners=[],
                attachments=[],
                now=old,
            )
            await apply_action(tx, report, "adopt", actor=office, now=old)
    return expected


async def _one(
    tx: Tx,
    n: int,
    rng: random.Random,
    members: list[Member],
    expected: Counter[str],
    reports: int,
) -> None:
    now = START + timedelta(minutes=int(n * 365 * 24 * 60 / reports))
    lead = members[n % len(members)]
    category = CATEGORIES[rng.randrange(len(CATEGORIES))]
    co = [members[(n + 7) % len(members)]] if n % 4 == 0 else []
    report, _ = await submit_report(
        tx,
        submitter=lead,
        title=f"关于第{n}件事的建议",
        category=category,
        content="正文",
        cosigners=co,
        attachments=[],
        now=now,
    )
    expected["submitted"] += 1
    expected[f"category:{category}"] += 1
    expected[f"sector:{lead.sector}"] += 1
    expected[f"member:{lead.name}"] += 1

    async def act(action: str, **extra: str) -> None:
        await apply_action(tx, report, action, actor=Actor("cli"), now=now, **extra)

    roll = rng.random()
    if roll < 0.15:
        return  # still waiting
    if roll < 0.25:
        await act("reject", comment="重复")
        return
    if roll < 0.35:
        await act("return", comment="请补充")
        await act("resubmit")
    await act("review")
    await act("adopt")
    expected["adopted"] += 1
    expected[f"category-adopted:{category}"] += 1
    if rng.random() < 0.3:
        return
    for level in rng.sample(FORWARD_LEVELS, rng.choice((1, 1, 2))):
        await act("forward", level=level)
        expected[f"forwarded:{level}"] += 1
    if rng.random() < 0.4:
        return
    endorsed = rng.choice(ENDORSE_LEVELS)
    await act("endorse", level=endorsed, comment="请研究")
    expected[f"endorsed:{endorsed}"] += 1
    if rng.random() < 0.3:  # a second leader, same level: still one at that level
        await act("endorse", level=endorsed, comment="同意")
    await act("assign", target="市水务局")
    if rng.random() < 0.2:
        return
    await act("answer", comment="已办理")
    expected["answered"] += 1
    if rng.random() < 0.5:
        await act("close")


def check_statistics(stats: YearStats, expected: Counter[str]) -> None:
    total = stats.total
    assert total["submitted"] == expected["submitted"] == 500
    assert total["adopted"] == expected["adopted"]
    assert total["answered"] == expected["answered"]
    for level in FORWARD_LEVELS:
        assert total[f"forwarded:{level}"] == expected[f"forwarded:{level}"]
    for level in ENDORSE_LEVELS:
        assert total[f"endorsed:{level}"] == expected[f"endorsed:{level}"]
    for category in CATEGORIES:
        row = stats.by_category[category]
        assert row["submitted"] == expected[f"category:{category}"]
        assert row["adopted"] == expected[f"category-adopted:{category}"]
    for sector in SECTORS:
        assert stats.by_sector[sector]["submitted"] == expected[f"sector:{sector}"]
    assert {name: row["submitted"] for name, row in stats.by_member.items()} == {
        key.removeprefix("member:"): count
        for key, count in expected.items()
        if key.startswith("member:")
    }
    assert sum(row["co_signed"] for row in stats.by_member.values()) == 125  # every 4th
    # The generated year is not degenerate: every kind of outcome occurs.
    assert 0 < total["answered"] < total["adopted"] < 500
    assert all(total[f"forwarded:{lv}"] > 0 for lv in FORWARD_LEVELS)
    assert all(total[f"endorsed:{lv}"] > 0 for lv in ENDORSE_LEVELS)


async def test_stats_command_writes_an_xlsx_with_the_totals(
    tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(db_url)
    try:
        expected = await generate(db, 500)
        async with db.read() as tx:
            facts = await tx.reports.year_facts(2025)
    finally:
        await db.dispose()
    check_statistics(compute_stats(2025, facts), expected)
    config = tmp_path / "lvzhi.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    out = tmp_path / "社情民意2025.xlsx"
    argv = ["--config", str(config), "reports", "stats", "--year", "2025", "--xlsx", str(out)]
    assert await asyncio.to_thread(main, argv) == 0  # the CLI runs its own event loop
    printed = capsys.readouterr().out
    assert printed.startswith(
        f"2025年社情民意：提交 500 条，采用 {expected['adopted']} 条，"
        f"办理反馈 {expected['answered']} 条。"
    )
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames == ["汇总", "按类别", "按界别", "按委员", "明细"]
    header, values = list(book["汇总"].iter_rows(values_only=True))
    summary = dict(zip(header, values, strict=True))
    assert summary["年度"] == 2025
    assert summary["提交"] == 500
    assert summary["采用"] == expected["adopted"]
    assert summary["办理反馈"] == expected["answered"]
    assert summary["报送省政协"] == expected["forwarded:省政协"]
    assert summary["市领导批示"] == expected["endorsed:市领导"]
    rows = list(book["按类别"].iter_rows(values_only=True))
    assert rows[0][:3] == ("类别", "提交", "采用")
    body, total_row = rows[1:-1], rows[-1]
    assert [r[0] for r in body] == list(CATEGORIES)
    assert total_row[0] == "合计"
    assert [sum(r[i] for r in body) for i in range(1, len(header))] == list(total_row[1:])
    sectors = list(book["按界别"].iter_rows(values_only=True))[1:-1]
    assert sum(r[1] for r in sectors) == 500
    members = list(book["按委员"].iter_rows(values_only=True))
    assert sum(r[1] for r in members[1:]) == 500
    detail = list(book["明细"].iter_rows(values_only=True))
    assert len(detail) == 501 and detail[1][0] == "SQ-2025-0001"
    book.close()
