"""The features. Each module owns a Router; they are tried in this order, the fallback last.
Features with scheduled work also contribute a planner source."""

from __future__ import annotations

from bot.dispatcher import Router
from bot.planner import PlanSource
from handlers import checkin, fallback, help
from handlers.checkin_plan import CalendarWarningSource, CheckInSource


def routers() -> list[Router]:
    return [help.router, checkin.router, fallback.router]


def plan_sources() -> list[PlanSource]:
    return [CheckInSource(), CalendarWarningSource()]
