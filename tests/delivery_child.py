"""A delivery worker in a process of its own, for the crash tests to SIGKILL.

    python tests/delivery_child.py --db URL --wecom JSON --owner NAME [--delivery JSON]
                                   [--timeout SECONDS]

It runs a :class:`~bot.delivery.worker.DeliveryWorker` with the real
:class:`~bot.wecom.sender.WeComSender` (``--wecom`` is the ``[wecom]`` table as JSON, pointing
at a fake WeCom; ``--delivery`` overrides ``[delivery]``) until no delivery is pending, then
exits 0; 3 if that took longer than ``--timeout``. It prints one line, ``ready``, once the
worker runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import timedelta

import aiohttp

from bot.clock import SystemClock
from bot.config import build_config
from bot.delivery.worker import DeliveryWorker
from bot.wecom.sender import WeComSender
from storage import Database


async def run(args: argparse.Namespace) -> int:
    config = build_config(
        {
            "database": {"url": args.db},
            "wecom": json.loads(args.wecom),
            "delivery": json.loads(args.delivery),
        },
        environ={},
    )
    clock = SystemClock()
    db = Database(config.database.url, pool_size=4)
    timeout = aiohttp.ClientTimeout(total=config.wecom.request_timeout_seconds)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            sender = WeComSender(http, config.wecom, db, clock, owner=args.owner)
            worker = DeliveryWorker(db, sender, config.delivery, clock, owner=args.owner)
            await worker.start()
            print("ready", flush=True)
            try:
                async with asyncio.timeout(args.timeout):
                    while True:  # polling: the database has no event to wait on
                        if not await _pending(db, clock):
                            break
                        await asyncio.sleep(0.1)
            except TimeoutError:
                return 3
            finally:
                await worker.stop()
    finally:
        await db.dispose()
    return 0


async def _pending(db: Database, clock: SystemClock) -> int:
    async with db.read() as tx:
        stats = await tx.deliveries.stats(clock.now(), timedelta(hours=1))
    return stats.pending


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--wecom", required=True, help="the [wecom] table as JSON")
    parser.add_argument("--delivery", default="{}", help="[delivery] overrides as JSON")
    parser.add_argument("--owner", required=True)
    parser.add_argument("--timeout", type=float, default=60.0)
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
