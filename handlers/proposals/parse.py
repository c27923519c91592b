"""提案: pure parsers for proposals, their review, co-proposers' 附议 and the 满意度.

Every function takes the raw text and returns a frozen value or None; nothing here reads the
database or the configuration. A number is read in any office's format that puts letters, the
year and a sequence in that order (``TA-2025-0015``, ``ZX2025015``, ``ta 2025 15``) or as
``2025年第15号提案``; the value carries it canonically (``TA-2025-0015``, the letters as
written) and the handler looks the proposal up by year and sequence, so the office's
``[proposals] number_format`` may change without the parser knowing.

A proposal in one message::

    提案：关于加快农村寄递物流体系建设的建议      (or 【提案】…, or 案由：…)
    案据：……                                      (情况 / 背景 / 现状 / 存在问题)
    建议：……                                      (办法 / 对策 / 措施)
    联名：张三、李四                              (optional)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from handlers.text.normalize import normalize, widen_punct

TITLE_LIMIT = 100
CONTENT_LIMIT = 20000
# Letters of the other features' numbers: never a proposal's.
_OTHER_KINDS = r"(?!(?:SQ|TZ|HY|DB|HD)[-_\s\d])"
NUMBER = (
    rf"(?<![A-Za-z]){_OTHER_KINDS}(?P<prefix>[A-Za-z]{{1,4}})\s*[-_—]?\s*(?P<year>20\d\d)"
    r"\s*[-_—]?\s*(?P<seq>\d{1,5})(?!\d)"
    r"|(?P<y2>20\d\d)\s*年?(?:度)?\s*第?\s*(?P<s2>\d{1,5})\s*号\s*提案"
)
NUMBER_RE = re.compile(NUMBER, re.IGNORECASE)
ANY_NUMBER = re.sub(r"\(\?P<\w+>", "(?:", NUMBER)  # the same, without named groups
LEVELS = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}
REVIEW_VERBS: tuple[tuple[str, str], ...] = (
    ("不予立案", "reject"),
    ("不立案", "reject"),
    ("立案", "accept"),
    ("并案", "merge"),
    ("交办", "assign"),
    ("重新交办", "assign"),
    ("答复", "answer"),
    ("办结", "close"),
    ("重点提案", "key"),
    ("列为重点", "key"),
    ("领办", "lead"),
)


@dataclass(frozen=True, slots=True)
class ProposalText:
    """A proposal written in one message. ``content`` is the whole body; ``situation`` (案据)
    and ``suggestion`` (办法/建议) are its parts when labelled."""

    intent: ClassVar[str] = "proposal"
    title: str
    content: str
    cosigners: tuple[str, ...] = ()
    situation: str = ""
    suggestion: str = ""


@dataclass(frozen=True, slots=True)
class ProposalStart:
    """``提交提案``: write one over several messages (shown as a ``proposal`` with nothing
    written yet: ``lvzhi parse`` gives ``{"intent": "proposal"}``)."""

    intent: ClassVar[str] = "proposal"


@dataclass(frozen=True, slots=True)
class ProposalQuery:
    """``我的提案`` (number None) or ``查询 TA-2025-0015``."""

    intent: ClassVar[str] = "proposal_query"
    number: str | None


@dataclass(frozen=True, slots=True)
class ProposalReview:
    """The office's step: ``action`` accept|reject|merge|assign|answer|close|key|lead|list.

    ``unit``: 交办's 主办单位 (``co_units`` the 协办单位) or 答复's answering unit;
    ``into``: 并案's other proposal; ``classification``: 答复's code as written (``A``);
    ``convert``: 不予立案's ``report`` (转为社情民意) or ``letter`` (转来信); ``leader``:
    领办's leader."""

    intent: ClassVar[str] = "proposal_review"
    action: str
    number: str | None
    comment: str | None = None
    unit: str | None = None
    co_units: tuple[str, ...] = ()
    into: str | None = None
    classification: str | None = None
    convert: str | None = None
    leader: str | None = None


@dataclass(frozen=True, slots=True)
class Cosign:
    """A co-proposer's own answer: ``附议 TA-…`` (agree) or ``不附议 TA-…``."""

    intent: ClassVar[str] = "cosign"
    number: str | None
    agree: bool = True


@dataclass(frozen=True, slots=True)
class Satisfaction:
    """The proposer's 满意度: ``level`` satisfied|basic|unsatisfied, ``reason`` (不满意's)."""

    intent: ClassVar[str] = "satisfaction"
    number: str | None
    level: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class DraftInput:
    """One message while drafting: ``kind`` confirm|title|situation|suggestion|cosigners|text."""

    kind: str
    value: str = ""


# -- numbers ------------------------------------------------------------------------------------


