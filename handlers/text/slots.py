"""Slot extractors (槽位): the parts of a message that any intent may need, found anywhere.

Each function takes normalized text and returns plain values; none of them decides what the
message *means* — that is :mod:`handlers.understand.intents`. Numbers are canonical
(``SQ-2025-0045``, ``DB-3`` as 3), groups canonical (``三组`` → ``第3学习小组``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.text.body import minutes_in, parse_body
from handlers.text.normalize import parse_int
from handlers.text.timephrase import SHANGHAI, TimePhrase, find_time_phrases

EVERYONE = "全体委员"
_DIGIT = {"零": "0", "〇": "0", "o": "0", "O": "0", "一": "1", "幺": "1", "二": "2", "两": "2"}
_DIGIT.update({"三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"})
_VOICE_DIGITS = "".join(_DIGIT)
_DASH = r"\s*(?:[-_—–~]|杠|横杠)?\s*"

# 报告编号 SQ-2025-0042 as typed, spoken (SQ二零二五零零四五) or without the dashes.
_SQ = re.compile(
    rf"SQ{_DASH}(?P<year>[\d{_VOICE_DIGITS}]{{4}}){_DASH}(?P<seq>[\d{_VOICE_DIGITS}]{{1,5}})",
    re.IGNORECASE,
)
_SHORT = re.compile(
    rf"(?P<kind>TZ|HY|DB){_DASH}(?P<no>\d{{1,9}}|[{_VOICE_DIGITS}十]{{1,4}})", re.IGNORECASE
)

# 第5个通知 / 第三个会 / 第2个督办任务 / 通知8: a notice, meeting or task by its number as
# said in words (第3次会议 is a session, not a number).
_ORDINAL_KIND = {
    "通知": "TZ",
    "会议": "HY",
    "会": "HY",
    "督办任务": "DB",
    "督办": "DB",
    "任务": "DB",
}
_ORDINAL = re.compile(
    r"第\s*(?P<no>\d{1,4}|[一二两三四五六七八九十]{1,4})\s*(?:个|条|号|项)?\s*"
    r"(?P<what>督办任务|督办|任务|通知|会议(?!室)|会(?![议室场长员务]))"
    r"|(?<!发)(?P<what2>通知|会议|任务)\s*(?P<no2>\d{1,4})(?![\d月日号点时:.])"
)

_CN_NUM = "一二两三四五六七八九十"
_GROUP_NO = rf"(?:\d{{1,2}}|[{_CN_NUM}]{{1,3}})"
# 第3学习小组 / 第三学习小组 / 第3小组 / 第3组 / 三组 / 6组; a list 第2、3组 / 三组和五组.
_GROUP = re.compile(
    rf"(?<![\d{_CN_NUM}])(?P<first>第?{_GROUP_NO})"
    rf"(?P<more>(?:\s*(?:、|,|，|和|及|与)\s*第?{_GROUP_NO}(?=\s*(?:、|,|，|和|及|与|学习|小组|组)))*)"
    r"\s*(?:学习小组|学习组|小组|组)(?!织|长|员|成|建|合|委会)"
)
_EVERYONE = re.compile(r"全体(?:政协)?委员|所有(?:的)?委员|全体成员|各位委员们?(?=.{0,3}发)")


@dataclass(frozen=True, slots=True)
class Number:
    kind: str  # SQ|TZ|HY|DB
    value: str  # SQ-2025-0042, or "3" for DB-3
    span: tuple[int, int]
    spoken: bool  # read from voice digits (二零二五): a guess worth confirming


def _digits(text: str) -> str:
    return "".join(_DIGIT.get(ch, ch) for ch in text)


def find_numbers(text: str) -> list[Number]:
    found: list[Number] = []
    for match in _SQ.finditer(text):
        year, seq = _digits(match["year"]), _digits(match["seq"])
        if year.isdigit() and seq.isdigit():
            spoken = not (match["year"].isdigit() and match["seq"].isdigit())
            found.append(Number("SQ", f"SQ-{year}-{int(seq):04d}", match.span(), spoken))
    for match in _SHORT.finditer(text):
        raw = match["no"]
        value = int(raw) if raw.isdigit() else parse_int(raw)
        if value is not None:
            found.append(
                Number(match["kind"].upper(), str(value), match.span(), not raw.isdigit())
            )
    taken = [n.span for n in found]
    for match in _ORDINAL.finditer(text):
        raw, what = match["no"] or match["no2"], match["what"] or match["what2"]
        value = int(raw) if raw.isdigit() else parse_int(raw)
        kind = _ORDINAL_KIND[what]
        if value and not any(n.kind == kind for n in found) and match.span() not in taken:
            found.append(Number(kind, str(value), match.span(), False))
    return sorted(found, key=lambda n: n.span)


def number_of(text: str, kind: str) -> Number | None:
    return next((n for n in find_numbers(text) if n.kind == kind), None)


def canonical_group(number_text: str) -> str | None:
    value = parse_int(number_text.lstrip("第"))
    return f"第{value}学习小组" if value is not None and 0 < value < 100 else None


def find_groups(text: str) -> list[tuple[str, tuple[int, int]]]:
    """Groups named anywhere: (canonical name, span), in order, without repeats."""
    found: list[tuple[str, tuple[int, int]]] = []
    for match in _EVERYONE.finditer(text):
        if not text[: match.start()].endswith("组"):  # 第1学习小组全体委员: that group's
            found.append((EVERYONE, match.span()))
    for match in _GROUP.finditer(text):
        numbers = [match["first"], *re.findall(rf"第?{_GROUP_NO}", match["more"] or "")]
        for item in numbers:
            name = canonical_group(item)
            if name is not None:
                found.append((name, match.span()))
    found.sort(key=lambda item: item[1])
    seen: dict[str, tuple[int, int]] = {}
    for name, span in found:
        seen.setdefault(name, span)
    return list(seen.items())


# An addressee named by words, not a number: a 界别 (少数民族界), a committee (经济委,
# 农业农村委), an office — after 给/向 and before the sending verb (给少数民族界发个通知), or
# after 任务给/通知给 (布置个任务给经济委：…).
_NAMED = re.compile(
    r"(?:给|向)(?P<a>[\u4e00-\u9fff]{2,12}?(?:界|委|委员会|小组|支部|办公室|办))\s*"
    r"(?=发|推送|群发|下发|布置|安排|交办|[:：,，\s])"
    r"|(?:任务|通知)(?:发)?给(?P<b>[\u4e00-\u9fff]{2,12}?(?:界|委|委员会|小组|支部|办公室|办))\s*[:：,，\s]?"
)


# Family names (姓), the common ones and those of Yunnan's peoples (普, 者, 刀, 岩, 玉 …): a
# person's name among other words starts with one (杨正芬; not 纸质版, 她材料, 调研报).
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝普者刀岩玉依咪杞李保"
)


def person_names(text: str) -> tuple[str, ...]:
    """The people named in ``text`` (already cut into words by spaces): each word of two or three
    characters that starts with a family name, and two two-character names run together
    (张伟李娜); in order, without repeats."""
    names: list[str] = []
    for word in re.findall(r"[\u4e00-\u9fff]+", text):
        if 2 <= len(word) <= 3 and word[0] in SURNAMES:
            names.append(word)
        elif len(word) == 4 and word[0] in SURNAMES and word[2] in SURNAMES:
            names.extend((word[:2], word[2:]))
    return tuple(dict.fromkeys(names))


def named_audience(text: str) -> tuple[str, tuple[int, int]] | None:
    """An addressee named by words (``给少数民族界发个通知``): the name and the span of the words
    that name it (给…, 任务给…), or None."""
    match = _NAMED.search(text)
    if match is None:
        return None
    start = match.start("a") - 1 if match["a"] else match.start("b") - 1
    return match["a"] or match["b"], (start, match.end())


def group_names(text: str) -> tuple[str, ...]:
    return tuple(name for name, _ in find_groups(text))


def cut(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` without the given spans (each replaced by one space)."""
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out.append(text[last:start])
        out.append(" ")
        last = end
    out.append(text[last:])
    return re.sub(r" {2,}", " ", "".join(out)).strip()


