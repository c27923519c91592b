"""Reading a 社情民意 report written any way members write one: labels in any order, on one
line (``标题:…;类别:…``) or spoken (``题目是…分类就是…内容是…``), no ``社情民意`` keyword, the
category after the title (``（民生保障类）``), co-submitters in the heading (``（联名：…）``).
"""

from __future__ import annotations

import re

from handlers.reports.parse import (
    CATEGORIES,
    CONTENT_LIMIT,
    TITLE_LIMIT,
    ReportText,
    is_proposal,
    parse_category,
    parse_names,
)
from handlers.text.normalize import normalize, widen_punct

_TITLE_LABEL = re.compile(
    r"(?:标题|题目)\s*(?:[:：]|是|为|(?=《))\s*(?P<v>《[^》\n]+》|.+?)"
    r"(?=\n|[;；]|\s*(?:类别|分类|内容|正文|联名)\s*(?:[:：]|是|就是|为)|[,，。]\s*(?:属于|归为|是)?"
    r"[\u4e00-\u9fff]{2,6}类"
    # the next part said in words: ，情况是… / 现状是… / 问题是… / 建议…
    r"|[,，\s]\s*(?:具体)?(?:基本)?(?:情况|现状|问题|存在问题|原因|背景)\s*(?:是|为|[:：])"
    r"|[,，\s]\s*建议(?!书)|。|$"
    # spoken, unpunctuated: the title ends at its tail word before a space (…的建议 那边…)
    r"|(?<=建议|问题|意见|对策|思考)\s)",
    re.S,
)
_TAIL = r"(?:的)?(?:建议|问题|意见|思考|对策|报告|提案)"
# The title ends at a tail word that ends a phrase (关于…问题的建议，: not at 问题); a run-on
# with no break after the title (关于…的建议目前…) ends at the first tail word.
_TITLE_BOUNDED = re.compile(
    rf"关于[^\n。;；:：,，\s]{{2,80}}?{_TAIL}(?=[\s,，。;；:：!！?？（(【\[]|$)"
)
_TITLE_FREE = re.compile(rf"关于[^\n。;；:：]{{2,80}}?{_TAIL}")
_CATEGORY_LABEL = re.compile(
    r"(?:类别|分类)\s*(?:[:：]|是|就是|为|\s)\s*(?P<v>[\u4e00-\u9fff]{2,6}?)(?:类)?(?:吧|呢)?"
    r"(?=\n|[\s;；,，。]|内容|正文|$)"
)
# 类别文化教育 / 分类民生保障: no colon, only before a category of ours (垃圾分类处理 is none).
_CATEGORY_GLUED = re.compile(r"(?:类别|分类)(?P<v>" + "|".join(CATEGORIES) + r")类?")
# 属于生态环境类 / 是社会治理类的: the category said in a sentence after the title.
_CATEGORY_SAID = re.compile(
    r"^[\s,，、。]*(?:属于|归为|归于|是|为)\s*(?P<v>[\u4e00-\u9fff]{2,6}?)类(?:的|别)?[\s,，。;；]*"
)
# 经济发展类 in the heading, before the title, bracketed or not.
_CATEGORY_HEAD = re.compile(r"(?P<v>" + "|".join(c for c in CATEGORIES if c != "其他") + r")类")
# 【经济发展】 / （民生保障类） in the heading, before the title.
_CATEGORY_MARKED = re.compile(r"[【\[（(](?P<v>[\u4e00-\u9fff]{2,6}?)类?[】\]）)]")
_CATEGORY_WORD = re.compile(
    r"[（(]?(?P<v>" + "|".join(c for c in CATEGORIES if c != "其他") + r")类?[)）]?"
)
# 教育类 / 农业农村类 as a word of its own right after the title: a category, by its short name.
_CATEGORY_SHORT = re.compile(r"(?P<v>[\u4e00-\u9fff]{2,4})类(?![\u4e00-\u9fff])")
_COSIGN = re.compile(r"[（(]?\s*联名(?:人|委员)?\s*[:：]?\s*(?P<v>[^)）\n]+)[)）]?")
_CONTENT_LABEL = re.compile(r"(?:内容|正文)\s*(?:[:：]|是)\s*(?P<v>.+)$", re.S)
_HEAD = re.compile(
    r"^.{0,30}?(?:社情民意(?:信息)?|直通车|反映(?:个|一个|一下)?情况)[^\n:：]{0,12}[:：]?",
)
_LABELS = re.compile(r"^(?:标题|题目|类别|分类|联名人?|联名委员)\s*(?:[:：]|\s)")