def canonical(match: re.Match[str]) -> str:
    if match["y2"]:
        return f"TA-{match['y2']}-{int(match['s2']):04d}"
    return f"{match['prefix'].upper()}-{match['year']}-{int(match['seq']):04d}"


def find_number(text: str) -> tuple[str, tuple[int, int]] | None:
    """The first proposal number in normalized ``text`` and its span."""
    match = NUMBER_RE.search(text)
    return (canonical(match), match.span()) if match else None


def year_seq(number: str) -> tuple[int, int]:
    """``TA-2025-0015`` → (2025, 15)."""
    _, year, seq = number.rsplit("-", 2)
    return int(year), int(seq)


def format_number(fmt: str, year: int, seq: int) -> str:
    return fmt.format(year=year, seq=seq)


# -- a proposal in one message --------------------------------------------------------------------

_HEAD = re.compile(
    r"^(?:【提案】|#提案#|\[提案\]|提案(?:标题|题目|名称)\s*:(?=\s*\S)"
    r"|(?:提交|新建|递交|提)?(?:一件|一个|个|件)?(?:集体|个人|联名)?提案(?:内容)?"
    r"(?:\s*:|\s+(?=关于|案由|题目|标题)))\s*(?P<t>.*)$"
)
_COLON_LABELS = (
    r"案由|标题|题目|案据|情况|背景|现状|存在问题|问题|理由|办法|建议|对策|措施|意见建议|具体建议"
    r"|联名人?|联名委员|附议人?|附议委员|提案人|内容|正文"
)
# Written without a colon too (题目 关于…, 联名委员 杨光明 者永昌): only words that do not
# begin ordinary sentences (建议…, 情况… do).
_BARE_LABELS = r"案由|标题|题目|联名人?|联名委员|附议人?|附议委员|提案人|内容|正文"
# Said, not typed: 题目是…，案由是…，办法是… (是/为 for the colon).
_SAID = r"(?::|是|为)"
_LABEL = re.compile(
    rf"^(?P<label>{_COLON_LABELS})\s*{_SAID}\s*(?P<value>.*)$"
    rf"|^(?P<bare>{_BARE_LABELS})\s+(?P<v2>\S.*)$"
)
_LABEL_IN_LINE = re.compile(
    rf"\s*[;,，]\s*(?=(?:{_COLON_LABELS})\s*{_SAID})|\s+(?=(?:{_COLON_LABELS})\s*{_SAID})"
    rf"|\s+(?=(?:{_BARE_LABELS})\s+\S)"
)
_KEYS = {
    **dict.fromkeys(("案由", "标题", "题目"), "title"),
    **dict.fromkeys(("案据", "情况", "背景", "现状", "存在问题", "问题", "理由"), "situation"),
    "提案人": "proposer",
    **dict.fromkeys(("办法", "建议", "对策", "措施", "意见建议", "具体建议"), "suggestion"),
    **dict.fromkeys(("联名", "联名人", "联名委员", "附议", "附议人", "附议委员"), "cosigners"),
    **dict.fromkeys(("内容", "正文"), "content"),
}
_SPLIT_NAMES = re.compile(r"[、,;\s/和及]+")


_NOBODY = frozenset({"无", "没有", "暂无", "无联名", "无附议"})


def parse_names(value: str) -> tuple[str, ...]:
    """``张三、李四 王五`` → the names, in order, without repeats; ``无`` → none."""
    names = [re.sub(r"委员$", "", n.strip("。.")) for n in _SPLIT_NAMES.split(normalize(value))]
    return tuple(dict.fromkeys(n for n in names if n and n not in _NOBODY))


_BARE_HEAD = re.compile(
    r"^(?:我要|我想)?(?:提交|新建|递交|提)?(?:一件|一个|个|件)?(?:集体|个人|联名)?提案\s*:?$"
)
# 案由：… first, or a title label whose title is a proposal's (题目：关于…的提案).
_TITLE_FIRST = re.compile(r"^案由\s*:|^(?:题目|标题)\s*:.*(?:提案|议案)$")


def parse_proposal(text: str) -> ProposalText | None:
    """``提案：标题`` + labelled parts, or ``案由：…`` first; None for anything else."""
    lines = [x.strip() for x in normalize(text, keep_newlines=True).split("\n")]
    head = _HEAD.match(lines[0])
    if head is not None:
        first = head["t"].strip()
        if first and not _LABEL.match(first):
            title, rest = _title_and_rest(first)
            rest = rest if not rest or _LABEL.match(rest) else f"内容:{rest}"
            first = f"案由:{title} {rest}".strip()
        lines = [first, *lines[1:]]
    elif _BARE_HEAD.match(lines[0]) and len(lines) > 1 and _LABEL.match(lines[1]):
        lines = lines[1:]  # 提交提案 on a line of its own, then the labelled parts
    elif not _TITLE_FIRST.match(lines[0]):
        return None
    fields: dict[str, list[str]] = {
        key: [] for key in ("title", "situation", "suggestion", "cosigners", "content", "proposer")
    }
    current = "content"
    for line in _split_labels(lines):
        label = _LABEL.match(line)
        if label is None:
            if line:
                fields[current if current != "title" else "content"].append(line)
            continue
        current = _KEYS[label["label"] or label["bare"]]
        if current == "title" and fields["title"]:
            current = "situation"  # 案由 after a title: the reasons (as many write it)
        value = (label["value"] if label["label"] else label["v2"]).strip()
        if value:
            fields[current].append(value)
        if current in ("cosigners", "proposer"):
            current = "content"
    title = widen_punct(" ".join(fields["title"]).strip(" 。"))
    if not title:
        return None
    return _proposal(title, fields)


