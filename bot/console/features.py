"""The console's features, in menu order. A new feature adds its ``install`` here (as
``handlers/__init__.py`` lists the chat routers)."""

from __future__ import annotations

from bot.console import (
    exports,
    meetings,
    members,
    notices,
    overview,
    proposals,
    report_actions,
    reports,
    simulator,
    tasks,
    wechat,
    wecom_login,
)
from bot.console.registry import ConsoleRegistry


def install_features(console: ConsoleRegistry) -> None:
    overview.install(console)
    reports.install(console)
    report_actions.install(console)
    proposals.install(console)
    notices.install(console)
    meetings.install(console)
    tasks.install(console)
    members.install(console)
    exports.install(console)
    simulator.install(console)
    wechat.install(console)
    wecom_login.install(console)
