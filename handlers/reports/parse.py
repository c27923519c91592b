"""社情民意: pure parsers for reports, queries, secretaries' review commands and draft input.

Every function takes the member's raw text and returns a frozen value or None; nothing here
reads the database. :func:`handlers.text.normalize.normalize` folds full-width ``：，`` to ASCII,
so the patterns match ``:`` and ``,``; text shown back to people goes through ``widen_punct``.

A report in one message::

    社情民意：关于加强农村饮水工程管护的建议        (or 【社情民意】…)
    基本情况：……
    存在问题：……
    建议：……
    类别：民生保障                                 (optional)
    联名：张三、李四                               (optional)

or labelled: ``标题：… 类别：… 内容：…`` (one line each, 内容 runs to the end).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from handlers.text.normalize import normalize, widen_punct
from handlers.text.slots import reason

CATEGORIES = (
    "经济发展",
    "民生保障",
    "社会治理",
    "生态环境",
    "文化教育",
    "医疗卫生",
    "民族宗教",
    "其他",
)
FORWARD_LEVELS = ("市政协", "省政协", "全国政协")
ENDORSE_LEVELS = ("县领导", "市领导", "省领导", "国家领导")
REVIEW_ACTIONS = {
    "待审": "list",
    "不予采用": "reject",
    "采用": "adopt",
    "退回": "return",
    "报送": "forward",
    "批示": "endorse",
    "转办": "assign",
    "反馈": "answer",
    "办结": "close",
}
TITLE_LIMIT = 100
CONTENT_LIMIT = 20000

_NUMBER = r"(?:SQ[-\s]?(?P<year>\d{4})[-\s]?(?P<seq>\d{1,5})|(?P<y2>\d{4})-(?P<s2>\d{1,5}))"
_NUMBER_RE = re.compile(_NUMBER, re.IGNORECASE)
_HEAD = re.compile(
    r"^(?:【社情民意(?:信息)?】|#社情民意(?:信息)?#|社情民意(?:信息)?)\s*:?\s*(?P<t>.*)$"
)
_LABEL = re.compile(
    r"^(?P<label>标题|题目|类别|分类|联名人?|联名委员|内容|正文)\s*:\s*(?P<value>.*)$"
)
_SECTION_IN_LINE = re.compile(
    r"\s(?=(?:基本情况|现状|存在问题|主要问题|意见建议|对策建议|建议)\s*:)"
)
_START = re.compile(
    r"^(?:我要|我想)?(?:提交|反映|报送|写|填写|上报|填报)?社情民意(?:信息)?(?:草稿)?$"
)
_MINE = re.compile(r"^(?:我的|查看我的|查询我的)社情民意(?:信息)?(?:列表|进度)?$")
_QUERY = re.compile(rf"^(?:查询|查看|查|进度|查进度)?\s*{_NUMBER}$", re.IGNORECASE)
_REVIEW = re.compile(
    r"^(?P<verb>待审核?|待审列表|不予采用|采用|退回|报送|批示|转办|反馈|办结)"
    rf"(?:\s*{_NUMBER})?(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_RECATEGORIZE = re.compile(
    rf"^(?:修改|更改|调整)?类别\s*{_NUMBER}\s*(?:改为|为|:)?\s*(?P<cat>\S+)$", re.IGNORECASE
)
_RESUBMIT = re.compile(rf"^重新提交\s*{_NUMBER}(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_CONFIRM = re.compile(r"^(?:确认提交|确认|提交|确定提交|确定)$")
_LABEL_IN_LINE = re.compile(r"\s+(?=(?:标题|题目|类别|分类|联名人?|联名委员|内容|正文)\s*:)")
_SPLIT_NAMES = re.compile(r"[、,;\s/]+")
_LEAD_SEP = re.compile(r"^[\s:,]+")

_ALIASES = {
    "经济": "经济发展",
    "民生": "民生保障",
    "社会": "社会治理",
    "治理": "社会治理",
    "生态": "生态环境",
    "环境": "生态环境",
    "环保": "生态环境",
    "文化": "文化教育",
    "教育": "文化教育",
    "医疗": "医疗卫生",
    "卫生": "医疗卫生",
    "医药卫生": "医疗卫生",
    "民族": "民族宗教",
    "宗教": "民族宗教",
    "其它": "其他",
}
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "经济发展": (
        "经济",
        "产业",
        "企业",
        "营商",
        "投资",
        "招商",
        "金融",
        "税",
        "消费",
        "工业",
        "乡村振兴",
        "民营",
        "电商",
        "园区",
        "融资",
    ),
    "民生保障": (
        "养老",
        "就业",
        "住房",
        "社保",
        "饮水",
        "供水",
        "低保",
        "救助",
        "残疾",
        "物价",
        "公交",
        "停车",
        "燃气",
        "供暖",
        "托育",
        "民生",
        "老旧小区",
    ),
    "社会治理": (
        "治理",
        "治安",
        "矛盾",
        "纠纷",
        "信访",
        "网格",
        "基层",
        "物业",
        "诈骗",
        "消防",
        "应急",
        "安全",
        "平安",
    ),
    "生态环境": (
        "生态",
        "环境",
        "污染",
        "垃圾",
        "河道",
        "绿化",
        "环保",
        "森林",
        "湿地",
        "噪声",
        "污水",
        "水源地",
        "碳",
    ),
    "文化教育": (
        "教育",
        "学校",
        "学生",
        "教师",
        "文化",
        "图书",
        "非遗",
        "旅游",
        "体育",
        "幼儿园",
        "文物",
        "课后",
    ),
    "医疗卫生": (
        "医疗",
        "医院",
        "医保",
        "卫生",
        "疾病",
        "药",
        "医生",
        "护理",
        "疫苗",
        "健康",
        "诊所",
        "村医",
    ),
    "民族宗教": ("民族", "宗教", "寺庙", "教堂", "双语", "团结"),
}


@dataclass(frozen=True, slots=True)
class ReportText:
    """A report written in one message."""

    intent: ClassVar[str] = "report"
    title: str
    category: str | None  # None: not given (the handler suggests one)
    content: str
    cosigners: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReportStart:
    """``提交社情民意``: start drafting over several messages."""

    intent: ClassVar[str] = "report_start"


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """``我的社情民意`` (number None) or ``查询 SQ-2025-0042``."""

    intent: ClassVar[str] = "report_query"
    number: str | None


@dataclass(frozen=True, slots=True)
class ReviewCommand:
    """A secretary's command (审核/报送/批示/转办/反馈/办结); ``action`` in REVIEW_ACTIONS."""

    intent: ClassVar[str] = "review"
    action: str
    number: str | None
    comment: str | None
    level: str | None = None  # 报送: 市政协/省政协/全国政协; 批示: 县/市/省/国家领导
    target: str | None = None  # 转办: the department; 批示: the leader as written


