"""SSRF guard: only public addresses, checked on the resolved IP at connect time.

Feed and webhook URLs come from users and, through redirects, from feeds. The guard vets
every address a hostname resolves to and connects to the vetted IP itself, so a second DNS
answer cannot differ (rebinding). Redirects are followed by our own code, one hop at a time,
so each hop connects through this guard again. See RELIABILITY.md §4.1 and Miniflux #4087.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiohttp import (
    ClientConnectorCertificateError,
    ClientConnectorError,
    ClientError,
    ClientPayloadError,
    ClientResponse,
    ClientSession,
    ClientSSLError,
    ClientTimeout,
    DummyCookieJar,
    ServerDisconnectedError,
    ServerTimeoutError,
    TCPConnector,
)
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.http_exceptions import HttpProcessingError
from httpx_aiohttp import AiohttpTransport
from yarl import URL

from monitor.errors import BlockedAddressError, FetchError, FetchTimeoutError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def check_url_syntax(url: str) -> None:
    """Raise ValueError unless `url` is an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a malformed port
    except ValueError as e:
        raise ValueError(f"not a valid URL: {url!r}") from e
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"only http and https URLs are allowed, not {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise ValueError(f"URL has no host: {url!r}")
    try:
        httpx.URL(url)  # stricter than urlsplit: refuses hosts like "0177.0.0.1"
    except httpx.InvalidURL as e:
        raise ValueError(f"not a valid URL: {url!r} ({e})") from e


def _unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address hidden in IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::/96) forms."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def check_url_policy(url: str, policy: AddressPolicy) -> None:
    """Raise ValueError when `url` names a non-public address outright (an IP literal or
    localhost), so it is refused when it is added, not only when it is fetched. Hostnames
    are still checked on their resolved addresses at connect time."""
    host = (urlsplit(url).hostname or "").strip("[]")
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        host = "127.0.0.1"
    ip = _literal(host)
    if ip is None:
        return
    if not policy.permits(ip):
        raise ValueError(
            f"{url} points at a non-public address ({ip}); set allow_private_networks "
            "or allowed_networks to allow it"
        )


class AddressPolicy:
    """Which addresses may be contacted: public ones, plus opted-in networks."""

    def __init__(self, allow_private: bool = False, allowed: Iterable[str] = ()) -> None:
        self.allow_private = allow_private
        self.allowed = [ipaddress.ip_network(n, strict=False) for n in allowed]
        self._verdicts: dict[IPAddress, bool] = {}

    def permits(self, ip: IPAddress) -> bool:
        # Remembered per address: `is_global` walks lists of reserved networks, and a feed
        # host's address is checked on every request to it.
        known = self._verdicts.get(ip)
        if known is None:
            if len(self._verdicts) > 10_000:
                self._verdicts.clear()
            known = self._verdicts[ip] = self._permits(_unwrap(ip))
        return known

    def _permits(self, ip: IPAddress) -> bool:
        if any(ip in net for net in self.allowed):
            return True
        if ip.is_multicast or ip.is_unspecified:
            return False
        return self.allow_private or ip.is_global


Resolver = Any  # async (host, port) -> list[str]; injectable for rebinding tests


async def system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class Guard:
    """Resolves and vets hosts; only vetted addresses are connected to.

    `approved` records every (address, port) it let through: the tests' proof that no
    connection was even attempted to anything else.
    """

    def __init__(self, policy: AddressPolicy, resolver: Resolver = system_resolve) -> None:
        self.policy = policy
        self._resolve = resolver
        self.approved: list[tuple[str, int]] = []

    async def vet(self, host: str, port: int) -> str:
        """The address to connect to for `host`, or BlockedAddressError."""
        return (await self.vet_all(host, port))[0]

    async def vet_all(self, host: str, port: int) -> list[str]:
        host = host.strip("[]")
        if _ip(host.split("%")[0]) is not None:
            return self._approve(host, [host], port)
        try:
            addresses = await self._resolve(host, port)
        except OSError as e:
            raise FetchError(host, f"cannot resolve {host}: {e}") from e
        return self._approve(host, addresses, port)

    def vet_literal(self, address: str, port: int) -> None:
        """Vet an IP-literal host (no resolving, so no await), or BlockedAddressError."""
        self._approve(address, [address], port)

    def _approve(self, host: str, addresses: list[str], port: int) -> list[str]:
        if not addresses:
            raise FetchError(host, f"cannot resolve {host}")
        found = [_canonical(a.split("%")[0]) for a in addresses]
        # All answers must be allowed: otherwise a later connection could use a bad one.
        bad = [ip for ip, _ in found if not self.policy.permits(ip)]
        if bad:
            raise BlockedAddressError(host, f"{host} resolves to a non-public address ({bad[0]})")
        if len(self.approved) >= 10_000:
            del self.approved[:5_000]  # a record, not a log: bounded in a long-lived daemon
        self.approved.append((found[0][1], port))
        return [text for _, text in found]


