"""社情民意的办理: the review form's actions (受理, 采用, 退回, 不予采用, 报送, 批示, 转办, 反馈,
办结, 修改类别), posted from a report's page (:mod:`bot.console.reports`).

An action goes through exactly what the secretaries' chat commands use
(:func:`handlers.reports.workflow.check_details`, :func:`~handlers.reports.workflow.apply_action`,
:func:`~handlers.reports.workflow.recategorize`): the same state machine refuses the same
steps, the same history row is written, and the same notifications reach the submitter and
co-submitters through the outbox, under the same idempotency keys, in the same transaction,
and the same audit row (操作记录) as the chat and the CLI (the workflow writes it: one audit
rule, docs/architecture.md). The actor is the console account, whose linked roster member (if
any) is not told of their own step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from bot.console.common import acting_member, field, to_page
from bot.console.registry import ConsoleRegistry
from bot.console.reports import OFFICE_ACTIONS, render_report
from bot.console.server import View
from bot.delivery.outbox import queue_all
from bot.errors import UserFacingError
from bot.messages import Send
from handlers.reports.parse import CATEGORIES, endorse_level, forward_level, parse_number
from handlers.reports.workflow import (
    Actor,
    apply_action,
    check_details,
    recategorize,
)
from storage import Tx
from storage.models_reports import Report


@dataclass(frozen=True, slots=True)
class ActionForm:
    """The review form as submitted: which button, and the fields that action records."""

    number: str
    action: str
    comment: str
    level: str
    target: str
    category: str


def read_action(view: View) -> ActionForm:
    """The form's fields mapped to what the workflow records, as the chat's parser maps a
    command: 报送 → level (市政协/省政协/全国政协); 批示 → level and the leader as target
    (the level when no leader is named, as ``lvzhi reports act`` does); 转办 → the
    department as target."""
    action = field(view, "action", 16)
    level = target = ""
    if action == "forward":
        level = forward_level(field(view, "forward_level", 16)) or ""
    elif action == "endorse":
        level = endorse_level(field(view, "endorse_level", 16)) or ""
        target = field(view, "leader", 100) or level
    elif action == "assign":
        target = field(view, "department", 100)
    return ActionForm(
        number=parse_number(field(view, "number", 32)) or "",
        action=action,
        comment=field(view, "comment", 2000),
        level=level,
        target=target,
        category=field(view, "category", 16),
    )


async def report_action(view: View) -> web.StreamResponse:
    form = read_action(view)
    if form.action not in (*OFFICE_ACTIONS, "category"):
        error = "请选择要执行的操作。"
        return await render_report(view, form.number, message=None, error=error, status=400)
    try:
        notes = await _act(view, form)
    except UserFacingError as exc:
        return await render_report(view, form.number, message=None, error=exc.message, status=400)
    view.runtime.worker.wake()
    return to_page("reports/view", number=form.number, done=form.action, told=len(notes))


async def _act(view: View, form: ActionForm) -> list[Send]:
    now = view.now
    async with view.runtime.db.transaction() as tx:
        report = await tx.reports.by_number(form.number, lock=True) if form.number else None
        if report is None:
            raise UserFacingError("没有找到这条社情民意。")
        member = await acting_member(tx, view)
        actor = Actor(view.identity.actor, member)
        notes = await _apply(tx, report, form, actor, now)
        await queue_all(tx, notes, now=now)
    return notes


async def _apply(
    tx: Tx, report: Report, form: ActionForm, actor: Actor, now: datetime
) -> list[Send]:
    if form.action == "category":
        if form.category not in CATEGORIES:
            raise UserFacingError(f"请选择类别：{'、'.join(CATEGORIES)}。")
        if form.category == report.category:
            raise UserFacingError(f"类别已经是「{form.category}」。")
        _, notes = await recategorize(tx, report, form.category, actor=actor, now=now)
        return notes
    check_details(form.action, form.comment, form.level, form.target or None)
    _, notes = await apply_action(
        tx,
        report,
        form.action,
        actor=actor,
        now=now,
        comment=form.comment,
        level=form.level,
        target=form.target,
    )
    return notes


def install(console: ConsoleRegistry) -> None:
    console.register_page("reports/act", "审核社情民意", post=report_action, nav=False)
