"""The features. Each module owns a Router; they are tried in this order, the fallback last."""

from __future__ import annotations

from bot.dispatcher import Router
from handlers import fallback, help


def routers() -> list[Router]:
    return [help.router, fallback.router]
