"""The regular grammar of Chinese time phrases (时间短语), used by :mod:`handlers.text.timephrase`.

Kept apart so that timephrase.py reads as the rules for *resolving* a phrase, and this file
as the list of *spellings*.  Every pattern runs on :func:`handlers.text.normalize.fold`-ed text
(half-width digits and colons, single spaces).  Every quantifier is bounded so that no input,
however long, makes the engine backtrack quadratically.

One match is one phrase::

    [截止|截至|不晚于|最迟] DAY [(周三)] [PERIOD] [TIME] [前|之前|以前|截止|为止|内]

with at least a DAY or a TIME.  DAY is one of the ``_DAY_*`` spellings below, PERIOD is
上午/下午/晚上…, TIME is ``18:00`` or ``下午3点半`` / ``九点十五分`` / ``20时``.
"""

from __future__ import annotations

import re

__all__ = ["PERIOD_DEFAULT_HOUR", "PHRASE", "RELATIVE_DAYS", "WEEKDAYS"]

_CN = "零〇一二两三四五六七八九十"
_SMALL = rf"(?:\d{{1,2}}|[{_CN}]{{1,3}})"  # a month, a day, an hour, a minute
_NOT_NUM_BEFORE = rf"(?<![\d{_CN}百千几多每个.])"

#: Day words and their offset from today, plus the part of the day they imply (今晚).
RELATIVE_DAYS: dict[str, tuple[int, str | None]] = {
    "大前天": (-3, None), "前天": (-2, None), "昨天": (-1, None), "昨日": (-1, None),
    "昨晚": (-1, "晚上"), "今天": (0, None), "今日": (0, None), "今晚": (0, "晚上"),
    "今早": (0, "早上"), "今晨": (0, "早上"), "明天": (1, None), "明日": (1, None),
    "明晚": (1, "晚上"), "明早": (1, "早上"), "后天": (2, None), "大后天": (3, None),
    # northern and south-western speech: 昨儿个, 前儿, 今儿个, 明儿 (longer than 昨天, so
    # read here as days, never rewritten to the standard word)
    "昨儿个": (-1, None), "昨儿": (-1, None), "前儿个": (-2, None), "前儿": (-2, None),
    "今儿个": (0, None), "今儿": (0, None), "明儿个": (1, None), "明儿": (1, None),
}  # fmt: skip
WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
WEEKDAYS.update({str(i + 1): i for i in range(7)})
#: The hour a part of the day means when no clock time is given (明天下午 -> 15:00).
PERIOD_DEFAULT_HOUR = {
    "凌晨": 5, "早上": 8, "早晨": 8, "清晨": 7, "上午": 9, "中午": 12, "下午": 15,
    "傍晚": 18, "晚上": 20, "晚间": 20, "夜里": 22, "夜间": 22,
}  # fmt: skip

_RELATIVE_DAY_WORDS = "|".join(sorted(RELATIVE_DAYS, key=len, reverse=True))
_PERIOD = "|".join(sorted(PERIOD_DEFAULT_HOUR, key=len, reverse=True))
_WEEK = "(?:周|星期|礼拜)"
_WD = "[一二三四五六日天七1-7]"

