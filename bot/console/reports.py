"""社情民意: the review queue (longest waiting first), every report with its filters (state,
category, sector, year, a word), and one report with its history and the form of the actions
its state allows — the same table the chat's state machine uses
(:func:`handlers.reports.workflow.allowed_actions`). The actions themselves:
:mod:`bot.console.report_actions`.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from bot.config import Config
from bot.console.common import query_int
from bot.console.registry import ConsoleRegistry
from bot.console.server import View
from handlers.reports.parse import CATEGORIES, ENDORSE_LEVELS, FORWARD_LEVELS, parse_number
from handlers.reports.workflow import (
    ACTION_NAMES,
    PENDING_REVIEW,
    STATE_NAMES,
    allowed_actions,
    history_steps,
    waited,
)
from storage import Tx
from storage.repos.console_views import ReportFilter

LIST_LIMIT = 200
QUEUE_LIMIT = 50
# What the console offers: everything a secretary may do in chat (submitting is the member's).
OFFICE_ACTIONS = (
    "review",
    "adopt",
    "return",
    "reject",
    "forward",
    "endorse",
    "assign",
    "answer",
    "close",
)
COMMENT_LABELS = {
    "return": "退回意见（必填）",
    "reject": "不予采用的理由（必填）",
    "endorse": "批示内容（必填）",
    "answer": "反馈内容（必填）",
}


# -- the list -----------------------------------------------------------------------------------


def report_filter(view: View) -> ReportFilter:
    """The list's filters from the query string; unknown values are ignored, not errors."""
    query = view.request.query
    state = query.get("state", "")
    states = PENDING_REVIEW if state == "pending" else (state,) if state in STATE_NAMES else ()
    category = query.get("category", "")
    return ReportFilter(
        states=tuple(states),
        category=category if category in CATEGORIES else "",
        sector=query.get("sector", "").strip()[:64],
        year=query_int(view, "year"),
        text=query.get("q", "").strip()[:64],
    )


async def reports_page(view: View) -> web.StreamResponse:
    wanted = report_filter(view)
    async with view.runtime.db.read() as tx:
        views = tx.console_views
        queue, waiting = await views.reports(
            ReportFilter(states=PENDING_REVIEW), limit=QUEUE_LIMIT, oldest_first=True
        )
        rows, total = await views.reports(wanted, limit=LIST_LIMIT)
        years, sectors = await views.report_years(), await views.report_sectors()
        counts = await views.report_state_counts()
    return view.render(
        "reports.html",
        queue=queue,
        waiting=waiting,
        rows=rows,
        total=total,
        limit=LIST_LIMIT,
        wanted=wanted,
        state=view.request.query.get("state", ""),
        years=years,
        sectors=sectors,
        counts=counts,
        categories=CATEGORIES,
        state_names=STATE_NAMES,
        waited=lambda since: waited(view.now - since),
    )


# -- one report ---------------------------------------------------------------------------------


async def report_page(view: View) -> web.StreamResponse:
    number = parse_number(view.request.query.get("number", ""))
    done = view.request.query.get("done", "")
    told = query_int(view, "told")
    message = None
    if done in ACTION_NAMES:
        message = f"已{ACTION_NAMES[done]}" + (f"，已通知提交人（{told} 人）。" if told else "。")
    return await render_report(view, number, message=message, error=None)


async def render_report(
    view: View, number: str | None, *, message: str | None, error: str | None, status: int = 200
) -> web.Response:
    async with view.runtime.db.read() as tx:
        report = await tx.reports.by_number(number) if number else None
        if report is None:
            return view.render(
                "error.html", status=404, title="没有找到", message="没有找到这条社情民意。"
            )
        submitters = await tx.reports.submitters(report.id)
        attachments = await tx.reports.attachments(report.id)
        steps = await history_steps(tx, await tx.reports.history(report.id))
        versions = await tx.reports.versions(report.id)
    actions = [a for a in OFFICE_ACTIONS if a in allowed_actions(report.state)]
    return view.render(
        "report.html",
        status=status,
        report=report,
        state_names=STATE_NAMES,
        action_names=ACTION_NAMES,
        submitters=submitters,
        attachments=attachments,
        steps=steps,
        earlier_versions=list(reversed(versions[:-1])),
        version_count=len(versions),
        actions=actions,
        comment_label=_comment_label(actions),
        can_recategorize=report.state not in ("closed", "rejected"),
        categories=CATEGORIES,
        forward_levels=FORWARD_LEVELS,
        endorse_levels=ENDORSE_LEVELS,
        message=message,
        error=error,
    )


def _comment_label(actions: list[str]) -> str:
    required = [COMMENT_LABELS[a] for a in actions if a in COMMENT_LABELS]
    return "意见 / 说明" + ("（退回、不予采用、批示、反馈时必填）" if required else "（可选）")


# -- overview panel -----------------------------------------------------------------------------


async def pending_panel(tx: Tx, now: datetime, _: Config) -> dict[str, object]:
    """待审社情民意: how many wait, the longest-waiting few."""
    rows, total = await tx.console_views.reports(
        ReportFilter(states=PENDING_REVIEW), limit=5, oldest_first=True
    )
    return {
        "rows": rows,
        "total": total,
        "waited": lambda since: waited(now - since),
        "state_names": STATE_NAMES,
    }


def install(console: ConsoleRegistry) -> None:
    console.register_page("reports", "社情民意", get=reports_page, order=20)
    console.register_page("reports/view", "社情民意详情", get=report_page, nav=False)
    console.register_panel(
        "reports", "待审社情民意", pending_panel, "panels/reports.html", order=20
    )
