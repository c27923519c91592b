"""Questions (问句): the words that make a message a question about a feature rather than a
request to act (吗/呢/？/怎么/如何/哪里/能不能 …), and the announcements and polite requests that
carry those words without asking anything. Shared by the understanding of natural phrasings
(:mod:`handlers.understand`) and the features' own parsers (a 社情民意 titled with a question is
no report), so it sits in the text layer below both."""

from __future__ import annotations

import re

from handlers.text.slots import mask_titles


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.DOTALL)


# Words that turn a message into a question about a feature (吗/呢/？/怎么/如何/哪里…).
QUESTION = _re(
    r"[?？]|吗|怎么|咋|如何|哪|能不能|可不可以|可以不|有没有|要不要|是不是|是否"
    r"|什么|啥|几点|多少|多久|(?<![这过近那哪])(?<![^提]前)几天|几次|几类|几篇|算.{0,6}还是|还能|一般|怎样"
    # an either-or question: 打卡是每天打还是每周打一次; asking leave to ask: 我问一下…
    r"|是[^,，。;；]{1,14}还是|(?:我)?(?:想)?(?:问一下|请教一下|问问|咨询一下)"
    r"|(?:给|找|问|交|报)谁|谁(?:来|去|负责|审|批|管|的|是|最)|几(?:楼|层|号)|([\u4e00-\u9fff])不\1"
    r"|(?:了|有)[\u4e00-\u9fff]{0,6}没有?[~～!！。.]*$"  # 有限制没, 交了没有: X没 asks
    r"|(?:能|可以|会|行|要|用)[\u4e00-\u9fff]{0,10}不[~～!！。.]*$"  # 能交不, 可以补上个月的不
    # 模板发一下: asking for the form
    r"|(?:模板|范文|样本|样表|格式)\S{0,6}(?:发(?:一下|下|我|给我)|给我)"
)
# An announcement asks members to answer, and a rhetorical 哪有空 complains: these are no
# questions to the bot.
NOT_A_QUESTION = _re(
    r"(?:里|中|上)的几(?:篇|章|段|首|页|节|个|本)|是否(?:参加|出席|参会)|参加还是请假|请假还是参加|回复是否|哪(?:有|来的?)(?:空|时间|功夫|精力|心思)"
    # an announcement asking for an answer: 回复一下参不参加 / 来不来 / 能不能来
    r"|(?:回复|回个话|告知|报个?名)\S{0,6}?(?:([\u4e00-\u9fff])不\1\S{0,2}|能不能\S{0,3})"
    # a polite request for an action: 能帮我补一下吗 / 麻烦帮我补上 (a request, not a question)
    r"|(?:能不能|可不可以|能否|能|可以|麻烦|请)?(?:帮|替|给)我(?:补|打|交|提交|报|登记|录)[^?？吗]{0,12}"
    r"(?:吗|嘛|么)?[?？]?"
    # 能补前天的卡吗 followed by what was studied: a request with its content
    r"|^(?:能不能|可不可以|能|可以)(?:帮我)?补\S{0,8}卡(?:吗|嘛|么)(?=.*(?:《|分钟|小时|钟头))"
    # …, 能补吗 after what to make up (上周六的卡忘打了，那天读了…，能补吗): a request
    r"|[,，]\s*(?:能不能|可不可以|能|可以)(?:帮我|给我)?补(?:上|一下|个|一个)?(?:吗|嘛|么)?[?？]?$"
)
# 几个人 / 几位 / 几名 ask a number as 几次 / 几篇 do (added for proposals and activities).
QUESTION = _re(
    QUESTION.pattern + r"|几个人|几位|几名|几件"
    # 几条/几份 asks only of what is counted here, or at the end (多准备几份饭 is an amount)
    r"|(?<![这那])几(?:条|份)(?=\s*(?:$|[?？呢啊呀吧,，。]|社情民意|直通车|材料|报告|信息|提案|线索))"
)


# A tag asking leave (行不行, 好不好; Henan 中不中 is read as 行不行) at the start or end of a
# check-in that says what was studied: 中不中 我打个卡 读了《…》半小时 does, it does not ask.
_TAG = _re(r"^(?:行不行|好不好)[啊呀吧哈]*[\s,，]+|[\s,，]+(?:行不行|好不好)[啊呀吧哈]*[?？]?$")
_CHECKIN_TOLD = _re(r"(?=.*打(?:个|一个|一下|下)?卡)(?=.*(?:《|分钟|小时|钟头))")


def is_question(text: str) -> bool:
    """吗/？/怎么/哪里… outside 《titles》 and outside an announcement's 是否参加."""
    masked = mask_titles(text)
    if _CHECKIN_TOLD.search(text):
        masked = _TAG.sub(" ", masked)
    return bool(QUESTION.search(NOT_A_QUESTION.sub("", masked)))
