"""What is open for a member (待办): a notice awaiting 收到, a meeting awaiting its 回执, a task
not done — named by the fallback so a message the bot did not understand is not a dead end."""

from __future__ import annotations

from bot.dispatcher import Context, ParseContext
from handlers.meetings import meeting_line
from handlers.notices import OPEN_FOR
from handlers.notices.common import number, preview, when
from handlers.understand.intents import likely as scored_intents
from handlers.understand.intents import topic

# One example per intent, for the fallback's "可以试试" (the intents come from the scores).
EXAMPLES = {
    "checkin": "「打卡 读《乡土中国》30分钟」",
    "makeup": "「补卡 昨天 学习党章」",
    "checkin_query": "「我的打卡」",
    "report": "「社情民意：关于……的建议」加内容",
    "report_start": "「提交社情民意」",
    "report_query": "「我的社情民意」",
    "review": "「采用 SQ-编号」",
    "review_list": "「待审社情民意」",
    "notice": "「通知 第3学习小组：……」",
    "notice_status": "「通知情况 TZ-编号」",
    "ack": "「收到」",
    "meeting": "「会议通知 第3学习小组：12月3日上午9点在三楼会议室召开……」",
    "meeting_status": "「会议情况 HY-编号」",
    "rsvp": "「参加」或「请假 理由」",
    "task": "「督办 第3学习小组：……12月10日前完成」",
    "task_done": "「完成 DB-编号」",
    "task_status": "「督办情况」",
    "task_tickoff": "「销号 DB-编号 姓名」",
    "duty_mine": "「我的履职」",
    "duty_lookup": "「履职 姓名」",
    "help": "「帮助」",
}
# A feature named by a topic word only (see grammar.TOPICS), when no intent scored.
BY_TOPIC = {
    "checkin": "checkin", "makeup": "makeup", "report": "report_start", "notice": "ack",
    "meeting": "rsvp", "task": "task_done", "duty": "duty_mine",
}  # fmt: skip
GENERIC = "「打卡 读《乡土中国》30分钟」「我的打卡」「提交社情民意」「我的履职」"


async def open_items(ctx: Context, limit: int = 3) -> list[str]:
    items: list[str] = []
    recent = await ctx.tx.notices.recent_for_member(
        ctx.member.id, now=ctx.now, since=ctx.now - OPEN_FOR
    )
    for notice, recipient in recent:
        if recipient.acked_at is None:
            items.append(
                f"通知 {number('notice', notice.id)}「{preview(notice.text)}」待确认，回复「收到」"
            )
            break
    for meeting, invitee in await ctx.tx.meetings.upcoming_for_member(ctx.member.id, ctx.now):
        if invitee.answer is None and meeting.reply_by > ctx.now:
            items.append(
                f"会议 {meeting_line(meeting, ctx.zone)}待回执，回复「参加」或「请假 理由」"
            )
            break
    for task, assignee in await ctx.tx.tasks.open_for_member(ctx.member.id):
        if assignee.done_at is None:
            tag = number("task", task.id)
            items.append(
                f"督办 {tag}「{preview(task.text)}」{when(task.deadline, ctx.zone)}前完成，"
                f"完成后回复「完成 {tag}」"
            )
            break
    return items[:limit]


def likely(text: str, pctx: ParseContext) -> str:
    """Examples of the two or three things the sender most likely meant: the intents whose
    cue or words scored on the message, best first (a generic list when none did)."""
    names = [name for name in scored_intents(text, pctx) if name in EXAMPLES]
    if not names:
        about = topic(text)
        names = [BY_TOPIC[about]] if about else []
    return "".join(EXAMPLES[name] for name in names[:3]) or GENERIC
