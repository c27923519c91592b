"""社情民意信息: members submit and follow their reports; secretaries review and move them on.

Members: a report in one message (:func:`handlers.reports.parse.parse_report`) or drafted over
several (:mod:`handlers.reports.dialog`); ``我的社情民意``; ``查询 SQ-2025-0042``;
``修改类别 SQ-… 民生保障``; ``重新提交 SQ-…`` after 退回.

Privacy: a report is shown only to its submitters and co-submitters (联名) and to the office.
Anyone else asking about a number gets exactly the answer a number that does not exist gets,
so nobody can probe which numbers exist. Every answer here asked for in a group chat goes to
the asker privately (``Context.reply``'s default: an AI-bot answer in a group is read by the
whole group).

The office (``待审``, ``采用``, ``退回``, ``不予采用``, ``报送``, ``批示``, ``转办``, ``反馈``,
``办结``): the routes are for secretaries and admins; a member gets the refusal and nothing
else. A secretary's ``查询`` of a submitted report marks it 受理 (under review).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from typing import TYPE_CHECKING

from bot.dispatcher import OFFICE_ROLES, Context, Guess, ParseContext, Router
from bot.errors import UserFacingError
from handlers.reports import resubmit as reports_resubmit
from handlers.reports.dialog import DIALOG, Draft, continue_draft, start_draft, submit_draft
from handlers.reports.natural import read_report
from handlers.reports.parse import (
    CATEGORIES,
    ConfirmWithoutDraft,
    Recategorize,
    ReportQuery,
    ReportStart,
    ReportText,
    Resubmit,
    ReviewCommand,
    parse_confirm,
    parse_query,
    parse_recategorize,
    parse_report,
    parse_resubmit,
    parse_review,
    parse_start,
)
from handlers.reports.workflow import (
    ACTION_NAMES,
    PENDING_REVIEW,
    STATE_NAMES,
    Actor,
    apply_action,
    check_details,
    not_found,
    recategorize,
    waited,
)
from handlers.text.questions import is_question

if TYPE_CHECKING:
    from storage.models import DialogState, Member
    from storage.models_reports import Report, ReportHistory

router = Router("reports")
OFFICE = sorted(OFFICE_ROLES)
DENIED = (
    "抱歉，审核和办理社情民意仅限机关秘书。"
    "您可以发送「我的社情民意」查看自己提交的社情民意和办理进度。"
)


_TITLE_WORDS = re.compile(r"关于|建议|问题|意见|对策|思考|提案|报告|呼吁|情况")
_REQUEST = re.compile(r"我想|我要|想要|帮我|麻烦|请帮")


def _report(text: str, _: ParseContext) -> ReportText | Guess | None:
    value = parse_report(text)
    if value is None:
        return None
    if not value.content and (
        is_question(value.title)
        or not _TITLE_WORDS.search(value.title)
        or _REQUEST.match(value.title)
    ):
        # 社情民意应该发给谁, 社情民意待审, 社情民意我想写一篇…: not a report titled with that.
        return None
    read = read_report(text)  # any order of labels; （民生保障类） and （联名：…） in the heading
    if read is None:
        return value
    better, unknown = read
    value = dataclasses.replace(
        value,
        title=better.title,
        category=value.category or better.category,
        cosigners=value.cosigners or better.cosigners,
        content=value.content or better.content,
    )
    if unknown and value.category is None:
        return Guess(value, f"类别「{unknown}」不在分类中，将按内容建议类别提交")
    return value


def _start(text: str, _: ParseContext) -> ReportStart | None:
    return parse_start(text)


def _query(text: str, _: ParseContext) -> ReportQuery | None:
    return parse_query(text)


def _recategorize(text: str, _: ParseContext) -> Recategorize | None:
    return parse_recategorize(text)


def _resubmit(text: str, _: ParseContext) -> Resubmit | None:
    return parse_resubmit(text)


def _confirm(text: str, _: ParseContext) -> ConfirmWithoutDraft | None:
    return parse_confirm(text)


def _review(text: str, _: ParseContext) -> ReviewCommand | None:
    return parse_review(text)


async def readable(ctx: Context, number: str) -> Report:
    """The report, if the sender may see it; otherwise the same answer as a missing number."""
    report = await ctx.tx.reports.by_number(number, lock=True)
    if report is None:
        raise UserFacingError(not_found(number))
    if not ctx.is_office and not await ctx.tx.reports.is_submitter(report.id, ctx.member.id):
        raise UserFacingError(not_found(number))
    return report


def _local(at: datetime, ctx: Context) -> str:
    return at.astimezone(ctx.zone).strftime("%Y-%m-%d %H:%M")


# -- members ----------------------------------------------------------------------------------


@router.dialog(DIALOG)
async def draft_step(text: str, ctx: Context, dialog: DialogState) -> None:
    await continue_draft(text, ctx, dialog.state, dict(dialog.data))


@router.message(_report)
async def submit_one(value: ReportText, ctx: Context) -> None:
    draft = Draft(value.title, value.category, value.content, value.cosigners)
    if not value.content:  # only a title: continue as a draft
        await start_draft(ctx, draft)
        return
    await submit_draft(ctx, draft)


@router.message(_start)
async def start(_: ReportStart, ctx: Context) -> None:
    await start_draft(ctx, Draft())


@router.message(_confirm)
async def confirm_without_draft(_: ConfirmWithoutDraft, ctx: Context) -> None:
    ctx.reply("您没有待提交的社情民意草稿（草稿可能已超时作废）。发送「提交社情民意」重新开始。")


@router.message(_query)
async def query(value: ReportQuery, ctx: Context) -> None:
    if value.number is None:
        await _mine(ctx)
        return
    report = await readable(ctx, value.number)
    if ctx.is_office and report.state == "submitted":
        _, notes = await apply_action(
            ctx.tx, report, "review", actor=Actor.of(ctx.member), now=ctx.now
        )
        ctx.send_all(notes)
    ctx.reply(await describe(ctx, report))


async def _mine(ctx: Context) -> None:
    reports = await ctx.tx.reports.of_member(ctx.member.id)
    if not reports:
        ctx.reply("您还没有提交过社情民意。发送「提交社情民意」开始填写。")
        return
    lines = [f"您的社情民意（最近 {len(reports)} 条）："]
    for report in reports:
        co = "" if report.submitter_id == ctx.member.id else "（联名）"
        lines.append(f"· {report.number}《{report.title}》{STATE_NAMES[report.state]}{co}")
    lines.append("发送「查询 编号」查看办理过程。")
    ctx.reply("\n".join(lines))


async def describe(ctx: Context, report: Report) -> str:
    submitters = await ctx.tx.reports.submitters(report.id)
    lead = [m.name for m, role in submitters if role == "lead"]
    co = [m.name for m, role in submitters if role == "co"]
    attachments = await ctx.tx.reports.attachments(report.id)
    lines = [
        f"{report.number}《{report.title}》",
        f"类别：{report.category}　状态：{STATE_NAMES[report.state]}",
        f"提交人：{'、'.join(lead)}" + (f"　联名：{'、'.join(co)}" if co else ""),
    ]
    if attachments:
        lines.append(f"附件：{len(attachments)} 个")
    versions = await ctx.tx.reports.versions(report.id)
    if len(versions) > 1:
        lines.append(f"内容（第{len(versions)}版，共{len(versions)}版）：{report.content}")
        for version in reversed(versions[:-1]):
            lines.append(
                f"第{version.version}版（{_local(version.submitted_at, ctx)}提交）："
                f"《{version.title}》{version.content}"
            )
    else:
        lines.append(f"内容：{report.content}")
    lines.append("办理过程：")
    lines += [history_line(entry, ctx) for entry in await ctx.tx.reports.history(report.id)]
    return "\n".join(lines)


def history_line(entry: ReportHistory, ctx: Context) -> str:
    what = ACTION_NAMES.get(entry.action, entry.action)
    detail = entry.level or ("" if entry.action == "category" else entry.target)
    if entry.action == "endorse" and entry.target:
        detail = entry.target
    text = f"· {_local(entry.at, ctx)} {what}{detail}"
    return text + (f"：{entry.comment}" if entry.comment else "")


@router.message(_recategorize)
async def change_category(value: Recategorize, ctx: Context) -> None:
    report = await readable(ctx, value.number)
    if value.category is None:
        raise UserFacingError(f"没有「{value.written}」这个类别。可选：{'、'.join(CATEGORIES)}。")
    if not ctx.is_office and report.state not in (*PENDING_REVIEW, "returned"):
        raise UserFacingError(f"{report.number}已进入办理，类别请联系机关秘书修改。")
    _, notes = await recategorize(
        ctx.tx, report, value.category, actor=Actor.of(ctx.member), now=ctx.now
    )
    ctx.send_all(notes)
    ctx.reply(f"已将 {report.number} 的类别改为「{value.category}」。")


@router.message(_resubmit)
async def resubmit(value: Resubmit, ctx: Context) -> None:
    """A preview first, then ``确认提交`` (see :mod:`handlers.reports.resubmit`)."""
    await reports_resubmit.start(value, ctx)


@router.dialog(reports_resubmit.DIALOG)
async def resubmit_step(text: str, ctx: Context, dialog: DialogState) -> None:
    await reports_resubmit.step(text, ctx, dict(dialog.data))


# -- the office -------------------------------------------------------------------------------


@router.message(_review, roles=OFFICE, denied=DENIED)
async def review(value: ReviewCommand, ctx: Context) -> None:
    if value.action == "list":
        ctx.reply(await pending_list(ctx))
        return
    if value.number is None:
        raise UserFacingError(f"请写明编号，例如「{ACTION_NAMES[value.action]} SQ-2025-0042」。")
    report = await readable(ctx, value.number)
    check_details(value.action, value.comment, value.level, value.target)
    _, notes = await apply_action(
        ctx.tx,
        report,
        value.action,
        actor=Actor.of(ctx.member),
        now=ctx.now,
        comment=value.comment or "",
        level=value.level or "",
        target=value.target or "",
    )
    ctx.send_all(notes)
    told = f"已通知提交人（{len(notes)} 人）。" if notes else ""
    ctx.reply(
        f"{report.number}《{report.title}》已{ACTION_NAMES[value.action]}，"
        f"现为「{STATE_NAMES[report.state]}」。{told}"
    )


async def pending_list(ctx: Context) -> str:
    reports = await ctx.tx.reports.in_states(PENDING_REVIEW)
    if not reports:
        return "目前没有待审的社情民意。"
    lines = [f"待审社情民意 {len(reports)} 条："]
    for report in reports[:30]:
        lead: Member | None = await ctx.tx.members.get(report.submitter_id)
        lines.append(
            f"· {report.number}《{report.title}》{lead.name if lead else ''}"
            f"（{report.category}，{STATE_NAMES[report.state]}，"
            f"已等待{waited(ctx.now - report.state_since)}）"
        )
    if len(reports) > 30:
        lines.append(f"……另有 {len(reports) - 30} 条，可用「lvzhi reports list」查看全部。")
    lines.append("发送「查询 编号」查看全文，「采用/退回/不予采用 编号」审核。")
    return "\n".join(lines)
