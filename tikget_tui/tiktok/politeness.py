"""Being a polite client: a per-host concurrency cap and spacing between API/page calls."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Sleep = Callable[[float], Awaitable[None]]
log = logging.getLogger(__name__)


class HostLimiter:
    """At most ``limit`` requests in flight per host (``host:port``)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, int(limit))
        self._sems: dict[str, asyncio.Semaphore] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        sem = self._sems.get(host)
        if sem is None:
            sem = self._sems[host] = asyncio.Semaphore(self.limit)
        async with sem:
            yield


class Pacer:
    """Successive calls start at least ``interval`` seconds apart (monotonic time)."""

    def __init__(self, interval: float, sleep: Sleep = asyncio.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.interval = max(0.0, float(interval))
        self._sleep = sleep
        self._monotonic = monotonic
        self._lock = asyncio.Lock()
        self._next = 0.0

    async def wait(self) -> None:
        if self.interval <= 0:
            return
        async with self._lock:
            now = self._monotonic()
            if now < self._next:
                log.debug("waiting %.2f s before the next page/API call (politeness)",
                          self._next - now)
                await self._sleep(self._next - now)
                now = self._monotonic()
            self._next = max(now, self._next) + self.interval


def backoff_delay(attempt: int, base: float, cap: float = 60.0) -> float:
    """Exponential backoff with full jitter: uniform in [base*2^a/2, base*2^a], capped."""
    top = min(cap, base * (2 ** max(0, attempt)))
    return random.uniform(top / 2, top)
