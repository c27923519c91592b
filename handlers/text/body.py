"""The body of a check-in (打卡内容): titles, minutes, reflection and material.

Shared by 打卡 and 补卡 in :mod:`handlers.checkin.parse`; takes normalised text with the
trigger (and the make-up date) already cut out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from handlers.text.normalize import parse_number, widen_punct

__all__ = ["Body", "minutes_in", "parse_body"]


@dataclass(frozen=True, slots=True)
class Body:
    """The parts of a body; ``is_question`` for 打卡 要写心得吗？ and the like."""

    titles: tuple[str, ...]
    minutes: int | None
    note: str | None
    material: str
    is_question: bool


_MASK = "\x00"  # normalised text has no control characters, so this marks title contents
_OPEN_CLOSE = {"《": "》", "〈": "〉"}
_TITLE_STOP = " ,，。.;；!！?？、:：《〈"

_CN = "零〇一二两三四五六七八九十百"
_NUM = rf"(?:\d{{1,4}}(?:\.\d{{1,2}})?|[{_CN}]{{1,5}}(?:点[{_CN}]{{1,2}})?)"
_MIN_UNIT = r"(?:分钟|min(?:ute)?s?(?![A-Za-z])|分(?![之数析享别类组会配工布散解册外]))"
_DURATION = re.compile(
    r"(?:(?:用时|历时|时长|耗时|共计|合计|累计|共|约|大约|各)[:：]? ?)?"
    rf"(?<![\d.A-Za-z第])(?:"
    rf"(?P<h>{_NUM})(?P<half>个半)? ?(?:个 ?)?"
    r"(?:小时|钟头|(?<=个)钟(?!头)|h(?:ours?|rs?)?(?![A-Za-z]))"  # 一个钟: an hour, as said
    rf"(?: ?零?(?P<hm>{_NUM}) ?(?:{_MIN_UNIT}|m(?![A-Za-z])))?"
    r"|(?P<halfhour>半 ?个? ?(?:小时|钟头)|半个钟)"
    rf"|(?P<m>{_NUM}) ?{_MIN_UNIT})"
)
# 心得：… / 心得 … / 心得… label the reflection; before a word of degree (收获很大, 感悟颇深)
# the keyword is part of it.
_NOTE = re.compile(
    r"(?:^|(?<=[\s,，。.;；!！、:：】\])）》〉]))(?P<open>【|\[)?(?:学习|读书|个人|我的|今日|今天)?"
    r"(?P<keyword>心得体会|心得|感悟|体会|收获|感想|启示|读后感)"
    r"(?P<close>】|\])?(?P<sep> ?[:：]| |$)?(?=(?P<degree>很|颇|非常|良多|匪浅|深刻|满满|不少)?)"
)
_STREAK = re.compile(r"^ ?(?:第 ?[\d零〇一二两三四五六七八九十百千]{1,6} ?天|[Dd]ay ?\d{1,5})")
_DAY_WORD = re.compile(
    r"^(?:今天|今日|今晚|今早|今晨|当天|那天)我?(?=(?:认真|继续|重新|又)?(?:学|读|阅|研|精|看|听|观|重|温)"
    r"|[《〈 ,，:：])"
)
_VERB = re.compile(
    r"^我?(?:认真|继续|重新|又)?(?:学习了|学习|阅读了|阅读|研读了|研读|精读了|精读|读完了|读完"
    r"|读了|读|看完了|看了|看|听了|听|观看了|观看|重温了|重温|温习了|温习)(?=[《〈 :：])"
)
_PUNCT_RUN = re.compile(r" ?([,，、;；。.]) ?(?:[,，、;；。.] ?)*")
_QUESTION_END = re.compile(r"(?:[?？]|[吗呢么][?？!！。.~]*)$")
_KEEP_AT_EDGES = frozenset("《》〈〉()（）「」“”\"'")


def parse_body(text: str) -> Body:
    """Split a check-in body into titles, minutes, reflection and material."""
    text = text.replace("<<", "《").replace(">>", "》")  # typed without a Chinese keyboard
    text, titles, masked = _scan_titles(text)
    note: str | None = None
    head, head_masked, question = text, masked, False
    note_match = _NOTE.search(masked)
    if note_match is not None:
        head, head_masked = text[: note_match.start()], masked[: note_match.start()]
        glued = note_match["degree"] and not (note_match["sep"] or note_match["close"])
        note_start = note_match.start("keyword") if glued else note_match.end()
        note = widen_punct(text[note_start:].strip(" :：,，】]")) or None
        question = _QUESTION_END.fullmatch(text[note_match.end() :].strip()) is not None
    minutes, spans = _durations(head_masked)
    if minutes is None and note is not None:
        note, minutes = _trailing_duration(note)
    for start, end in reversed(spans):
        head = f"{head[:start]} {head[end:]}"
    material = _clean_material(head)
    question = question or _QUESTION_END.search(_strip_trailing_emoji(head)) is not None
    return Body(titles, minutes, note, material, question)


def _scan_titles(text: str) -> tuple[str, tuple[str, ...], str]:
    """(text with unclosed 《 closed, titles, text with title contents masked)."""
    out: list[str] = []
    masked: list[str] = []
    titles: list[str] = []
    i, n = 0, len(text)
    while i < n:
        opener = text[i]
        close = _OPEN_CLOSE.get(opener)
        if close is None:
            out.append(opener)
            masked.append(opener)
            i += 1
            continue
        j = i + 1
        while j < n and text[j] != close and text[j] != opener and text[j] != "《":
            j += 1
        if j < n and text[j] == close:
            content, i = text[i + 1 : j], j + 1
        else:  # unclosed: the title ends at the next space or punctuation
            j = i + 1
            while j < n and text[j] not in _TITLE_STOP:
                j += 1
            content, i = text[i + 1 : j], j
        out.append(f"{opener}{content}{close}")
        masked.append(f"{opener}{_MASK * len(content)}{close}")
        title = content.strip()
        if title and title not in titles:
            titles.append(title)
    return "".join(out), tuple(titles), "".join(masked)


# Spoken durations: 一刻钟 (15), 五十来分钟 / 四十多分钟 (about 50 / 40), 一个多小时 / 一个来小时
# (about 60), 个把小时 (60), 半拉小时 (30), 一小时半 (90);
# written ones: 35′ (minutes, the prime sign) and a clock range studied, 6:20-7:00 (40).
_ROUGH_DURATION = re.compile(
    rf"(?P<q>[一两三四\d])刻钟|(?P<m>{_NUM})(?:来|多) ?分钟"
    rf"|(?P<h>{_NUM}) ?个?(?:多|来)(?:小时|钟头)"
    r"|(?P<one>个把)(?:小时|钟头|钟)|(?P<halfla>半拉)(?:小时|钟头)"
    rf"|(?P<hh>{_NUM}) ?个?(?:小时|钟头)半(?![个小钟])"
    r"|(?<![\d.])(?P<prime>\d{1,3}) ?[′']"
    r"|(?<![\d:])(?P<h1>[01]?\d|2[0-3]):(?P<m1>[0-5]\d) ?(?:-|~|～|—|–|到|至) ?"
    r"(?P<h2>[01]?\d|2[0-3]):(?P<m2>[0-5]\d)(?![\d:])"
)


def _rough(match: re.Match[str]) -> float | None:
    if match["prime"]:
        return int(match["prime"])
    if match["h1"]:
        start = int(match["h1"]) * 60 + int(match["m1"])
        minutes = int(match["h2"]) * 60 + int(match["m2"]) - start
        return minutes if 0 < minutes <= 300 else None
    if match["q"]:
        value = parse_number(match["q"])
        return None if value is None else value * 15
    if match["one"]:
        return 60
    if match["halfla"]:
        return 30
    if match["hh"]:
        value = parse_number(match["hh"])
        return None if value is None else value * 60 + 30
    if match["m"]:
        return parse_number(match["m"])
    value = parse_number(match["h"])
    return None if value is None else value * 60


def _durations(masked: str) -> tuple[int | None, list[tuple[int, int]]]:
    """Total minutes of every duration in the text and their spans."""
    total: float | None = None
    spans: list[tuple[int, int]] = []
    for match in _ROUGH_DURATION.finditer(masked):
        value = _rough(match)
        if value is not None:
            total = (total or 0) + value
            spans.append(match.span())
    if spans:
        masked = "".join(
            " " if any(s <= i < e for s, e in spans) else ch for i, ch in enumerate(masked)
        )
    for match in _DURATION.finditer(masked):
        value = _minutes(match)
        if value is None:
            continue
        total = (total or 0) + value
        spans.append(match.span())
    return (None if total is None else round(total)), spans


def minutes_in(text: str) -> int | None:
    """The minutes of the durations in ``text`` (titles already masked), or None."""
    return _durations(text)[0]


def _minutes(match: re.Match[str]) -> float | None:
    if match["halfhour"]:
        return 30
    if match["m"] is not None:
        if match["m"] == "十" and not match.group(0).endswith("钟"):
            return None  # 十分 is "very" (十分重要), not ten minutes
        value = parse_number(match["m"])
        return value
    hours = parse_number(match["h"] or "")
    if hours is None:
        return None
    extra = parse_number(match["hm"]) if match["hm"] else 0.0
    if extra is None:
        return None
    return (hours + (0.5 if match["half"] else 0)) * 60 + extra


def _trailing_duration(note: str) -> tuple[str | None, int | None]:
    """心得：…… 用时40分钟: a duration that ends the reflection is the time studied."""
    for match in _DURATION.finditer(note):
        if _trim(note[match.end() :]) == "":
            value = _minutes(match)
            if value is not None:
                return _trim(note[: match.start()]) or None, round(value)
    return note, None


def _clean_material(text: str) -> str:
    text = " ".join(text.split())
    text = _STREAK.sub("", _trim(text))
    text = _trim(text)
    text = _DAY_WORD.sub("", text)
    text = _VERB.sub("", text)
    text = _PUNCT_RUN.sub(r"\1", text)
    return widen_punct(_trim(text))


def _strip_trailing_emoji(text: str) -> str:
    end = len(text)
    while end > 0 and (text[end - 1].isspace() or unicodedata.category(text[end - 1]) == "So"):
        end -= 1
    return text[:end]


def _trim(text: str) -> str:
    """Strip spaces, punctuation and emoji at both ends, but not brackets such as 《》."""
    start, end = 0, len(text)
    while start < end and _is_edge_junk(text[start]):
        start += 1
    while end > start and _is_edge_junk(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_edge_junk(ch: str) -> bool:
    if ch in _KEEP_AT_EDGES:
        return False
    return ch.isspace() or unicodedata.category(ch)[0] in "PSZC"
