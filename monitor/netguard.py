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
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from monitor.errors import BlockedAddressError

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
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
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

    def permits(self, ip: IPAddress) -> bool:
        ip = _unwrap(ip)
        if any(ip in net for net in self.allowed):
            return True
        if ip.is_multicast or ip.is_unspecified:
            return False
        return self.allow_private or ip.is_global


Resolver = Any  # async (host, port) -> list[str]; injectable for rebinding tests


async def system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves, vets and connects to the vetted IP."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver = system_resolve) -> None:
        from httpcore._backends.auto import AutoBackend  # httpcore's default backend

        self._inner = AutoBackend()
        self._policy = policy
        self._resolve = resolver

    async def vet(self, host: str, port: int) -> str:
        try:
            literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = await self._resolve(host, port)
            except OSError as e:
                raise httpcore.ConnectError(f"cannot resolve {host}: {e}") from e
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}")
        ips = [ipaddress.ip_address(a.split("%")[0]) for a in addresses]
        # All answers must be allowed: otherwise a later connection could use a bad one.
        bad = [ip for ip in ips if not self._policy.permits(ip)]
        if bad:
            raise _Blocked(f"{host} resolves to a non-public address ({bad[0]})")
        return str(ips[0])

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        ip = await self.vet(host, port)
        return await self._inner.connect_tcp(ip, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise _Blocked("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Blocked(httpcore.ConnectError):
    """Raised inside httpcore; translated to BlockedAddressError by `raise_blocked`."""


def guarded_transport(
    policy: AddressPolicy, resolver: Resolver = system_resolve, max_connections: int = 100
) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every connection goes through the guard.

    httpx has no public per-connection hook, so the pool is replaced with one built on our
    backend. That touches a private attribute (`_pool`); httpx is pinned to 0.28.x and the
    SSRF tests fail loudly if this stops working.
    """
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(
        # The verifying context httpx just built (loading the CA bundle twice costs ~45 ms).
        ssl_context=transport._pool._ssl_context,
        max_connections=max_connections,
        max_keepalive_connections=max_connections // 2,
        keepalive_expiry=5.0,
        network_backend=GuardedBackend(policy, resolver),
    )
    return transport


def blocked_reason(exc: BaseException) -> str | None:
    """If `exc` (or its cause chain) is the guard refusing an address, the reason."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, _Blocked):
            return str(cur)
        if isinstance(cur, BlockedAddressError):
            return cur.reason
        cur = cur.__cause__ or cur.__context__
    text = str(exc)
    return text if "non-public address" in text or "not allowed" in text else None