def _title_and_rest(line: str) -> tuple[str, str]:
    """A heading line ``关于……的提案。建议……``: the title ends at the first 。 or ;."""
    title, _, rest = re.sub(r"[。;]", "\n", line, count=1).partition("\n")
    spaced = _SPACED_TITLE.match(title)  # 关于……的提案 个人提案 无联名
    if spaced is not None:
        title, rest = spaced[1], f"{spaced[2]} {rest}"
    return title.strip(), _REMARKS.sub("", rest).strip()


_SPACED_TITLE = re.compile(r"^(关于\S{2,80}?(?:提案|建议|议案))\s+(.*)$")
_REMARKS = re.compile(r"(?:个人|集体|联名)提案|无(?:联名|附议)人?")


def _proposal(title: str, fields: dict[str, list[str]]) -> ProposalText:
    situation = widen_punct("\n".join(fields["situation"] + fields["content"])).strip()
    suggestion = widen_punct("\n".join(fields["suggestion"])).strip()
    content = "\n".join(
        part
        for part in (
            f"案据：{situation}" if situation and suggestion else situation,
            f"建议：{suggestion}" if suggestion else "",
        )
        if part
    )
    return ProposalText(
        title=title[:TITLE_LIMIT],
        content=content[:CONTENT_LIMIT],
        cosigners=parse_names("、".join(fields["cosigners"])),
        situation=situation[:CONTENT_LIMIT],
        suggestion=suggestion[:CONTENT_LIMIT],
    )


