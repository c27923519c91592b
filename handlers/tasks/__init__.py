"""督办: tasks with deadlines, completion reports, ticking off (销号) and three-colour status.

A task is announced like a notice and tracked per assignee. ``完成 DB-4`` records the sender
as done; a secretary ticks off someone (``销号 DB-4 张三``) or the whole task (``销号 DB-4``).
A task closes once every assignee is done. Colours (:func:`handlers.tasks.parse.task_colour`)
are computed when asked, never stored: they depend only on the deadline, the clock and
whether the task is closed. Nudges and the daily red/yellow list: :mod:`handlers.tasks.plan`.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.config import NoticesConfig
from bot.dispatcher import OFFICE_ROLES, Context, ParseContext, Router
from bot.errors import UserFacingError
from bot.messages import Action
from handlers.common import audience_names, button_target, names
from handlers.notices.common import (
    WEEKDAYS,
    describe_audience,
    fan_out,
    number,
    preview,
    resolve_audience,
    when,
)
from handlers.notices.parse import CARD_DONE
from handlers.tasks.parse import (
    COLOUR_NAMES,
    Colour,
    TaskCommand,
    TaskDone,
    TaskStatus,
    TaskTickOff,
    parse_task,
    parse_task_done,
    parse_task_status,
    parse_task_tickoff,
    task_colour,
)
from handlers.text.slots import clean_audience

if TYPE_CHECKING:
    from storage import Tx
    from storage.models import Member
    from storage.models_notices import Task, TaskAssignee

router = Router("tasks")
OFFICE = sorted(OFFICE_ROLES)
_ANSWER = "完成交办给您的任务后，请回复「完成 DB-任务号」。"
DENIED = "抱歉，交办督办任务仅限机关秘书。" + _ANSWER
TICK_DENIED = "抱歉，督办任务销号仅限机关秘书。" + _ANSWER


def deadline_text(task: Task, zone: ZoneInfo) -> str:
    if task.has_time:
        return when(task.deadline, zone, weekday=True)
    local = task.deadline.astimezone(zone)
    return f"{local.month}月{local.day}日（周{WEEKDAYS[local.weekday()]}）"


def colour_of(task: Task, cfg: NoticesConfig, now: datetime) -> Colour | None:
    return task_colour(
        task.deadline,
        now,
        closed=task.closed_at is not None,
        blue_window=timedelta(days=cfg.blue_window_days),
        yellow_window=timedelta(days=cfg.yellow_window_days),
    )


def task_text(task: Task, zone: ZoneInfo) -> str:
    no = number("task", task.id)
    lines = [f"【督办 {no}】{task.text}", f"完成时限：{deadline_text(task, zone)}"]
    who = "　".join(
        part
        for part in (
            f"牵头：{task.lead}" if task.lead else "",
            f"责任处室：{task.office}" if task.office else "",
        )
        if part
    )
    if who:
        lines.append(who)
    lines.append(f"完成后请回复「完成 {no}」。")
    return "\n".join(lines)


def status_line(task: Task, rows: list[tuple[Member, TaskAssignee]], ctx: Context) -> str:
    colour = colour_of(task, ctx.config.notices, ctx.now)
    mark = f"{COLOUR_NAMES[colour]} " if colour else ""
    waiting = [m for m, a in rows if a.done_at is None]
    line = (
        f"{mark}{number('task', task.id)}「{preview(task.text)}」完成时限"
        f"{deadline_text(task, ctx.zone)}，已完成 {len(rows) - len(waiting)}/{len(rows)}"
    )
    if task.closed_at is not None:
        return line + "（已销号）"
    return line + (f"，未完成：{names(waiting, limit=20)}" if waiting and ctx.is_office else "")


def _task(text: str, pctx: ParseContext) -> TaskCommand | None:
    value = parse_task(text, pctx.now)
    if value is None:
        return None
    groups = clean_audience(value.groups)  # 督办事项：… names no one: read as natural text
    return dataclasses.replace(value, groups=groups) if groups else None


@router.message(_task, roles=OFFICE, denied=DENIED)
async def assign(value: TaskCommand, ctx: Context) -> None:
    from storage.models_notices import Task

    if value.deadline is None:
        raise UserFacingError("请写明完成时限，例如：督办 第3学习小组：请于12月10日前提交……")
    if value.deadline <= ctx.now:
        raise UserFacingError(f"完成时限{when(value.deadline, ctx.zone)}已经过去，请检查。")
    audience = await resolve_audience(
        ctx.tx, await audience_names(ctx.tx, ctx.incoming, value.groups)
    )
    if audience.unknown:
        raise UserFacingError(f"没有找到「{'、'.join(audience.unknown)}」，请检查群名或姓名。")
    if not audience.members:
        raise UserFacingError("承办对象中没有委员，请检查名册。")
    task = await ctx.tx.tasks.add(
        Task(
            text=value.text,
            deadline=value.deadline,
            has_time=value.has_time,
            lead=value.lead,
            office=value.office,
            group_ids=[g.id for g in audience.groups],
            author_id=ctx.member.id,
            created_at=ctx.now,
        )
    )
    await ctx.tx.tasks.add_assignees(task.id, [m.id for m in audience.members])
    private = await ctx.tx.notices.private_copy_ids(m.id for m in audience.members)
    ctx.send_all(fan_out(f"task:{task.id}", task_text(task, ctx.zone), audience, private))
    ctx.reply(
        f"已交办督办 {number('task', task.id)} 至{describe_audience(audience)}，"
        f"承办 {len(audience.members)} 人，完成时限 {deadline_text(task, ctx.zone)}。"
        f"截止前会提醒未完成的委员，红黄督办清单每个工作日推送给秘书。"
    )


@router.message(lambda text, pctx: parse_task_done(text, pctx.in_group))
async def done(value: TaskDone, ctx: Context) -> None:
    await report_done(ctx, value.task)


@router.action("done", done=CARD_DONE["done"])
async def done_button(action: Action, ctx: Context) -> None:
    """A 完成 button (key ``done:{task id}``): reported done as the typed 完成 is."""
    await report_done(ctx, button_target(action))


async def report_done(ctx: Context, task_id: int | None) -> None:
    mine = await ctx.tx.tasks.open_for_member(ctx.member.id)
    if task_id is None:
        waiting = [(t, a) for t, a in mine if a.done_at is None]
        if not waiting:
            raise UserFacingError("您目前没有未完成的督办任务。")
        if len(waiting) > 1:
            listed = "、".join(
                f"{number('task', t.id)}「{preview(t.text, 12)}」" for t, _ in waiting
            )
            raise UserFacingError(
                f"您有 {len(waiting)} 项未完成的督办任务：{listed}。请回复「完成 编号」。"
            )
        task_id = waiting[0][0].id
    found = [(t, a) for t, a in mine if t.id == task_id]
    no = number("task", task_id)
    if not found:
        task = await ctx.tx.tasks.get(task_id)
        if task is None:
            raise UserFacingError(f"没有找到督办 {no}。")
        if task.closed_at is not None:
            raise UserFacingError(f"督办 {no} 已经销号，无需再报告。")
        raise UserFacingError(f"您不在督办 {no} 的承办名单中。")
    task, assignment = found[0]
    if assignment.done_at is not None:
        ctx.reply(f"您已于{when(assignment.done_at, ctx.zone)}报告完成督办 {no}，无需重复。")
        return
    await ctx.tx.tasks.mark_done(task.id, ctx.member.id, at=ctx.now, by=ctx.member.userid or "")
    late = ""
    if ctx.now > task.deadline:
        late = f"（已超过完成时限 {deadline_text(task, ctx.zone)}）"
    text = f"已登记：您已完成督办 {no}「{preview(task.text)}」{late}。谢谢！"
    if await _close_if_done(ctx.tx, task, ctx):
        text += f"全部承办人均已完成，{no} 已销号。"
    ctx.reply(text)


async def _close_if_done(tx: Tx, task: Task, ctx: Context) -> bool:
    if await tx.tasks.not_done_count(task.id) == 0:
        await tx.tasks.close(task, ctx.now)
        return True
    return False


@router.message(lambda text, _: parse_task_tickoff(text), roles=OFFICE, denied=TICK_DENIED)
async def tick_off(value: TaskTickOff, ctx: Context) -> None:
    no = number("task", value.task)
    task = await ctx.tx.tasks.get(value.task)
    if task is None:
        raise UserFacingError(f"没有找到督办 {no}。")
    if task.closed_at is not None:
        raise UserFacingError(f"督办 {no} 已经销号。")
    rows = await ctx.tx.tasks.assignees(task.id)
    if not value.names:
        waiting = [m for m, a in rows if a.done_at is None]
        await ctx.tx.tasks.close(task, ctx.now)
        left = f"（销号时未完成 {len(waiting)} 人：{names(waiting)}）" if waiting else ""
        ctx.reply(f"已销号督办 {no}「{preview(task.text)}」{left}。")
        return
    by_name = {m.name: m for m, _ in rows}
    unknown = [n for n in value.names if n not in by_name]
    if unknown:
        raise UserFacingError(f"督办 {no} 的承办人中没有「{'、'.join(unknown)}」。")
    for name in value.names:
        await ctx.tx.tasks.mark_done(
            task.id, by_name[name].id, at=ctx.now, by=ctx.member.userid or ""
        )
    text = f"已为{'、'.join(value.names)}销号督办 {no}。"
    if await _close_if_done(ctx.tx, task, ctx):
        text += f"全部承办人均已完成，{no} 已销号。"
    else:
        text += f"还有 {await ctx.tx.tasks.not_done_count(task.id)} 人未完成。"
    ctx.reply(text)


@router.message(lambda text, _: parse_task_status(text))
async def status(value: TaskStatus, ctx: Context) -> None:
    if value.task is not None:
        task = await ctx.tx.tasks.get(value.task)
        if task is None:
            raise UserFacingError(f"没有找到督办 {number('task', value.task)}。")
        rows = await ctx.tx.tasks.assignees(task.id)
        if not ctx.is_office and ctx.member.id not in {m.id for m, _ in rows}:
            raise UserFacingError(f"您不在督办 {number('task', task.id)} 的承办名单中。")
        ctx.reply(status_line(task, rows, ctx))
        return
    if ctx.is_office:
        tasks = await ctx.tx.tasks.open_tasks()
    else:
        tasks = [t for t, a in await ctx.tx.tasks.open_for_member(ctx.member.id)]
    if not tasks:
        ctx.reply("目前没有未销号的督办任务。")
        return
    lines = [f"未销号的督办任务（{len(tasks)}项）："]
    for task in tasks:
        lines.append(status_line(task, await ctx.tx.tasks.assignees(task.id), ctx))
    ctx.reply("\n".join(lines))
