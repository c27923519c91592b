"""The features. Each module owns a Router; they are tried in this order, the fallback last.
Features with scheduled work also contribute a planner source, and features with a file of
their own to read (the scoring rules) a start-up check."""

from __future__ import annotations

from collections.abc import Callable

from bot.config import Config
from bot.dispatcher import Router
from bot.planner import PlanSource
from handlers import (
    activities,
    checkin,
    duty,
    fallback,
    help,
    meetings,
    notices,
    proposals,
    reports,
    tasks,
    wechat,
)
from handlers.checkin.plan import CalendarWarningSource, CheckInSource
from handlers.meetings.plan import MeetingSource
from handlers.notices.plan import NoticeSource
from handlers.proposals.plan import ProposalSource
from handlers.reports.plan import DraftExpirySource, ReviewNudgeSource
from handlers.tasks.plan import TaskSource
from handlers.understand import routes as understanding


def routers() -> list[Router]:
    return [
        help.router,
        understanding.early,
        wechat.router,
        proposals.router,
        activities.router,
        reports.router,
        checkin.router,
        notices.router,
        meetings.router,
        tasks.router,
        duty.router,
        understanding.late,
        fallback.router,
    ]


def plan_sources() -> list[PlanSource]:
    return [
        CheckInSource(),
        CalendarWarningSource(),
        NoticeSource(),
        MeetingSource(),
        TaskSource(),
        ProposalSource(),
        ReviewNudgeSource(),
        DraftExpirySource(),
    ]


def startup_checks() -> list[Callable[[Config], None]]:
    """Run once the configuration is loaded, before serving; each raises ``ConfigError``."""
    return [duty.check_rules]
