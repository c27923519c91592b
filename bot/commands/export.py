"""``lvzhi export KIND [--year Y] [-o PATH]``: the office's spreadsheets (members, checkins,
reports, meetings).

The same :data:`handlers.exports.EXPORTS` the web console offers; the file is written whole
or not at all (to a temporary name first, then renamed), so an office never opens half a file.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bot.config import Config
from bot.runtime import command_database
from handlers.exports import EXPORTS


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "kind",
        choices=sorted(EXPORTS),
        help="; ".join(f"{key}: {export.title}" for key, export in EXPORTS.items()),
    )
    parser.add_argument("--year", type=int, help="the year (default: this year)")
    parser.add_argument(
        "-o", "--output", type=Path, help="file or directory (default: 2025年委员履职档案.xlsx …)"
    )
    parser.set_defaults(run=run)


async def run(config: Config, args: argparse.Namespace) -> int:
    now = args.clock.now().astimezone(config.time.zone)
    year = args.year or now.year
    if not 2000 <= year <= now.year:
        print(f"lvzhi: 年份须在 2000 至 {now.year} 之间（--year {year}）。", file=sys.stderr)
        return 2
    export = EXPORTS[args.kind]
    path = args.output or Path(export.filename(year))
    if path.is_dir():
        path = path / export.filename(year)

    async def go() -> bytes:
        async with command_database(config) as db:
            return await export.build(db, config, year, now=now)

    started = time.perf_counter()
    data = await go()
    partial = path.with_name(path.name + ".part")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        print(f"lvzhi: 无法写入 {path}：{exc.strerror or exc}", file=sys.stderr)
        return 1
    took = time.perf_counter() - started
    print(f"已导出{year}年{export.title}：{path}（{len(data) // 1024} KB，用时 {took:.1f} 秒）")
    return 0
