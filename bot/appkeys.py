"""Typed keys for what the aiohttp application holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:  # the runtime imports the edges that read these keys
    from bot.config import Config
    from bot.runtime import Runtime

CONFIG: web.AppKey[Config] = web.AppKey("config")
RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime")
