"""``lvzhi simulate --user U [--group NAME] TEXT``: talk to the bot without WeCom.

The message goes through the whole pipeline (dispatcher, storage, outbox) and the delivery
worker hands the answers to the sandbox channel, which this command prints.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import uuid

from bot.config import Config
from bot.delivery.sandbox import SandboxSender
from bot.messages import Incoming
from bot.runtime import open_runtime


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("simulate", help="send a message as a member (sandbox mode)")
    parser.add_argument("--user", required=True, help="the member's WeCom userid")
    parser.add_argument("--group", help="send it in this group (by name) instead of 1:1")
    parser.add_argument("text", nargs="+", help="the message (words are joined with spaces)")
    parser.set_defaults(run=run)


def run(config: Config, args: argparse.Namespace) -> int:
    if not config.sandbox:
        print(
            "lvzhi: simulate 只在沙箱模式下运行（当前已配置企业微信，模拟消息会真的发出去）。",
            file=sys.stderr,
        )
        return 1
    return asyncio.run(simulate(config, args.user, args.group, " ".join(args.text)))


async def simulate(config: Config, user: str, group: str | None, text: str) -> int:
    from bot.clock import SystemClock

    logging.getLogger("lvzhi.sandbox").setLevel(logging.WARNING)  # printed below instead
    clock = SystemClock()
    sandbox = SandboxSender(clock)
    async with open_runtime(config, clock=clock, sender=sandbox, start_worker=False) as rt:
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
    for message in sandbox.messages:
        mentions = f" @{' @'.join(message.mentions)}" if message.mentions else ""
        print(f"→ {message.address.label}{mentions}\n{message.text}\n")
    return 0
