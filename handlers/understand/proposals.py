"""Natural phrasings of proposals (提案), their review, 满意度 and registered activities
(issue 20): the builders :mod:`handlers.understand.intents` calls for the rules that
:mod:`handlers.understand.grammar` declares (``proposal``, ``proposal_review``,
``satisfaction``, ``activity``). Each returns the value the feature's handler takes, a
:class:`bot.dispatcher.Guess`, or None.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from bot.dispatcher import Guess, ParseContext
from handlers.activities.parse import ActivityQuery, ActivityReview, ActivityText, read_activity
from handlers.proposals.parse import (
    CONTENT_LIMIT,
    LEVELS,
    TITLE_LIMIT,
    Cosign,
    ProposalQuery,
    ProposalStart,
    ProposalText,
    Satisfaction,
    find_number,
    parse_names,
    review_value,
)
from handlers.text.normalize import normalize, widen_punct
from handlers.understand import grammar

_FILLER = r"(?:那个|这个|就是|嗯+|呃+)"
_TITLE = re.compile(
    rf"关于\s*{_FILLER}?\s*(?P<t>[^\n。;；:：,，]{{2,80}}?)的?(?P<end>提案|议案)"
    r"|关于\s*(?P<t2>[^\n。;；:：,，]{2,80}?)的?(?P<end2>建议|意见)(?=$|[\s。;；,，])"
)
_TITLE_LABEL = re.compile(
    r"(?:案由|标题|题目)\s*(?:[:：]|是|为)\s*(?P<v>[^\n。;；]{2,100}?)"
    r"(?=\s*(?:联名|附议|内容|正文|案由|案据|理由|情况|建议|办法)|[\n。;；]|$)"
)
_COSIGN_LABEL = re.compile(
    r"(?:联名(?:人|委员)?|附议(?:人|委员)?)\s*(?:[:：]|是)?\s*"
    r"(?P<v>(?:[\u4e00-\u9fff]{2,4}(?:委员)?[、,，\s]*)+)"
)
_COSIGN_WITH = re.compile(
    r"(?:和|与|跟)(?P<v>[\u4e00-\u9fff]{2,4}(?:委员)?(?:[、和][\u4e00-\u9fff]{2,4}(?:委员)?)*)"
    r"(?:一起|共同)?联名"
)
_CONTENT = re.compile(
    r"(?:内容|正文)\s*(?:[:：]|是)\s*(?P<v>.+?)(?=[;；]?\s*(?:联名|附议)|$)", re.S
)


def proposal(clean: str, raw: str, pctx: ParseContext) -> Any:
    """A proposal written any way, or the wish to write one (step by step)."""
    text = normalize(raw, keep_newlines=True)
    label = _TITLE_LABEL.search(text)
    free = _TITLE.search(text)
    if label is not None:
        title = label["v"].strip()
        span = label.span()
    elif free is not None:
        body = free["t"] or free["t2"]
        title = f"关于{body}的{free['end'] or free['end2']}".replace("的的", "的")
        span = free.span()
    else:
        return ProposalStart() if grammar.PROPOSAL_START.search(clean) else None
    content = _CONTENT.search(text, span[1])
    cosigners = _cosigners(text)
    body = content["v"] if content else ""
    return ProposalText(
        title=widen_punct(title)[:TITLE_LIMIT],
        content=widen_punct(body.strip())[:CONTENT_LIMIT],
        cosigners=cosigners,
        situation=widen_punct(body.strip())[:CONTENT_LIMIT],
    )


def _cosigners(text: str) -> tuple[str, ...]:
    found = _COSIGN_LABEL.search(text) or _COSIGN_WITH.search(text)
    if found is None:
        return ()
    names = re.split(r"(?:内容|正文|案由|题目)", found["v"])[0]
    return parse_names(names)


def proposal_review(clean: str, raw: str, pctx: ParseContext) -> Any:
    """``TA-2027-0015 立案``, ``TA-… 转交市卫健委办理``, ``记录答复 TA-… 市住建局：…``."""
    number = find_number(clean)
    if number is None:
        return None
    value, span = number
    hits = sorted(
        (match.start(), match.end(), action)
        for action, pattern in grammar.PROPOSAL_VERBS
        for match in pattern.finditer(clean)
        if not (span[0] <= match.start() < span[1])
    )
    if not hits:
        return None
    _, end, action = hits[0]
    rest = clean[end : span[0]] + clean[span[1] :] if span[0] >= end else clean[end:]
    rest = re.sub(r"^[\s,，。:：;；]*(?:理由|原因)?\s*[:：]?\s*", "", rest)
    if action == "assign":
        unit = grammar.UNIT.search(rest)
        result = review_value(action, value, rest)
        if unit is not None:
            result = review_value(action, value, f"{unit[0]} {rest[unit.end() :]}")
        return result
    if action == "answer":
        unit = re.match(rf"\s*({grammar.UNIT.pattern})\s*[:：]\s*", rest)
        body = rest[unit.end() :] if unit else re.sub(r"^[^:：]{0,8}[:：]\s*", "", rest)
        review = review_value(action, value, body)
        if unit is not None:
            review = dataclasses.replace(review, unit=unit[1])
        return review
    review = review_value(action, value, rest)
    if review.convert:  # 不予立案 and a conversion read from prose: say it before doing it
        to = "转为社情民意" if review.convert == "report" else "转来信"
        return Guess(review, f"不予立案 {value}，并{to}")
    return review


_LEVEL = re.compile(r"不满意|基本满意|(?:非常|很|十分|比较)?满意")


def satisfaction(clean: str, raw: str, pctx: ParseContext) -> Any:
    number = find_number(clean)
    level = _LEVEL.search(clean)
    if number is None or level is None:
        return None
    word = level[0]
    key = "unsatisfied" if word == "不满意" else "basic" if word == "基本满意" else "satisfied"
    reason = clean[level.end() :]
    if number[1][0] >= level.end():
        reason = clean[level.end() : number[1][0]] + clean[number[1][1] :]
    reason = re.sub(r"^[\s的了啊呀,，。!！~～👍🙏]+|[\s。!！~～👍🙏]+$", "", reason)
    reason = re.sub(r"^(?:理由|原因)\s*[:：是]?\s*", "", reason)
    if key != "unsatisfied" and not re.search(r"[\u4e00-\u9fff]{2}", reason):
        reason = ""
    return Satisfaction(number[0], key, widen_punct(reason) or None)


# Asking to have it registered: 登记一下, 帮我记上 (at the end of an activity told as done).
_REGISTER = re.compile(
    r"[\s,，。]*(?:帮我|麻烦|请)?(?:登记|记录|记)(?:一下|下|上|一笔)[\s,，。!！]*$"
)


def activity(clean: str, raw: str, pctx: ParseContext) -> Any:
    asked = grammar.ACTIVITY_CUE.search(clean) is not None or _REGISTER.search(clean)
    rest = _REGISTER.sub("", grammar.ACTIVITY_CUE.sub(" ", clean))
    rest = re.sub(rf"^(?:[\s,，。:：]|{_FILLER}|我|去)+", "", rest).strip()
    if not rest:
        return ActivityText("其他", None, "")
    value = read_activity(rest, pctx.now)
    if value is None or asked:
        return value
    # Told as done, not asked to be registered: say the reading before registering it.
    day = f"{value.date:%m月%d日} " if value.date else ""
    return Guess(value, f"履职登记：{day}{value.kind}，{value.text}")


_DECLINE = re.compile(r"不(?:想|愿意?|再)?(?:联名|附议|参加|同意|签)|退出|撤回|拒绝|算了|不了")


def cosign(clean: str, raw: str, pctx: ParseContext) -> Any:
    number = find_number(clean)
    if number is None:
        return None
    return Cosign(number[0], agree=_DECLINE.search(clean) is None)


def proposal_query(clean: str, raw: str, pctx: ParseContext) -> Any:
    number = find_number(clean)
    return ProposalQuery(number[0] if number else None)  # none: the sender's own list


def activity_query(clean: str, raw: str, pctx: ParseContext) -> Any:
    return ActivityQuery()


_HD = re.compile(r"HD\s*[-_—]?\s*(\d{1,9})", re.IGNORECASE)
_RETURN = re.compile(r"退回|打回|驳回")


def activity_review(clean: str, raw: str, pctx: ParseContext) -> Any:
    number = _HD.search(clean)
    if number is None:
        return ActivityReview("list")
    verb = _RETURN.search(clean) or re.search(r"确认|通过|同意", clean)
    if verb is None:
        return None
    rest = (clean[: number.start()] + " " + clean[number.end() :]).replace(verb[0], " ", 1)
    comment = re.sub(r"^[\s,，。:：]+|[\s,，。]+$", "", rest)
    action = "return" if _RETURN.match(verb[0]) else "confirm"
    return ActivityReview(action, int(number[1]), widen_punct(comment) or None)


BUILDERS = {
    "proposal": proposal,
    "proposal_review": proposal_review,
    "satisfaction": satisfaction,
    "activity": activity,
    "cosign": cosign,
    "proposal_query": proposal_query,
    "activity_query": activity_query,
    "activity_review": activity_review,
}
__all__ = ["BUILDERS", "LEVELS"]
