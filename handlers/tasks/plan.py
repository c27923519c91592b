"""What the planner sends for tasks (督办): nudges to assignees not done, and the red/yellow
list (红黄督办清单) to the secretaries every working day.

Occurrence keys: ``task:{id}:nudge:{n}d`` (``n`` days before the deadline's day, at
``[notices] task_nudge_time``; a nudge at or after the deadline, or before the task existed,
is not sent) and ``tasks:daily:{date}`` (at ``daily_list_time`` on working days only, 调休
workdays included; a provisional year's by the law-derived days). Colours are taken at the
list's time (done and ticked-off assignees as of its expansion); a day with nothing red or
yellow at that time has no occurrence at all.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.messages import Outgoing, Send, member_address
from bot.planner import Occurrence, PlanEnv, privately
from handlers.common import names
from handlers.notices.common import number, preview
from handlers.tasks import colour_of, deadline_text
from handlers.tasks.parse import COLOUR_NAMES, nudge_offsets
from storage import Tx

LIST_GRACE = timedelta(hours=12)


def clock(value: str) -> time:
    hour, minute = (int(x) for x in value.split(":"))
    return time(hour, minute)


class TaskSource:
    name = "tasks"

    async def due(self, tx: Tx, env: PlanEnv) -> list[Occurrence]:
        cfg = env.config.notices
        now, zone = env.now, env.zone
        found: list[Occurrence] = []
        tasks = await tx.tasks.open_tasks()
        for task in tasks:
            if task.deadline <= env.open_after:
                continue
            day = task.deadline.astimezone(zone).date()
            for offset in nudge_offsets(cfg.task_nudge_offsets):
                at = datetime.combine(
                    day - timedelta(days=offset), clock(cfg.task_nudge_time), zone
                )
                if task.created_at <= at <= now and at < task.deadline:
                    found.append(
                        Occurrence(
                            f"task:{task.id}:nudge:{offset}d",
                            at,
                            self.name,
                            {"kind": "nudge", "task": task.id, "offset": offset},
                            expires_at=task.deadline,
                        )
                    )
        for day in env.days():
            at = datetime.combine(day, clock(cfg.daily_list_time), zone)
            if not (at <= now and env.open_after < at + LIST_GRACE):
                continue
            listed = any(colour_of(t, cfg, at) in ("red", "yellow") for t in tasks)
            if listed and env.calendar.is_workday(day):
                found.append(
                    Occurrence(
                        f"tasks:daily:{day}",
                        at,
                        self.name,
                        {"kind": "daily"},
                        expires_at=at + LIST_GRACE,
                        push="office",
                    )
                )
        return found

    async def expand(self, tx: Tx, occurrence: Occurrence, env: PlanEnv) -> list[Send]:
        if occurrence.args["kind"] == "daily":
            return await self._daily(tx, occurrence, env)
        task = await tx.tasks.get(occurrence.args["task"])
        if task is None or task.closed_at is not None:
            return []
        no = number("task", task.id)
        offset = occurrence.args["offset"]
        left = "今天截止" if offset == 0 else f"还有{offset}天截止"
        return [
            Send(
                f"{occurrence.key}:member:{member_address(m)}",
                Outgoing(
                    f"【督办提醒】{m.name}您好，督办 {no}「{preview(task.text, 30)}」完成时限"
                    f"{deadline_text(task, env.zone)}（{left}），请按时完成，"
                    f"完成后回复「完成 {no}」。",
                    to_member=member_address(m),
                ),
            )
            for m, a in await tx.tasks.assignees(task.id)
            if a.done_at is None and m.active
        ]

    async def _daily(self, tx: Tx, occurrence: Occurrence, env: PlanEnv) -> list[Send]:
        lines = []
        for task in await tx.tasks.open_tasks():
            colour = colour_of(task, env.config.notices, occurrence.due_at)
            if colour not in ("red", "yellow"):
                continue
            rows = await tx.tasks.assignees(task.id)
            waiting = [m for m, a in rows if a.done_at is None]
            overdue = "（已逾期）" if colour == "red" else ""
            lines.append(
                (
                    colour != "red",
                    task.deadline,
                    f"{COLOUR_NAMES[colour]}{overdue} {number('task', task.id)}"
                    f"「{preview(task.text)}」完成时限{deadline_text(task, env.zone)}，"
                    f"未完成 {len(waiting)}/{len(rows)}：{names(waiting, limit=20)}",
                )
            )
        if not lines:
            return []
        day = env.now.date()
        text = "\n".join(
            [f"【三色督办】{day.month}月{day.day}日 红黄督办清单（{len(lines)}项）："]
            + [line for *_, line in sorted(lines)]
        )
        return privately(
            f"{occurrence.key}:office", text, await tx.members.by_role("secretary", "admin")
        )