# 12/1, 12-1 (month/day without a year): what members type most in chat; only where a day is
# expected (补卡), so 1/3 of the members or 3-5 people elsewhere stay numbers.
_MONTH_DAY = re.compile(r"(?<![\d/.\-:])(1[0-2]|0?[1-9])[/\-](3[01]|[12]\d|0?[1-9])(?![\d/.\-:%])")


def month_day_words(text: str) -> str:
    return _MONTH_DAY.sub(lambda m: f"{int(m[1])}月{int(m[2])}日", text)


def mask_titles(text: str) -> str:
    return re.sub(r"《[^》]*》", lambda m: "\x00" * len(m.group(0)), text)


def time_phrases(text: str, now: datetime, *, prefer: str = "future") -> tuple[TimePhrase, ...]:
    """Time phrases outside 《titles》 (《2035年远景目标》 is no date)."""
    return find_time_phrases(mask_titles(text), now, prefer=prefer)  # type: ignore[arg-type]


_REQUEST_GLUE = re.compile(
    r"(?:(?<=补)|(?<=补打))(?:一下|下)(?=\s*(?:周|星期|礼拜)[一二三四五六日天])"
)


def unglue_request(text: str) -> str:
    """``补一下周一的卡`` is 补一下 and 周一, not 下周一: a space after the request's 下."""
    return _REQUEST_GLUE.sub(lambda m: m[0] + " ", text)


def past_day(text: str, now: datetime) -> tuple[date | None, tuple[int, int] | None]:
    for phrase in time_phrases(month_day_words(text), now, prefer="past"):
        if phrase.day is not None and phrase.day <= now.date():
            return phrase.day, None
    return None, None


def study_body(text: str) -> tuple[tuple[str, ...], int | None, str | None, str]:
    """(titles, minutes, note, material) of a check-in body."""
    body = parse_body(text)
    return body.titles, body.minutes, body.note, body.material


