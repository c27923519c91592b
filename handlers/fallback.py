"""The last router: whatever nobody understood gets a helpful answer, never silence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.dispatcher import Context, ParseContext, Router
from handlers.textnorm import normalize

router = Router("fallback")

EMPTY_OR_MEDIA = "收到。目前我只能理解文字消息，发送「帮助」查看我能做什么。"


@dataclass(frozen=True, slots=True)
class Unknown:
    intent: ClassVar[str] = "unknown"
    text: str


def parse_anything(text: str, _: ParseContext) -> Unknown:
    return Unknown(normalize(text))


@router.message(parse_anything)
async def not_understood(value: Unknown, ctx: Context) -> None:
    if not value.text:
        ctx.reply(EMPTY_OR_MEDIA, shareable=True)
        return
    preview = value.text if len(value.text) <= 20 else value.text[:20] + "…"
    ctx.reply(
        f"抱歉，我没有理解「{preview}」。\n"
        "可以试试：「打卡 读《乡土中国》30分钟」「我的打卡」「提交社情民意」「我的履职」，"
        "或发送「帮助」查看全部功能。",
        shareable=True,
    )
