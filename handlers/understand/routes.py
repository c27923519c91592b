"""The understanding of natural phrasings in the dispatcher.

``early`` runs right after 帮助: a question about a feature is answered before any command
parser could take it for the command (``打卡每天几点截止啊`` is not a check-in). ``late`` runs
after every feature's own parser, before the fallback: whatever the commands did not read is
scored against the grammar, and the value goes to the feature's handler (the dispatcher finds
it by the value's type) — or, for a guess, to a confirmation first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from bot.dispatcher import (
    CANCEL_WORDS,
    NO_WORDS,
    YES_WORDS,
    Context,
    Guess,
    ParseContext,
    Router,
    answer_word,
)
from handlers.meetings import meeting_line
from handlers.notices.common import number, preview, when
from handlers.text.normalize import clean_message, normalize
from handlers.understand import grammar
from handlers.understand.amend import amend
from handlers.understand.answers import answer
from handlers.understand.intents import Question, question_only, reading, understand

early = Router("questions")
late = Router("understand")


@dataclass(frozen=True, slots=True)
class Confirmation:
    """是/确认 or 不是 with nothing waiting to be confirmed."""

    intent: ClassVar[str] = "confirm"
    answer: str  # yes|no


def parse_confirmation(text: str, _: ParseContext) -> Confirmation | None:
    word = answer_word(normalize(text))
    if word in YES_WORDS:
        return Confirmation("yes")
    if word in NO_WORDS or word in CANCEL_WORDS:  # 取消, 算了: nothing waits, so a no
        return Confirmation("no")
    return None


@early.message(question_only)
async def answer_question(value: Question, ctx: Context) -> None:
    """How to use the feature; first, where the bot knows it, the sender's own open items
    (请问明天的会议在哪里开？ gets the meeting's time and place)."""
    known = await _known(value.about, ctx)
    ctx.reply(f"{known}\n\n{answer(value.about)}" if known else answer(value.about))


async def _known(about: str, ctx: Context) -> str:
    if about == "meeting":
        invited = await ctx.tx.meetings.upcoming_for_member(ctx.member.id, ctx.now)
        if invited:
            lines = [
                f"{meeting_line(m, ctx.zone)}，回执截止{when(m.reply_by, ctx.zone)}"
                for m, _ in invited[:3]
            ]
            return "您近期的会议：\n" + "\n".join(lines)
    if about == "task":
        tasks = [t for t, a in await ctx.tx.tasks.open_for_member(ctx.member.id) if not a.done_at]
        if tasks:
            lines = [
                f"{number('task', t.id)}「{preview(t.text)}」完成时限{when(t.deadline, ctx.zone)}"
                for t in tasks[:3]
            ]
            return "您未完成的督办任务：\n" + "\n".join(lines)
    return ""


@early.message(parse_confirmation)
async def nothing_to_confirm(_: Confirmation, ctx: Context) -> None:
    ctx.reply("目前没有等待您确认的操作。发送「帮助」查看我能做什么。")


@late.message(understand)
async def unreachable(value: object, ctx: Context) -> None:  # pragma: no cover
    # The dispatcher hands understood values to their feature's handler; only a value no
    # handler takes would land here, and understand() builds none.
    ctx.reply("抱歉，我没有理解。发送「帮助」查看我能做什么。")


def amend_reading(
    waiting: str, said: str, pctx: ParseContext, read: Callable[[str], Any]
) -> tuple[str, Guess] | None:
    """A one-slot correction while a reading waits (see :mod:`handlers.understand.amend`):
    the amended message and its new reading, when it still reads as an action."""
    fixed = amend(waiting, said, pctx.now)
    if fixed is None:
        return None
    value = read(fixed)
    inner = value.value if isinstance(value, Guess) else value
    if getattr(type(inner), "intent", None) not in grammar.ACTIONS:
        return None
    return fixed, value if isinstance(value, Guess) else Guess(value, reading(value))


late.amend = amend_reading
early.clean = clean_message  # parse once: every parser gets the message normalized once
