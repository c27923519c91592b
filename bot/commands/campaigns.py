"""``lvzhi campaigns …``: study check-in campaigns (打卡活动)."""

from __future__ import annotations

import argparse

from bot.commands.common import fail
from bot.config import Config
from bot.runtime import command_database
from handlers.checkin import describe_campaign, save_campaign
from handlers.checkin.rules import CampaignCommand, PushSpec, describe_push, parse_campaign_command
from handlers.text.periods import CADENCE_NAMES, as_cadence

CADENCE_WORDS = {"daily": "每天", "weekly": "每周", "monthly": "每月"}


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="campaign_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="list campaigns").set_defaults(run=run_list)
    start = actions.add_parser("start", help="start or change a group's campaign")
    start.add_argument("group")
    start.add_argument("--cadence", choices=sorted(CADENCE_WORDS), default="weekly")
    start.add_argument(
        "--remind",
        action="append",
        default=[],
        help="e.g. 周五20:00 (weekly), 20:00 (daily), 月底前3天20:00 (monthly)",
    )
    start.add_argument("--summary", help="e.g. 周一09:00, 周日21:00, 次日09:00")
    start.add_argument(
        "--no-skip-holidays", action="store_true", help="remind on statutory holidays too"
    )
    start.add_argument(
        "--makeup-days", type=int, help="补卡 allowed this many days after a period"
    )
    start.add_argument("--makeup-per-month", type=int, help="at most this many 补卡 a month")
    start.set_defaults(run=run_start)
    stop = actions.add_parser("stop", help="stop a group's campaign")
    stop.add_argument("group")
    stop.set_defaults(run=run_stop)


async def run_list(config: Config, _: argparse.Namespace) -> int:
    async with command_database(config) as db, db.read() as tx:
        lines = []
        for campaign in await tx.campaigns.all():
            group = await tx.groups.get(campaign.group_id)
            cadence = as_cadence(campaign.cadence)
            reminders = "、".join(
                describe_push(cadence, PushSpec.of(r)) for r in campaign.reminders
            )
            state = "进行中" if campaign.active else "已关闭"
            lines.append(
                f"{group.name if group else '?'}\t{CADENCE_NAMES[cadence]}\t{state}\t"
                f"提醒 {reminders}\t"
                f"汇总 {describe_push(cadence, PushSpec.of(campaign.summary))}"
                f"\t自 {campaign.starts_on}"
            )
    print("\n".join(lines) if lines else "还没有打卡活动。")
    return 0


async def run_start(config: Config, args: argparse.Namespace) -> int:
    words = [f"开启打卡 {args.group} {CADENCE_WORDS[args.cadence]}"]
    words += [f"{r}提醒" for r in args.remind]
    if args.summary:
        words.append(f"{args.summary}汇总")
    command = parse_campaign_command(" ".join(words))
    if not isinstance(command, CampaignCommand) or len(command.reminders) < max(
        1, len(args.remind)
    ):
        return fail("看不懂提醒或汇总时间，例如：--remind 周五20:00 --summary 周一09:00")
    async with command_database(config) as db:
        async with db.transaction() as tx:
            group = await tx.groups.by_name(args.group)
            if group is None:
                return fail(f"没有名为「{args.group}」的群。")
            campaign = await save_campaign(
                tx,
                group,
                command,
                now=args.clock.now().astimezone(config.time.zone),
                actor="cli",
                skip_holidays=False if args.no_skip_holidays else None,
                makeup_days=args.makeup_days,
                makeup_per_month=args.makeup_per_month,
            )
            print(describe_campaign(group, campaign))
        return 0


async def run_stop(config: Config, args: argparse.Namespace) -> int:
    async with command_database(config) as db:
        async with db.transaction() as tx:
            group = await tx.groups.by_name(args.group)
            campaign = await tx.campaigns.for_group(group.id) if group else None
            if group is None or campaign is None or not campaign.active:
                return fail(f"「{args.group}」没有进行中的打卡活动。")
            campaign.active = False
            campaign.updated_at = args.clock.now().astimezone(config.time.zone)
            await tx.audit.record(
                at=campaign.updated_at,
                actor="cli",
                action="campaign.stop",
                entity="campaign",
                entity_id=campaign.id,
            )
        print(f"已关闭{args.group}的打卡活动。")
        return 0
