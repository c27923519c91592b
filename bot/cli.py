"""The ``lvzhi`` command line. Each command lives in ``bot/commands/`` and registers itself.

Exit codes: 0 success, 1 the command failed (said why), 2 bad configuration or usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.commands import (
    activities,
    calendar,
    campaigns,
    console,
    db,
    export,
    groups,
    members,
    notices,
    parse,
    proposals,
    reports,
    serve,
    simulate,
)
from bot.config import ConfigError, load_config
from bot.logs import setup_logging

COMMANDS = (
    serve,
    db,
    members,
    groups,
    campaigns,
    calendar,
    notices,
    reports,
    proposals,
    activities,
    export,
    console,
    simulate,
    parse,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lvzhi", description="履职助手 Lüzhi")
    parser.add_argument(
        "--config", type=Path, default=None, help="config file (default: ./lvzhi.toml if present)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"lvzhi: config error: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.log.level, config.secrets())
    try:
        return int(args.run(config, args) or 0)
    except members.EXPECTED_FAILURES as exc:
        return members.failed(config, exc)
    except ConfigError as exc:
        print(f"lvzhi: config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