class _GuardedResolver(AbstractResolver):
    """aiohttp's hook for name resolution: answers only with vetted addresses, so aiohttp
    connects to exactly what was checked (no second DNS answer: rebinding)."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    async def resolve(
        self, host: str, port: int = 0, family: int = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            {
                "hostname": host,
                "host": ip,
                "port": port,
                "family": socket.AF_INET6 if ":" in ip else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for ip in await self.guard.vet_all(host, port)
        ]

    async def close(self) -> None:
        return None


def _guarded_session(guard: Guard, limit: int, **options: Any) -> ClientSession:
    """An aiohttp session whose every connection goes to an address `guard` vetted."""
    connector = TCPConnector(
        resolver=_GuardedResolver(guard), ssl=_ssl_context(), limit=limit, keepalive_timeout=5.0
    )
    # trust_env=False: a proxy from the environment would be the address checked.
    return ClientSession(connector=connector, trust_env=False, **options)


class _GuardedTransport(AiohttpTransport):
    """httpx over aiohttp (httpx-aiohttp), with every request vetted.

    aiohttp resolves names through the guard; it skips resolution for IP literals, so those
    are vetted here before the request. aiohttp's per-request CPU is a fraction of
    httpcore's, whose pool scan grows with its size (encode/httpx#3215).
    """

    def __init__(self, guard: Guard, max_connections: int) -> None:
        super().__init__(client=lambda: _guarded_session(guard, max_connections))
        self.guard = guard

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        literal = _literal_text(request.url.host)
        if literal is not None:
            port = request.url.port or (443 if request.url.scheme == "https" else 80)
            self.guard.vet_literal(literal, port)
        elif request.url.scheme not in ("http", "https"):
            raise BlockedAddressError(str(request.url), "only http and https are allowed")
        return await super().handle_async_request(request)


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """httpx's default client context (certifi's CAs), made once: loading the CA file costs
    ~25 ms, and clients are made per cycle by `run --once`. Shared, as SSLContext allows."""
    return httpx.create_ssl_context()


@lru_cache(maxsize=4096)
def _ip(text: str) -> IPAddress | None:
    """`text` as an IP address, or None (parsed once per distinct text: every request)."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _canonical(text: str) -> tuple[IPAddress, str]:
    """An address a resolver answered, parsed and in its canonical text form, once per
    distinct answer (ValueError for an answer that is not an address)."""
    ip = _ip(text) or ipaddress.ip_address(text)
    return ip, str(ip)


@lru_cache(maxsize=4096)
def _literal(host: str) -> IPAddress | None:
    """The address an IP-literal host names, including the all-digits form some clients
    read as an IPv4 address ("2130706434" is 127.0.0.2)."""
    host = host.strip("[]").split("%")[0]
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    if host.isdecimal() and int(host) < 2**32:
        return ipaddress.IPv4Address(int(host))
    return _ip(host)


@lru_cache(maxsize=65536)
def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


class RawResponse:
    """A feed response as read off the wire: status, headers, undecoded body chunks."""

    __slots__ = ("status_code", "headers", "_response")

    def __init__(self, response: ClientResponse) -> None:
        self._response = response
        self.status_code: int = response.status
        # Lower-case names; a repeated header's values joined by ", " (RFC 9110 §5.3), so
        # two Content-Encoding lines read as the stacked encodings they are.
        headers: dict[str, str] = {}
        for name, value in response.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        self.headers = headers

    def aiter_raw(self) -> AsyncIterator[bytes]:
        """The body as sent (compressed, if it was): decoding is the caller's, capped."""
        return self._response.content.iter_any()


class _Exchange:
    """One request's async context manager: aiohttp's, giving a RawResponse. A class, not
    a generator-based context manager: it is entered once per feed per cycle."""

    __slots__ = ("_request",)

    def __init__(self, request: Any) -> None:
        self._request = request

    async def __aenter__(self) -> RawResponse:
        response = await self._request.__aenter__()
        try:
            return RawResponse(response)
        except BaseException:
            await self._request.__aexit__(None, None, None)  # give the connection back
            raise

    async def __aexit__(self, *exc: Any) -> None:
        await self._request.__aexit__(*exc)


