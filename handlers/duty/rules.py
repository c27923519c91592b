"""履职评分规则: scoring rules as configuration (a TOML file), and scoring a year's facts.

A rules file (``[duty] rules_file``; without one, :data:`DEFAULT_RULES` applies)::

    name = "某某区政协委员履职评分"     # shown with every score
    max_total = 100                      # optional: the total never exceeds it
    unmet_grade = "不合格"               # optional: the grade when a requirement is unmet

    [[items]]                            # 计分项: points per unit of a fact …
    label = "学习打卡"
    fact = "checkins"                    # one fact, or a list of facts added up
    points = 1
    cap = 20                             # optional: at most this many points (or deducted)

    [[items]]                            # … or points once a threshold is reached
    label = "打卡率达到80%"
    fact = "checkin_rate"
    at_least = 80
    points = 10

    [[requirements]]                     # 基本要求 (e.g. 南疆「五个一」, 闵行「三个一」)
    label = "全年至少报送1篇社情民意"
    fact = "reports_submitted"
    at_least = 1

    [[grades]]                           # 等次, from the total; the lowest starts at 0
    name = "优秀"
    at_least = 90

A total below zero counts as zero. Facts are the keys of :data:`handlers.duty.facts.FACTS`,
and ``activities.调研`` (one kind of activity, as the office names its kinds);
the built-in default is :mod:`handlers.duty.default_rules`. The rules are read when a record
is scored, so editing the file re-scores every record at once; the facts themselves are never
touched. Mistakes are :class:`bot.errors.ConfigError` with one line naming the file, the entry
and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import read_toml, spaced
from bot.errors import ConfigError
from handlers.duty.default_rules import DEFAULT_RULES
from handlers.duty.facts import ACTIVITY_PREFIX, FACTS, DutyFacts


@dataclass(frozen=True, slots=True)
class Item:
    """计分项: ``points`` per unit of the facts, or once when they reach ``at_least``."""

    label: str
    facts: tuple[str, ...]
    points: float
    cap: float | None = None
    at_least: float | None = None

    def score(self, facts: DutyFacts) -> float:
        amount = sum(facts.value(f) for f in self.facts)
        if self.at_least is not None:
            return self.points if amount >= self.at_least else 0.0
        value = amount * self.points
        if self.cap is not None:
            value = max(-self.cap, min(self.cap, value))
        return value


@dataclass(frozen=True, slots=True)
class Requirement:
    """基本要求: the facts (added up) must reach ``at_least`` in the year."""

    label: str
    facts: tuple[str, ...]
    at_least: float

    def met(self, facts: DutyFacts) -> bool:
        return sum(facts.value(f) for f in self.facts) >= self.at_least


@dataclass(frozen=True, slots=True)
class Grade:
    name: str
    at_least: float


@dataclass(frozen=True, slots=True)
class ScoringRules:
    name: str
    items: tuple[Item, ...]
    requirements: tuple[Requirement, ...]
    grades: tuple[Grade, ...]  # highest first
    max_total: float | None = None
    unmet_grade: str | None = None
    source: str = "内置默认规则"  # or the rules file's path


@dataclass(frozen=True, slots=True)
class Score:
    total: float
    grade: str
    points: tuple[tuple[str, float], ...]  # (item label, points) in the rules' order
    unmet: tuple[str, ...]  # labels of the requirements not met


def score(facts: DutyFacts, rules: ScoringRules) -> Score:
    """Score one member's year by ``rules`` (pure)."""
    # + 0.0: a deduction of nothing is 0, not -0.0, in the spreadsheet
    points = tuple((item.label, round(item.score(facts), 2) + 0.0) for item in rules.items)
    total = max(0.0, sum(p for _, p in points))
    if rules.max_total is not None:
        total = min(total, rules.max_total)
    total = round(total, 1)
    unmet = tuple(r.label for r in rules.requirements if not r.met(facts))
    return Score(total, _grade(total, unmet, rules), points, unmet)


def _grade(total: float, unmet: Sequence[str], rules: ScoringRules) -> str:
    by_points = next(g.name for g in rules.grades if total >= g.at_least)
    if not unmet or rules.unmet_grade is None:
        return by_points
    order = [g.name for g in rules.grades]
    if rules.unmet_grade in order and order.index(by_points) > order.index(rules.unmet_grade):
        return by_points  # already lower than what an unmet requirement allows
    return rules.unmet_grade


# -- loading and validation --------------------------------------------------------------------


def load_rules(path: str | Path | None) -> ScoringRules:
    """The rules in ``path``, or the built-in default when it is empty or None."""
    if not path:
        return parse_rules(tomllib.loads(DEFAULT_RULES), DEFAULT_SOURCE)
    file = Path(path)
    data = read_toml(file, f"[duty] rules_file 指定的评分规则文件 {file}")
    return parse_rules(data, str(file))


DEFAULT_SOURCE = "内置默认规则"
_TOP_KEYS = {"name", "max_total", "unmet_grade", "items", "requirements", "grades"}
_ITEM_KEYS = {"label", "fact", "points", "cap", "at_least"}
_REQUIREMENT_KEYS = {"label", "fact", "at_least"}
_GRADE_KEYS = {"name", "at_least"}


