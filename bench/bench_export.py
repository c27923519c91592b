"""The office's yearly exports over a generated year (SQLite): 3,000 members, and 300 as the
baseline of the same run.

The year is the one tests/test_duty.py checks (tests/duty_data.py): members in study groups of
30 with weekly campaigns, check-ins by habit, 社情民意 with histories, notices, meetings and
tasks. Each export is built the way ``lvzhi export`` and the web console build it
(``EXPORTS[key].build``), and the duty record alone (the grouped queries and the scoring, no
workbook) is timed too.

Run: ``python bench/bench_export.py [--members 3000] [--baseline 300] [--db-dir DIR]``
(target: the 委员履职档案 of 3,000 members in < 10 s).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import build_config
from bot.workcalendar import WorkCalendar
from handlers.duty import year_records
from handlers.duty.facts import YearWindow
from handlers.duty.rules import load_rules
from handlers.exports import EXPORTS
from storage import Database
from storage.migrate import upgrade
from tests.duty_data import NOW, YEAR, generate

RULES = Path(__file__).resolve().parent.parent / "examples" / "scoring-dongcheng.toml"


async def run(members: int, directory: Path) -> dict[str, float]:
    url = f"sqlite+aiosqlite:///{directory / f'export-{members}.db'}"
    config = build_config(
        {"database": {"url": url}, "duty": {"rules_file": str(RULES)}}, environ={}
    )
    db = Database(url)
    timings: dict[str, float] = {}
    try:
        await upgrade(db)
        started = time.perf_counter()
        await generate(db, members)
        timings["generate"] = time.perf_counter() - started
        window = YearWindow.of(YEAR, NOW, config.time.zone)
        started = time.perf_counter()
        async with db.read() as tx:
            roster = await tx.duty.roster()
            records = await year_records(
                tx, window, WorkCalendar.empty(), load_rules(RULES), roster
            )
        timings["record"] = time.perf_counter() - started
        assert len(records) == members
        for key, export in EXPORTS.items():
            started = time.perf_counter()
            data = await export.build(db, config, YEAR, now=NOW)
            timings[key] = time.perf_counter() - started
            timings[f"{key}_kb"] = len(data) / 1024
    finally:
        await db.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--baseline", type=int, default=300)
    parser.add_argument("--db-dir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.db_dir or Path(tmp)
        results = {n: asyncio.run(run(n, directory)) for n in (args.baseline, args.members)}
    print(f"{'members':>8} {'record':>8} " + " ".join(f"{k:>14}" for k in EXPORTS))
    for n, t in results.items():
        cells = " ".join(f"{t[k]:>7.2f}s {t[k + '_kb']:>4.0f}KB" for k in EXPORTS)
        print(f"{n:>8} {t['record']:>7.2f}s {cells}")
    big = results[args.members]["members"]
    verdict = "OK" if big < 10 else "OVER"
    print(f"委员履职档案 for {args.members} members: {big:.2f} s (target < 10 s: {verdict})")


if __name__ == "__main__":
    main()
