"""Fetch feeds over HTTP: conditional GET, guarded redirects, size cap, total deadline.

The only module that makes feed requests (through netguard's GuardedSession). Redirects
and decompression are done here, so every hop passes the SSRF guard and every byte counts
against the cap. Client errors are translated to FetchError here, once.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from monitor.decode import ACCEPT_ENCODING, BoundedDecoder
from monitor.errors import BlockedAddressError, FetchError, FetchTimeoutError, TooLargeError
from monitor.netguard import (
    AddressPolicy,
    Guard,
    GuardedSession,
    RawResponse,
    Resolver,
    check_url_syntax,
    explain,
    system_resolve,
)

USER_AGENT = "newsmon/0.1 (+https://github.com/newsmon/newsmon; self-hosted news monitor)"
MAX_REDIRECTS = 5
_PERMANENT = (301, 308)
_REDIRECTS = (301, 302, 303, 307, 308)
MAX_RETRY_AFTER = 7 * 86400.0
# ASCII digits only: str.isdigit() accepts "²" (a Latin-1 header byte), which float() and
# int() then refuse with ValueError.
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class FetchResult:
    url: str  # the URL finally fetched
    status: int  # 200-299, or 304 (not modified)
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    permanent_url: str | None = None  # where 301/308 redirects say the feed now lives

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110
    §10.2.3). Garbage and negative values give None; huge values are capped."""
    if not value:
        return None
    value = value.strip()
    if _DIGITS.fullmatch(value):
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    delta = when.timestamp() - (time.time() if now is None else now)
    return min(max(delta, 0.0), MAX_RETRY_AFTER)


@functools.lru_cache(maxsize=65536)
def _check_url(url: str) -> None:
    """check_url_syntax, once per URL: feeds are polled again and again (raising is not
    cached, so a bad URL is checked, and refused, every time)."""
    check_url_syntax(url)


class Fetcher:
    """One pooled, guarded HTTP client for all feeds. Use as an async context manager."""

    def __init__(
        self,
        policy: AddressPolicy,
        timeout: float = 20.0,
        max_bytes: int = 10_000_000,
        max_connections: int = 100,
        resolver: Resolver = system_resolve,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.guard = Guard(policy, resolver)
        # One aiohttp pool: its per-request cost does not grow with its size, unlike
        # httpcore's (encode/httpx#3215), so it needs no sharding.
        self.session = GuardedSession(self.guard, max_connections)
        self._headers = [
            ("User-Agent", USER_AGENT),
            ("Accept", "application/rss+xml, application/atom+xml, "
                       "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"),
            ("Accept-Encoding", ACCEPT_ENCODING),
        ]  # fmt: skip

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.session.aclose()

    async def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET `url` within one overall deadline (per-read timeouts miss a 1 byte/s drip)."""
        try:
            _check_url(url)
        except ValueError as e:
            raise FetchError(url, str(e)) from e
        try:
            async with asyncio.timeout(self.timeout):
                return await self._fetch(url, etag, last_modified)
        except TimeoutError as e:
            raise FetchTimeoutError(url, f"timed out after {self.timeout:g}s") from e

    async def _fetch(self, url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        headers = list(self._headers)
        if etag:
            headers.append(("If-None-Match", etag))  # echoed verbatim, quotes included
        if last_modified:
            headers.append(("If-Modified-Since", last_modified))
        current, permanent = url, True
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                async with self.session.get(current, headers) as r:
                    if r.status_code in _REDIRECTS:
                        target = self._redirect_target(current, r)
                        permanent = permanent and r.status_code in _PERMANENT
                        current = target
                        continue
                    if r.status_code == 304:
                        return FetchResult(current, 304, headers=r.headers)
                    if not 200 <= r.status_code < 300:
                        reason = f"HTTP {r.status_code}"
                        retry = parse_retry_after(r.headers.get("retry-after"))
                        raise FetchError(current, reason, r.status_code, retry)
                    body = await self._read(current, r)
                    return FetchResult(
                        current,
                        r.status_code,
                        body,
                        r.headers,
                        permanent_url=current if permanent and current != url else None,
                    )
            except FetchError as e:
                if e.url != current and "://" not in e.url:
                    # The guard names the host it refused; report the URL being fetched.
                    raise type(e)(current, e.reason, e.status, e.retry_after) from e
                raise
            except Exception as e:
                # Translated once, here: httpx, httpx-aiohttp and aiohttp errors alike.
                explained = explain(e)
                if explained is None:
                    raise
                cls, reason = explained
                raise cls(current, reason) from e
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")

    def _redirect_target(self, current: str, r: RawResponse) -> str:
        location = r.headers.get("location")
        if not location:
            raise FetchError(current, f"HTTP {r.status_code} redirect without a Location")
        target: str = urljoin(current, location)
        try:
            _check_url(target)
        except ValueError as e:
            raise BlockedAddressError(current, f"redirect refused: {e}") from e
        if urlsplit(current).scheme == "https" and urlsplit(target).scheme == "http":
            raise BlockedAddressError(current, "redirect from https to http refused")
        return target

    async def _read(self, url: str, r: RawResponse) -> bytes:
        declared = r.headers.get("content-length", "").strip()
        # int() refuses more than 4,300 digits; anything over 18 is too large anyway.
        if _DIGITS.fullmatch(declared) and (len(declared) > 18 or int(declared) > self.max_bytes):
            raise TooLargeError(url, f"feed is larger than {self.max_bytes} bytes")
        decoder = BoundedDecoder(url, r.headers.get("content-encoding"), self.max_bytes)
        parts: list[bytes] = []
        async for raw in r.aiter_raw():
            parts.append(decoder.feed(raw))
        parts.append(decoder.flush())
        return b"".join(parts)
