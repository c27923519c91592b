"""The aiohttp application factory: ``create_app(config) -> web.Application``.

Nothing here reads the environment or opens a connection at import time; the runtime opens in
the app's cleanup context and closes with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from bot.appkeys import CONFIG, RUNTIME
from bot.clock import Clock
from bot.config import Config
from bot.console import setup_console
from bot.delivery.base import Sender
from bot.health import healthz
from bot.runtime import open_runtime, serving_lock
from bot.wechat.callback import add_wechat_routes
from bot.wecom.callback import add_callback_routes


def create_app(
    config: Config,
    *,
    clock: Clock | None = None,
    sender: Sender | None = None,
    wall_clock: Clock | None = None,
) -> web.Application:
    app = web.Application(client_max_size=config.server.max_body_bytes)
    app[CONFIG] = config

    async def runtime_context(app: web.Application) -> AsyncIterator[None]:
        async with (
            serving_lock(config),
            open_runtime(config, clock=clock, sender=sender, wall_clock=wall_clock) as runtime,
        ):
            app[RUNTIME] = runtime
            yield

    app.cleanup_ctx.append(runtime_context)
    app.router.add_get("/healthz", healthz)
    add_callback_routes(app, config)
    add_wechat_routes(app, config)
    setup_console(app, config)
    return app