def year_of(text: str, now: datetime) -> int | None:
    """今年 / 去年 / 前年 / 2024年 / 2024 → the year; None when none is named."""
    match = re.search(r"(?<!\d)(20\d\d)(?:年度?)?(?!\d)", text)
    if match:
        return int(match[1])
    for word, back in (("今年", 0), ("本年度", 0), ("去年", 1), ("上一年", 1), ("前年", 2)):
        if word in text:
            return now.year - back
    return None


# Words around addressees that name nobody: the sending verbs and 定时 (``定时``,
# ``今晚八点推送``'s 推送, ``定时发布``), before or after the names.
_SEND_WORDS = r"定时|发给|发送|发出|发布|推送|发个|发一个|发条|发"
_AUDIENCE_JUNK = re.compile(rf"^(?:给|向|通知|{_SEND_WORDS})+|(?:{_SEND_WORDS}|的)+$")


_NOBODY = frozenset(
    {"内容", "发", "通知", "一下", "事项", "任务", "工作", "督办", "要求", "时间", "地点"}
)


def clean_audience(names: tuple[str, ...]) -> tuple[str, ...]:
    """A command's addressees as typed, tidied: ``给第1`` / ``第2学习小组发个`` → the groups
    they name (``第1学习小组``), ``所有委员`` → 全体委员; words that name nobody are dropped."""
    out: list[str] = []
    for name in names:
        bare = _AUDIENCE_JUNK.sub("", name)
        found = group_names(bare)
        if found:
            out.extend(found)
        elif re.fullmatch(rf"第{_GROUP_NO}", bare):
            out.append(canonical_group(bare) or bare)
        elif bare and bare not in _NOBODY:
            out.append(bare)
    return tuple(dict.fromkeys(out))


_SEND_AFTER = re.compile(
    r"^\s*(?:定时)?(?:发出|发送|推送|发布|再发|发)(?!群|到群|在群|言|现|展|生)"
)


def send_time(text: str, now: datetime) -> tuple[datetime, tuple[int, int]] | None:
    """A notice's send time written anywhere: a clock time followed by 发出/发送/推送
    (``（明天早上8点发出）``) or after 定时 (``定时12月1日8:30``); the span covers the words and
    any brackets around them, so the caller can cut it out of the notice."""
    for phrase in time_phrases(text, now):
        if phrase.time_of_day is None:
            continue
        start, end = phrase.span
        after = _SEND_AFTER.match(text[end:])
        if after is None and "定时" not in text[max(0, start - 4) : start]:
            continue
        end += after.end() if after else 0
        if start > 0 and text[start - 1] in "(（[【" and end < len(text) and text[end] in ")）]】":
            start, end = start - 1, end + 1
        return phrase.at, (start, end)
    return None


# The words just before a meeting's reply date: 请于…前回复 is a deadline anyway, but
# 回复截止：5月25日 and 回执时间 12月1日 are not marked as one.
_REPLY_NEAR = re.compile(r"(?:回执|回复|报名|反馈)\S{0,4}(?:截止|截至|时间)?\s*[:：]?\s*$")


def reply_date(text: str, phrase: TimePhrase) -> datetime | None:
    """``phrase`` as a meeting's reply date (the end of its day without a clock time), or None
    when nothing marks it as one."""
    before = text[max(0, phrase.span[0] - 8) : phrase.span[0]]
    if not (phrase.is_deadline or _REPLY_NEAR.search(before)):
        return None
    if phrase.time_of_day is None:
        return phrase.at.replace(hour=23, minute=59, second=59, microsecond=0)
    return phrase.at


_REASON_LABEL = re.compile(
    r"^(?:退回|不予采用|请假)?(?:理由|原因|事由|缘由|意见|备注|说明)\s*(?:[:：]|是|为)\s*"
)


def reason(text: str) -> str:
    """A comment or a reason without its label: ``原因：住院手术`` → ``住院手术``."""
    return _REASON_LABEL.sub("", text.strip(" ,，。;；")).strip()


def zone_of(now: datetime) -> ZoneInfo:
    """The zone ``now`` is in (the configured one), for showing a time back to the sender."""
    return now.tzinfo if isinstance(now.tzinfo, ZoneInfo) else SHANGHAI


def found(text: str, now: datetime) -> frozenset[str]:
    """The kinds of slot ``text`` holds, for scoring: ``sq``/``tz``/``hy``/``db`` numbers,
    ``title`` (《…》), ``minutes``, ``day`` (a past day: 补卡), ``time`` (a coming time),
    ``deadline``, ``group``, ``sendtime``."""
    kinds = {number.kind.lower() for number in find_numbers(text)}
    if re.search(r"《[^》]+》", text):
        kinds.add("title")
    if minutes_in(mask_titles(text)) is not None:
        kinds.add("minutes")
    if find_groups(text):
        kinds.add("group")
    if past_day(unglue_request(text), now)[0] is not None:
        kinds.add("day")
    for phrase in time_phrases(text, now):
        kinds.add("deadline" if phrase.is_deadline else "time")
    if send_time(text, now) is not None:
        kinds.add("sendtime")
    return frozenset(kinds)
