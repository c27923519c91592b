"""``lvzhi simulate --user U [--group NAME] [--at ISO] TEXT``: talk to the bot without WeCom;
``lvzhi tick --until ISO [--from ISO]``: let simulated time pass (sandbox mode only).

A simulated message goes through the whole pipeline (dispatcher, storage, outbox) and the
delivery worker hands the answers to the sandbox channel, which this command prints. ``tick``
runs the planner and the worker as ``lvzhi serve`` would have between two times
(:mod:`bot.fastforward`) and prints each push as it would have been sent.
"""

from __future__ import annotations

import argparse
import logging
import sys
import uuid
from datetime import datetime

from bot.clock import Clock, FakeClock, SystemClock
from bot.config import Config
from bot.delivery.sandbox import SandboxMessage, SandboxSender
from bot.messages import Incoming
from bot.runtime import open_runtime


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", required=True, help="the member's WeCom userid")
    parser.add_argument("--group", help="send it in this group (by name) instead of 1:1")
    parser.add_argument("--at", help="handle it as if sent at this ISO-8601 time")
    parser.add_argument("text", nargs="+", help="the message (words are joined with spaces)")
    parser.set_defaults(run=run)


def register_tick(tick: argparse.ArgumentParser) -> None:
    tick.add_argument("--until", required=True, help="ISO-8601 time to stop at")
    tick.add_argument("--from", dest="start", help="ISO-8601 time to start at (default: now)")
    tick.set_defaults(run=run_tick)


def _sandbox_only(config: Config, command: str) -> bool:
    if config.sandbox:
        return True
    print(
        f"lvzhi: {command} 只在沙箱模式下运行（当前已配置企业微信，模拟的消息会真的发出去）。",
        file=sys.stderr,
    )
    return False


def parse_when(text: str, config: Config) -> datetime:
    """An ISO-8601 time; without an offset it is in ``[time] timezone``."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"不是 ISO-8601 时间：{text}（例如 2027-01-11T10:00+08:00）") from None
    return when.replace(tzinfo=config.time.zone) if when.tzinfo is None else when


async def run(config: Config, args: argparse.Namespace) -> int:
    if not _sandbox_only(config, "simulate"):
        return 1
    try:
        clock: Clock = FakeClock(parse_when(args.at, config)) if args.at else args.clock
    except ValueError as exc:
        print(f"lvzhi: {exc}", file=sys.stderr)
        return 2
    return await simulate(config, args.user, args.group, " ".join(args.text), clock)


async def simulate(
    config: Config, user: str, group: str | None, text: str, clock: Clock | None = None
) -> int:
    logging.getLogger("lvzhi.sandbox").setLevel(logging.WARNING)  # printed below instead
    clock = clock or SystemClock()
    sandbox = SandboxSender(clock)
    async with open_runtime(config, clock=clock, sender=sandbox, start_worker=False) as rt:
        # What earlier commands queued and is due by now goes first, shown apart: each
        # command shows what it caused.
        await rt.worker.drain()
        earlier, mark = sandbox.since(0), sandbox.total
        async with rt.db.read() as tx:
            before = await tx.deliveries.latest_id()
        chat_id = None
        if group:
            async with rt.db.read() as tx:
                found = await tx.groups.by_name(group)
            if found is None:
                print(f"lvzhi: 没有名为「{group}」的群。", file=sys.stderr)
                return 1
            chat_id = found.app_chat_id or f"sandbox-group-{found.id}"
        incoming = Incoming(
            channel="sandbox",
            sender=user,
            text=text,
            sent_at=clock.now(),
            dedup_key=f"sandbox:{uuid.uuid4().hex}",
            chat_id=chat_id,
            chat_name=group,
        )
        await rt.pipeline.handle(incoming)
        await rt.worker.drain()
        async with rt.db.read() as tx:
            later = await tx.deliveries.pending_after(before)
    zone = config.time.zone
    if earlier:
        print(f"（此前排定、现已到期的 {len(earlier)} 条推送，先行发出）")
        for message in earlier:
            at = message.at.astimezone(zone)
            print(f"{at:%Y-%m-%d %H:%M} → {target(message)}\n{message.text}\n")
        print("（以下是这条消息的结果）")
    for message in sandbox.since(mark):
        print(f"→ {target(message)}\n{message.text}\n")
    if later:
        first = later[0].next_attempt_at.astimezone(zone)
        print(
            f"（另已排定 {len(later)} 条推送，最早 {first:%Y-%m-%d %H:%M} 发出；"
            f"lvzhi tick --until 时间 可快进查看）"
        )
    return 0


def target(message: SandboxMessage) -> str:
    """Who a message went to, as ``simulate`` and ``tick`` print it."""
    mentions = f" @{' @'.join(message.mentions)}" if message.mentions else ""
    return f"{message.address.label}{mentions}"


async def run_tick(config: Config, args: argparse.Namespace) -> int:
    if not _sandbox_only(config, "tick"):
        return 1
    try:
        until = parse_when(args.until, config)
        start = parse_when(args.start, config) if args.start else args.clock.now()
    except ValueError as exc:
        print(f"lvzhi: {exc}", file=sys.stderr)
        return 2
    return await tick(config, start, until)


async def tick(config: Config, start: datetime, until: datetime) -> int:
    from bot.fastforward import FastForwardError, fast_forward

    for name in ("lvzhi.sandbox", "bot.planner"):  # printed below instead
        logging.getLogger(name).setLevel(logging.WARNING)
    zone = config.time.zone
    clock = FakeClock(start)
    sandbox = SandboxSender(clock)

    def show(message: SandboxMessage) -> None:
        first = message.text.strip().splitlines()[0] if message.text.strip() else ""
        print(f"{message.at.astimezone(zone):%Y-%m-%d %H:%M} → {target(message)}: {first}")

    async with open_runtime(config, clock=clock, sender=sandbox, start_worker=False) as rt:
        try:
            sent = await fast_forward(
                clock=clock,
                planner=rt.planner,
                worker=rt.worker,
                db=rt.db,
                sandbox=sandbox,
                until=until,
                on_sent=show,
            )
        except FastForwardError as exc:
            print(f"lvzhi: {exc}", file=sys.stderr)
            return 2
    print(
        f"（{start.astimezone(zone):%Y-%m-%d %H:%M} 至 {until.astimezone(zone):%Y-%m-%d %H:%M}，"
        f"共发出 {len(sent)} 条）"
    )
    return 0
