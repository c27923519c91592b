"""Typed keys for what the aiohttp application holds."""

from __future__ import annotations

from aiohttp import web

from bot.config import Config
from bot.runtime import Runtime

CONFIG = web.AppKey("config", Config)
RUNTIME = web.AppKey("runtime", Runtime)
