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
    source: str = "内置默认规则"


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
        return parse_rules(tomllib.loads(DEFAULT_RULES), "内置默认规则")
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"[duty] rules_file {file}", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"[duty] rules_file {file}", f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"[duty] rules_file {file}", f"not valid TOML: {exc}") from None
    return parse_rules(data, str(file))


_TOP_KEYS = {"name", "max_total", "unmet_grade", "items", "requirements", "grades"}
_ITEM_KEYS = {"label", "fact", "points", "cap", "at_least"}
_REQUIREMENT_KEYS = {"label", "fact", "at_least"}
_GRADE_KEYS = {"name", "at_least"}


def parse_rules(data: Mapping[str, Any], source: str) -> ScoringRules:
    """Validate and build rules from a TOML document; ``source`` names it in errors."""
    _known(data, _TOP_KEYS, source)
    name = _text(data, "name", source, default=Path(source).stem)
    items = tuple(
        _item(entry, f"{source}: items[{n}]") for n, entry in _tables(data, "items", source)
    )
    requirements = tuple(
        _requirement(entry, f"{source}: requirements[{n}]")
        for n, entry in _tables(data, "requirements", source)
    )
    grades = _grades(data, source)
    max_total = _number(data, "max_total", source, required=False)
    if max_total is not None and max_total <= 0:
        raise ConfigError(f"{source}: max_total", "must be more than 0")
    unmet = _text(data, "unmet_grade", source, default="") or None
    if not items:
        raise ConfigError(f"{source}: items", "at least one [[items]] entry is needed")
    return ScoringRules(name, items, requirements, grades, max_total, unmet, source)


def _item(entry: Mapping[str, Any], where: str) -> Item:
    _known(entry, _ITEM_KEYS, where)
    points = _number(entry, "points", where)
    assert points is not None
    cap = _number(entry, "cap", where, required=False)
    at_least = _number(entry, "at_least", where, required=False)
    if cap is not None and cap <= 0:
        raise ConfigError(f"{where}.cap", "must be more than 0 (it limits points either way)")
    if cap is not None and at_least is not None:
        raise ConfigError(f"{where}.cap", "an item with at_least scores once; cap has no use")
    return Item(_text(entry, "label", where), _facts(entry, where), points, cap, at_least)


def _requirement(entry: Mapping[str, Any], where: str) -> Requirement:
    _known(entry, _REQUIREMENT_KEYS, where)
    at_least = _number(entry, "at_least", where)
    assert at_least is not None
    return Requirement(_text(entry, "label", where), _facts(entry, where), at_least)


def _grades(data: Mapping[str, Any], source: str) -> tuple[Grade, ...]:
    grades: list[Grade] = []
    for n, entry in _tables(data, "grades", source):
        where = f"{source}: grades[{n}]"
        _known(entry, _GRADE_KEYS, where)
        at_least = _number(entry, "at_least", where)
        assert at_least is not None
        grade = Grade(_text(entry, "name", where), at_least)
        if any(g.name == grade.name for g in grades):
            raise ConfigError(f"{where}.name", f"grade {grade.name!r} is listed twice")
        grades.append(grade)
    if not grades:
        raise ConfigError(f"{source}: grades", "at least one [[grades]] entry is needed")
    grades.sort(key=lambda g: -g.at_least)
    if grades[-1].at_least > 0:
        raise ConfigError(
            f"{source}: grades",
            f"the lowest grade ({grades[-1].name}) must start at 0 so that every total has one",
        )
    return tuple(grades)


def _tables(data: Mapping[str, Any], key: str, source: str) -> list[tuple[int, Mapping[str, Any]]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{source}: {key}", f"must be written as [[{key}]] tables")
    return [(n, entry) for n, entry in enumerate(value, start=1)]


def _known(entry: Mapping[str, Any], keys: set[str], where: str) -> None:
    for key in entry:
        if key not in keys:
            raise ConfigError(
                _key(where, key), f"unknown key (expected one of: {', '.join(sorted(keys))})"
            )


def _text(entry: Mapping[str, Any], key: str, where: str, *, default: str | None = None) -> str:
    value = entry.get(key, default)
    if value is None:
        raise ConfigError(_key(where, key), "missing")
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise ConfigError(_key(where, key), "must be a non-empty string")
    return value.strip()


def _number(
    entry: Mapping[str, Any], key: str, where: str, *, required: bool = True
) -> float | None:
    value = entry.get(key)
    if value is None:
        if required:
            raise ConfigError(_key(where, key), "missing")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(_key(where, key), f"expected a number, got {type(value).__name__}")
    return float(value)


def _facts(entry: Mapping[str, Any], where: str) -> tuple[str, ...]:
    value = entry.get("fact")
    if value is None:
        raise ConfigError(f"{where}.fact", "missing")
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{where}.fact", "must be a fact name or a list of fact names")
    for name in names:
        if name.startswith(ACTIVITY_PREFIX) and len(name) > len(ACTIVITY_PREFIX):
            continue  # one kind of activity (the office's kinds: [activities] kinds)
        if name not in FACTS:
            raise ConfigError(
                f"{where}.fact", f"unknown fact {name!r} (one of: {', '.join(FACTS)})"
            )
    return tuple(names)


def _key(where: str, key: str) -> str:
    return f"{where}.{key}" if where.endswith("]") else f"{where}: {key}"
