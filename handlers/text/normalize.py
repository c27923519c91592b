"""Text normalisation shared by every parser (文本规范化), and Chinese numerals (中文数字).

Members type on phones with Chinese input methods, so the same message arrives as
``打卡：３０分钟``, ``打卡:30分钟`` or ``@履职助手\u2005打卡 30 分钟``.  Parsers first call
:func:`normalize`, which

* folds full-width ASCII (全角): letters, digits and ``：，！？（）［］＃＠`` become their
  half-width forms, U+3000 (全角空格) becomes a space.  Chinese-only punctuation that carries
  meaning is kept as it is: 《》〈〉 (book titles, 书名号), 【】, 、, 。, “”;
* removes control and format characters (zero-width spaces, BOM, bidi marks);
* collapses every run of whitespace (NBSP, U+2005 which WeCom puts after an @mention, tabs,
  line breaks unless ``keep_newlines``) to one space and trims the ends;
* strips leading @mentions (``@履职助手 打卡`` -> ``打卡``).

:func:`widen_punct` turns ``,:;!?`` next to a Chinese character back into ``，：；！？`` for
text shown to people (a check-in's material, a reflection).

:func:`fold` is the length-preserving part (one character in, one out), for parsers that
report spans into the caller's text, such as :mod:`handlers.text.timephrase`.

Numerals: :func:`parse_int` reads ``25``, ``二十五``, ``一百零二``, ``两``, ``廿五``, ``二〇二五``;
:func:`parse_number` also reads ``1.5``, ``一点五`` and 半 (half): ``半`` = 0.5, ``一个半`` = 1.5.
Chinese numerals go through ``cn2an`` ("normal" mode, which accepts 两 and 零五).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "CN_DIGITS",
    "NUMBER_PATTERN",
    "Clean",
    "clean_message",
    "fold",
    "normalize",
    "parse_int",
    "parse_number",
    "strip_mention",
    "widen_punct",
]

#: Characters that may appear in a Chinese numeral (for building regexes).
CN_DIGITS = "零〇一二两三四五六七八九十百千万廿卅"
#: A number as members write it: Arabic (with an optional decimal part) or Chinese.
#: Bounded so that a very long run of digits cannot make a regex backtrack quadratically.
NUMBER_PATTERN = rf"(?:\d{{1,6}}(?:\.\d{{1,3}})?|[{CN_DIGITS}]{{1,8}}(?:点[{CN_DIGITS}]{{1,3}})?)"

_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
    table[0x3000] = " "
    for cp in (0x3008, 0x3009):  # 〈〉 stay: they are book-title marks, not ASCII < >
        table.pop(cp, None)
    return table


_FOLD_TABLE = _build_fold_table()
_SPACE_RUN = re.compile(r"[^\S\n]+")
_NEWLINE_RUN = re.compile(r" ?\n[\s]*")
_MENTION = re.compile(r"@[^\s@]{1,40} ")
_CN_ONLY = re.compile(rf"[{CN_DIGITS}]{{1,20}}")
_ARABIC = re.compile(r"\d{1,9}(?:\.\d{1,6})?")
_CN_DECIMAL = re.compile(rf"[{CN_DIGITS}]{{1,12}}点[{CN_DIGITS}]{{1,6}}")
_WITH_HALF = re.compile(rf"(\d{{1,6}}|[{CN_DIGITS}]{{1,8}})个?半")
_CJK = r"\u2e80-\u9fff\uf900-\ufaff《》〈〉【】「」“”"
_NARROW_NEXT_TO_CJK = re.compile(rf"(?<=[{_CJK}])[,:;!?]|[,:;!?](?=[{_CJK}])")
_WIDE = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？"}
_YEAR_DIGITS = str.maketrans("〇零一二两三四五六七八九", "001223456789")
_PLAIN_DIGITS = frozenset("〇零一二两三四五六七八九")


def _fold_char(ch: str) -> str:
    """One character in, one character out: width folding, whitespace and controls."""
    mapped = _FOLD_TABLE.get(ord(ch))
    if mapped is not None:
        return mapped
    if ch in "\n\r":
        return "\n"
    if ch.isspace() or ch in _ZERO_WIDTH:
        return " "
    if unicodedata.category(ch) in ("Cc", "Cf", "Cs"):
        return " "
    return ch


def fold(text: str) -> str:
    """Length-preserving normalisation: ``len(fold(t)) == len(t)`` and spans stay valid.

    Full-width ASCII becomes half-width, every whitespace, zero-width, control or lone
    surrogate character becomes a space (line breaks become ``\\n``).
    """
    return "".join(_fold_char(ch) for ch in text)


def strip_mention(text: str, names: tuple[str, ...] = ()) -> str:
    """Remove @mentions at the start of ``text`` (already folded), e.g. ``@履职助手 打卡``.

    A mention is ``@name`` followed by a space (WeCom sends U+2005, folded to a space);
    without one nobody can tell where the name ends, so ``@履职助手打卡`` is left alone unless
    ``names`` lists the bot's name (then it is stripped even with no space, or alone).
    """
    rest = text.lstrip()
    while rest.startswith("@"):
        for name in names:
            if name and rest.startswith("@" + name):
                rest = rest[len(name) + 1 :].lstrip()
                break
        else:
            match = _MENTION.match(rest)
            if match is None:
                break
            rest = rest[match.end() :].lstrip()
    return rest


class Clean(str):
    """A message normalized once (by the dispatcher): the flat form, one space for any
    whitespace, with :attr:`lines` the same text keeping its line breaks (社情民意, notices).

    :func:`normalize` hands a ``Clean`` back as it is, so a parser given the dispatcher's text
    does no work twice, and the same parser called with raw text (tests) still normalizes it.
    """

    __slots__ = ("lines",)
    lines: str


# A reply quoting another message, as WeCom shows it: the quoted message (「王秘书：…」), a line
# of dashes, then the reply; or ``引用 李娜 的消息：…`` on its own line, then the reply.
_QUOTE_RULE = re.compile(r"\n[ \t]*(?:[-－—][ \t　]*){3,}\n")
_QUOTE_HEAD = re.compile(r"^\s*引用\s*\S{1,20}?\s*的消息\s*[:：][^\n]*\n")


def reply_part(text: str) -> str:
    """The sender's own words of a message that quotes another: what follows the quote (the
    quoted message is someone else's and must not be read as the sender's). Unchanged when
    nothing is quoted or nothing follows the quote."""
    parts = _QUOTE_RULE.split(text)
    if len(parts) > 1 and parts[-1].strip():
        return parts[-1]
    head = _QUOTE_HEAD.match(text)
    if head is not None and text[head.end() :].strip():
        return text[head.end() :]
    return text


def clean_message(text: str) -> Clean:
    """Normalize a message once, both ways (see :class:`Clean`); of a reply quoting another
    message, only the reply (:func:`reply_part`)."""
    if isinstance(text, Clean):
        return text
    text = reply_part(text)
    clean = Clean(normalize(text))
    clean.lines = normalize(text, keep_newlines=True)
    return clean


def normalize(
    text: str,
    *,
    keep_newlines: bool = False,
    mention: bool = True,
    bot_names: tuple[str, ...] = (),
) -> str:
    """Fold, drop zero-width and control characters, collapse whitespace, strip mentions.

    With ``keep_newlines`` (for multi-line messages such as 社情民意 reports) each line is
    collapsed and trimmed and runs of blank lines become one line break. Text the dispatcher
    already cleaned (:class:`Clean`) is returned as it is.
    """
    if isinstance(text, Clean) and mention and not bot_names:
        return text.lines if keep_newlines else text
    if not text:
        return ""
    cleaned = "".join(
        ch for ch in text if ch not in _ZERO_WIDTH and unicodedata.category(ch) not in ("Cf", "Cs")
    )
    folded = fold(cleaned)
    if keep_newlines:
        folded = _NEWLINE_RUN.sub("\n", _SPACE_RUN.sub(" ", folded))
    else:
        folded = " ".join(folded.split())
    folded = folded.strip()
    if mention:
        folded = strip_mention(folded, bot_names)
    return folded


def widen_punct(text: str) -> str:
    """``学习党章,十分受益`` -> ``学习党章，十分受益``; ASCII punctuation among ASCII stays."""
    return _NARROW_NEXT_TO_CJK.sub(lambda m: _WIDE[m.group(0)], text)


def parse_int(text: str) -> int | None:
    """An integer written in Arabic or Chinese numerals, or ``None``.

    ``"25"``, ``"二十五"`` -> 25; ``"一百零二"`` -> 102; ``"两"`` -> 2; ``"二〇二五"`` -> 2025.
    """
    value = parse_number(text)
    if value is None or value != int(value):
        return None
    return int(value)


def parse_number(text: str) -> float | None:
    """A non-negative number: ``"1.5"``, ``"一点五"``, ``"半"`` (0.5), ``"一个半"`` (1.5)."""
    import cn2an  # about 0.1 s to import: only once a number is read

    text = text.strip()
    if not text:
        return None
    if text == "半":
        return 0.5
    half = _WITH_HALF.fullmatch(text)
    if half is not None:
        whole = parse_number(half.group(1))
        return None if whole is None else whole + 0.5
    if _ARABIC.fullmatch(text):
        return float(text)
    if _CN_ONLY.fullmatch(text) or _CN_DECIMAL.fullmatch(text):
        if not set(text) - _PLAIN_DIGITS:
            return float(text.translate(_YEAR_DIGITS))  # 二〇二五, 零五: digit by digit
        try:
            value = cn2an.cn2an(text.replace("廿", "二十").replace("卅", "三十"), "normal")
        except (ValueError, KeyError, IndexError, TypeError):
            return None
        return float(value)
    return None
