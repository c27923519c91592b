"""The clock, injected everywhere time matters so tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SettableClock(Clock, Protocol):
    def set(self, when: datetime) -> None:
        """Move the clock to ``when``."""
        ...


class SimulatedClock:
    """Sandbox mode's clock: the system's, moved forward by the simulator's 快进 (never back).

    Only what the office's members would see follows it (check-ins, the planner, deliveries);
    console sessions and lockouts keep the wall clock (``Runtime.wall_clock``).
    """

    def __init__(self, base: Clock) -> None:
        self._base = base
        self._ahead = timedelta(0)

    def now(self) -> datetime:
        return self._base.now() + self._ahead

    @property
    def ahead(self) -> timedelta:
        return self._ahead

    def set(self, when: datetime) -> None:
        self._ahead = max(self._ahead, when.astimezone(UTC) - self._base.now())


class FakeClock:
    """A clock that moves only when told to (tests, simulations)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)
