"""Quiet hours (免打扰时段): no scheduled push reaches members at night.

``[scheduler] quiet_hours = "21:30-07:30"`` (Asia/Shanghai, the configured zone). A push that
falls due inside them waits for their end — or, if that would be after its deadline (a
meeting reply reminder due at 23:00 for a reply due by midnight), goes ``EARLY`` before they
begin. Answers to a member's own message are never held: they are not pushes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EARLY = timedelta(minutes=30)  # how long before quiet hours a pulled-forward push goes


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: ZoneInfo) -> QuietHours | None:
        """``"21:30-07:30"``; empty means none. ValueError with the reason (Chinese) otherwise."""
        if not text.strip():
            return None
        first, dash, last = text.replace("–", "-").partition("-")
        if not dash:
            raise ValueError("必须写成 HH:MM-HH:MM（如 21:30-07:30），不设免打扰时段则留空")
        start, end = _clock(first), _clock(last)
        if start == end:
            raise ValueError("开始和结束时间不能相同")
        return cls(start, end, zone)

    def window(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The quiet stretch that ``at`` falls in (start, end), or None."""
        local = at.astimezone(self.zone)
        for day in (local.date() - timedelta(days=1), local.date()):
            start, end = self._stretch(day)
            if start <= local < end:
                return start, end
        return None

    def next_window(self, at: datetime) -> tuple[datetime, datetime]:
        """The first quiet stretch (start, end) that begins after ``at``."""
        local = at.astimezone(self.zone)
        stretch = self._stretch(local.date())
        return stretch if stretch[0] > local else self._stretch(local.date() + timedelta(days=1))

    def place(self, due: datetime, expires: datetime | None) -> datetime:
        """When a push due at ``due`` (and useless from ``expires``) may go."""
        stretch = self.window(due)
        if stretch is None:
            return due
        start, end = stretch
        if expires is None or end < expires:
            return end
        return start - EARLY

    def _stretch(self, day: date) -> tuple[datetime, datetime]:
        start = datetime.combine(day, self.start, tzinfo=self.zone)
        end_day = day + timedelta(days=1) if self.end <= self.start else day
        return start, datetime.combine(end_day, self.end, tzinfo=self.zone)


def _clock(text: str) -> time:
    hour, colon, minute = text.strip().partition(":")
    if not (colon and hour.isdigit() and minute.isdigit()):
        raise ValueError(f"中的 {text.strip()!r} 不是 HH:MM 格式的时间")
    if int(hour) > 23 or int(minute) > 59:
        raise ValueError(f"中的 {text.strip()!r} 不是一天中的时刻（时 0—23，分 0—59）")
    return time(int(hour), int(minute))