def read_report(text: str) -> tuple[ReportText, str | None] | None:
    """The report and, when the category is written but not one of ours, that word."""
    clean = normalize(text, keep_newlines=True)
    if is_proposal(clean):
        return None  # 题目：关于…的提案 / 案由：…: a proposal
    clean = re.sub(
        r"\s*[;；]\s*(?=(?:标题|题目|类别|分类|内容|正文|建议|联名)\s*[:：])", "\n", clean
    )
    label = _TITLE_LABEL.search(clean)
    free = _TITLE_BOUNDED.search(clean) or _TITLE_FREE.search(clean)
    if label is not None:
        title, span = label["v"].strip(" ,，。《》"), label.span()
    elif free is not None:
        title, span = free[0], free.span()
    else:
        return None
    category, unknown = None, None
    cat_label = _CATEGORY_LABEL.search(clean) or _CATEGORY_GLUED.search(clean)
    if cat_label is not None:
        category = parse_category(cat_label["v"])
        unknown = None if category else cat_label["v"]
    elif (said := _CATEGORY_SAID.match(clean[span[1] :])) is not None:
        category = parse_category(said["v"])
        unknown = None if category else said["v"]
        span = (span[0], span[1] + said.end())
    else:
        after_title = clean[span[1] : span[1] + 12]
        word = _CATEGORY_WORD.match(after_title.lstrip(" ,，、。"))
        marked = _CATEGORY_MARKED.search(clean[: span[0]])  # 社情民意【经济发展】关于…
        named = _CATEGORY_HEAD.search(clean[: span[0]])  # 社情民意 经济发展类：关于…
        short = _CATEGORY_SHORT.match(after_title.lstrip(" ,，、。"))
        if word is not None:
            category = word["v"]
        elif short is not None and parse_category(short["v"]) is not None:
            category = parse_category(short["v"])  # 教育类, 环保类: a category's short name
        elif named is not None:
            category = named["v"]
        elif marked is not None:
            category = parse_category(marked["v"])
            unknown = None if category else marked["v"]
    cosigners: tuple[str, ...] = ()
    cosign = _COSIGN.search(clean)
    if cosign is not None:
        cosigners = parse_names(cosign["v"])
    content_label = _CONTENT_LABEL.search(clean)
    if content_label is not None and content_label.start() >= span[1]:
        content = content_label["v"]
    else:
        content = _after_heading(clean, span)
    content = widen_punct(content.lstrip(" \n,，。:：")).rstrip()
    title = widen_punct(title)
    return ReportText(title[:TITLE_LIMIT], category, content[:CONTENT_LIMIT], cosigners), unknown


def _after_heading(clean: str, title_span: tuple[int, int]) -> str:
    """The content: every line after the title's, without label lines; a one-paragraph report
    (``社情民意：关于……的建议。目前……``) keeps what follows the title on its line."""
    lines = clean[title_span[1] :].split("\n")
    first = lines[0].lstrip(" ,，、。")
    first = _CATEGORY_WORD.sub("", first, count=1) if _CATEGORY_WORD.match(first) else first
    short = _CATEGORY_SHORT.match(first)
    if short is not None and parse_category(short["v"]) is not None:
        first = first[short.end() :]
    first = _CATEGORY_GLUED.sub("", _CATEGORY_LABEL.sub("", first))
    body = [first.lstrip(" ,，。:：").rstrip()] + [
        line for line in lines[1:] if not _LABELS.match(line.strip())
    ]
    return "\n".join(line for line in body if line.strip())