_DAY_YMD = r"(?P<y1>\d{4})(?P<sep>[-/.])(?P<m1>\d{1,2})(?P=sep)(?P<d1>\d{1,2})[日号]?(?!\d)"
_DAY_MD_CN = (
    r"(?:(?P<y2>\d{4}|[〇零一二三四五六七八九]{4})年|(?P<ry2>今年|明年|去年))?"
    rf"(?P<m2>{_SMALL})月(?P<d2>{_SMALL})(?:[日号]|(?![\d{_CN}]))"
)
_DAY_MONTH_END = (
    rf"(?:(?:(?P<y3>\d{{4}})年|(?P<ry3>今年|明年))?(?P<m3>{_SMALL})月"
    rf"|(?P<rm3>本|这个|这|当|下个|下|上个|上)月|{_NOT_NUM_BEFORE}月)(?P<me>底|末|内)"
)
_DAY_YEAR_END = rf"(?:(?P<ry4>今|本|明|去)年度?|(?<![\d{_CN}百千几多每前后])年度?)(?P<ye>底|末|内)"
_DAY_WEEK_IN = (
    rf"(?:(?P<wk5>下下个|下下|下个|下|本|这个|这){_WEEK}|{_NOT_NUM_BEFORE}{_WEEK})"
    r"(?P<wi>之内|以内|内)"
)
_DAY_WEEKDAY = (
    rf"(?:(?P<wk6>上上|下下|上|下|本|这)个?)?(?<!每){_WEEK}(?P<wd>{_WD})(?![次遍天个年小回期刊])"
)
_DAY_RELATIVE = rf"(?P<rd>{_RELATIVE_DAY_WORDS})"
_DAY_MONTH_DAY = rf"(?P<rm7>本|这个|这|下个|下|上个|上)月(?P<d7>{_SMALL})[日号]"
_DAY_DOT = (
    r"(?<![\d.A-Za-z第])(?P<m8>1[0-2]|0?[1-9])\.(?P<d8>3[01]|[12]\d|0?[1-9])"
    r"(?![\d.%]| ?(?:小时|个|分|万|元|倍|米|公里|千|亿|天|周|年|岁|次|版|节|章|条|款|篇|页|卷|期"
    r"|[A-Za-z]))"
)
_DAY_OFFSET = (
    rf"{_NOT_NUM_BEFORE}(?P<rn>\d{{1,3}}(?:\.\d)?|[{_CN}百半]{{1,4}}(?:个半)?)"
    r"(?:(?P<ru>个?小时|个?钟头|分钟|天|周|个?星期|个?礼拜|个月)"
    r"(?P<rdir>以后|之后|后|以前|之前|前|以内|之内|内)"
    r"|(?P<ru2>日)(?P<rdir2>以后|之后|后|以内|之内|内))"
)
_DAY_BARE = (
    r"(?<![\d〕\]】)）第发字号月年.\-/])(?P<d9>\d{1,2}|[一二三四五六七八九十]{1,3})[日号]"
    r"(?![文令楼院线房室窗码位件])"
)
_DAY = (
    f"(?:{_DAY_YMD}|{_DAY_MD_CN}|{_DAY_MONTH_END}|{_DAY_YEAR_END}|{_DAY_WEEK_IN}"
    f"|{_DAY_WEEKDAY}|{_DAY_RELATIVE}|{_DAY_MONTH_DAY}|{_DAY_DOT}|{_DAY_OFFSET}|{_DAY_BARE})"
)
_WEEKDAY_NOTE = rf"(?: ?\({_WEEK}{_WD}\))?"  # 12月10日(周三): the weekday is redundant

_TIME_COLON = r"(?<![\d:])(?P<hh>[01]?\d|2[0-4]):(?P<mi>[0-5]\d)(?::[0-5]\d)?(?![\d:])"
_TIME_CN = (
    rf"(?<![\d.])(?P<ch>\d{{1,2}}|[{_CN}]{{1,3}})(?:点钟?|时)"
    rf"(?:(?P<half>半)|(?P<qt>一刻|三刻)|(?P<cm>\d{{1,2}}|[{_CN}]{{1,4}})分?|整)?"
    rf"(?!小时|个|钟头|分钟|[\d{_CN}])"
)
_TIME = f"(?:{_TIME_COLON}|{_TIME_CN})"

# 周五晚7点, 周一早8点: 晚/早 for 晚上/早上, only right before a clock time.
SHORT_PERIODS = {"晚": "晚上", "早": "早上"}
_SHORT_PERIOD = (
    r"(?<![今明昨])[晚早](?!一点)(?= ?(?:\d{1,2}|[一二三四五六七八九十两]{1,3})(?:点|时|:))"
)

_PREFIX = r"(?:(?P<pre>截止到|截止至|截止|截至|不晚于|最迟|最晚) ?)?"
# 内 ends a deadline (3天内) but not the word it starts (8:30 内容：…, 内部).
_SUFFIX = (
    r"(?P<suf> ?(?:之前|以前|前(?![往来进列夕沿身言者述任行天])|截止|为止|以内|之内"
    r"|内(?![容部外涵地心务科])))?"
)

#: One time phrase.  Matches without a day or a time (empty, or only 截止/下午) are possible;
#: the caller skips them.
PHRASE = re.compile(
    f"{_PREFIX}(?:(?P<day>{_DAY}){_WEEKDAY_NOTE})?"
    f"(?: ?(?P<per>{_PERIOD}|{_SHORT_PERIOD}))?(?: ?(?P<time>{_TIME}))?{_SUFFIX}"
)
