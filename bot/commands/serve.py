"""``lvzhi serve``: run the bot (HTTP callbacks, delivery worker, scheduler)."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from bot.app import create_app
from bot.commands.common import fail
from bot.config import Config
from storage.serving import DatabaseInUse

log = logging.getLogger("lvzhi")


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="override [server] host")
    parser.add_argument("--port", type=int, help="override [server] port")
    parser.set_defaults(run=run)


def run(config: Config, args: argparse.Namespace) -> int:
    host = args.host or config.server.host
    port = args.port or config.server.port
    mode = "sandbox (no WeCom credentials)" if config.sandbox else "WeCom"
    log.info("履职助手 starting on http://%s:%d in %s mode", host, port, mode)
    try:
        web.run_app(create_app(config), host=host, port=port, print=None, access_log=None)
    except DatabaseInUse:
        return fail("这个数据库正在恢复备份（lvzhi restore），请等恢复完成后再启动。")
    return 0
