"""The features, one package each. A feature's ``__init__`` is its Router; they are tried in
the order :func:`routers` lists them, the fallback last. Features with scheduled work also
contribute a planner source, and features with a file of their own to read (the scoring rules)
a start-up check.

Each list imports what it names when called, so importing one part of a feature (its parser,
``handlers.text``) does not import every feature. Parsing loads no database layer: a feature's
modules import the storage models they write inside the functions that write them (and under
``TYPE_CHECKING`` for annotations), so ``lvzhi parse`` imports no SQLAlchemy
(``tests/test_cli.py`` checks it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Config
    from bot.dispatcher import Router
    from bot.planner import PlanSource


def routers() -> list[Router]:
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
    from handlers.understand import routes as understanding

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
    """The features' planner sources, imported here: they need the database and charts, which
    parsing a message (``lvzhi parse``) does not."""
    from handlers.checkin.plan import CalendarWarningSource, CheckInSource
    from handlers.meetings.plan import MeetingSource
    from handlers.notices.plan import NoticeSource
    from handlers.proposals.plan import ProposalSource
    from handlers.reports.plan import DraftExpirySource, ReviewNudgeSource
    from handlers.tasks.plan import TaskSource

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
    from handlers import duty

    return [duty.check_rules]
