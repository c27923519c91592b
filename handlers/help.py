"""帮助: what the bot understands, adapted to the sender's role — one short message, and
``帮助 主题`` (帮助 社情民意, 帮助 会议 …) for the details of one feature.

Each answer fits one WeCom text message (2,048 bytes: a test checks every role and topic), so
help never arrives in pieces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from bot.dispatcher import OFFICE_ROLES, Context, ParseContext, Router
from handlers.text.normalize import normalize

router = Router("help")

_HELP = re.compile(
    r"^(?:帮助|help|菜单|功能|使用说明|怎么用|\?|？)(?:\s*(?P<topic>[^\s?？]{1,8}))?$",
    re.IGNORECASE,
)

MEMBER_HELP = """履职助手可以帮您（发送「帮助 社情民意」等查看详细说明）：
【学习打卡】「打卡 读《乡土中国》30分钟 心得：……」；补卡「补卡 昨天 学习党章」；「我的打卡」
【社情民意】「提交社情民意」按提示填写，或「社情民意：关于……的建议」加正文；「我的社情民意」
【通知会议】通知回复「收到」；会议回执回复「参加」或「请假 理由」
【督办任务】完成后回复「完成 DB-4」
【提案】「提交提案」按提示填写，或「提案：关于……的提案」换行写案据、建议；「我的提案」
【履职登记】「履职登记 12月3日 参加市政协乡村振兴专题调研」；「我的履职登记」
【履职档案】「我的履职」
说明主题：打卡、社情民意、提案、履职登记、通知、会议、督办、履职、接收方式"""

OFFICE_HELP = """履职助手（机关秘书用法，发送「帮助 审核」等查看详细说明）：
【审核社情民意】「待审」「采用 SQ-2025-0042」「退回 SQ-2025-0042 请补充具体数据」
【通知】「通知 第3学习小组：……」，可加时间「通知 全体委员 明天上午9点：……」；「通知情况 TZ-3」
【会议】「会议通知 第3学习小组：12月3日下午3点在三楼会议室召开专题协商会，请于12月1日前回复」
　「会议情况 HY-1」
【督办】「督办 第3学习小组：请于12月10日前提交年度履职报告」；「销号 DB-4 张伟」
【打卡】「开启打卡 第3学习小组 每周 周五20:00提醒 周一09:00汇总」；「本周打卡情况 第3学习小组」
【提案】「待审提案」「立案 TA-2025-0001」「交办 TA-2025-0001 市水务局」
　「答复 TA-2025-0001 A 已安排资金」「办结 TA-2025-0001」
【履职登记】「待确认履职」「确认 HD-3」「确认出席 HY-1 视察」
【履职档案】「履职 张伟」「履职 第3学习小组」
说明主题：审核、通知、会议、督办、打卡、社情民意、提案、履职登记、履职、公众号、委员"""

# Each topic: what a member may do, then (for office roles) what the office may do.
TOPICS: dict[str, tuple[str, str]] = {
    "打卡": (
        "【学习打卡】发送「打卡 读《乡土中国》30分钟 心得：……」，写明学习内容、时长和心得均可；"
        "同一周期再次打卡会补充到同一条记录。\n"
        "【补卡】「补卡 昨天 学习党章」「补卡 11月18日 读《乡土中国》40分钟」：周期结束后3天内、"
        "每月最多2次，只能补应打卡的周期。\n"
        "【查询】「我的打卡」「打卡统计」",
        "\n【秘书】「开启打卡 第3学习小组 每周 周五20:00提醒 周一09:00汇总」"
        "「关闭打卡 第3学习小组」「本周打卡情况 第3学习小组」（含未打卡名单）",
    ),
    "社情民意": (
        "【提交】一条消息：「社情民意：关于……的建议」换行写正文（可另起一行写 类别：民生保障、"
        "联名：张伟、李娜）；或发送「提交社情民意」按提示填写标题、类别、内容，"
        "最后回复「确认提交」（填写中随时回复 取消 即放弃）。\n"
        "【查询】「我的社情民意」「查询 SQ-2025-0042」\n"
        "【修改】被退回后发送「重新提交 SQ-2025-0042」加修改后的正文，预览后「确认提交」；"
        "「修改类别 SQ-2025-0042 民生保障」",
        "\n【秘书】审核办理见「帮助 审核」",
    ),
    "审核": (
        "审核和办理社情民意由机关秘书进行；您可以发送「我的社情民意」或「查询 SQ-2025-0042」"
        "查看办理进度。",
        "\n「待审」列出待审核的社情民意\n"
        "「采用 SQ-2025-0042」「退回 SQ-2025-0042 请补充具体数据」"
        "「不予采用 SQ-2025-0042 已有部门在办理」\n"
        "「报送 SQ-2025-0042 省政协」「批示 SQ-2025-0042 市领导 请市水务局研究办理」\n"
        "「转办 SQ-2025-0042 市水务局」「反馈 SQ-2025-0042 已完成改造」「办结 SQ-2025-0042」\n"
        "每一步都会通知提交人。",
    ),
    "通知": (
        "【确认】收到通知后回复「收到」（或点卡片上的「收到」按钮）。\n"
        "【私信】希望每条通知都单独私信给您：发送「通知私信」",
        "\n【秘书】「通知 第3学习小组、第5学习小组：……」立即发出；"
        "「通知 全体委员 明天上午9点：……」定时发出\n"
        "「通知情况 TZ-3」查看谁已确认、谁未确认（未确认的会被提醒一次）\n"
        "「定期通知 第3学习小组 每周一8:00：……」「停止定期通知 DQ-2」",
    ),
    "会议": (
        "【回执】收到会议通知后回复「参加」或「请假 出差在外」，截止前可以改。",
        "\n【秘书】「会议通知 第3学习小组：12月3日下午3点在三楼会议室召开专题协商会，"
        "请于12月1日前回复」\n「会议情况 HY-1」查看参加、请假和未回复名单",
    ),
    "督办": (
        "【完成】完成督办任务后回复「完成 DB-4」。",
        "\n【秘书】「督办 第3学习小组：请于12月10日前提交年度履职报告 牵头：办公室」\n"
        "「督办情况」查看红黄蓝三色督办；「销号 DB-4 张伟」",
    ),
    "履职": (
        "【履职档案】「我的履职」查看本年度打卡、社情民意、通知、会议和督办；"
        "往年：「我的履职 2024」。等次在年度结束后按机关的评分规则评定。",
        "\n【秘书】「履职 张伟」「履职 第3学习小组」（可加年份）；"
        "全部委员的表格：lvzhi export members",
    ),
    "提案": (
        "【提交】一条消息：「提案：关于……的提案」，换行写案据：……、建议：……，可加"
        "联名：张伟、李娜；或发送「提交提案」按提示填写案由、案据、办法，最后「确认提交」。\n"
        "【附议】被列为联名人时回复「附议 TA-2025-0001」或「不附议 TA-2025-0001」。\n"
        "【满意度】收到答复后回复「满意 TA-2025-0001」「基本满意 TA-2025-0001」或"
        "「不满意 TA-2025-0001 理由」（不满意的重新办理）。\n"
        "【查询】「我的提案」「查询 TA-2025-0001」",
        "\n【秘书】「待审提案」；「立案 TA-2025-0001」「不予立案 TA-2025-0001 理由 转为社情民意」"
        "「并案 TA-2025-0003 并入 TA-2025-0001」\n"
        "「交办 TA-2025-0001 市水务局 协办：市财政局」「答复 TA-2025-0001 A 已安排资金」"
        "（A 已解决/采纳、B 列入计划、C 留作参考）「办结 TA-2025-0001」\n"
        "「列为重点 TA-2025-0001」「领办 TA-2025-0001 王副主席」；每一步都会通知提案人。",
    ),
    "履职登记": (
        "【登记】参加调研、视察、界别活动、委员工作室、协商发言、培训后发送"
        "「履职登记 12月3日 参加市政协乡村振兴专题调研」，可接着发送照片，发完回复「完成」；"
        "秘书确认后计入履职档案。\n【查询】「我的履职登记」",
        "\n【秘书】「待确认履职」；「确认 HD-3」「退回 HD-3 请补充活动照片」；"
        "「确认出席 HY-1 视察」把会议回执为参加的委员一次登记为履职活动；"
        "批量录入：lvzhi activities import 文件",
    ),
    "接收方式": (
        "「接收方式 微信」通过公众号接收消息；「接收方式 企业微信」改回企业微信。",
        "\n【秘书】「绑定码」查看委员的公众号绑定码；「待确认群发」查看等待群主确认的客户群群发",
    ),
}
_ALIASES = {
    "补卡": "打卡",
    "学习打卡": "打卡",
    "社情": "社情民意",
    "直通车": "社情民意",
    "审核社情民意": "审核",
    "办理": "审核",
    "回执": "会议",
    "会议通知": "会议",
    "任务": "督办",
    "督办任务": "督办",
    "履职档案": "履职",
    "档案": "履职",
    "公众号": "接收方式",
    "政协提案": "提案",
    "附议": "提案",
    "履职活动": "履职登记",
    "活动登记": "履职登记",
    "微信": "接收方式",
}


@dataclass(frozen=True, slots=True)
class HelpRequest:
    intent: ClassVar[str] = "help"


@dataclass(frozen=True, slots=True)
class HelpTopic:
    """``帮助 社情民意``: the details of one feature."""

    intent: ClassVar[str] = "help"
    topic: str


def parse_help(text: str, _: ParseContext) -> HelpRequest | HelpTopic | None:
    match = _HELP.match(normalize(text))
    if match is None:
        return None
    return HelpTopic(match["topic"]) if match["topic"] else HelpRequest()


def help_text(role: str, topic: str | None = None) -> str:
    office = role in OFFICE_ROLES
    if topic is None:
        return OFFICE_HELP if office else MEMBER_HELP
    name = _ALIASES.get(topic, topic)
    if name == "委员":
        return MEMBER_HELP
    if name not in TOPICS:
        listed = OFFICE_HELP if office else MEMBER_HELP
        return f"没有「{topic}」这个说明主题。\n\n{listed}"
    member, extra = TOPICS[name]
    return f"【{name}】\n{member}{extra if office else ''}"


def every_help_text(role: str) -> list[str]:
    """Everything ``帮助`` can answer this role (the overview, then each topic)."""
    return [help_text(role), *(help_text(role, topic) for topic in TOPICS)]


@router.message(parse_help)
async def show_help(value: HelpRequest | HelpTopic, ctx: Context) -> None:
    topic = value.topic if isinstance(value, HelpTopic) else None
    ctx.reply(help_text(ctx.member.role, topic), shareable=True)
