"""The secretaries' web console (管理后台), served by the bot's own aiohttp process under
``/console/``: server-rendered pages (Jinja2), one CSS file, a little vanilla JavaScript.

``setup_console(app, config)`` is the one call ``create_app`` makes. Features add pages and
overview panels through :class:`ConsoleRegistry` (see :mod:`bot.console.registry`), listed in
:func:`bot.console.features.install_features`. Security: :mod:`bot.console.server` (middlewares),
:mod:`bot.console.auth` (accounts, lockout, sessions), :mod:`bot.console.security`.
"""

from __future__ import annotations

from aiohttp import web

from bot.config import Config
from bot.console.features import install_features
from bot.console.registry import ConsoleRegistry, LoginProvider, Page, Panel
from bot.console.server import PREFIX, View, build_console_app

__all__ = ["ConsoleRegistry", "LoginProvider", "Page", "Panel", "View", "setup_console"]


def setup_console(app: web.Application, config: Config) -> None:
    """Mount the console under ``/console/`` (unless ``[console] enabled = false``)."""
    if not config.console.enabled:
        return
    registry = ConsoleRegistry()
    install_features(registry)

    async def to_console(_: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently(PREFIX + "/")

    # Before the sub-application, which would otherwise claim the bare prefix too.
    app.router.add_get(PREFIX, to_console)
    app.add_subapp(PREFIX, build_console_app(config, registry))
