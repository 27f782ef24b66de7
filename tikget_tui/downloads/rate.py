"""Progress at a bounded rate, with speed and ETA over the last few seconds."""

from __future__ import annotations

import collections
import time
from collections.abc import Callable


class RateLimiter:
    """At most ``per_second`` events, plus speed/ETA over a sliding window of ~3 s.

    Call :meth:`due` for every chunk (cheap); :meth:`speed` only when it said yes.
    """

    def __init__(self, per_second: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.interval = 1.0 / per_second
        self._clock = clock
        self._last = -1e18
        self._samples: collections.deque[tuple[float, int]] = collections.deque(maxlen=64)

    def restart(self) -> None:
        """Forget the samples: a new attempt starts (say, at the resumed offset of a .part
        after fresh links), and its first bytes must not count the jump from the last one."""
        self._samples.clear()

    def speed(self, done: int) -> float:
        now = self._clock()
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > 3.0:
            self._samples.popleft()
        t0, d0 = self._samples[0]
        dt = now - t0
        return (done - d0) / dt if dt > 0 else 0.0

    def due(self) -> bool:
        now = self._clock()
        if now - self._last >= self.interval:
            self._last = now
            return True
        return False
