"""What the planner sends for proposals (提案) and registered activities: the three-colour
chasers the tasks use (:mod:`handlers.tasks.plan`), applied to each proposal's waiting step.

* ``proposals:daily:{date}``: at ``[notices] daily_list_time`` on working days, the
  secretaries get every proposal whose step (审查, 交办, 答复, 满意度, 办结) is red (overdue)
  or yellow (inside ``[proposals] yellow_window_days``), and the number of activities
  waiting for confirmation. A day with neither has no occurrence at all.
* ``proposal:{id}:rate:{n}d:{due date}``: the proposer who has not rated an answer is
  nudged ``n`` days before the rating is due (``[notices] task_nudge_offsets`` at
  ``task_nudge_time``); the due date in the key lets a new answer (after 重新办理) nudge again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import ProposalsConfig
from bot.messages import Outgoing, Send, member_address
from bot.planner import Occurrence, PlanEnv, privately
from handlers.proposals.workflow import DUE
from handlers.tasks.parse import COLOUR_NAMES, Colour, nudge_offsets, task_colour
from handlers.tasks.plan import LIST_GRACE, clock
from storage import Tx
from storage.models_proposals import Proposal


def colour_of(proposal: Proposal, cfg: ProposalsConfig, now: datetime) -> Colour | None:
    if proposal.due_at is None:
        return None
    return task_colour(
        proposal.due_at,
        now,
        closed=False,
        blue_window=timedelta(days=cfg.blue_window_days),
        yellow_window=timedelta(days=cfg.yellow_window_days),
    )


class ProposalSource:
    name = "proposals"

    async def due(self, tx: Tx, env: PlanEnv) -> list[Occurrence]:
        notices, cfg = env.config.notices, env.config.proposals
        waiting = await tx.proposals.waiting()
        found = [occ for p in waiting if p.state == "answered" for occ in self._nudges(p, env)]
        pending = bool(await tx.activities.pending(limit=1))
        for day in env.days():
            at = datetime.combine(day, clock(notices.daily_list_time), env.zone)
            if not (at <= env.now and env.open_after < at + LIST_GRACE):
                continue
            listed = any(colour_of(p, cfg, at) in ("red", "yellow") for p in waiting)
            if (listed or pending) and env.calendar.is_workday(day):
                found.append(
                    Occurrence(
                        f"proposals:daily:{day}",
                        at,
                        self.name,
                        {"kind": "daily"},
                        expires_at=at + LIST_GRACE,
                        push="office",
                    )
                )
        return found

    def _nudges(self, proposal: Proposal, env: PlanEnv) -> list[Occurrence]:
        assert proposal.due_at is not None
        notices = env.config.notices
        day = proposal.due_at.astimezone(env.zone).date()
        found = []
        for offset in nudge_offsets(notices.task_nudge_offsets):
            at = datetime.combine(day - timedelta(days=offset), clock(notices.task_nudge_time))
            at = at.replace(tzinfo=env.zone)
            if proposal.state_since <= at <= env.now and env.open_after < proposal.due_at:
                found.append(
                    Occurrence(
                        f"proposal:{proposal.id}:rate:{offset}d:{day}",
                        at,
                        self.name,
                        {"kind": "rate", "proposal": proposal.id},
                        expires_at=proposal.due_at,
                    )
                )
        return found

    async def expand(self, tx: Tx, occurrence: Occurrence, env: PlanEnv) -> list[Send]:
        if occurrence.args["kind"] == "daily":
            return await self._daily(tx, occurrence, env)
        proposal = await tx.proposals.get(occurrence.args["proposal"])
        if proposal is None or proposal.state != "answered":
            return []
        lead = await tx.members.get(proposal.submitter_id)
        if lead is None or not lead.active:
            return []
        no = proposal.number
        text = (
            f"【提案满意度】{lead.name}您好，您的提案《{proposal.title}》（{no}）已收到答复，"
            f"请评价办理结果：回复「满意 {no}」「基本满意 {no}」或「不满意 {no} 理由」。"
        )
        address = member_address(lead)
        return [Send(f"{occurrence.key}:{address}", Outgoing(text, to_member=address))]

    async def _daily(self, tx: Tx, occurrence: Occurrence, env: PlanEnv) -> list[Send]:
        cfg = env.config.proposals
        rows = []
        for proposal in await tx.proposals.waiting():
            colour = colour_of(proposal, cfg, occurrence.due_at)
            if colour not in ("red", "yellow") or proposal.due_at is None:
                continue
            due = proposal.due_at.astimezone(env.zone)
            unit = f"，{proposal.lead_unit}" if proposal.lead_unit else ""
            overdue = "（已逾期）" if colour == "red" else ""
            rows.append(
                (
                    colour != "red",
                    proposal.due_at,
                    f"{COLOUR_NAMES[colour]}{overdue} {proposal.number}《{proposal.title}》"
                    f"{DUE[proposal.state][0]}期限{due.month}月{due.day}日{unit}",
                )
            )
        pending = len(await tx.activities.pending(limit=500))
        if not rows and not pending:
            return []
        day = env.now.date()
        lines = [f"【提案督办】{day.month}月{day.day}日"]
        if rows:
            lines.append(f"红黄提案清单（{len(rows)}件）：")
            lines += [text for *_, text in sorted(rows)]
        if pending:
            lines.append(f"待确认履职登记 {pending} 条，发送「待确认履职」查看。")
        text = "\n".join(lines)
        return privately(
            f"{occurrence.key}:office", text, await tx.members.by_role("secretary", "admin")
        )
