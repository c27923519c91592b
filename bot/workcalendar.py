"""The working calendar: statutory holidays (法定节假日) and 调休 make-up workdays.

Where the facts come from, per year (``source``):

- ``official``: ``chinesecalendar``, maintained from the State Council's yearly notices, copied
  into the ``calendar_days`` table at start-up;
- ``office``: the office entered the year itself (``lvzhi calendar import`` or ``calendar set``
  then ``calendar confirm``), from the notice once it is published;
- ``provisional``: a year nobody has entered yet (the package covers 2004–2026 at 1.11.0). The
  calendar never runs out: such a year is derived from the law itself — the statutory days of
  the 全国年节及纪念日放假办法 as revised in 2024 (元旦 1 day, 春节 4: 除夕 to 初三, 清明 1,
  劳动节 2, 端午 1, 中秋 1, 国庆 3) on top of Saturday/Sunday weekends. What the law leaves to
  each year's notice — 调休 weekend workdays and where a weekend holiday is made up (补假) — is
  never guessed. Admins are told weekly until the official arrangement replaces it.

An office's single-day override (``calendar set``) wins over every source. This class is the
in-memory view the planner and the check-in rules ask; it answers for any day of any year.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

YearSource = Literal["official", "office", "provisional"]

# How the ``calendar_years.source`` column names each kind of year.
STORED_SOURCES: dict[str, YearSource] = {
    "chinesecalendar": "official",
    "manual": "office",
    "provisional": "provisional",  # the office accepted the derived year as it is (--provisional)
}


@dataclass(frozen=True, slots=True)
class SpecialDay:
    day: date
    kind: str  # holiday|workday
    name: str = ""


class WorkCalendar:
    """``special``: the stored days (the package's, the office's); ``years``: the stored years
    with their ``calendar_years.source`` (a plain iterable of years means official)."""

    def __init__(
        self, special: Iterable[SpecialDay], years: Mapping[int, str] | Iterable[int]
    ) -> None:
        self._load(special, years)

    def _load(
        self, special: Iterable[SpecialDay], years: Mapping[int, str] | Iterable[int]
    ) -> None:
        self._special: dict[date, SpecialDay] = {d.day: d for d in special}
        stored = years if isinstance(years, Mapping) else dict.fromkeys(years, "chinesecalendar")
        self._years: dict[int, YearSource] = {
            year: STORED_SOURCES.get(source, "office") for year, source in stored.items()
        }

    @classmethod
    def empty(cls) -> WorkCalendar:
        """A calendar with nothing stored: every year is derived from the law (provisional)."""
        return cls((), ())

    def replace(self, other: WorkCalendar) -> None:
        """Take ``other``'s facts in place (the planner reloads; everyone holds this object)."""
        self._special, self._years = other._special, other._years

    # --- where a year's facts come from -------------------------------------------------------

    @property
    def years(self) -> frozenset[int]:
        """The years entered from an official notice (by the package or the office)."""
        return frozenset(y for y, s in self._years.items() if s != "provisional")

    def source(self, year: int) -> YearSource:
        return self._years.get(year, "provisional")

    def awaits_official(self, year: int) -> bool:
        """Derived from the law and not yet accepted by the office: admins are reminded."""
        return year not in self._years

    def _entry(self, day: date) -> SpecialDay | None:
        special = self._special.get(day)
        if special is not None or self.source(day.year) != "provisional":
            return special
        return statutory_days(day.year).get(day)

    def special_days(self, year: int) -> list[SpecialDay]:
        """The year's exceptions to Monday–Friday, as the planner sees them, in date order."""
        days = {d.day: d for d in self._special.values() if d.day.year == year}
        if self.source(year) == "provisional":
            days = {**statutory_days(year), **days}
        return sorted(days.values(), key=lambda d: d.day)

    # --- questions about one day --------------------------------------------------------------

    def is_workday(self, day: date) -> bool:
        """A working day: Monday–Friday that is no holiday, or a 调休 weekend workday."""
        special = self._entry(day)
        if special is not None:
            return special.kind == "workday"
        return day.weekday() < 5

    def is_statutory_holiday(self, day: date) -> bool:
        """A statutory holiday (国庆, 春节 …), as opposed to an ordinary weekend."""
        special = self._entry(day)
        return special is not None and special.kind == "holiday"

    def holiday_name(self, day: date) -> str:
        special = self._entry(day)
        return special.name if special is not None and special.kind == "holiday" else ""

    def next_non_holiday(self, day: date) -> date:
        """``day`` itself, or the first day after it that is not a statutory holiday."""
        while self.is_statutory_holiday(day):
            day += timedelta(days=1)
        return day


# --- the law: 全国年节及纪念日放假办法 (2024 revision, in force from 2025) ---------------------

# Festivals by lunar (month, day) and how many days off from there; 春节 starts on 除夕, the
# day before the first of the first month.
_LUNAR_FESTIVALS = (("春节", (1, 1), -1, 4), ("端午节", (5, 5), 0, 1), ("中秋节", (8, 15), 0, 1))
_SOLAR_FESTIVALS = (("元旦", (1, 1), 1), ("劳动节", (5, 1), 2), ("国庆节", (10, 1), 3))


@functools.lru_cache(maxsize=64)
def statutory_days(year: int) -> dict[date, SpecialDay]:
    """The statutory days off of ``year`` as the law fixes them, without the notice's 调休.

    Lunar dates and 清明 (a solar term) come from ``tyme4py`` (astronomical, any year). Where
    two festivals meet (中秋 on 国庆, as in 2031) the day carries both names; how the notice
    makes up for the lost day is not guessed.
    """
    from tyme4py.lunar import LunarDay
    from tyme4py.solar import SolarTerm

    found: dict[date, SpecialDay] = {}

    def add(first: date, length: int, name: str) -> None:
        for n in range(length):
            day = first + timedelta(days=n)
            earlier = found.get(day)
            both = f"{earlier.name}、{name}" if earlier is not None else name
            found[day] = SpecialDay(day, "holiday", both)

    for name, (month, day), length in _SOLAR_FESTIVALS:
        add(date(year, month, day), length, name)
    for name, (month, day), shift, length in _LUNAR_FESTIVALS:
        solar = LunarDay.from_ymd(year, month, day).get_solar_day()
        first = date(solar.get_year(), solar.get_month(), solar.get_day())
        add(first + timedelta(days=shift), length, name)
    qingming = SolarTerm.from_name(year, "清明").get_julian_day().get_solar_day()
    add(date(qingming.get_year(), qingming.get_month(), qingming.get_day()), 1, "清明节")
    return {day: found[day] for day in sorted(found) if day.year == year}


def chinesecalendar_days() -> tuple[list[SpecialDay], list[int]]:
    """Every special day the installed ``chinesecalendar`` knows, and the years it covers."""
    import chinese_calendar

    days = [
        SpecialDay(day, "holiday", _holiday_name(name))
        for day, name in chinese_calendar.holidays.items()
    ] + [
        SpecialDay(day, "workday", _holiday_name(name))
        for day, name in chinese_calendar.workdays.items()
        if day.weekday() >= 5
    ]
    # Every covered year has statutory holidays; a year without any is one it does not know.
    years = sorted({d.day.year for d in days if d.kind == "holiday"})
    return days, years


_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _holiday_name(name: str) -> str:
    return _NAMES.get(name, name)
