"""``lvzhi notices …``: broadcast a notice (通知) from the console, and list recent ones.

``lvzhi notices send --to 第3学习小组、第5学习小组 [--at 明天上午9点] [--no-ack] 正文`` records
the notice and queues its deliveries exactly as ``通知 …：…`` in chat does; a running
``lvzhi serve`` sends them (at ``--at``, if given).
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from bot.config import Config
from bot.delivery.outbox import queue_all
from bot.errors import UserFacingError
from bot.runtime import command_database
from handlers.notices import create_notice
from handlers.notices.common import number, preview, split_names, when
from handlers.text.timephrase import parse_datetime


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="notices_command", required=True, metavar="ACTION")
    send = actions.add_parser("send", help="broadcast a notice to groups, members or 全体委员")
    send.add_argument("--to", required=True, help="names: 第3学习小组、第5学习小组 or 全体委员")
    send.add_argument("--at", help="when to send, in Chinese (明天上午9点, 下周一8:30)")
    send.add_argument("--no-ack", action="store_true", help="no 收到 asked, nobody chased")
    send.add_argument("text")
    send.set_defaults(run=run_send)
    actions.add_parser("list", help="recent notices and their acknowledgments").set_defaults(
        run=run_list
    )


async def run_send(config: Config, args: argparse.Namespace) -> int:
    zone = config.time.zone
    now = args.clock.now().astimezone(zone)
    send_at = None
    if args.at:
        send_at = parse_datetime(args.at, now)
        if send_at is None:
            print(
                f"lvzhi: 看不懂时间「{args.at}」，例如 明天上午9点、下周一8:30。", file=sys.stderr
            )
            return 1

    async def go() -> str:
        async with command_database(config) as db:
            async with db.transaction() as tx:
                notice, shown, sends = await create_notice(
                    tx,
                    names_=split_names(args.to),
                    text=args.text,
                    send_at=send_at or now,
                    needs_ack=not args.no_ack,
                    author=None,
                    now=now,
                    ack_reminder=timedelta(hours=config.notices.ack_reminder_hours),
                )
                await queue_all(tx, (s.due(send_at) for s in sends), now=now)
            timing = f"将于{when(send_at, zone)}发送" if send_at else "已排队发送"
            return (
                f"通知 {number('notice', notice.id)} {timing}至{shown}（共 {len(sends)} 条消息）。"
            )

    try:
        print(await go())
    except UserFacingError as exc:
        print(f"lvzhi: {exc.message}", file=sys.stderr)
        return 1
    return 0


async def run_list(config: Config, _: argparse.Namespace) -> int:
    async def go() -> list[str]:
        async with command_database(config) as db:
            async with db.read() as tx:
                notices = await tx.notices.recent(limit=20)
                counts = await tx.notices.ack_counts([n.id for n in notices])
            lines = []
            for notice in notices:
                acked, total = counts.get(notice.id, (0, 0))
                acks = f"已确认 {acked}/{total}" if notice.needs_ack else "无需确认"
                lines.append(
                    f"{number('notice', notice.id)}\t{when(notice.send_at, config.time.zone)}\t"
                    f"{acks}\t{preview(notice.text, 30)}"
                )
            return lines or ["还没有通知。"]

    print("\n".join(await go()))
    return 0
