"""督办: the tasks with their three-colour status (三色督办), deadlines (完成时限), and who is
not done; recently ticked-off ones below.

Colours come from :func:`handlers.tasks.colour_of`, the same function the chat's ``督办情况``
and the daily red/yellow list use (computed at each view, never stored): none far from the
deadline, blue inside ``[notices] blue_window_days``, yellow inside ``yellow_window_days``
with assignees still not done, red once overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from bot.config import Config
from bot.console.registry import ConsoleRegistry
from bot.console.server import View
from handlers.notices.common import number
from handlers.tasks import colour_of, deadline_text
from handlers.tasks.parse import Colour
from storage import Tx
from storage.models import Member
from storage.models_notices import Task, TaskAssignee

CLOSED_DAYS = 30
COLOUR_LABELS = {"red": "红色", "yellow": "黄色", "blue": "蓝色"}
COLOUR_RANK = {"red": 0, "yellow": 1, "blue": 2, None: 3}


@dataclass(frozen=True, slots=True)
class TaskRow:
    task: Task
    no: str
    colour: Colour | None
    deadline: str
    done: list[tuple[Member, TaskAssignee]]
    waiting: list[Member]

    @property
    def total(self) -> int:
        return len(self.done) + len(self.waiting)

    @property
    def percent(self) -> int:
        return len(self.done) * 100 // self.total if self.total else 0


async def task_rows(tx: Tx, tasks: list[Task], config: Config, now: datetime) -> list[TaskRow]:
    """Each task with its colour at ``now`` and its assignees, most urgent first."""
    assignees = await tx.console_views.task_assignees([t.id for t in tasks])
    rows = []
    for task in tasks:
        people = assignees.get(task.id, [])
        rows.append(
            TaskRow(
                task=task,
                no=number("task", task.id),
                colour=colour_of(task, config.notices, now),
                deadline=deadline_text(task, config.time.zone),
                done=[(m, a) for m, a in people if a.done_at is not None],
                waiting=[m for m, a in people if a.done_at is None],
            )
        )
    rows.sort(key=lambda row: (COLOUR_RANK[row.colour], row.task.deadline, row.task.id))
    return rows


async def tasks_page(view: View) -> web.StreamResponse:
    async with view.runtime.db.read() as tx:
        open_rows = await task_rows(tx, await tx.tasks.open_tasks(), view.config, view.now)
        closed = await tx.console_views.recently_closed_tasks(
            view.now - timedelta(days=CLOSED_DAYS), 50
        )
        closed_rows = await task_rows(tx, closed, view.config, view.now)
    counts = {c: sum(1 for r in open_rows if r.colour == c) for c in COLOUR_LABELS}
    return view.render(
        "tasks.html",
        open_rows=open_rows,
        closed_rows=closed_rows,
        counts=counts,
        colour_labels=COLOUR_LABELS,
        closed_days=CLOSED_DAYS,
        cfg=view.config.notices,
    )


async def urgent_panel(tx: Tx, now: datetime, config: Config) -> dict[str, object] | None:
    """红黄督办: open tasks that are red or yellow now (what the daily list sends)."""
    rows = await task_rows(tx, await tx.tasks.open_tasks(), config, now)
    return {"rows": [r for r in rows if r.colour in ("red", "yellow")], "labels": COLOUR_LABELS}


def install(console: ConsoleRegistry) -> None:
    console.register_page("tasks", "督办", get=tasks_page, order=40)
    console.register_panel("tasks", "红黄督办", urgent_panel, "panels/tasks.html", order=40)
