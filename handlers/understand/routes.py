"""The understanding of natural phrasings in the dispatcher.

``early`` runs right after 帮助: a question about a feature is answered before any command
parser could take it for the command (``打卡每天几点截止啊`` is not a check-in). ``late`` runs
after every feature's own parser, before the fallback: whatever the commands did not read is
scored against the grammar, and the value goes to the feature's handler (the dispatcher finds
it by the value's type) — or, for a guess, to a confirmation first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.dispatcher import NO_WORDS, YES_WORDS, Context, ParseContext, Router
from handlers.textnorm import normalize
from handlers.understand.answers import answer
from handlers.understand.intents import Question, question_only, understand

early = Router("questions")
late = Router("understand")


@dataclass(frozen=True, slots=True)
class Confirmation:
    """是/确认 or 不是 with nothing waiting to be confirmed."""

    intent: ClassVar[str] = "confirm"
    answer: str  # yes|no


def parse_confirmation(text: str, _: ParseContext) -> Confirmation | None:
    word = normalize(text).strip(" 。.!！~～")
    if word in YES_WORDS:
        return Confirmation("yes")
    if word in NO_WORDS:
        return Confirmation("no")
    return None


@early.message(question_only)
async def answer_question(value: Question, ctx: Context) -> None:
    ctx.reply(answer(value.about))


@early.message(parse_confirmation)
async def nothing_to_confirm(_: Confirmation, ctx: Context) -> None:
    ctx.reply("目前没有等待您确认的操作。发送「帮助」查看我能做什么。")


@late.message(understand)
async def unreachable(value: object, ctx: Context) -> None:  # pragma: no cover
    # The dispatcher hands understood values to their feature's handler; only a value no
    # handler takes would land here, and understand() builds none.
    ctx.reply("抱歉，我没有理解。发送「帮助」查看我能做什么。")