_CALLER_BOUNDED = ClientTimeout(total=None, connect=None, sock_read=None, sock_connect=None)


class GuardedSession:
    """Plain GETs on aiohttp, every connection through `guard`: the feed client.

    Feeds skip httpx: building its request and response models (URL parsing, header
    normalisation) around aiohttp's own cost a quarter of an unchanged feed's CPU, and feed
    requests need none of httpx's features. Redirects, decompression and cookies are left
    to the caller (none are followed, decoded or kept here).
    """

    def __init__(self, guard: Guard, max_connections: int) -> None:
        self.guard = guard
        self._limit = max_connections
        self._session: ClientSession | None = None

    def _open(self) -> ClientSession:
        # Made on first use: an aiohttp session belongs to the running event loop.
        self._session = _guarded_session(
            self.guard, self._limit, auto_decompress=False, cookie_jar=DummyCookieJar()
        )
        return self._session

    def get(self, url: str, headers: list[tuple[str, str]]) -> _Exchange:
        """GET `url` (already syntax-checked), without following redirects, as an async
        context manager giving the RawResponse. No timeouts of its own: the caller bounds
        the whole exchange with one deadline (Fetcher.fetch), which per-phase timers (a
        timer handle each, per request) would only repeat."""
        host, port = _host_port(url)
        literal = _literal_text(host)
        if literal is not None:
            # aiohttp does not resolve IP literals, so its resolver hook never sees them.
            self.guard.vet_literal(literal, port)
        session = self._session or self._open()
        return _Exchange(
            session.get(
                _parsed(url), headers=headers, allow_redirects=False, timeout=_CALLER_BOUNDED
            )
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


@lru_cache(maxsize=65536)
def _parsed(url: str) -> URL:
    """The URL as aiohttp would parse it from the string, once per feed URL, not per poll
    (immutable, so safe to share)."""
    return URL(url)


@lru_cache(maxsize=4096)
def _literal_text(host: str) -> str | None:
    literal = _literal(host)
    return None if literal is None else str(literal)


def guarded_transport(guard: Guard, max_connections: int = 100) -> httpx.AsyncBaseTransport:
    """An httpx transport whose every connection goes through `guard`."""
    return _GuardedTransport(guard, max_connections)


def explain(exc: BaseException) -> tuple[type[FetchError], str] | None:
    """The error class and a short reason (see _explain), the reason capped in length: a
    parser error can quote megabytes of what the server sent."""
    found = _explain(exc)
    if found is None:
        return None
    cls, reason = found
    reason = " ".join(reason.split())
    return cls, reason if len(reason) <= 300 else reason[:299] + "…"


def _explain(exc: BaseException) -> tuple[type[FetchError], str] | None:
    """The error class and a short reason for a failed request, read from the aiohttp error
    under it (httpx-aiohttp maps even "connection refused" to httpx.ConnectTimeout), or
    None when `exc` is not a transport failure (a bug: let it propagate)."""
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in chain:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    for e in chain:
        if isinstance(e, BlockedAddressError):
            return BlockedAddressError, e.reason
        if isinstance(e, ClientConnectorCertificateError | ClientSSLError | ssl.SSLError):
            return FetchError, f"TLS error: {e}"
        if isinstance(e, ClientConnectorError):
            return FetchError, f"cannot connect: {e.os_error.strerror or e.os_error}"
        if isinstance(e, ServerTimeoutError | TimeoutError):
            return FetchTimeoutError, "timed out"
        if isinstance(e, ServerDisconnectedError):
            return FetchError, "the server closed the connection"
        if isinstance(e, ClientPayloadError):
            return FetchError, f"broken response body: {e}"
        if isinstance(e, HttpProcessingError):
            return FetchError, f"malformed HTTP response: {e.message}".strip()
    for e in chain:
        if isinstance(e, ClientError | httpx.TransportError):
            return FetchError, f"{type(e).__name__}: {e}"
        if isinstance(e, httpx.InvalidURL):
            return FetchError, f"invalid URL: {e}"
    return None


def never_sent(exc: BaseException) -> bool:
    """Whether a failed request certainly never reached the server (no connection was made),
    as opposed to failing after the request may have been received."""
    cur: BaseException | None = exc
    seen: set[int] = set()
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ClientConnectorError | BlockedAddressError):
            return True
        cur = cur.__cause__ or cur.__context__
    return isinstance(exc, httpx.ConnectError)


def blocked_reason(exc: BaseException) -> str | None:
    """If `exc` (or its cause chain) is the guard refusing an address, the reason."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, BlockedAddressError):
            return cur.reason
        cur = cur.__cause__ or cur.__context__
    return None
