"""Check-in periods (打卡周期): days, Monday–Sunday weeks, calendar months, in local time."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Cadence = Literal["daily", "weekly", "monthly"]
CADENCE_NAMES: dict[str, str] = {"daily": "每天", "weekly": "每周", "monthly": "每月"}
CURRENT_NOUN: dict[str, str] = {"daily": "今天", "weekly": "本周", "monthly": "本月"}


@dataclass(frozen=True, slots=True, order=True)
class Period:
    start: date
    end: date  # inclusive
    cadence: Cadence

    @property
    def label(self) -> str:
        if self.cadence == "daily":
            return f"{self.start.month}月{self.start.day}日"
        if self.cadence == "monthly":
            return f"{self.start.year}年{self.start.month}月"
        return f"{self.start.month}月{self.start.day}日—{self.end.month}月{self.end.day}日"

    def closes_at(self, zone: ZoneInfo) -> datetime:
        """The first instant after the period (Monday 00:00 after a week)."""
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=zone)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def as_cadence(value: str) -> Cadence:
    if value not in CADENCE_NAMES:
        raise ValueError(f"unknown cadence {value!r}")
    return value  # type: ignore[return-value]


def period_of_span(start: date, end: date) -> Period:
    """The period a stored check-in row covers, its cadence told by its length."""
    length = (end - start).days
    cadence: Cadence = "daily" if length == 0 else "weekly" if length == 6 else "monthly"
    return Period(start, end, cadence)


def period_containing(cadence: Cadence, day: date) -> Period:
    if cadence == "daily":
        return Period(day, day, cadence)
    if cadence == "weekly":
        start = day - timedelta(days=day.weekday())
        return Period(start, start + timedelta(days=6), cadence)
    last = calendar.monthrange(day.year, day.month)[1]
    return Period(day.replace(day=1), day.replace(day=last), cadence)


def previous_period(period: Period) -> Period:
    return period_containing(period.cadence, period.start - timedelta(days=1))


def next_period(period: Period) -> Period:
    return period_containing(period.cadence, period.end + timedelta(days=1))