@dataclass(frozen=True, slots=True)
class Recategorize:
    """``修改类别 SQ-2025-0042 民生保障``; ``category`` None when the word is no category."""

    intent: ClassVar[str] = "report_category"
    number: str
    category: str | None
    written: str


@dataclass(frozen=True, slots=True)
class Resubmit:
    """``重新提交 SQ-2025-0042`` after 退回, optionally with the revised content below."""

    intent: ClassVar[str] = "report_resubmit"
    number: str
    content: str | None


@dataclass(frozen=True, slots=True)
class ConfirmWithoutDraft:
    intent: ClassVar[str] = "report_confirm"


@dataclass(frozen=True, slots=True)
class DraftInput:
    """One message during a draft: ``kind`` confirm|category|cosigners|title|append|text."""

    kind: str
    value: str = ""


# -- small pieces -----------------------------------------------------------------------------


def canonical_number(match: re.Match[str]) -> str:
    year = match["year"] or match["y2"]
    seq = match["seq"] or match["s2"]
    return f"SQ-{year}-{int(seq):04d}"


def format_number(year: int, seq: int) -> str:
    return f"SQ-{year}-{seq:04d}"


def parse_number(text: str) -> str | None:
    match = _NUMBER_RE.fullmatch(normalize(text))
    return canonical_number(match) if match else None


