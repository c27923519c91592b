"""A one-slot correction of a reading the bot asked about (更正).

While a :class:`bot.dispatcher.Guess` waits for 是/确认, the sender may answer with just the
part that was wrong: ``周四下午``, ``不是第2组，是第3组``, ``改成12月5日前``, ``SQ-2025-0042``
(the number the bot asked for), ``类别：社会治理``. :func:`amend` writes that part into the
waiting message — in place of the slot of the same kind it replaces, or in front of it when
the message had none — so the message is read again, as a whole, with the correction; the
dispatcher then states the new reading and asks again.

Pure: the waiting text, the answer and ``now`` in; the amended text, or None when the answer
is not a correction of one slot (then it is a new message of its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from handlers.reports.parse import CATEGORIES
from handlers.text import slots
from handlers.text.normalize import normalize

# 不是第2组，是第3组 / 第2组改成第3组 / 改为周四下午 / 应该是3号 / 换成全体委员 / 是第3组
_CORRECTION = re.compile(
    r"^(?:不是|不对|错了)?[,，\s]*(?:(?P<old>.{1,20}?)[,，\s]*)?"
    r"(?:而是|应该是|应是|改成|改为|换成|更正为|是)[:：\s]*(?P<new>.+)$"
)
_EDGE = " ,，。.!！~～:：;；的"
_CATEGORY = re.compile(r"^(?:类别|分类)?\s*[:：]?\s*(?P<c>\S{2,6}?)(?:类)?$")


@dataclass(frozen=True, slots=True)
class _Slot:
    kind: str  # time|group|number|category
    text: str  # as the sender wrote it (normalized)


def amend(waiting: str, answer: str, now: datetime) -> str | None:
    """``waiting`` with the one slot ``answer`` corrects, or None (see module docstring)."""
    text = normalize(waiting, keep_newlines=True)
    said = normalize(answer)
    match = _CORRECTION.match(said)
    old, new = (match["old"], match["new"]) if match else (None, said)
    old = old.strip(_EDGE) if old else None
    slot = _slot(new.strip(_EDGE), now)
    if slot is None or (old and _slot(old, now) is None):
        return None
    if old and old in text:  # 不是12月3日，是12月4日: the words named, as written (上午9点 stays)
        return text.replace(old, slot.text, 1)
    if slot.kind == "number":
        return _replace_number(text, slot.text)
    if slot.kind == "group":
        return _replace_groups(text, slot.text, old)
    if slot.kind == "category":
        return _replace_category(text, slot.text)
    return _replace_time(text, slot.text, old, now)


def _slot(part: str, now: datetime) -> _Slot | None:
    """``part`` when it is one slot and nothing else."""
    if not part or len(part) > 30:
        return None
    numbers = slots.find_numbers(part)
    if len(numbers) == 1 and _covers(part, [numbers[0].span]):
        return _Slot("number", part)
    groups = slots.find_groups(part)
    if groups and _covers(part, [span for _, span in groups], extra="、和及与,，"):
        return _Slot("group", part)
    category = _CATEGORY.match(part)
    if category and category["c"] in CATEGORIES:
        return _Slot("category", category["c"])
    phrases = slots.time_phrases(part, now)
    if phrases and _covers(part, [p.span for p in phrases], extra="的"):
        return _Slot("time", part)
    return None


def _covers(part: str, spans: list[tuple[int, int]], extra: str = "") -> bool:
    rest = slots.cut(part, spans)
    return not rest.strip(_EDGE + extra + " ")


def _replace_number(text: str, new: str) -> str:
    kind = slots.find_numbers(new)[0].kind
    same = [n for n in slots.find_numbers(text) if n.kind == kind]
    if same:
        start, end = same[0].span
        return text[:start] + new + text[end:]
    return f"{new} {text}"


def _replace_groups(text: str, new: str, old: str | None) -> str:
    found = slots.find_groups(text)
    if old:
        wrong = set(slots.group_names(old))
        found = [(name, span) for name, span in found if name in wrong]
    if not found:
        return f"{new} {text}"
    spans = sorted({span for _, span in found})
    out, last = [], 0
    for index, (start, end) in enumerate(spans):
        out.append(text[last:start])
        out.append(new if index == 0 else "")
        last = end
    out.append(text[last:])
    return "".join(out)


def _replace_category(text: str, category: str) -> str:
    label = re.search(r"(类别|分类)\s*[:：]\s*[^\s\n,，。;；]+", text)
    if label:
        return text[: label.start()] + f"类别：{category}" + text[label.end() :]
    return f"{text}\n类别：{category}"


def _replace_time(text: str, new: str, old: str | None, now: datetime) -> str:
    """The phrase ``old`` names; else a deadline for a deadline (改成12月5日前), and for a time
    the notice's send time or the first time that is no deadline (the meeting's start)."""
    phrases = slots.time_phrases(text, now)
    target = None
    if old:
        wanted = {p.at for p in slots.time_phrases(old, now)}
        target = next((p.span for p in phrases if p.at in wanted), None)
    deadline = any(p.is_deadline for p in slots.time_phrases(new, now))
    if target is None and not deadline:
        sent = slots.send_time(text, now)
        start = sent[1][0] if sent else -1
        target = next((p.span for p in phrases if p.span[0] in (start, start + 1)), None)
    if target is None:
        target = next((p.span for p in phrases if p.is_deadline == deadline), None)
    if target is None:
        return f"{new} {text}"
    start, end = target
    if text[start] in "于在" and new[0] not in "于在":
        start += 1  # 于12月3日 → 于12月4日
    return text[:start] + new + text[end:]
