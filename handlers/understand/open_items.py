"""What is open for a member (待办): a notice awaiting 收到, a meeting awaiting its 回执, a task
not done — named by the fallback so a message the bot did not understand is not a dead end."""

from __future__ import annotations

from bot.dispatcher import Context
from handlers.meetings import meeting_line
from handlers.notices import OPEN_FOR
from handlers.notices_common import number, preview, when
from handlers.understand.intents import topic

EXAMPLES = {
    "checkin": "「打卡 读《乡土中国》30分钟」",
    "makeup": "「补卡 昨天 学习党章」",
    "report": "「提交社情民意」或「我的社情民意」",
    "notice": "「收到」",
    "meeting": "「参加」或「请假 理由」",
    "task": "「完成 DB-编号」",
    "duty": "「我的履职」",
}
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


def likely(text: str) -> str:
    """Examples of what the sender most likely meant, by the feature their words name."""
    about = topic(text)
    return EXAMPLES[about] if about else GENERIC