def parse_category(word: str) -> str | None:
    """``民生保障``, ``民生``, ``2`` (the 2nd category) → ``民生保障``; anything else None."""
    word = normalize(word).strip("「」“”\"' 。.")
    if word in CATEGORIES:
        return word
    if word in _ALIASES:
        return _ALIASES[word]
    # ASCII and short: "²".isdigit() is true but int("²") raises, and int() of a few
    # thousand digits raises too (Python's limit on integer string conversion).
    if word.isascii() and word.isdigit() and len(word) <= 3 and 1 <= int(word) <= len(CATEGORIES):
        return CATEGORIES[int(word) - 1]
    for alias, category in _ALIASES.items():
        if word.startswith(alias) and len(word) <= 4:
            return category
    return None


def suggest_category(title: str, content: str) -> str:
    """The category whose keywords occur most (the title counts three times); else 其他."""
    scores = {
        category: 3 * sum(title.count(w) for w in words) + sum(content.count(w) for w in words)
        for category, words in _KEYWORDS.items()
    }
    best = max(scores.values())
    return next(c for c in CATEGORIES if scores.get(c) == best) if best else "其他"


def parse_names(value: str) -> tuple[str, ...]:
    """``张三、李四,王五`` → the names, in order, without repeats."""
    names = [n.strip("。.") for n in _SPLIT_NAMES.split(normalize(value)) if n.strip("。.")]
    return tuple(dict.fromkeys(names))


def forward_level(word: str) -> str | None:
    if word.startswith(("全国", "国家")):
        return "全国政协"
    if word.startswith("省"):
        return "省政协"
    if word.startswith(("市", "州")):
        return "市政协"
    return None


def endorse_level(word: str) -> str | None:
    if word.startswith(("全国", "国家", "中央")):
        return "国家领导"
    if word.startswith(("省", "自治区")):
        return "省领导"
    if word.startswith(("市", "州")):
        return "市领导"
    if word.startswith(("县", "区")):
        return "县领导"
    return None


# -- a report in one message ------------------------------------------------------------------


_PROPOSAL = re.compile(r"(?:提案|议案)\s*(?:$|\n)|^\s*(?:案由|案据)\s*(?:[:：]|是)", re.MULTILINE)


def is_proposal(text: str) -> bool:
    """A title ending in 提案 or a 案由 label: a proposal (提案), never a 社情民意 report."""
    return _PROPOSAL.search(normalize(text, keep_newlines=True)) is not None


def parse_report(text: str) -> ReportText | None:
    lines = normalize(text, keep_newlines=True).split("\n")
    head = _HEAD.match(lines[0])
    if head is not None:
        first = head["t"].strip()
        body = lines[1:]
        if first and not body:  # all on one line: split before 基本情况: …
            first, *rest = _SECTION_IN_LINE.split(first, maxsplit=1)
            body = rest
        if not first and not body:
            return None  # bare 社情民意: a request to start a draft
        lines = ([first] if first else []) + body
        if lines and not _LABEL.match(lines[0]):
            lines[0] = f"标题:{lines[0]}"
    elif not re.match(r"^(?:标题|题目)\s*:", lines[0]) or is_proposal(text):
        return None
    fields: dict[str, list[str]] = {"title": [], "category": [], "cosigners": [], "content": []}
    for line in _split_labels(lines):
        label = _LABEL.match(line)
        if label is None:
            fields["content"].append(line)
            continue
        name = label["label"]
        key = (
            "title"
            if name in ("标题", "题目")
            else "category"
            if name in ("类别", "分类")
            else "content"
            if name in ("内容", "正文")
            else "cosigners"
        )
        fields[key].append(label["value"].strip())
    title = widen_punct(" ".join(fields["title"]).strip())
    if not title:
        return None
    category_word = " ".join(fields["category"]).strip()
    content = widen_punct("\n".join(x for x in fields["content"] if x).strip())
    return ReportText(
        title=title[:TITLE_LIMIT],
        category=parse_category(category_word) if category_word else None,
        content=content[:CONTENT_LIMIT],
        cosigners=parse_names("、".join(fields["cosigners"])),
    )


