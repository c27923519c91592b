"""概览: the console's front page, a list of panels that features register.

Built in: the current period's check-in rate per study group (打卡率) and the state of message
delivery (积压、投递失败). Other features add theirs with ``register_panel``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.config import Config
from bot.console.registry import ConsoleRegistry, Panel
from bot.console.server import View
from handlers.text.periods import CURRENT_NOUN, as_cadence, period_containing
from storage import Tx

log = logging.getLogger(__name__)

OVERDUE_AFTER = timedelta(minutes=5)  # as /healthz counts it


@dataclass(frozen=True, slots=True)
class LoadedPanel:
    panel: Panel
    data: Mapping[str, Any] | None
    failed: bool = False


@dataclass(frozen=True, slots=True)
class GroupRate:
    group: str
    noun: str  # 本周 / 今天 / 本月
    period: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        return self.done * 100 // self.total if self.total else 0


async def overview_page(view: View) -> web.StreamResponse:
    loaded: list[LoadedPanel] = []
    async with view.runtime.db.read() as tx:
        for panel in view.registry.panels_for(view.identity.role):
            try:
                async with tx.session.begin_nested():
                    data = await panel.load(tx, view.now, view.config)
            except Exception:
                log.exception("console panel %s failed", panel.name)
                loaded.append(LoadedPanel(panel, None, failed=True))
                continue
            if data is not None:
                loaded.append(LoadedPanel(panel, data))
    return view.render("overview.html", panels=loaded)


async def checkin_rates(tx: Tx, now: datetime, _: Config) -> Mapping[str, Any]:
    """Each active campaign's group: how many of its members checked in this period."""
    rates: list[GroupRate] = []
    for campaign in await tx.campaigns.active():
        group = await tx.groups.get(campaign.group_id)
        if group is None:
            continue
        period = period_containing(as_cadence(campaign.cadence), now.date())
        members = {m.id for m in await tx.groups.members(group.id)}
        checked = await tx.checkins.checked_member_ids(campaign.id, period.start)
        rates.append(
            GroupRate(
                group.name,
                CURRENT_NOUN.get(campaign.cadence, "本期"),
                period.label,
                len(members & checked),
                len(members),
            )
        )
    rates.sort(key=lambda rate: rate.group)
    return {"rates": rates}


async def delivery_state(tx: Tx, now: datetime, _: Config) -> Mapping[str, Any]:
    stats = await tx.deliveries.stats(now.astimezone(UTC), OVERDUE_AFTER)
    latest = await tx.alerts.latest()
    return {"stats": stats, "alert": latest}


def install(console: ConsoleRegistry) -> None:
    console.register_page("", "概览", get=overview_page, order=0)
    console.register_panel(
        "checkins", "打卡率（按学习小组）", checkin_rates, "panels/checkins.html", order=10
    )
    console.register_panel(
        "delivery", "消息投递", delivery_state, "panels/delivery.html", order=90
    )
