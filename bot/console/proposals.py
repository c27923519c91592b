"""提案 and 履职登记 in the console.

* 提案: the proposals of a year (waiting steps coloured as the daily list colours them) and one
  form that moves a proposal on (立案, 不予立案, 并案, 交办, 答复, 办结, 重点, 领办) through
  :func:`handlers.proposals.workflow.apply_action`, the function the chat command calls: the
  same refusals, history row and notifications (through the outbox, same keys).
* 履职登记: the activities waiting for confirmation, each confirmed or returned with a button
  (the member told as from chat), and bulk entry — a pasted table (姓名,日期,类型,内容, as
  ``lvzhi activities import`` reads a file), checked row by row, bad rows named with reasons.

Every action is written to the audit log with the console account: a proposal's step by the
workflow itself, as from the chat and the CLI (one audit rule, docs/architecture.md); an
activity's here.
"""

from __future__ import annotations

import csv
import io

from aiohttp import web

from bot.console.common import acting_member, field, to_page
from bot.console.registry import ConsoleRegistry
from bot.console.server import View
from bot.delivery.outbox import queue_all
from bot.errors import UserFacingError
from handlers.activities.chat import STATE_NAMES as ACTIVITY_STATES
from handlers.activities.chat import decide, line
from handlers.activities.importer import check_rows
from handlers.proposals.parse import LEVELS, find_number, parse_units, year_seq
from handlers.proposals.plan import colour_of
from handlers.proposals.workflow import (
    ACTION_NAMES,
    STATE_NAMES,
    Step,
    apply_action,
    check_details,
    classification_of,
)
from handlers.reports.workflow import Actor, attachment_summary
from handlers.tasks.parse import COLOUR_NAMES
from storage.models_proposals import Activity

OFFICE_ACTIONS = ("accept", "reject", "merge", "assign", "answer", "close", "key", "lead")


async def proposals_page(view: View, *, error: str = "", status: int = 200) -> web.Response:
    raw = view.request.query.get("year", "")
    year = int(raw) if raw.isdigit() and len(raw) == 4 else view.now.year
    async with view.runtime.db.read() as tx:
        rows = await tx.proposals.year_rows(year)
        kept = await tx.media.of_owners("proposal", (r.proposal.id for r in rows))
    cfg = view.config.proposals
    colours = {r.proposal.id: colour_of(r.proposal, cfg, view.now) for r in rows}
    done = view.request.query.get("done", "")
    return view.render(
        "proposals.html",
        status=status,
        year=year,
        rows=rows,
        colours=colours,
        attachments={owner: attachment_summary(items) for owner, items in kept.items()},
        colour_names=COLOUR_NAMES,
        state_names=STATE_NAMES,
        levels=LEVELS,
        actions=[(a, ACTION_NAMES[a]) for a in OFFICE_ACTIONS],
        classifications=cfg.classifications,
        message=f"已{ACTION_NAMES[done]}。" if done in ACTION_NAMES else "",
        error=error,
    )


async def proposal_action(view: View) -> web.StreamResponse:
    action = field(view, "action", 16)
    found = find_number(field(view, "number", 32))
    if action not in OFFICE_ACTIONS or found is None:
        return await proposals_page(view, error="请填写提案编号并选择操作。", status=400)
    cfg = view.config.proposals
    code = field(view, "classification", 32)
    step = Step(
        comment=field(view, "comment", 2000),
        unit=field(view, "unit", 100),
        co_units=parse_units(field(view, "co_units", 300)),
        classification=classification_of(code, cfg) or "",
        into=(find_number(field(view, "into", 32)) or ("", ()))[0],
        leader=field(view, "leader", 64),
        convert={"report": "report", "letter": "letter"}.get(field(view, "convert", 8), ""),
    )
    try:
        async with view.runtime.db.transaction() as tx:
            proposal = await tx.proposals.by_seq(*year_seq(found[0]), lock=True)
            if proposal is None:
                raise UserFacingError(f"没有找到提案 {found[0]}。")
            check_details(action, step, cfg)
            actor = Actor(view.identity.actor, await acting_member(tx, view))
            _, notes = await apply_action(  # which writes the audit row (one audit rule)
                tx, proposal, action, actor=actor, now=view.now, cfg=cfg, step=step
            )
            await queue_all(tx, notes, now=view.now)
    except UserFacingError as exc:
        return await proposals_page(view, error=exc.message, status=400)
    view.runtime.worker.wake()
    return to_page("proposals", done=action)


