"""``lvzhi calendar …``: the holiday calendar (法定节假日/调休) — where each year comes from,
one year's days, an office's overrides, imports and confirmations (:mod:`bot.workcalendar`)."""

from __future__ import annotations

import argparse
import itertools
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.calendar_file import ArrangementError, describe, missing_statutory, read_arrangement
from bot.commands.common import fail
from bot.config import Config
from bot.planner import load_calendar
from bot.runtime import command_database
from bot.workcalendar import SpecialDay, WorkCalendar
from storage import Database

SOURCE_WORDS = {
    "official": "官方（chinesecalendar，国务院通知）",
    "office": "本机关录入",
    "provisional": "临时：按放假办法推算的法定假日和周末，不含调休上班和补假",
}


def register(cal: argparse.ArgumentParser) -> None:
    actions = cal.add_subparsers(dest="calendar_command", required=True, metavar="ACTION")
    actions.add_parser("status", help="where each year comes from").set_defaults(run=run_status)
    show = actions.add_parser("show", help="one year's days off and 调休 workdays")
    show.add_argument("year", type=int)
    show.add_argument("--json", action="store_true", help="one JSON object")
    show.set_defaults(run=run_show)
    set_day = actions.add_parser("set", help="override one day")
    set_day.add_argument("day", type=date.fromisoformat, help="YYYY-MM-DD")
    set_day.add_argument("kind", choices=("holiday", "workday"))
    set_day.add_argument("name", nargs="?", default="")
    set_day.set_defaults(run=run_set)
    imp = actions.add_parser("import", help="enter a year's notice from a .toml or .csv file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--source", default="", help="the notice (default: the file's source)")
    imp.add_argument("--dry-run", action="store_true", help="check and show, store nothing")
    imp.add_argument("--force", action="store_true", help="skip the statutory-days check")
    imp.set_defaults(run=run_import)
    confirm = actions.add_parser(
        "confirm", help="declare a year entered with set complete (or keep it provisional)"
    )
    confirm.add_argument("year", type=int)
    confirm.add_argument(
        "--provisional", action="store_true", help="accept the law-derived days as they are"
    )
    confirm.set_defaults(run=run_confirm)


async def _calendar(config: Config) -> WorkCalendar:
    async with command_database(config) as db:
        return await load_calendar(db)


async def run_status(config: Config, args: argparse.Namespace) -> int:
    calendar = await _calendar(config)
    this_year = args.clock.now().astimezone(config.time.zone).year
    official = sorted(y for y in calendar.years if calendar.source(y) == "official")
    if official:
        print(f"官方日历（chinesecalendar）：{official[0]}—{official[-1]}年")
    office = sorted(y for y in calendar.years if calendar.source(y) == "office")
    if office:
        print("本机关录入：" + "、".join(f"{y}年" for y in office))
    for year in (this_year, this_year + 1):
        if calendar.source(year) != "provisional":
            continue
        state = "已确认沿用" if not calendar.awaits_official(year) else "待录入官方安排"
        print(
            f"{year}年：临时日历（{state}），只含法定假日和周末。国务院公布安排后，"
            f"升级 chinesecalendar 或用 lvzhi calendar import 文件 录入。"
        )
    return 0


def year_view(calendar: WorkCalendar, year: int) -> dict[str, Any]:
    """``calendar show --json``: the days off that are not ordinary weekends, and the weekend
    days that are working days (调休上班)."""
    days = calendar.special_days(year)
    return {
        "year": year,
        "source": calendar.source(year),
        "holidays": [d.day.isoformat() for d in days if d.kind == "holiday"],
        "workdays": [d.day.isoformat() for d in days if d.kind == "workday"],
    }


async def run_show(config: Config, args: argparse.Namespace) -> int:
    calendar = await _calendar(config)
    if args.json:
        print(json.dumps(year_view(calendar, args.year), ensure_ascii=False))
        return 0
    source = calendar.source(args.year)
    print(f"{args.year}年节假日安排（{SOURCE_WORDS[source]}）")
    days = calendar.special_days(args.year)
    for title, kind in (("放假", "holiday"), ("调休上班", "workday")):
        chosen = [d for d in days if d.kind == kind]
        print(f"{title}：" + ("" if chosen else "无"))
        for line in _runs(chosen):
            print(f"  {line}")
    return 0


