"""帮助: what the bot understands, adapted to the sender's role."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from bot.dispatcher import OFFICE_ROLES, Context, ParseContext, Router
from handlers.textnorm import normalize

router = Router("help")

_HELP = re.compile(r"^(?:帮助|help|菜单|功能|使用说明|怎么用|\?|？)$", re.IGNORECASE)

MEMBER_HELP = """履职助手可以帮您：
【学习打卡】发送「打卡 读《乡土中国》30分钟 心得：……」
　补卡：「补卡 昨天 学习党章」；查询：「我的打卡」
【社情民意】发送「社情民意：关于……的建议」加正文，或发送「提交社情民意」按提示填写
　查询：「我的社情民意」「查询 SQ-2025-0042」
【通知会议】收到通知回复「收到」（或点卡片上的按钮）；会议回执回复「参加」或「请假 理由」
　需要通知私信一份：发送「通知私信」
【接收方式】「接收方式 微信」（通过公众号接收）或「接收方式 企业微信」
【督办任务】完成后回复「完成 任务号」
【履职档案】发送「我的履职」查看本年度打卡、社情民意、会议、督办和得分；往年：「我的履职 2024」"""

OFFICE_HELP = """
秘书可用：
【审核】「待审」「采用 编号」「退回 编号 意见」「不予采用 编号 理由」
　「报送 编号 省政协」「批示 编号 级别 内容」「转办 编号 部门」「反馈 编号 内容」「办结 编号」
【通知】「通知 第3学习小组：……」（可加时间：「通知 全体委员 明天上午9点：……」）
　「通知情况 编号」「定期通知 第3学习小组 每周一8:00：……」「停止定期通知 编号」
【会议】「会议通知 第3学习小组：12月3日下午3点在三楼会议室召开专题协商会，请于12月1日前回复」
　「会议情况 编号」查看回执与未回复名单
【督办】「督办 第3学习小组：请于12月10日前提交年度履职报告」「督办情况」「销号 编号 姓名」
【公众号与客户群】「绑定码」查看委员的公众号绑定码；「待确认群发」查看等待群主确认的客户群群发
【打卡】「本周打卡情况 第3学习小组」「开启打卡 第3学习小组 每周 周五20:00提醒 周日21:00汇总」
【履职档案】「履职 张伟」「履职 第3学习小组」（可加年份）；全部委员的表格：lvzhi export members"""


@dataclass(frozen=True, slots=True)
class HelpRequest:
    intent: ClassVar[str] = "help"


def parse_help(text: str, _: ParseContext) -> HelpRequest | None:
    return HelpRequest() if _HELP.match(normalize(text)) else None


def help_text(role: str) -> str:
    return MEMBER_HELP + (OFFICE_HELP if role in OFFICE_ROLES else "")


@router.message(parse_help)
async def show_help(_: HelpRequest, ctx: Context) -> None:
    ctx.reply(help_text(ctx.member.role), shareable=True)
