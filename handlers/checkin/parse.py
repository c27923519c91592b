"""Pure parsers for study check-ins (打卡学习, docs/domain.md §1).

* :func:`parse_checkin`: ``打卡``, ``#打卡# 今日学习《…》第四卷第三章，30分钟``,
  ``【打卡】…40min``, ``学习打卡：党的二十大报告 第三部分 一小时 心得：…``,
  ``… 半小时 #打卡#`` (the trigger at the end).  Not check-ins: 补卡 (make-up), queries
  (我的打卡, 打卡统计, 本周打卡情况) and questions (怎么打卡, 打卡了吗, 打卡要写心得吗).
* :func:`parse_makeup`: 补卡 (make-up) with a date: ``补卡 11月18日 读《乡土中国》40分钟``,
  ``补卡 昨天 学习党章``; a bare month-day means its latest occurrence up to today.
* :func:`parse_checkin_query`: ``我的打卡`` (mine), ``打卡统计`` (stats),
  ``本周打卡情况 第3学习小组`` (group_week).

The body of a check-in yields the book titles (书名, every 《…》 or 〈…〉; an unclosed 《 ends
at the next space or punctuation), the minutes studied (30分钟, 半小时, 一个小时, 1.5小时,
1个半小时, 一小时二十分, 40min; several durations add up), the reflection (心得/感悟/体会/收获
and what follows) and the material: what is left, trimmed, with a leading 今天/今日 and a
reading verb before a title dropped (``今天读了《人民政协报》两篇评论`` becomes
``《人民政协报》两篇评论``).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import ClassVar, Literal

from handlers.text.body import Body, parse_body
from handlers.text.normalize import normalize
from handlers.text.slots import group_names, past_day
from handlers.text.timephrase import find_time_phrase

__all__ = [
    "CheckInIntent",
    "MakeUpIntent",
    "QueryIntent",
    "parse_checkin",
    "parse_checkin_query",
    "parse_makeup",
]


@dataclass(frozen=True, slots=True)
class CheckInIntent:
    """A check-in (打卡) as the member wrote it; ``material`` may be empty (a bare 打卡).
    The one value from the parser to :func:`handlers.checkin.check_in`."""

    intent: ClassVar[str] = "checkin"
    titles: tuple[str, ...]
    minutes: int | None
    note: str | None
    material: str


@dataclass(frozen=True, slots=True)
class MakeUpIntent:
    """A make-up check-in (补卡); ``date`` is ``None`` when no day was recognised."""

    intent: ClassVar[str] = "makeup"
    date: dt.date | None
    titles: tuple[str, ...]
    minutes: int | None
    note: str | None
    material: str


@dataclass(frozen=True, slots=True)
class QueryIntent:
    """A question about check-ins: one's own record, statistics, or a group's week."""

    intent: ClassVar[str] = "checkin_query"
    scope: Literal["mine", "stats", "group_week"]
    group: str | None = None


_KEY = r"(?:今日|今天|每日|读书|学习|早读)?打卡(?:学习)?"
_TRIGGER = rf"(?:#{_KEY}#|【{_KEY}】|\[{_KEY}\]|{_KEY})"
_START = re.compile(rf"{_TRIGGER}(?:啦|了)?")
_END = re.compile(rf"(?P<sep>^|(?<=[\s,，。.!！~、;；]))?(?:{_TRIGGER})$")
_MAKEUP = re.compile(r"(?:#补打?卡#|【补打?卡】|\[补打?卡\]|补打?卡)")
# Right after the trigger with no space: 打卡规则, 打卡统计, 打卡点 are not check-ins.
_GLUED_NOT_CHECKIN = re.compile(
    r"要|需要|必须|可以|能|怎么|怎样|如何|在哪|是不是|有没有|规则|方法|说明|统计|情况|记录|排行"
    r"|排名|提醒|次数|天数|时间|截止|功能|失败|成功|不了|地|点|处|机|器|卡|群|的"
    r"|数据|明细|报表|用的"  # 打卡明细导一份给我, 打卡用的台灯: the data, a thing used
)
_QUESTION_START = re.compile(r"(?:了?(?:吗|么|没有|没|呢)|要不要|怎么|怎样|如何)")
# 打卡我这周已经打过了，…: telling that it is done (and asking something else), no check-in.
_DONE_ALREADY = re.compile(r"^\s*\S{0,8}?(?:已经?|都)打(?:过|完|了)|^\s*\S{0,8}?打(?:过|完)了")
_QUERY_VERB = r"(?:查询|查看|查一下|查|看看|看一下)?"
_MINE = re.compile(
    rf"{_QUERY_VERB}我的(?:本周|这周|本月)?打卡(?:记录|情况|统计|次数|天数|数据)?(?:[?？]|吗)?"
)
_STATS = re.compile(r"(?P<pre>.{0,30}?)打卡(?:统计|排行榜?|排名)(?P<post>.{0,30})")
_WEEK = re.compile(
    r"(?P<pre>.{0,30}?)(?:本周|这周|这星期|本星期)?的?打卡(?:情况|进度|名单)(?P<post>.{0,30})"
)
_GROUP_NOISE = re.compile(
    rf"^{_QUERY_VERB}|(?:本周|这周|今日|今天|每日|读书|学习|早读|未|没|没有|还没)的?$"
    r"|(?:怎么样|咋样|如何)?(?:呢|吗)?[?？!！。.]*$"
)
_EDGE_PUNCT = ":：,，、 【】[]"
_TITLE = re.compile(r"《[^》]*》|〈[^〉]*〉")


def parse_checkin(text: str) -> CheckInIntent | None:
    """The check-in in ``text``, or ``None`` if it is not one (see module docstring)."""
    clean = normalize(text)
    if not clean or _MAKEUP.match(clean) or parse_checkin_query(clean) is not None:
        return None
    glued_at_end = False
    start = _START.match(clean)
    if start is not None:
        rest = clean[start.end() :]
        glued = rest[:1] not in ("", " ") and not _is_separator(rest[0])
        if glued and _GLUED_NOT_CHECKIN.match(rest):
            return None
        if _QUESTION_START.match(rest.lstrip(_EDGE_PUNCT)) or _DONE_ALREADY.match(rest):
            return None
    else:
        core = _strip_trailing_symbols(clean)
        end = _END.search(core)
        if end is None or end.start() == 0:
            return None
        rest, glued_at_end = core[: end.start()], end["sep"] is None
    body = parse_body(rest)
    if body.is_question:
        return None
    if glued_at_end and not (body.titles or body.minutes is not None):
        return None  # "…打卡" glued to the text counts only with a title or a duration (怎么打卡)
    return CheckInIntent(body.titles, body.minutes, body.note, body.material)


def parse_makeup(text: str, now: dt.datetime) -> MakeUpIntent | None:
    """A 补卡 message: the day it makes up for (the latest such day up to ``now``; ``12/1``
    and ``12-1``, the chat form of a date, count here) and body."""
    clean = normalize(text)
    trigger = _MAKEUP.match(clean)
    if trigger is None:
        return None
    rest = clean[trigger.end() :]
    glued = rest[:1] not in ("", " ") and not _is_separator(rest[0])
    if (glued and _GLUED_NOT_CHECKIN.match(rest)) or _QUESTION_START.match(rest.lstrip()):
        return None
    day: dt.date | None = None
    phrase = find_time_phrase(_mask_titles(rest), now, prefer="past")
    if phrase is not None:
        day = phrase.day
        start, end = phrase.span
        rest = f"{rest[:start]} {rest[end:]}"
    else:
        day = past_day(rest, now)[0]
    body: Body = parse_body(rest)
    if body.is_question:
        return None
    return MakeUpIntent(day, body.titles, body.minutes, body.note, body.material)


def parse_checkin_query(text: str) -> QueryIntent | None:
    """``我的打卡`` -> mine; ``打卡统计`` -> stats; ``第3学习小组本周打卡情况`` -> group_week.
    A group is made canonical (``第八学习小组`` -> ``第8学习小组``); words that name no group
    (``打卡情况统计一下``) are no query here: the understanding of natural phrasings reads them."""
    clean = normalize(text)
    if _MINE.fullmatch(clean):
        return QueryIntent("mine")
    for scope, pattern in (("stats", _STATS), ("group_week", _WEEK)):
        match = pattern.fullmatch(clean)
        if match is None:
            continue
        pre, post = _group_part(match["pre"]), _group_part(match["post"])
        if "我的" in match["pre"]:
            return QueryIntent("mine")
        if pre and post:
            return None  # a sentence that mentions 打卡情况, not a query
        group = _group(pre or post)
        if group == "":
            return None
        return QueryIntent("stats" if scope == "stats" else "group_week", group)
    return None


def _group(words: str) -> str | None:
    """The group a query names, canonical; None for no group, "" for words naming none."""
    if not words:
        return None
    named = group_names(words)
    if named:
        return named[0]
    if not re.search(r"组|委|界|全体", words) or re.search(r"各|统计|汇总|一下|查|看", words):
        return ""
    return words


def _group_part(part: str) -> str:
    previous = None
    while previous != part:
        previous = part
        part = _GROUP_NOISE.sub("", part.strip(_EDGE_PUNCT)).strip(_EDGE_PUNCT)
    return part


def _is_separator(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] in "PS"


def _strip_trailing_symbols(text: str) -> str:
    end = len(text)
    while end > 0 and text[end - 1] not in "#】]" and _is_separator(text[end - 1]):
        end -= 1
    return text[:end]


def _mask_titles(text: str) -> str:
    """Blank out 《…》 so a date inside a title (《2035年远景目标》) is not taken as the day."""
    return _TITLE.sub(lambda m: " " * len(m.group(0)), text)