def _runs(days: list[SpecialDay]) -> list[str]:
    """Consecutive days of one name as one line: 春节 2027年2月5日（周五）— 2月8日（周一）."""
    lines = []
    for name, group in itertools.groupby(days, key=lambda d: d.name):
        run = list(group)
        chunks: list[list[SpecialDay]] = [[run[0]]]
        for d in run[1:]:
            if (d.day - chunks[-1][-1].day).days == 1:
                chunks[-1].append(d)
            else:
                chunks.append([d])
        for chunk in chunks:
            span = describe(chunk[0].day)
            if len(chunk) > 1:
                last = chunk[-1].day
                span += f"—{last.month}月{last.day}日（{len(chunk)}天）"
            lines.append(f"{name or '（未命名）'} {span}")
    return lines


async def run_set(config: Config, args: argparse.Namespace) -> int:
    async def go() -> None:
        async with command_database(config) as db:
            await load_calendar(db)  # seed first so the override is not shadowed later
            async with db.transaction() as tx:
                await tx.calendar.set_day(args.day, args.kind, args.name)
                await _audit(
                    tx,
                    args.clock.now(),
                    "calendar.set",
                    "calendar_day",
                    args.day.isoformat(),
                    kind=args.kind,
                )

    await go()
    kind = "放假" if args.kind == "holiday" else "上班（调休）"
    print(f"已设置 {args.day}：{kind} {args.name}".rstrip())
    return 0


async def run_import(config: Config, args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        return fail(f"读不了文件 {args.file}：{exc.strerror}")
    try:
        plan = read_arrangement(args.file.name, data, source=args.source, force=args.force)
    except ArrangementError as exc:
        return fail(f"{args.file.name}：{exc}")
    holidays, workdays = plan.holidays, plan.workdays
    summary = f"{plan.year}年：放假 {len(holidays)} 天，调休上班 {len(workdays)} 天"
    if args.dry_run:
        print(f"检查通过（未保存）：{summary}。")
        return 0

    async def go() -> None:
        async with command_database(config) as db:
            await load_calendar(db)
            async with db.transaction() as tx:
                await tx.calendar.replace_year(plan.year, plan.days, plan.source)
                await _audit(
                    tx,
                    args.clock.now(),
                    "calendar.import",
                    "calendar_year",
                    plan.year,
                    source=plan.source,
                )

    await go()
    noted = f"（依据：{plan.source}）" if plan.source else ""
    print(f"已导入{summary}{noted}。运行中的服务 5 分钟内按新安排提醒。")
    return 0


async def run_confirm(config: Config, args: argparse.Namespace) -> int:
    year: int = args.year
    async with command_database(config) as db:
        calendar = await load_calendar(db)
        if calendar.source(year) != "provisional":
            print(f"{year}年已有{SOURCE_WORDS[calendar.source(year)]}的安排，无需确认。")
            return 0
        async with db.read() as tx:
            entered = await tx.calendar.entered_days(year)
        if args.provisional:
            return await _confirm(db, args.clock.now(), year, "provisional")
        if not entered:
            return fail(
                f"{year}年还没有录入任何放假或调休日，不能确认为正式安排（否则春节等"
                f"法定假日会被当作工作日）。请先用 lvzhi calendar import 文件 或 "
                f"lvzhi calendar set 录入国务院通知的安排；若确要沿用按放假办法推算的"
                f"临时日历，请加 --provisional。"
            )
        days = [SpecialDay(d.day, d.kind, d.name) for d in entered]
        missing = missing_statutory(year, days)
        if missing:
            listed = "、".join(f"{describe(d.day)}（{d.name}）" for d in missing)
            return fail(
                f"{year}年已录入 {len(days)} 天，但法定假日 {listed} 还不是放假日；"
                f"确认后它们会被当作工作日。请先录入，或加 --provisional 沿用临时日历。"
            )
        return await _confirm(db, args.clock.now(), year, "manual", len(days))


async def _confirm(db: Database, at: datetime, year: int, source: str, days: int = 0) -> int:
    async with db.transaction() as tx:
        await tx.calendar.confirm_year(year, source)
        await _audit(tx, at, "calendar.confirm", "calendar_year", year, source=source)
    if source == "provisional":
        print(f"已确认{year}年沿用临时日历（法定假日和周末，不含调休），不再提醒录入。")
    else:
        print(f"已确认{year}年的放假安排（已录入 {days} 天），此后按该年日历安排提醒。")
    return 0


async def _audit(
    tx: Any, at: datetime, action: str, entity: str, entity_id: Any, **detail: Any
) -> None:
    await tx.audit.record(
        at=at,
        actor="cli",
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=detail,
    )
