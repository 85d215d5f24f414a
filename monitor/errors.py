"""Errors of the monitor package (the daemon, fetching, delivery and the CLI).

MonitorError                        root
├── ConfigError(ValueError)         the config file is wrong; `problems` lists each
├── FetchError                      a feed could not be fetched (url, reason)
│   ├── BlockedAddressError         the URL or a redirect points at a non-public address
│   ├── TooLargeError               the decoded body exceeds the size cap
│   └── FetchTimeoutError           the whole fetch exceeded its deadline
├── FeedParseError(ValueError)      the bytes are not a usable feed
└── DeliveryError                   a destination refused or could not take an event
"""

from __future__ import annotations


class MonitorError(Exception):
    """Root of the monitor package's errors."""


class ConfigError(MonitorError, ValueError):
    def __init__(self, problems: list[str], source: str = "config") -> None:
        self.problems = problems
        self.source = source
        super().__init__(f"{source}: " + "; ".join(problems) if problems else source)

    def __str__(self) -> str:
        lines = [f"invalid {self.source}:"] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class FetchError(MonitorError):
    def __init__(
        self, url: str, reason: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        self.url = url
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        super().__init__(reason)


class BlockedAddressError(FetchError):
    pass


class TooLargeError(FetchError):
    pass


class FetchTimeoutError(FetchError):
    pass


class FeedParseError(MonitorError, ValueError):
    pass


class DeliveryError(MonitorError):
    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None):
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        super().__init__(reason)
