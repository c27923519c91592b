"""``lvzhi reports …``: opinion reports (社情民意) from the command line.

``list [--state S] [--year Y]``, ``show NUMBER``, ``act NUMBER ACTION [--comment] [--level]
[--target]`` (the same state machine as the secretaries' chat commands; the submitters are
notified through the outbox, sent by the running server), ``stats --year Y [--xlsx PATH]``
and ``fetch-media`` (fetch attachments' WeCom media before it expires; see
:mod:`handlers.reports.media`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.commands.common import fail
from bot.config import Config
from bot.delivery.outbox import queue_all
from bot.errors import UserFacingError
from bot.runtime import command_database, media_job, open_runtime
from handlers.exports.report_stats import write_xlsx
from handlers.reports.media import MediaRun
from handlers.reports.parse import (
    REVIEW_ACTIONS,
    ReviewCommand,
    endorse_level,
    forward_level,
    parse_number,
    parse_review,
)
from handlers.reports.stats import compute_stats, stats_text
from handlers.reports.workflow import (
    STATE_NAMES,
    STATES,
    TRANSITIONS,
    Actor,
    apply_action,
    attachment_line,
    check_details,
    history_steps,
)


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="reports_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list reports")
    listing.add_argument("--state", choices=STATES)
    listing.add_argument("--year", type=int)
    listing.set_defaults(run=run_list)
    show = actions.add_parser("show", help="one report and its history")
    show.add_argument("number")
    show.set_defaults(run=run_show)
    act = actions.add_parser("act", help="move a report on, by the chat's rules (采用, 退回 …)")
    act.add_argument("number")
    act.add_argument(
        "action",
        help="as in chat: 采用 退回 不予采用 报送 批示 转办 反馈 办结 (or adopt, return …)",
    )
    act.add_argument("words", nargs="*", help="the rest, as in chat: 省政协 / 请补充数据 …")
    act.add_argument("--comment", default="", help="意见 / 理由 / 批示内容 / 反馈内容")
    act.add_argument("--level", default="", help="报送: 市政协|省政协|全国政协; 批示: 市领导 …")
    act.add_argument("--target", default="", help="转办: the department; 批示: the leader")
    act.set_defaults(run=run_act)
    stats = actions.add_parser("stats", help="yearly statistics, optionally as xlsx")
    stats.add_argument("--year", type=int, required=True)
    stats.add_argument("--xlsx", type=Path)
    stats.set_defaults(run=run_stats)
    fetch = actions.add_parser(
        "fetch-media", help="fetch attachments' media from WeCom (社情民意, 提案, 履职登记)"
    )
    fetch.set_defaults(run=run_fetch_media)


async def run_list(config: Config, args: argparse.Namespace) -> int:
    async with command_database(config) as db, db.read() as tx:
        rows = await tx.reports.listing(state=args.state, year=args.year)
        lines = []
        for report in rows:
            lead = await tx.members.get(report.submitter_id)
            lines.append(
                f"{report.number}\t{STATE_NAMES[report.state]}\t{report.category}\t"
                f"{lead.name if lead else '?'}\t{report.title}"
            )
    print("\n".join(lines) if lines else "没有符合条件的社情民意。")
    return 0


async def run_show(config: Config, args: argparse.Namespace) -> int:
    number = parse_number(args.number)
    if number is None:
        return fail(f"看不懂编号「{args.number}」，例如 SQ-2025-0042。")
    async with command_database(config) as db, db.read() as tx:
        report = await tx.reports.by_number(number)
        if report is None:
            return fail(f"没有社情民意 {number}。")
        submitters = await tx.reports.submitters(report.id)
        names = "、".join(m.name + ("" if r == "lead" else "（联名）") for m, r in submitters)
        print(f"{report.number}《{report.title}》")
        print(f"类别：{report.category}　状态：{STATE_NAMES[report.state]}　提交人：{names}")
        versions = await tx.reports.versions(report.id)
        if len(versions) > 1:  # every submission, the first first
            for version in versions:
                when = version.submitted_at.astimezone(config.time.zone)
                print(
                    f"第{version.version}版（{when:%Y-%m-%d %H:%M}）：《{version.title}》"
                    f"{version.content}"
                )
        else:
            print(f"内容：{report.content}")
        print("办理过程：")
        for step in await history_steps(tx, await tx.reports.history(report.id)):
            at = step.at.astimezone(config.time.zone).strftime("%Y-%m-%d %H:%M")
            detail = f" {step.detail}" if step.detail else ""
            comment = f"：{step.comment}" if step.comment else ""
            print(f"· {at} {step.actor} {step.action}{detail} → {step.state}{comment}")
        for item in await tx.reports.attachments(report.id):
            print(f"附件 {item.id}：{attachment_line(item)}")
        return 0


CLI_ACTIONS = [a for a in TRANSITIONS if a not in ("submit", "resubmit")]


def act_command(number: str, verb: str, words: list[str]) -> ReviewCommand | None:
    """``reports act`` read as the chat reads it: ``报送 SQ-… 省政协`` and ``forward``
    alike; None for a verb the workflow does not have."""
    english = {v: k for k, v in REVIEW_ACTIONS.items()}
    chat_verb = verb if verb in REVIEW_ACTIONS else english.get(verb)
    if chat_verb is None or REVIEW_ACTIONS[chat_verb] not in CLI_ACTIONS:
        return None
    return parse_review(" ".join([chat_verb, number, *words]))


async def run_act(config: Config, args: argparse.Namespace) -> int:
    number = parse_number(args.number)
    if number is None:
        return fail(f"看不懂编号「{args.number}」，例如 SQ-2025-0042。")
    command = act_command(number, args.action, args.words)
    if command is None:
        verbs = "、".join(v for v, a in REVIEW_ACTIONS.items() if a in CLI_ACTIONS)
        return fail(f"没有「{args.action}」这个操作。可用：{verbs}（或其英文名）。")
    action = command.action
    comment = args.comment or command.comment or ""
    level = args.level or command.level or ""
    if action == "forward":
        level = forward_level(level) or ""
    elif action == "endorse":
        level = endorse_level(level) or ""
    target = args.target or command.target or (args.level if action == "endorse" else "")
    async with command_database(config) as db:
        now = args.clock.now().astimezone(config.time.zone)
        async with db.transaction() as tx:
            report = await tx.reports.by_number(number, lock=True)
            if report is None:
                return fail(f"没有社情民意 {number}。")
            try:
                check_details(action, comment, level, target or None)
                _, notes = await apply_action(
                    tx,
                    report,
                    action,
                    actor=Actor("cli"),
                    now=now,
                    comment=comment,
                    level=level,
                    target=target,
                )
            except UserFacingError as exc:
                return fail(exc.message)
            await queue_all(tx, notes, now=now)
            print(f"{report.number} → {STATE_NAMES[report.state]}；已通知 {len(notes)} 人。")
            return 0


async def run_stats(config: Config, args: argparse.Namespace) -> int:
    async def go() -> None:
        async with command_database(config) as db, db.read() as tx:
            facts = await tx.reports.year_facts(args.year)
        stats = compute_stats(args.year, facts)
        print(stats_text(stats))
        if args.xlsx:
            write_xlsx(stats, facts, args.xlsx)
            print(f"已导出到 {args.xlsx}")

    await go()
    return 0


async def run_fetch_media(config: Config, _: argparse.Namespace) -> int:
    """Fetch now what the server would fetch at its next ``media_fetch_seconds``."""

    async def go() -> str:
        async with open_runtime(config, start_worker=False, start_planner=False) as runtime:
            job = media_job(config, runtime.db, runtime.wecom, runtime.clock)
            run = await job()
        assert isinstance(run, MediaRun)
        return (
            f"已保存 {run.stored} 个，失败 {run.failed} 个，过期 {run.expired} 个，"
            f"待重试 {run.retrying} 个。"
        )

    print(await go())
    return 0
