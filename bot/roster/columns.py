"""Roster columns (名册表头) and the values offices write in them: the tables and the cleaning.

Offices name their columns in many ways (姓名, 手机号码, 企业微信账号(userid), 所在小组,
职务/角色 …) and type their values by hand: names padded with full-width spaces (张　伟),
mobiles written "138 0013 8000" or "+86 13800138000" or stored by Excel as a number. This
module turns each of those into one canonical form; :mod:`bot.roster.read` reads a whole file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, time

# The fields of a roster row, in display order.
FIELDS = ("name", "mobile", "userid", "sector", "committee", "study_group", "role")

FIELD_LABELS = {
    "name": "姓名",
    "mobile": "手机号",
    "userid": "企业微信账号",
    "sector": "界别",
    "committee": "专委会",
    "study_group": "学习小组",
    "role": "角色",
}

# Header variants per field, most specific first: when a file has two columns meaning the same
# field (角色 and 职务, 手机号 and 电话), the one whose variant comes first here wins.
# Variants are written as normalise_header() leaves them (lower case, no spaces, no brackets).
HEADER_VARIANTS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "委员姓名", "成员姓名", "名字", "name"),
    "mobile": (
        "手机号",
        "手机号码",
        "手机",
        "移动电话",
        "联系电话",
        "电话",
        "电话号码",
        "联系方式",
        "mobile",
        "phone",
    ),
    "userid": (
        "企业微信账号",
        "企业微信帐号",
        "企业微信id",
        "企业微信userid",
        "企业微信",
        "企微账号",
        "userid",
        "账号",
        "帐号",
        "用户id",
        "成员id",
    ),
    "sector": ("界别", "所在界别", "所属界别", "sector"),
    "committee": (
        "专委会",
        "专门委员会",
        "所在专委会",
        "所属专委会",
        "所在专门委员会",
        "committee",
    ),
    "study_group": (
        "学习小组",
        "所在学习小组",
        "所属学习小组",
        "学习组",
        "小组",
        "所在小组",
        "所属小组",
        "studygroup",
        "study_group",
        "group",
    ),
    "role": ("角色", "职务/角色", "角色/职务", "身份", "职务", "role"),
}

_HEADER_LOOKUP: dict[str, tuple[str, int]] = {
    variant: (field, rank)
    for field, variants in HEADER_VARIANTS.items()
    for rank, variant in enumerate(variants)
}

# Values of the role column (角色). An empty cell means "not given": a new member becomes 委员,
# an existing one keeps the role they have (so re-importing a file without roles never demotes
# a secretary made with `lvzhi members set-role`).
ROLE_VALUES = {
    "委员": "member",
    "政协委员": "member",
    "常委": "member",
    "常务委员": "member",
    "member": "member",
    "秘书": "secretary",
    "机关干部": "secretary",
    "工作人员": "secretary",
    "secretary": "secretary",
    "管理员": "admin",
    "admin": "admin",
}

# Zero-width characters that ride along when cells are copied out of web pages and chats.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_BRACKETED = re.compile(r"\(.*?\)|\[.*?\]|【.*?】|<.*?>")
_HEADER_NOISE = re.compile(r"[\s*:：]")
_MOBILE_SEPARATORS = re.compile(r"[\s\-‐‑–—()]")
_MOBILE = re.compile(r"1\d{10}")
# WeCom: 1–64 characters of letters, digits and _-@. , starting with a letter or a digit.
_USERID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-@.]{0,63}")
MAX_TEXT_LENGTH = 64  # the width of the name/sector/committee/group columns in the database


def cell_text(value: object) -> str:
    """A cell as text: None is empty; numbers that Excel stored as floats lose their ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def clean_text(value: object) -> str:
    """Trim every kind of space (U+3000, NBSP, tabs …); spaces next to a Chinese character go
    (张　伟 → 张伟, 第 3 学习小组 → 第3学习小组), other runs of spaces become one."""
    text = unicodedata.normalize("NFKC", cell_text(value).translate(_INVISIBLE))
    words = text.split()
    if not words:
        return ""
    joined = words[0]
    for word in words[1:]:
        joined += word if _wide(joined[-1]) or _wide(word[0]) else " " + word
    return joined


def normalise_header(value: object) -> str:
    return _HEADER_NOISE.sub("", clean_text(value).casefold())


def header_field(value: object) -> tuple[str, int] | None:
    """(field, rank) for a header cell, or None for a column the roster does not use.

    "企业微信账号(userid)" and "手机号码（必填）" are recognised by what is outside the brackets.
    """
    key = normalise_header(value)
    if not key:
        return None
    found = _HEADER_LOOKUP.get(key)
    if found is None:
        found = _HEADER_LOOKUP.get(_BRACKETED.sub("", key))
    return found


def match_header(cells: Sequence[object]) -> dict[str, int]:
    """field → column index for a candidate header row; the best-ranked, then leftmost, wins."""
    best: dict[str, tuple[int, int]] = {}
    for column, cell in enumerate(cells):
        found = header_field(cell)
        if found is None:
            continue
        field, rank = found
        if field not in best or rank < best[field][0]:
            best[field] = (rank, column)
    return {field: column for field, (_, column) in best.items()}


def normalise_mobile(value: object) -> str | None:
    """An 11-digit mainland mobile starting with 1, or None if the value is not one.

    Accepts "138 0013 8000", "138-0013-8000", "+86 13800138000", "0086…", full-width digits
    and numbers read from Excel (13800138000, 13800138000.0).
    """
    text = unicodedata.normalize("NFKC", cell_text(value).translate(_INVISIBLE))
    text = _MOBILE_SEPARATORS.sub("", text)
    if re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    else:
        if len(text) == 13 and text.startswith("86"):
            text = text[2:]
    return text if _MOBILE.fullmatch(text) else None


def normalise_userid(value: object) -> str | None:
    """A WeCom userid (企业微信账号) without any spaces, or None if it cannot be one."""
    text = "".join(unicodedata.normalize("NFKC", cell_text(value).translate(_INVISIBLE)).split())
    return text if _USERID.fullmatch(text) else None


def normalise_role(value: object) -> str | None:
    """member / secretary / admin for a role cell, or None if the value is not a known role."""
    return ROLE_VALUES.get(normalise_header(value))
