"""When to poll a feed next: its interval, its posting rate, server hints, failures.

Pure. No I/O; `now` is passed in. Bounds keep every decision between the configured
interval and a day, so no feed is polled in a hot loop and none is forgotten.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import re
from collections.abc import Iterable, Mapping
from statistics import median

MAX_INTERVAL = 24 * 3600.0
MAX_BACKOFF = 24 * 3600.0
_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*(\d+)", re.I)


def jittered(now: dt.datetime, seconds: float) -> dt.datetime:
    """`now + seconds` with +-10% jitter, so feeds added together spread out."""
    return now + dt.timedelta(seconds=seconds * random.uniform(0.9, 1.1))


def server_hint(headers: Mapping[str, str], ttl_minutes: int | None, now: dt.datetime) -> float:
    """Seconds the server asks us to wait: RSS <ttl>, Cache-Control max-age, Expires."""
    hints = []
    if ttl_minutes:
        hints.append(ttl_minutes * 60.0)
    cache = headers.get("cache-control", "")
    if m := _MAX_AGE.search(cache):
        hints.append(float(m.group(1)))
    expires = headers.get("expires")
    if expires and not hints:
        try:
            when = email.utils.parsedate_to_datetime(expires)
            if when.tzinfo is not None:
                hints.append((when - now).total_seconds())
        except (TypeError, ValueError, IndexError):
            pass
    return max([0.0, *hints])


def rate_interval(published: Iterable[dt.datetime | None], now: dt.datetime) -> float | None:
    """A quarter of the median gap between the feed's recent items (a feed posting daily
    need not be polled every ten minutes); None when the feed gives too few dates."""
    times = sorted(t for t in published if t is not None and t <= now)[-20:]
    if len(times) < 3:
        return None
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    gaps = [g for g in gaps if g > 0]
    return median(gaps) / 4 if gaps else None


def next_interval(
    base: float,
    published: Iterable[dt.datetime | None] = (),
    headers: Mapping[str, str] | None = None,
    ttl_minutes: int | None = None,
    now: dt.datetime | None = None,
) -> float:
    """Seconds until the next poll after a success: never below the configured interval,
    never above a day; slower for feeds that post rarely or ask for it."""
    now = now or dt.datetime.now(dt.UTC)
    interval = base
    rate = rate_interval(published, now)
    if rate is not None:
        interval = max(interval, min(rate, 6 * 3600.0))
    interval = max(interval, server_hint(headers or {}, ttl_minutes, now))
    return min(max(interval, base), max(MAX_INTERVAL, base))


def backoff(base: float, failures: int, retry_after: float | None) -> float:
    """Seconds until the retry after `failures` failures in a row: exponential, capped at a
    day, and never sooner than the server's Retry-After."""
    delay = min(base * 2.0 ** max(failures - 1, 0), MAX_BACKOFF)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_BACKOFF))
    return delay
