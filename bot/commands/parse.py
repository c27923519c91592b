"""``lvzhi parse TEXT``: show how the bot understands a message, as one JSON object."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from bot.config import Config
from bot.dispatcher import Dispatcher, ParseContext, as_json
from handlers import routers


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role", choices=("member", "secretary", "admin"), default="member")
    parser.add_argument("--now", help="ISO-8601 time the message was sent (default: now)")
    parser.add_argument("--group", action="store_true", help="the message was sent in a group")
    parser.add_argument("text", nargs="+", help="the message (words are joined with spaces)")
    parser.set_defaults(run=run)


def run(config: Config, args: argparse.Namespace) -> int:
    zone = config.time.zone
    if args.now:
        try:
            now = datetime.fromisoformat(args.now)
        except ValueError:
            print(json.dumps({"error": f"--now is not ISO-8601: {args.now}"}))
            return 2
        now = now.replace(tzinfo=zone) if now.tzinfo is None else now.astimezone(zone)
    else:
        now = args.clock.now().astimezone(zone)
    dispatcher = Dispatcher(routers())
    value = dispatcher.parse_for_role(
        " ".join(args.text), ParseContext(args.role, now, args.group)
    )
    print(json.dumps(as_json(value), ensure_ascii=False))
    return 0
