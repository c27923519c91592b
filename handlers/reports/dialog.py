"""社情民意 drafted over several messages (``提交社情民意``), and submission itself.

The draft is the member's dialog state (kind ``report``, keyed by chat and user, persisted in
``dialogs``), so it survives restarts and two members can draft at once in one group. Steps:
``title`` → ``category`` → ``content`` → ``confirm`` (a preview; ``确认提交`` or ``取消``). At
any step ``类别 民生保障``, ``联名：张三、李四``, ``标题：…``, ``补充：…`` and an image or file
message change the draft. Every message renews the draft's lifetime ([dialog]
timeout_minutes); :mod:`handlers.reports.plan` warns shortly before it expires and says so
when it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from bot.dispatcher import Context
from bot.errors import UserFacingError
from bot.messages import Incoming
from handlers.reports.parse import (
    CATEGORIES,
    CONTENT_LIMIT,
    TITLE_LIMIT,
    parse_category,
    parse_draft_input,
    parse_names,
    suggest_category,
)
from handlers.reports.workflow import submit_report

if TYPE_CHECKING:
    from storage import Tx
    from storage.models import Member

DIALOG = "report"
MEDIA_TYPES = frozenset({"image", "file", "video", "voice"})
MAX_ATTACHMENTS = 9
CATEGORY_MENU = "、".join(f"{n}.{c}" for n, c in enumerate(CATEGORIES, 1))
HINTS = "也可以发送「类别 民生保障」「联名：张三、李四」，或直接发送图片、文件作为附件。"


@dataclass(frozen=True, slots=True)
class Draft:
    """A report being written; stored as the dialog's ``data``."""

    title: str = ""
    category: str | None = None
    content: str = ""
    cosigners: tuple[str, ...] = ()
    attachments: tuple[dict[str, Any], ...] = field(default=())

    @classmethod
    def of(cls, data: dict[str, Any]) -> Draft:
        return cls(
            title=str(data.get("title", "")),
            category=data.get("category"),
            content=str(data.get("content", "")),
            cosigners=tuple(data.get("cosigners", ())),
            attachments=tuple(data.get("attachments", ())),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "category": self.category,
            "content": self.content,
            "cosigners": list(self.cosigners),
            "attachments": list(self.attachments),
        }


def media_of(incoming: Incoming) -> dict[str, str] | None:
    """An image/file/video/voice message's media (``Incoming.media``, which the edge filled) as
    a draft keeps it; None when the channel gave none (the AI bot's media, for one)."""
    media = incoming.media
    if media is None:
        return None
    return {"kind": incoming.msg_type, "media_id": media.media_id, "filename": media.filename}


async def resolve_cosigners(tx: Tx, names: tuple[str, ...], submitter: Member) -> list[Member]:
    """Each name must be exactly one active member of the roster (the submitter is skipped)."""
    found: list[Member] = []
    for name in names:
        matches = [m for m in await tx.members.by_name(name) if m.active]
        if not matches:
            raise UserFacingError(f"联名人「{name}」不在名册中，请核对姓名后重新发送联名。")
        if len(matches) > 1:
            sectors = "、".join(m.sector or "界别未填" for m in matches)
            raise UserFacingError(
                f"名册中有 {len(matches)} 位「{name}」（{sectors}），无法确定是哪一位。"
                "请联系机关秘书处理联名。"
            )
        if matches[0].id != submitter.id and matches[0] not in found:
            found.append(matches[0])
    return found


def preview(draft: Draft) -> str:
    category = draft.category or f"{suggest_category(draft.title, draft.content)}（根据内容推荐）"
    lines = [
        "请核对您的社情民意：",
        f"标题：{draft.title}",
        f"类别：{category}",
    ]
    if draft.cosigners:
        lines.append(f"联名：{'、'.join(draft.cosigners)}")
    if draft.attachments:
        lines.append(f"附件：{len(draft.attachments)} 个")
    body = draft.content if len(draft.content) <= 300 else draft.content[:300] + "……"
    lines += [f"内容：{body}", "回复「确认提交」提交，回复「取消」放弃。" + HINTS]
    return "\n".join(lines)


def prompt(step: str, draft: Draft) -> str:
    if step == "title":
        return "请发送标题，例如「关于加强农村饮水工程管护的建议」。"
    if step == "category":
        guess = suggest_category(draft.title, "")
        return (
            f"请选择类别（回复名称或序号）：{CATEGORY_MENU}。"
            f"不确定可回复「跳过」，我按内容推荐（目前看像「{guess}」）。"
        )
    if step == "content":
        return "请发送正文，建议分「基本情况」「存在问题」「建议」三部分写。"
    return preview(draft)


