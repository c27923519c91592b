"""The working calendar: statutory holidays (法定节假日) and 调休 make-up workdays.

The facts come from ``chinesecalendar`` (maintained from the State Council's notices), copied
into the ``calendar_days`` table so an office can override a day; this class is the in-memory
view the planner and the check-in rules ask. A year that is not covered is never guessed at:
asking about it raises :class:`CalendarNotCovered`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta


class CalendarNotCovered(Exception):
    def __init__(self, year: int) -> None:
        super().__init__(f"the holiday calendar does not cover {year}")
        self.year = year


@dataclass(frozen=True, slots=True)
class SpecialDay:
    day: date
    kind: str  # holiday|workday
    name: str = ""


class WorkCalendar:
    def __init__(self, special: Iterable[SpecialDay], years: Iterable[int]) -> None:
        self._special: Mapping[date, SpecialDay] = {d.day: d for d in special}
        self.years = frozenset(years)

    @classmethod
    def empty(cls) -> WorkCalendar:
        """A calendar that covers no year (every question about a day raises)."""
        return cls((), ())

    def covers(self, day: date) -> bool:
        return day.year in self.years

    def _check(self, day: date) -> None:
        if day.year not in self.years:
            raise CalendarNotCovered(day.year)

    def is_workday(self, day: date) -> bool:
        """A working day: Monday–Friday that is no holiday, or a 调休 weekend workday."""
        self._check(day)
        special = self._special.get(day)
        if special is not None:
            return special.kind == "workday"
        return day.weekday() < 5

    def is_statutory_holiday(self, day: date) -> bool:
        """A statutory holiday (国庆, 春节 …), as opposed to an ordinary weekend."""
        self._check(day)
        special = self._special.get(day)
        return special is not None and special.kind == "holiday"

    def holiday_name(self, day: date) -> str:
        special = self._special.get(day)
        return special.name if special is not None and special.kind == "holiday" else ""

    def next_non_holiday(self, day: date) -> date:
        """``day`` itself, or the first day after it that is not a statutory holiday."""
        while self.is_statutory_holiday(day):
            day += timedelta(days=1)
        return day


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
