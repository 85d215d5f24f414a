"""A token bucket per webhook URL: Slack allows about one message per second with short
bursts, and asks callers to back off on 429 (RELIABILITY.md §3.3).

Pure apart from the injectable monotonic clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = rate  # tokens per second; 0 = unlimited
        self.burst = max(1, burst)
        self.clock = clock
        self.tokens = float(self.burst)
        self.updated = clock()
        self.paused_until = 0.0

    def _refill(self, now: float) -> None:
        if self.rate > 0:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def take(self) -> float:
        """Take a token; the seconds to wait before using it (0 when one is free now)."""
        now = self.clock()
        pause = max(0.0, self.paused_until - now)
        if self.rate <= 0:
            return pause
        self._refill(now)
        self.tokens -= 1
        wait = 0.0 if self.tokens >= 0 else -self.tokens / self.rate
        return max(wait, pause)

    def pause(self, seconds: float) -> None:
        """The receiver said to wait (429 Retry-After): no tokens until then."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)
        self.tokens = min(self.tokens, 0.0)