def parse_rules(data: Mapping[str, Any], source: str) -> ScoringRules:
    """Validate and build rules from a TOML document; ``source`` names it in errors."""
    top = _top(source)
    _known(data, _TOP_KEYS, top)
    name = _text(data, "name", top, default=Path(source).stem)
    items = tuple(_item(entry, f"{top}items[{n}]") for n, entry in _tables(data, "items", top))
    requirements = tuple(
        _requirement(entry, f"{top}requirements[{n}]")
        for n, entry in _tables(data, "requirements", top)
    )
    grades = _grades(data, top)
    max_total = _number(data, "max_total", top, required=False)
    if max_total is not None and max_total <= 0:
        raise ConfigError(f"{top}max_total", f"必须大于 0，现在是 {_shown(max_total)}")
    unmet = _text(data, "unmet_grade", top, default="") or None
    if not items:
        raise ConfigError(f"{top}items", "至少要有一段 [[items]]（计分项）")
    return ScoringRules(name, items, requirements, grades, max_total, unmet, source)


def _top(source: str) -> str:
    """How an error names the file before the entry: ``评分规则文件 x.toml 中的 items[1]``."""
    return f"{source}中的 " if source == DEFAULT_SOURCE else f"评分规则文件 {source} 中的 "


def _shown(number: float) -> str:
    return f"{number:g}"


def _item(entry: Mapping[str, Any], where: str) -> Item:
    _known(entry, _ITEM_KEYS, where)
    points = _number(entry, "points", where)
    assert points is not None
    cap = _number(entry, "cap", where, required=False)
    at_least = _number(entry, "at_least", where, required=False)
    if cap is not None and cap <= 0:
        raise ConfigError(
            f"{where}.cap", f"必须大于 0（它同时限制加分和扣分），现在是 {_shown(cap)}"
        )
    if cap is not None and at_least is not None:
        raise ConfigError(
            f"{where}.cap", "不能与 at_least 同时使用：有 at_least 的计分项达到时只计一次分"
        )
    return Item(_text(entry, "label", where), _facts(entry, where), points, cap, at_least)


def _requirement(entry: Mapping[str, Any], where: str) -> Requirement:
    _known(entry, _REQUIREMENT_KEYS, where)
    at_least = _number(entry, "at_least", where)
    assert at_least is not None
    return Requirement(_text(entry, "label", where), _facts(entry, where), at_least)


def _grades(data: Mapping[str, Any], top: str) -> tuple[Grade, ...]:
    grades: list[Grade] = []
    for n, entry in _tables(data, "grades", top):
        where = f"{top}grades[{n}]"
        _known(entry, _GRADE_KEYS, where)
        at_least = _number(entry, "at_least", where)
        assert at_least is not None
        grade = Grade(_text(entry, "name", where), at_least)
        if any(g.name == grade.name for g in grades):
            raise ConfigError(f"{where}.name", f"等次「{grade.name}」写了两次，每个等次只写一次")
        grades.append(grade)
    if not grades:
        raise ConfigError(f"{top}grades", "至少要有一段 [[grades]]（等次）")
    grades.sort(key=lambda g: -g.at_least)
    if grades[-1].at_least > 0:
        raise ConfigError(
            f"{top}grades",
            f"中最低的等次「{grades[-1].name}」的 at_least 必须是 0，这样每个总分都有等次"
            f"（现在是 {_shown(grades[-1].at_least)}）",
        )
    return tuple(grades)


def _tables(data: Mapping[str, Any], key: str, top: str) -> list[tuple[int, Mapping[str, Any]]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{top}{key}", f"必须写成一段段 [[{key}]]")
    return [(n, entry) for n, entry in enumerate(value, start=1)]


def _known(entry: Mapping[str, Any], keys: set[str], where: str) -> None:
    for key in entry:
        if key not in keys:
            raise ConfigError(
                _key(where, key), f"不是可用的键，请核对拼写；可用的有：{'、'.join(sorted(keys))}"
            )


def _text(entry: Mapping[str, Any], key: str, where: str, *, default: str | None = None) -> str:
    value = entry.get(key, default)
    if value is None:
        raise ConfigError(_key(where, key), "未填写")
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise ConfigError(_key(where, key), "必须是不为空的文字（加引号）")
    return value.strip()


_WRITTEN_AS = {str: "文字", bool: "true 或 false", list: "列表", dict: "一个表"}


def _number(
    entry: Mapping[str, Any], key: str, where: str, *, required: bool = True
) -> float | None:
    value = entry.get(key)
    if value is None:
        if required:
            raise ConfigError(_key(where, key), "未填写")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        written = _WRITTEN_AS.get(type(value), "日期或时间")
        raise ConfigError(_key(where, key), f"必须是数字，{spaced('现在写的是', written)}")
    return float(value)


def _facts(entry: Mapping[str, Any], where: str) -> tuple[str, ...]:
    value = entry.get("fact")
    if value is None:
        raise ConfigError(f"{where}.fact", "未填写（要计的事实名称）")
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{where}.fact", '必须是一个事实名称或事实名称的列表，如 "checkins"')
    for name in names:
        if name.startswith(ACTIVITY_PREFIX) and len(name) > len(ACTIVITY_PREFIX):
            continue  # one kind of activity (the office's kinds: [activities] kinds)
        if name not in FACTS:
            raise ConfigError(
                f"{where}.fact",
                f"写的 {name!r} 不是可用的事实名称，可用的有：{'、'.join(FACTS)}，"
                f"以及 {ACTIVITY_PREFIX}调研 这样的某类活动",
            )
    return tuple(names)


def _key(where: str, key: str) -> str:
    """``items[1]`` and ``label`` make ``items[1].label``; at the top, the key alone."""
    return f"{where}.{key}" if where.endswith("]") else f"{where}{key}"