async def activities_page(
    view: View, *, error: str = "", message: str = "", refused: list[str] | None = None
) -> web.Response:
    async with view.runtime.db.read() as tx:
        pending = await tx.activities.pending(limit=200)
        kept = await tx.media.of_owners("activity", (a.id for a, _ in pending))
    return view.render(
        "activities.html",
        status=400 if error else 200,
        pending=pending,
        attachments={owner: attachment_summary(items) for owner, items in kept.items()},
        line=line,
        kinds=view.config.activities.kinds,
        message=message or ("已处理。" if view.request.query.get("done") else ""),
        error=error,
        refused=refused or [],
    )


async def activity_action(view: View) -> web.StreamResponse:
    action = field(view, "action", 16)
    if action == "bulk":
        return await _bulk(view)
    raw = field(view, "id", 12)
    comment = field(view, "comment", 500)
    if action not in ("confirm", "return") or not raw.isdigit():
        return await activities_page(view, error="请选择要处理的履职登记。")
    if action == "return" and not comment:
        return await activities_page(view, error="退回时请写明理由。")
    async with view.runtime.db.transaction() as tx:
        activity = await tx.activities.get(int(raw))
        if activity is None or activity.state != "pending":
            return await activities_page(view, error="这条履职登记已处理或不存在。")
        member = await tx.members.get(activity.member_id)
        assert member is not None  # an activity's member is never deleted, only deactivated
        told = await decide(  # which writes the audit row (one audit rule)
            tx, activity, member, action, actor=view.identity.actor, comment=comment, now=view.now
        )
        await queue_all(tx, told, now=view.now)
    view.runtime.worker.wake()
    return to_page("activities", done=action)


async def _bulk(view: View) -> web.Response:
    text = field(view, "table", 200_000)
    table = list(csv.reader(io.StringIO(text.replace("，", ",").replace("\t", ","))))
    async with view.runtime.db.transaction() as tx:
        checked = check_rows(
            table, await tx.members.all(), view.config.activities.kinds, view.now.date()
        )
        added = 0
        for entry in checked.entries:
            if await tx.activities.exists(entry.member.id, entry.day, entry.kind, entry.text):
                continue
            added += 1
            await tx.activities.add(
                Activity(
                    member_id=entry.member.id,
                    kind=entry.kind,
                    day=entry.day,
                    text=entry.text,
                    state="confirmed",
                    source="console",
                    created_at=view.now,
                    reviewed_at=view.now,
                    reviewer=view.identity.actor,
                )
            )
        await view.audit(
            tx,
            "console.activities_bulk",
            entity="activity",
            detail={"added": added, "refused": len(checked.refused)},
        )
    refused = [f"第{r.row}行：{r.reason}" for r in checked.refused]
    return await activities_page(
        view, message=f"已录入 {added} 条履职活动（均已确认）。", refused=refused
    )


def install(console: ConsoleRegistry) -> None:
    console.register_page("proposals", "提案", get=proposals_page, order=25)
    console.register_page("proposals/act", "办理提案", post=proposal_action, nav=False)
    console.register_page("activities", "履职登记", get=activities_page, order=45)
    console.register_page("activities/act", "确认履职登记", post=activity_action, nav=False)


__all__ = ["ACTIVITY_STATES", "install"]