def _split_labels(lines: list[str]) -> list[str]:
    """``标题:… 类别:… 内容:…`` on one line becomes three lines; after 内容 nothing is split."""
    out: list[str] = []
    in_content = False
    for line in lines:
        if in_content:
            out.append(line)
            continue
        parts = _LABEL_IN_LINE.split(line)
        for n, part in enumerate(parts):
            if re.match(r"^(?:内容|正文)\s*:", part):
                out.append(" ".join(parts[n:]))
                in_content = True
                break
            out.append(part)
    return out


# -- members' other words ---------------------------------------------------------------------


def parse_start(text: str) -> ReportStart | None:
    return ReportStart() if _START.match(normalize(text)) else None


def parse_query(text: str) -> ReportQuery | None:
    clean = normalize(text)
    if _MINE.match(clean):
        return ReportQuery(None)
    match = _QUERY.match(clean)
    return ReportQuery(canonical_number(match)) if match else None


def parse_recategorize(text: str) -> Recategorize | None:
    match = _RECATEGORIZE.match(normalize(text))
    if match is None:
        return None
    return Recategorize(canonical_number(match), parse_category(match["cat"]), match["cat"])


def parse_resubmit(text: str) -> Resubmit | None:
    match = _RESUBMIT.match(normalize(text, keep_newlines=True))
    if match is None:
        return None
    rest = _LEAD_SEP.sub("", match["rest"]).strip()
    rest = re.sub(r"^(?:内容|正文)\s*:\s*", "", rest)
    return Resubmit(canonical_number(match), widen_punct(rest)[:CONTENT_LIMIT] or None)


def parse_confirm(text: str) -> ConfirmWithoutDraft | None:
    return ConfirmWithoutDraft() if normalize(text) == "确认提交" else None


# -- secretaries ------------------------------------------------------------------------------


def parse_review(text: str) -> ReviewCommand | None:
    match = _REVIEW.match(normalize(text, keep_newlines=True))
    if match is None:
        return None
    verb = match["verb"]
    action = "list" if verb.startswith("待审") else REVIEW_ACTIONS[verb]
    rest = _LEAD_SEP.sub("", match["rest"]).strip()
    has_number = bool(match["year"] or match["y2"])
    if action == "list":
        return ReviewCommand("list", None, None) if not rest and not has_number else None
    if not has_number:
        # A bare verb is a command missing its number; a verb inside a sentence is not ours.
        return ReviewCommand(action, None, None) if not rest else None
    number = canonical_number(match)
    comment = widen_punct(reason(rest)) or None
    if action == "forward":
        word, _, remainder = re.sub(r"^(?:至|到|给)", "", rest).partition(" ")
        return ReviewCommand(action, number, remainder.strip() or None, forward_level(word))
    if action == "endorse":
        word, *others = re.split(r"[\s:]+", rest, maxsplit=1)
        remainder = others[0] if others else ""
        level = endorse_level(word)
        return ReviewCommand(
            action, number, widen_punct(remainder.strip()) or None, level, word or None
        )
    if action == "assign":  # 转办 SQ-… 到市民政局: the department, without 到/给/至
        word, _, remainder = re.sub(r"^(?:至|到|给)", "", rest).partition(" ")
        return ReviewCommand(action, number, remainder.strip() or None, None, word or None)
    return ReviewCommand(action, number, comment)


# -- while drafting ---------------------------------------------------------------------------


def parse_draft_input(text: str) -> DraftInput:
    """What a message during a draft means; anything unlabelled is ``text``."""
    clean = normalize(text, keep_newlines=True)
    if _CONFIRM.match(clean):
        return DraftInput("confirm")
    label = re.match(
        r"^(类别|分类|联名人?|联名委员|标题|题目|补充)\s*:?\s*(?P<v>.+)$", clean, re.S
    )
    if label is not None:
        word = label[1]
        kind = (
            "category"
            if word in ("类别", "分类")
            else "title"
            if word in ("标题", "题目")
            else "append"
            if word == "补充"
            else "cosigners"
        )
        if kind != "category" or parse_category(label["v"]) is not None:
            return DraftInput(kind, widen_punct(label["v"].strip()))
    return DraftInput("text", widen_punct(clean))