def _split_labels(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        out.extend(part.strip(" ;") for part in _LABEL_IN_LINE.split(line))
    return out


# -- members' other words -------------------------------------------------------------------------

_START = re.compile(
    r"^(?:我要|我想|想|开始|现在)?(?:提交|提|写|填写?|新建|起草|撰写|上报|报送)?"
    r"(?:一个|一件|一份|个|件|份)?(?:政协)?提案(?:草稿)?$"
)
_MINE = re.compile(r"^(?:查看|查询|查)?我的(?:政协)?提案(?:列表|进度|情况|办理情况)?$")
_QUERY = re.compile(
    rf"^(?:查询|查看|查|进度|查进度|提案)?\s*(?:{ANY_NUMBER})\s*(?:进度|情况)?$", re.I
)
_COSIGN = re.compile(
    rf"^(?P<no>不|不同意|拒绝)?(?:附议|同意联名|确认联名|同意附议|确认附议)(?:提案)?\s*(?:{ANY_NUMBER})?$",
    re.IGNORECASE,
)
_SATISFACTION = re.compile(
    rf"^(?:(?:{ANY_NUMBER})\s*)?(?:满意度\s*:?\s*)?(?P<level>基本满意|不满意|满意)"
    rf"\s*(?:{ANY_NUMBER})?(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)


def parse_start(text: str) -> ProposalStart | None:
    return ProposalStart() if _START.match(normalize(text)) else None


def parse_query(text: str) -> ProposalQuery | None:
    clean = normalize(text)
    if _MINE.match(clean):
        return ProposalQuery(None)
    match = _QUERY.match(clean)
    return ProposalQuery(canonical(_inner(match))) if match else None


def _inner(match: re.Match[str]) -> re.Match[str]:
    """The NUMBER match inside a larger pattern's match."""
    found = NUMBER_RE.search(match[0])
    assert found is not None
    return found


def parse_cosign(text: str) -> Cosign | None:
    clean = normalize(text).strip(" 。.!！")
    match = _COSIGN.match(clean)
    if match is None:
        return None
    number = find_number(clean)
    return Cosign(number[0] if number else None, agree=not match["no"])


def parse_satisfaction(text: str) -> Satisfaction | None:
    """``满意 TA-…``, ``TA-… 基本满意``, ``不满意 TA-… 理由``; a bare level needs a number."""
    clean = normalize(text, keep_newlines=True).strip()
    match = _SATISFACTION.match(clean)
    if match is None:
        return None
    number = find_number(clean)
    if number is None:
        return None  # 满意 alone is chit-chat; the natural reading asks which proposal
    level = {"满意": "satisfied", "基本满意": "basic", "不满意": "unsatisfied"}[match["level"]]
    rest = NUMBER_RE.sub("", match["rest"])
    reason = widen_punct(re.sub(r"^[\s,:;。，：；]*(?:理由|原因)?\s*[:是]?\s*", "", rest)).strip()
    return Satisfaction(number[0], level, reason or None)


# -- the office -----------------------------------------------------------------------------------

_REVIEW = re.compile(
    r"^(?P<verb>待审提案|提案待审|"
    + "|".join(re.escape(v) for v, _ in REVIEW_VERBS)
    + rf")\s*(?P<number>{ANY_NUMBER})?(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_CONVERT = re.compile(r"[,，;；\s]*(?:并|并且)?(?:转为|转成|转入|转作|转)(?P<to>社情民意|来信)")
_CO_UNITS = re.compile(r"[,，;；\s]*(?:协办(?:单位)?)\s*[:：]?\s*(?P<v>[^。;；\n]+)")
_CLASS = re.compile(r"^(?P<c>[A-Za-z])\s*类?(?:\s+|[:：,，]|$)")
_INTO = re.compile(rf"(?:并入|并到|合并到|合并至|并至)?\s*(?:{ANY_NUMBER})", re.IGNORECASE)


def parse_review(text: str) -> ProposalReview | None:
    clean = normalize(text, keep_newlines=True).strip()
    match = _REVIEW.match(clean)
    if match is None:
        return None
    verb = match["verb"]
    if verb in ("待审提案", "提案待审"):
        return ProposalReview("list", None) if not match["rest"].strip() else None
    action = dict(REVIEW_VERBS)[verb]
    rest = re.sub(r"^[\s,:;，：；]+", "", match["rest"]).strip()
    if not match["number"]:
        return ProposalReview(action, None) if not rest else None
    return review_value(action, canonical(_inner(match)), rest)


def review_value(action: str, number: str, rest: str) -> ProposalReview:
    """What the words after the number record, by action (shared with the natural reading)."""
    rest = rest.strip(" ,，。:：;；")
    if action == "reject":
        convert = _CONVERT.search(rest)
        to = {"社情民意": "report", "来信": "letter"}[convert["to"]] if convert else None
        # The reason as written, conversion words included (建议转为社情民意信息 is a reason).
        return ProposalReview(action, number, widen_punct(rest) or None, convert=to)
    if action == "merge":
        into = _INTO.search(rest)
        other = canonical(_inner(into)) if into else None
        comment = _INTO.sub("", rest, count=1).strip(" ,，。;；") if into else rest
        return ProposalReview(action, number, widen_punct(comment) or None, into=other)
    if action == "assign":
        co = _CO_UNITS.search(rest)
        co_units = parse_units(co["v"]) if co else ()
        main = _CO_UNITS.sub("", rest).strip()
        main = re.sub(r"^(?:主办(?:单位)?\s*[:：]?|给|至|到)\s*", "", main)
        unit, _, comment = main.partition(" ")
        return ProposalReview(
            action,
            number,
            widen_punct(comment.strip()) or None,
            unit.strip("，,") or None,
            co_units,
        )
    if action == "answer":
        cls = _CLASS.match(rest)
        code = cls["c"].upper() if cls else None
        body = rest[cls.end() :] if cls else rest
        return ProposalReview(
            action, number, widen_punct(body.strip()) or None, classification=code
        )
    if action == "lead":
        leader, _, comment = rest.partition(" ")
        return ProposalReview(action, number, widen_punct(comment) or None, leader=leader or None)
    return ProposalReview(action, number, widen_punct(rest) or None)


def parse_units(value: str) -> tuple[str, ...]:
    units = [u.strip(" 。.") for u in re.split(r"[、,，;；/和及]+", value)]
    return tuple(dict.fromkeys(u for u in units if u))


# -- while drafting -------------------------------------------------------------------------------

_CONFIRM = re.compile(r"^(?:确认提交|确认|提交|确定提交|确定)$")
_DRAFT_LABEL = re.compile(
    r"^(案由|标题|题目|案据|情况|背景|现状|办法|建议|对策|措施|联名人?|联名委员)\s*[:：]\s*(?P<v>.+)$",
    re.S,
)


def parse_draft_input(text: str) -> DraftInput:
    clean = normalize(text, keep_newlines=True).strip()
    if _CONFIRM.match(clean):
        return DraftInput("confirm")
    label = _DRAFT_LABEL.match(clean)
    if label is not None:
        key = {"联名人": "cosigners", "联名委员": "cosigners"}.get(label[1]) or _KEYS.get(label[1])
        if key is not None:
            return DraftInput(key, widen_punct(label["v"].strip()))
    return DraftInput("text", widen_punct(clean))
