"""重新提交 SQ-… after 退回: the same preview and confirmation as a first submission.

``重新提交 SQ-2025-0042`` (optionally with the new text on the next lines) opens a dialog
(kind ``report_resubmit``) that shows what would be submitted, as which version; ``确认提交``
submits it, ``取消`` drops it. Until then the member can send a new text (it replaces the
content), ``补充：…`` (appended), ``标题：…`` or ``类别 …``. Nothing is written before the
confirmation, and a confirmed resubmission is a new version: the earlier ones are kept
(:func:`handlers.reports.workflow.resubmit_report`) and shown by 查询, ``reports show``, the
console and the export.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.dispatcher import Context
from bot.errors import UserFacingError
from handlers.reports.dialog import MEDIA_TYPES, Draft
from handlers.reports.parse import (
    CONTENT_LIMIT,
    TITLE_LIMIT,
    Resubmit,
    parse_category,
    parse_draft_input,
)
from handlers.reports.workflow import Actor, check_transition, not_found, resubmit_report

if TYPE_CHECKING:
    from storage.models_reports import Report

DIALOG = "report_resubmit"
BODY_PREVIEW = 300


async def start(value: Resubmit, ctx: Context) -> None:
    report = await _own_report(ctx, value.number)
    check_transition("resubmit", report)
    draft = Draft(report.title, report.category, value.content or report.content)
    await _show(ctx, report, draft)


async def step(text: str, ctx: Context, data: dict[str, Any]) -> None:
    number = str(data.get("number", ""))
    draft = Draft.of(data)
    if ctx.incoming.msg_type in MEDIA_TYPES:
        raise UserFacingError("重新提交时不能添加附件。回复「确认提交」提交，或「取消」放弃。")
    item = parse_draft_input(text)
    if item.kind == "confirm":
        report = await _own_report(ctx, number, lock=True)
        version, notes = await resubmit_report(
            ctx.tx,
            report,
            title=draft.title,
            content=draft.content,
            actor=Actor.of(ctx.member),
            now=ctx.now,
        )
        await ctx.end_dialog()
        ctx.send_all(notes)
        ctx.reply(
            f"已重新提交 {report.number}《{report.title}》（第{version}版），等待审核。"
            f"之前的版本仍保留，可发送「查询 {report.number}」查看。"
        )
        return
    if item.kind == "cosigners":
        raise UserFacingError("重新提交时不能更改联名人，如需更改请联系机关秘书。")
    if item.kind == "category":
        draft = replace(draft, category=parse_category(item.value) or draft.category)
    elif item.kind == "title":
        draft = replace(draft, title=item.value[:TITLE_LIMIT])
    elif item.kind == "append":
        draft = replace(draft, content=f"{draft.content}\n{item.value}".strip()[:CONTENT_LIMIT])
    elif item.value:
        draft = replace(draft, content=item.value[:CONTENT_LIMIT])
    report = await _own_report(ctx, number)
    await _show(ctx, report, draft)


async def _own_report(ctx: Context, number: str, *, lock: bool = False) -> Report:
    report = await ctx.tx.reports.by_number(number, lock=lock)
    if report is None or not await ctx.tx.reports.is_submitter(report.id, ctx.member.id):
        raise UserFacingError(not_found(number))
    return report


async def _show(ctx: Context, report: Report, draft: Draft) -> None:
    versions = await ctx.tx.reports.versions(report.id)
    await ctx.start_dialog(DIALOG, "confirm", {**draft.as_json(), "number": report.number})
    ctx.reply(preview(report, draft, next_version=len(versions) + 1))


def preview(report: Report, draft: Draft, *, next_version: int) -> str:
    changed = draft.content != report.content
    body = draft.content
    if len(body) > BODY_PREVIEW:
        body = body[:BODY_PREVIEW] + "……"
    return "\n".join(
        [
            f"请核对重新提交的社情民意 {report.number}"
            f"（将作为第{next_version}版，之前的版本都会保留）：",
            f"标题：{draft.title}",
            f"类别：{draft.category}",
            f"内容{'' if changed else '（未修改）'}：{body}",
            "回复「确认提交」提交，回复「取消」放弃。"
            "直接发送新的正文可替换内容，也可发送「补充：……」「标题：……」。",
        ]
    )
