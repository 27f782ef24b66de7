"""Injectable time, so tests, snapshots and the demo can control "now"."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC datetime."""

    def time(self) -> float:
        """Epoch seconds."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()


class FakeClock:
    """A clock that moves only when told (optionally also with real time)."""

    def __init__(self, start: datetime | float | None = None) -> None:
        if start is None:
            start = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
        if isinstance(start, datetime):
            start = start.timestamp()
        self._t = float(start)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._t, UTC)

    def time(self) -> float:
        return self._t

    def advance(self, seconds: float | timedelta) -> None:
        if isinstance(seconds, timedelta):
            seconds = seconds.total_seconds()
        self._t += float(seconds)

    def set(self, when: datetime | float) -> None:
        self._t = when.timestamp() if isinstance(when, datetime) else float(when)


SYSTEM_CLOCK = SystemClock()