def next_step(draft: Draft, asked_category: bool) -> str:
    if not draft.title:
        return "title"
    if draft.category is None and not asked_category:
        return "category"
    if not draft.content:
        return "content"
    return "confirm"


async def start_draft(ctx: Context, draft: Draft) -> None:
    step = next_step(draft, asked_category=False)
    await ctx.start_dialog(DIALOG, step, draft.as_json())
    head = "好的，我们来填写社情民意信息（随时回复「取消」可放弃）。\n"
    if draft.title:
        head += f"标题：{draft.title}\n"
    ctx.reply(head + prompt(step, draft))


async def continue_draft(text: str, ctx: Context, state: str, data: dict[str, Any]) -> None:
    draft = Draft.of(data)
    asked = bool(data.get("asked_category"))
    if ctx.incoming.msg_type in MEDIA_TYPES:
        media = media_of(ctx.incoming)
        if media is None:
            raise UserFacingError("没能读取这个附件，请重新发送。")
        if len(draft.attachments) >= MAX_ATTACHMENTS:
            raise UserFacingError(f"每条社情民意最多 {MAX_ATTACHMENTS} 个附件。")
        media["at"] = ctx.now.isoformat()
        draft = replace(draft, attachments=(*draft.attachments, media))
        await _save(ctx, state, draft, asked)
        ctx.reply(f"已添加附件（共 {len(draft.attachments)} 个）。\n" + prompt(state, draft))
        return
    item = parse_draft_input(text)
    if item.kind == "confirm":
        if not draft.title or not draft.content:
            missing = "标题" if not draft.title else "正文"
            raise UserFacingError(f"还缺{missing}。" + prompt(next_step(draft, True), draft))
        await submit_draft(ctx, draft)
        await ctx.end_dialog()
        return
    if item.kind == "category":
        draft = replace(draft, category=parse_category(item.value))
    elif item.kind == "cosigners":
        names = parse_names(item.value)
        await resolve_cosigners(ctx.tx, names, ctx.member)  # refuse unknown names now
        draft = replace(draft, cosigners=names)
    elif item.kind == "title":
        draft = replace(draft, title=item.value[:TITLE_LIMIT])
    elif item.kind == "append":
        draft = replace(draft, content=f"{draft.content}\n{item.value}".strip()[:CONTENT_LIMIT])
    elif not item.value:
        ctx.reply(prompt(state, draft))
        return
    elif state == "title":
        draft = replace(draft, title=item.value[:TITLE_LIMIT])
    elif state == "category":
        category = parse_category(item.value)
        if category is None and item.value not in ("跳过", "不知道", "不确定", "推荐"):
            raise UserFacingError("没有这个类别。" + prompt("category", draft))
        draft, asked = replace(draft, category=category), True
    elif state == "content":
        draft = replace(draft, content=item.value[:CONTENT_LIMIT])
    else:
        ctx.reply("草稿已填好。回复「确认提交」提交，「取消」放弃；要补充正文请以「补充：」开头。")
        return
    if state == "category" or item.kind == "category":
        asked = True
    step = next_step(draft, asked)
    await _save(ctx, step, draft, asked)
    done = {"category": f"类别：{draft.category}。", "cosigners": "已记下联名人。"}.get(
        item.kind, ""
    )
    ctx.reply((done + "\n" if done else "") + prompt(step, draft))


async def _save(ctx: Context, step: str, draft: Draft, asked: bool) -> None:
    await ctx.start_dialog(DIALOG, step, {**draft.as_json(), "asked_category": asked})


async def submit_draft(ctx: Context, draft: Draft) -> None:
    """Number, store and acknowledge a finished draft; notify the co-submitters."""
    cosigners = await resolve_cosigners(ctx.tx, draft.cosigners, ctx.member)
    suggested = draft.category is None
    category = draft.category or suggest_category(draft.title, draft.content)
    report, notes = await submit_report(
        ctx.tx,
        submitter=ctx.member,
        title=draft.title,
        category=category,
        content=draft.content,
        cosigners=cosigners,
        attachments=draft.attachments,
        now=ctx.now,
    )
    ctx.send_all(notes)
    lines = [f"已提交社情民意《{report.title}》，编号 {report.number}。"]
    if suggested:
        lines.append(
            f"类别按内容归入「{category}」，如需更正请发送「修改类别 {report.number} 民生保障」。"
        )
    else:
        lines.append(f"类别：{category}。")
    if cosigners:
        lines.append(f"联名：{'、'.join(m.name for m in cosigners)}（已通知）。")
    if draft.attachments:
        lines.append(f"附件 {len(draft.attachments)} 个已保存。")
    lines.append(f"办理进展会通知您，也可发送「查询 {report.number}」查看。")
    ctx.reply("\n".join(lines))
