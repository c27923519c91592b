"""The last router: whatever nobody understood gets a helpful answer, never silence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.dispatcher import Context, ParseContext, Router
from handlers.common import EMPTY_OR_MEDIA
from handlers.text.normalize import normalize
from handlers.understand.open_items import likely, open_items

router = Router("fallback")


@dataclass(frozen=True, slots=True)
class Unknown:
    intent: ClassVar[str] = "unknown"
    text: str


def parse_anything(text: str, _: ParseContext) -> Unknown:
    return Unknown(normalize(text))


@router.message(parse_anything)
async def not_understood(value: Unknown, ctx: Context) -> None:
    if not value.text:
        # A picture, file or event with nothing to act on (a card's button is an action and
        # never gets here). Answered privately, as every answer is unless it says otherwise.
        ctx.reply(EMPTY_OR_MEDIA)
        return
    preview = value.text if len(value.text) <= 20 else value.text[:20] + "…"
    lines = [f"抱歉，我没有理解「{preview}」。"]
    # A member's own open items only in a 1:1 chat: a group would see them too.
    items = await open_items(ctx) if ctx.incoming.chat_id is None else []
    if items:
        lines.append("您目前待办：\n" + "\n".join(f"· {item}" for item in items))
    pctx = ParseContext(ctx.member.role, ctx.now, ctx.incoming.chat_id is not None)
    lines.append(f"可以试试：{likely(value.text, pctx)}，或发送「帮助」查看全部功能。")
    ctx.reply("\n".join(lines), shareable=not items)  # one's open items are one's own
