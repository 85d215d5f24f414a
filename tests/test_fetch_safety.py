"""Feed fetching under attack and failure (RELIABILITY.md §5 table C, F1-F6, F9, F10, F12, F13).

Everything runs on loopback. Addresses that must never be contacted (169.254.169.254,
10.0.0.1) are only ever given to a recording network backend that refuses to open sockets;
loopback "internal" addresses (127.0.0.2, ::1) get a tripwire listener that counts accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import gzip
import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Coroutine, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from conftest import ROOT, LocalServer, rss

from monitor import decode as decode_module
from monitor import fetch as fetch_module
from monitor.config import load_config
from monitor.decode import BoundedDecoder
from monitor.errors import (
    BlockedAddressError,
    ConfigError,
    FetchError,
    FetchTimeoutError,
    TooLargeError,
)
from monitor.fetch import MAX_REDIRECTS, MAX_RETRY_AFTER, Fetcher, parse_retry_after
from monitor.netguard import AddressPolicy, Guard, check_url_syntax, system_resolve
from monitor.parse import parse_feed

FEED = rss([{"guid": "g1", "title": "Hello", "link": "https://example.org/1"}])
ONLY_LOCAL = AddressPolicy(allowed=["127.0.0.1/32"])
PUBLIC_ONLY = AddressPolicy(allow_private=False)
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def _shared_server() -> Iterator[LocalServer]:
    s = LocalServer()
    yield s
    s.close()  # shutdown() waits up to 0.5 s: pay it once per module, not per test


@pytest.fixture
def server(_shared_server: LocalServer) -> LocalServer:
    """conftest's LocalServer, shared by this module's tests, emptied before each one."""
    _shared_server.routes.clear()
    _shared_server.requests.clear()
    return _shared_server


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


async def fetch(url: str, policy: AddressPolicy = ONLY_LOCAL, **kw: Any) -> Any:
    opts: dict[str, Any] = {"timeout": 2.0, **kw}
    async with Fetcher(policy, **opts) as f:
        return await f.fetch(url)


# --- loopback helpers -------------------------------------------------------------------


def _stop_listening(sock: socket.socket) -> None:
    """Close a listener and wake the thread blocked in accept() (close alone does not)."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class Tripwire:
    """A listener that counts accepted connections and never answers."""

    def __init__(self, host: str, port: int = 0) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.port: int = self.sock.getsockname()[1]
        self.hits = 0
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            self._conns.append(conn)

    def close(self) -> None:
        _stop_listening(self.sock)
        self._thread.join(2)
        for c in self._conns:
            c.close()


@pytest.fixture
def tripwires() -> Iterator[Callable[..., Tripwire]]:
    made: list[Tripwire] = []

    def make(host: str, port: int = 0) -> Tripwire:
        t = Tripwire(host, port)
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()


def _read_request(conn: socket.socket) -> bytes:
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            break
        buf += data
    return buf


class RawServer:
    """A loopback TCP server whose handler writes raw HTTP (for lies, drips and hangs)."""

    def __init__(self, handler: Callable[[socket.socket, threading.Event], None]) -> None:
        self.handler = handler
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.sent = 0  # body bytes the handlers managed to send
        self.accepts = 0
        self._threads: list[threading.Thread] = []
        self._loop_thread = threading.Thread(target=self._loop, daemon=True)
        self._loop_thread.start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepts += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                _read_request(conn)
                self.handler(conn, self.stop)
            except OSError:
                pass  # the client hung up: expected when it aborts

    def send_body(self, conn: socket.socket, total: int, block: int = 64 * 1024) -> None:
        chunk = b"A" * block
        while total > 0 and not self.stop.is_set():
            n = min(block, total)
            conn.sendall(chunk[:n])
            self.sent += n
            total -= n

    def close(self) -> None:
        self.stop.set()
        _stop_listening(self.sock)
        self._loop_thread.join(2)
        for t in self._threads:
            t.join(2)


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawServer]]:
    made: list[RawServer] = []

    def make(handler: Callable[[socket.socket, threading.Event], None]) -> RawServer:
        s = RawServer(handler)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


class RecordingResolver:
    """An injectable resolver: scripted answers in order (the last repeats), else the system."""

    def __init__(self, answers: list[list[str]] | None = None) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        if self.answers is None:
            return await system_resolve(host, port)
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


class ConnectRecorder:
    """Every (address, port) the guards let a connection go to, across the Fetcher's
    session. With `delegate=False` nothing is ever connected: an approval raises instead
    (for addresses that must not be touched, such as 10.x or 169.254.169.254)."""

    def __init__(self, fetcher: Fetcher, delegate: bool) -> None:
        guard = fetcher.guard
        assert isinstance(guard, Guard), "the Fetcher is not guarded"
        assert fetcher.session.guard is guard
        self.connects = guard.approved
        if not delegate:
            vet_all = guard.vet_all

            async def refusing(host: str, port: int) -> list[str]:
                await vet_all(host, port)
                raise FetchError(host, "recording guard: no sockets in this test")

            guard.vet_all = refusing  # type: ignore[method-assign]
            vet_literal = guard.vet_literal

            def refusing_literal(address: str, port: int) -> None:
                vet_literal(address, port)
                raise FetchError(address, "recording guard: no sockets in this test")

            guard.vet_literal = refusing_literal  # type: ignore[method-assign]


def record_connects(fetcher: Fetcher, delegate: bool = True) -> ConnectRecorder:
    return ConnectRecorder(fetcher, delegate)


# --- F1: SSRF on feed URLs ------------------------------------------------------------------


LOOPBACK_TARGETS = [
    # (url template, tripwire host, expected error)
    ("http://127.0.0.2:{port}/feed", "127.0.0.2", BlockedAddressError),
    ("http://[::1]:{port}/feed", "::1", BlockedAddressError),
    ("http://localhost:{port}/feed", "127.0.0.1", BlockedAddressError),
    ("http://[::ffff:127.0.0.2]:{port}/feed", "127.0.0.2", BlockedAddressError),
    ("http://2130706434:{port}/feed", "127.0.0.2", BlockedAddressError),  # = 127.0.0.2
    ("http://0177.0.0.2:{port}/feed", "127.0.0.2", FetchError),  # octal: refused as invalid
]


@pytest.mark.parametrize(("template", "host", "error"), LOOPBACK_TARGETS)
def test_f1_private_loopback_urls_refused_before_connect(tripwires, template, host, error):
    try:
        wire: Tripwire | None = tripwires(host)
    except OSError:  # no IPv6 loopback here: the recording backend still proves it
        wire = None
    url = template.format(port=wire.port if wire else 9)
    resolver = RecordingResolver()

    async def go() -> tuple[ConnectRecorder, FetchError]:
        async with Fetcher(PUBLIC_ONLY, timeout=2.0, resolver=resolver) as f:
            recorder = record_connects(f)
            with pytest.raises(error) as info:
                await f.fetch(url)
            return recorder, info.value

    recorder, err = run(go())
    assert recorder.connects == [], "the guard let a connect through"
    assert wire is None or wire.hits == 0
    assert err.url == url
    if error is BlockedAddressError:
        assert "non-public address" in err.reason  # a clear reason, not a socket error
    else:
        assert "not a valid URL" in err.reason


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/"])
def test_f1_metadata_and_rfc1918_never_opens_a_socket(url):
    resolver = RecordingResolver(answers=[])  # a literal IP must not even be resolved

    async def go() -> tuple[ConnectRecorder, BlockedAddressError, float]:
        async with Fetcher(PUBLIC_ONLY, timeout=2.0, resolver=resolver) as f:
            recorder = record_connects(f, delegate=False)
            start = time.monotonic()
            with pytest.raises(BlockedAddressError) as info:
                await f.fetch(url)
            return recorder, info.value, time.monotonic() - start

    recorder, err, elapsed = run(go())
    assert recorder.connects == []
    assert resolver.calls == []
    assert elapsed < 0.5
    assert "non-public address" in err.reason


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # carrier-grade NAT
        "127.0.0.2",
        "0.0.0.0",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",  # NAT64 form of 169.254.169.254
        "224.0.0.1",
    ],
)
def test_f1_guard_vet_refuses_non_public_addresses(address):
    guard = Guard(PUBLIC_ONLY, RecordingResolver(answers=[]))
    with pytest.raises(BlockedAddressError, match="non-public address"):
        run(guard.vet(address, 80))
    assert guard.approved == []


def test_f1_guard_vet_allows_public_and_checks_every_dns_answer():
    public = Guard(PUBLIC_ONLY, RecordingResolver(answers=[["93.184.216.34"]]))
    assert run(public.vet("example.org", 80)) == "93.184.216.34"
    mixed = Guard(PUBLIC_ONLY, RecordingResolver(answers=[["93.184.216.34", "10.0.0.1"]]))
    with pytest.raises(BlockedAddressError, match="non-public address"):
        run(mixed.vet("example.org", 80))
    assert mixed.approved == []


def test_f1_allowed_networks_let_only_that_address_through(server, tripwires):
    url = server.feed("/feed", FEED)
    result = run(fetch(url, ONLY_LOCAL))
    assert result.status == 200 and result.body == FEED

    wire = tripwires("127.0.0.2")
    with pytest.raises(BlockedAddressError):
        run(fetch(f"http://127.0.0.2:{wire.port}/feed", ONLY_LOCAL))
    assert wire.hits == 0


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "gopher://127.0.0.1:70/_x", "ftp://example.org/f", "http:///nohost"],
)
def test_f1_bad_schemes_refused_by_syntax_check_config_and_fetcher(tmp_path, url):
    with pytest.raises(ValueError):
        check_url_syntax(url)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(json.dumps({"feeds": [{"url": url}]}))
    with pytest.raises(ConfigError) as info:
        load_config(cfg, env={})
    assert "feeds.0.url" in str(info.value)
    with pytest.raises(FetchError):
        run(fetch(url))


def test_f1_config_refuses_hosts_httpx_cannot_parse(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(json.dumps({"feeds": [{"url": "http://0177.0.0.2/feed"}]}))
    with pytest.raises(ConfigError, match="not a valid URL"):
        load_config(cfg, env={})


# --- F2: redirects into private space, long chains, downgrades ------------------------------


def test_f2_redirect_to_private_address_blocked_at_hop_two(server, tripwires):
    wire = tripwires("127.0.0.2")
    target = f"http://127.0.0.2:{wire.port}/latest/meta-data/"
    url = server.feed("/feed", b"", status=302, headers={"Location": target})
    with pytest.raises(BlockedAddressError) as info:
        run(fetch(url, ONLY_LOCAL))
    assert info.value.url == target  # hop 1 was fine; hop 2 refused
    assert wire.hits == 0
    assert len(server.gets("/feed")) == 1


def test_f2_redirect_to_metadata_literal_opens_no_socket(server):
    url = server.feed(
        "/feed", b"", status=307, headers={"Location": "http://169.254.169.254/latest/"}
    )

    async def go() -> ConnectRecorder:
        async with Fetcher(ONLY_LOCAL, timeout=2.0) as f:
            recorder = record_connects(f)
            with pytest.raises(BlockedAddressError):
                await f.fetch(url)
            return recorder

    recorder = run(go())
    assert [host for host, _ in recorder.connects] == ["127.0.0.1"]


def _chain(server: LocalServer, n: int) -> str:
    for i in range(n):
        server.feed(f"/r{i}", b"", status=302, headers={"Location": f"/r{i + 1}"})
    server.feed(f"/r{n}", FEED)
    return server.url + "/r0"


def test_f2_chain_of_ten_redirects_is_an_error(server):
    url = _chain(server, 10)
    with pytest.raises(FetchError, match="redirects"):
        run(fetch(url))
    assert len(server.requests) == MAX_REDIRECTS + 1  # bounded: no hot loop


def test_f2_chain_within_the_limit_is_followed(server):
    url = _chain(server, MAX_REDIRECTS)
    result = run(fetch(url))
    assert result.body == FEED and result.url == f"{server.url}/r{MAX_REDIRECTS}"


def _redirect(location: str | None, status: int = 302) -> httpx.Response:
    return httpx.Response(status, headers={"Location": location} if location else {})


@pytest.mark.parametrize(
    "location",
    ["http://example.org/feed", "file:///etc/passwd", "gopher://example.org/", "javascript:x"],
)
def test_f2_downgrade_and_bad_schemes_refused_on_redirect(location):
    async def go() -> None:
        async with Fetcher(PUBLIC_ONLY) as f:
            with pytest.raises(BlockedAddressError, match="refused"):
                f._redirect_target("https://example.com/feed", _redirect(location))

    run(go())


def test_f2_redirect_target_resolution():
    async def go() -> None:
        async with Fetcher(PUBLIC_ONLY) as f:
            target = f._redirect_target("https://example.com/a/feed", _redirect("../b/feed"))
            assert target == "https://example.com/b/feed"
            assert (
                f._redirect_target("http://example.com/", _redirect("https://example.com/s"))
                == "https://example.com/s"
            )  # upgrades are fine
            with pytest.raises(FetchError, match="without a Location"):
                f._redirect_target("https://example.com/", _redirect(None))

    run(go())


# --- F3: DNS rebinding ------------------------------------------------------------------


def test_f3_rebinding_resolver_never_reaches_second_address(server, tripwires):
    server.feed("/feed", FEED)
    port = int(server.url.rsplit(":", 1)[1])
    wire = tripwires("127.0.0.2", port)  # same port, the "internal" address
    resolver = RecordingResolver(answers=[["127.0.0.1"], ["127.0.0.2"]])
    url = f"http://feed.test:{port}/feed"

    async def go() -> ConnectRecorder:
        async with Fetcher(ONLY_LOCAL, timeout=2.0, resolver=resolver) as f:
            recorder = record_connects(f)
            result = await f.fetch(url)
            assert result.body == FEED
            # One lookup per connection, and the connection used the vetted IP itself: the
            # socket layer never sees the name, so it cannot look it up again.
            assert resolver.calls == [("feed.test", port)]
            assert recorder.connects == [("127.0.0.1", port)]
            return recorder

    run(go())

    async def again() -> None:  # a new pool: a new lookup, which now rebinds
        async with Fetcher(ONLY_LOCAL, timeout=2.0, resolver=resolver) as f:
            with pytest.raises(BlockedAddressError, match="non-public address"):
                await f.fetch(url)

    run(again())
    assert len(resolver.calls) == 2
    assert wire.hits == 0


def test_f3_mixed_dns_answer_is_refused(server, tripwires):
    server.feed("/feed", FEED)
    port = int(server.url.rsplit(":", 1)[1])
    wire = tripwires("127.0.0.2", port)
    resolver = RecordingResolver(answers=[["127.0.0.1", "127.0.0.2"]])
    with pytest.raises(BlockedAddressError):
        run(fetch(f"http://feed.test:{port}/feed", ONLY_LOCAL, resolver=resolver))
    assert wire.hits == 0 and server.requests == []


# --- F4: oversized bodies ------------------------------------------------------------------

CAP = 1 * MiB
FIFTY_MB = 50 * 1000 * 1000


@pytest.fixture
def decoders(monkeypatch) -> list[Any]:
    """Every BoundedDecoder the Fetcher makes, with the bytes it handed back."""
    made: list[Any] = []

    class Probe(BoundedDecoder):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            self.returned = 0
            self.largest = 0
            made.append(self)

        def feed(self, data: bytes) -> bytes:
            out = super().feed(data)
            self.returned += len(out)
            self.largest = max(self.largest, len(out))
            return out

    monkeypatch.setattr(fetch_module, "BoundedDecoder", Probe)
    return made


def _headers(*lines: str) -> bytes:
    return ("HTTP/1.1 200 OK\r\n" + "".join(f"{h}\r\n" for h in lines) + "\r\n").encode()


def _raw_response(headers: list[str], body: bytes) -> Callable[..., None]:
    def handler(conn: socket.socket, stop: threading.Event) -> None:
        lines = [*headers, f"Content-Length: {len(body)}", "Connection: close"]
        conn.sendall(_headers(*lines) + body)

    return handler


def test_f4_declared_length_over_cap_refused_without_reading(raw_server, decoders):
    def handler(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(_headers(f"Content-Length: {FIFTY_MB}"))
        srv.send_body(conn, FIFTY_MB)

    srv = raw_server(handler)
    with pytest.raises(TooLargeError):
        run(fetch(srv.url, max_bytes=CAP))
    assert decoders == []  # refused on the header alone


@pytest.mark.parametrize("framing", ["close-delimited", "chunked"])
def test_f4_undeclared_length_aborted_at_cap(raw_server, decoders, framing):
    def handler(conn: socket.socket, stop: threading.Event) -> None:
        if framing == "chunked":
            conn.sendall(_headers("Transfer-Encoding: chunked"))
            block = b"A" * 65536
            while srv.sent < FIFTY_MB and not stop.is_set():
                conn.sendall(b"10000\r\n" + block + b"\r\n")
                srv.sent += len(block)
        else:
            conn.sendall(_headers("Connection: close"))
            srv.send_body(conn, FIFTY_MB)

    srv = raw_server(handler)
    with pytest.raises(TooLargeError, match="larger than"):
        run(fetch(srv.url, max_bytes=CAP))
    assert decoders[0].returned <= CAP
    # The client hung up near the cap (plus what loopback socket buffers hold).
    srv.close()
    assert srv.sent < FIFTY_MB / 2


def test_f4_small_content_length_with_chunked_body_is_capped(raw_server, decoders):
    """Content-Length: 100 next to Transfer-Encoding: chunked is a malformed (smuggling-
    shaped) response: refused outright (RFC 9112 §6.3), and nothing past the cap is decoded."""

    def handler(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(_headers("Content-Length: 100", "Transfer-Encoding: chunked"))
        block = b"A" * 65536
        while srv.sent < FIFTY_MB and not stop.is_set():
            conn.sendall(b"10000\r\n" + block + b"\r\n")
            srv.sent += len(block)

    srv = raw_server(handler)
    with pytest.raises(FetchError) as info:
        run(fetch(srv.url, max_bytes=CAP))
    assert isinstance(info.value, TooLargeError) or "malformed" in info.value.reason
    assert all(d.returned <= CAP for d in decoders)


def test_f4_small_content_length_with_more_bytes_reads_only_declared(raw_server, server):
    """Content-Length: 100 then 50 MB: HTTP framing ends the body at 100 bytes; the rest is
    never read as this body. The next request to that origin may see the leftovers as a
    garbled response (a FetchError), but never a bigger body; other origins are unaffected."""

    def handler(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(_headers("Content-Length: 100"))
        srv.send_body(conn, FIFTY_MB)

    srv = raw_server(handler)
    other = server.feed("/other", FEED)

    async def go() -> None:
        # The surplus arrives on an idle keep-alive connection; aiohttp reports it to the
        # loop's exception handler (a log line in the daemon), not to any fetch.
        late: list[dict[str, object]] = []
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: late.append(ctx))
        async with Fetcher(ONLY_LOCAL, timeout=2.0, max_bytes=CAP) as f:
            try:
                result = await f.fetch(srv.url)
            except FetchError as e:
                # aiohttp may parse the surplus while finishing this response: refused as
                # a malformed reply, which is just as safe.
                assert "malformed" in e.reason and len(e.reason) < 400
            else:
                assert result.body == b"A" * 100
            try:
                again = await f.fetch(srv.url)
            except FetchError:
                pass  # h11 read the surplus as the next response: a clear error
            else:
                assert again.body == b"A" * 100  # httpcore saw the dirty socket: reconnected
            assert (await f.fetch(other)).body == FEED

    run(go())


def test_f4_other_feeds_unaffected_after_too_large(server, raw_server):
    big = raw_server(_raw_response([], b"x" * (CAP + 1))).url
    ok = server.feed("/ok", FEED)

    async def go() -> None:
        async with Fetcher(ONLY_LOCAL, timeout=2.0, max_bytes=CAP) as f:
            with pytest.raises(TooLargeError):
                await f.fetch(big)
            assert (await f.fetch(ok)).body == FEED

    run(go())


def test_f4_body_exactly_at_cap_is_accepted(server):
    url = server.feed("/exact", b"x" * CAP)
    assert len(run(fetch(url, max_bytes=CAP)).body) == CAP


# --- F5: compression bombs ------------------------------------------------------------------

BOMB_SIZE = 200 * MiB


@pytest.fixture(scope="session")
def gzip_bomb(tmp_path_factory) -> bytes:
    """200 MiB of zeros, gzipped (~200 KiB), generated once per session."""
    path = tmp_path_factory.mktemp("bomb") / "zeros.gz"
    if not path.exists():
        c = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        zeros = bytes(MiB)
        with path.open("wb") as f:
            for _ in range(BOMB_SIZE // MiB):
                f.write(c.compress(zeros))
            f.write(c.flush())
    return path.read_bytes()


def test_f5_gzip_bomb_aborted_at_decoded_cap(raw_server, gzip_bomb, decoders):
    assert len(gzip_bomb) < 300 * 1024
    cap = 10 * MiB
    url = raw_server(_raw_response(["Content-Encoding: gzip"], gzip_bomb)).url
    with pytest.raises(TooLargeError):
        run(fetch(url, max_bytes=cap))
    (probe,) = decoders
    assert probe.returned <= cap
    assert probe.largest <= cap
    assert probe.total <= cap + 1  # decompression stopped one byte past the cap


def test_f5_decoder_output_per_call_is_bounded(gzip_bomb):
    cap = 4 * MiB
    dec = BoundedDecoder("u", "gzip", cap)
    produced = 0
    with pytest.raises(TooLargeError):
        for i in range(0, len(gzip_bomb), 64 * 1024):
            out = dec.feed(gzip_bomb[i : i + 64 * 1024])
            assert len(out) <= cap
            produced += len(out)
    assert produced <= cap


_RSS_PROBE = """
import asyncio, sys
sys.path.insert(0, sys.argv[2])
from monitor.fetch import Fetcher
from monitor.netguard import AddressPolicy
from monitor.errors import TooLargeError

def hwm():
    # VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec, so a child forked from a big
    # pytest process would report the parent's peak.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

async def main():
    async with Fetcher(AddressPolicy(allowed=["127.0.0.1/32"]), timeout=10,
                       max_bytes=int(sys.argv[3])) as f:
        base = hwm()
        try:
            await f.fetch(sys.argv[1])
            outcome = "fetched"
        except TooLargeError:
            outcome = "too-large"
    print(outcome, base, hwm())

asyncio.run(main())
"""


def test_f5_gzip_bomb_peak_rss_in_subprocess(raw_server, gzip_bomb):
    cap = 10 * MiB
    url = raw_server(_raw_response(["Content-Encoding: gzip"], gzip_bomb)).url
    out = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, url, str(ROOT), str(cap)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split()
    outcome, base, peak = out[0], int(out[1]), int(out[2])
    assert outcome == "too-large"
    assert peak < cap + 100 * MiB, f"peak RSS {peak / MiB:.0f} MiB"
    assert peak - base < 3 * cap, f"grew {(peak - base) / MiB:.0f} MiB"


def test_f5_stacked_gzip_refused(raw_server, decoders):
    inner = gzip.compress(bytes(10 * MiB))
    twice = gzip.compress(inner)
    srv = raw_server(_raw_response(["Content-Encoding: gzip, gzip"], twice))
    with pytest.raises(FetchError, match="stacked") as info:
        run(fetch(srv.url, max_bytes=CAP))
    assert not isinstance(info.value, TooLargeError)
    assert all(p.returned == 0 for p in decoders)


def test_f5_two_content_encoding_headers_count_as_stacked(raw_server):
    twice = gzip.compress(gzip.compress(FEED))
    srv = raw_server(_raw_response(["Content-Encoding: gzip", "Content-Encoding: gzip"], twice))
    with pytest.raises(FetchError, match="stacked"):
        run(fetch(srv.url))


@pytest.mark.parametrize("encoding", ["br", "compress", "zstd", "gzip;q=1"])
def test_f5_unknown_encodings_refused(raw_server, encoding):
    srv = raw_server(_raw_response([f"Content-Encoding: {encoding}"], b"\x00" * 64))
    with pytest.raises(FetchError, match="Content-Encoding"):
        run(fetch(srv.url))


def _raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),  # RFC 9110: zlib-wrapped
        ("deflate", _raw_deflate),  # what some servers send
        ("identity", lambda b: b),
    ],
)
def test_f5_supported_encodings_decode_exactly(server, encoding, encode):
    body = rss([{"guid": f"g{i}", "title": f"Item {i} café"} for i in range(200)])
    url = server.feed("/feed", encode(body), headers={"Content-Encoding": encoding})
    result = run(fetch(url))
    assert result.body == body
    assert len(parse_feed(result.body).items) == 200
    assert server.gets("/feed")[0].headers["Accept-Encoding"] == decode_module.ACCEPT_ENCODING


def test_f5_deflate_detection_survives_one_byte_chunks():
    """A raw-deflate body whose first network chunk is one byte was misread as zlib."""
    for encode in (zlib.compress, _raw_deflate):
        blob = encode(FEED)
        dec = BoundedDecoder("u", "deflate", CAP)
        out = b"".join(dec.feed(blob[i : i + 1]) for i in range(len(blob))) + dec.flush()
        assert out == FEED


def test_f5_concatenated_gzip_members_and_corrupt_bodies():
    dec = BoundedDecoder("u", "gzip", CAP)
    assert dec.feed(gzip.compress(b"ab") + gzip.compress(b"cd")) + dec.flush() == b"abcd"
    with pytest.raises(FetchError, match="corrupt"):
        BoundedDecoder("u", "gzip", CAP).feed(b"this is not gzip at all")
    with pytest.raises(FetchError, match="corrupt"):
        BoundedDecoder("u", "deflate", CAP).feed(b"\xff\xff\xff\xff not deflate")


# --- F6: slowloris / drip / hang ------------------------------------------------------------


def _drip(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(_headers("Content-Length: 100000", "Content-Type: application/rss+xml"))
    while not stop.wait(0.2):
        conn.sendall(b"<")


def _drip_headers(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while not stop.wait(0.2):
        conn.sendall(b"X")


def _silent(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(10)


@pytest.mark.parametrize("handler", [_drip, _drip_headers, _silent], ids=lambda h: h.__name__)
def test_f6_total_deadline_beats_drip_and_hang(raw_server, handler):
    srv = raw_server(handler)
    timeout = 1.0
    start = time.monotonic()
    with pytest.raises(FetchTimeoutError):
        run(fetch(srv.url, timeout=timeout))
    assert time.monotonic() - start < timeout + 1.0


def test_f6_never_accepted_connection_times_out():
    """A listener whose accept queue is never drained: connect may hang."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(0)
    try:
        start = time.monotonic()
        with pytest.raises(FetchTimeoutError):
            run(fetch(f"http://127.0.0.1:{sock.getsockname()[1]}/", timeout=1.0))
        assert time.monotonic() - start < 2.0
    finally:
        sock.close()


# --- F9: conditional GET ------------------------------------------------------------------


@pytest.mark.parametrize("etag", ['"abc"', 'W/"v1-9f"'])
def test_f9_validators_echoed_verbatim_and_304_handled(server, etag):
    last_modified = "Wed, 21 Oct 2015 07:28:00 GMT"
    url = server.feed("/feed", FEED, etag=etag, headers={"Last-Modified": last_modified})

    async def go() -> None:
        async with Fetcher(ONLY_LOCAL, timeout=2.0) as f:
            first = await f.fetch(url)
            assert first.status == 200 and not first.not_modified
            assert first.headers["etag"] == etag
            second = await f.fetch(
                url, etag=first.headers["etag"], last_modified=first.headers["last-modified"]
            )
            assert second.status == 304 and second.not_modified and second.body == b""

    run(go())
    first_req, second_req = server.gets("/feed")
    assert "If-None-Match" not in first_req.headers
    assert second_req.headers["If-None-Match"] == etag
    assert second_req.headers["If-Modified-Since"] == last_modified


def test_f9_server_ignoring_validators_still_works(server):
    url = server.feed("/feed", FEED)  # no etag logic: always 200

    async def go() -> Any:
        async with Fetcher(ONLY_LOCAL, timeout=2.0) as f:
            return await f.fetch(url, etag='"stale"', last_modified="Thu, 01 Jan 1970 00:00:00 GMT")

    result = run(go())
    assert result.status == 200 and result.body == FEED
    assert server.gets("/feed")[0].headers["If-None-Match"] == '"stale"'


# --- F10: permanent vs temporary redirects ------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "permanent"),
    [
        ([301], True),
        ([308], True),
        ([302], False),
        ([307], False),
        ([303], False),
        ([301, 308], True),
        ([301, 302], False),
        ([302, 301], False),
    ],
)
def test_f10_permanent_url_only_when_every_hop_is_permanent(server, statuses, permanent):
    for i, status in enumerate(statuses):
        server.feed(f"/h{i}", b"", status=status, headers={"Location": f"/h{i + 1}"})
    final = server.feed(f"/h{len(statuses)}", FEED)
    result = run(fetch(server.url + "/h0"))
    assert result.url == final and result.body == FEED
    assert result.permanent_url == (final if permanent else None)


def test_f10_redirect_loop_is_an_error_without_hot_loop(server):
    server.feed("/a", b"", status=301, headers={"Location": "/b"})
    server.feed("/b", b"", status=302, headers={"Location": "/a"})
    start = time.monotonic()
    with pytest.raises(FetchError, match="redirects"):
        run(fetch(server.url + "/a"))
    assert len(server.requests) == MAX_REDIRECTS + 1
    assert time.monotonic() - start < 2.0


# --- F11/F12: status errors and Retry-After -----------------------------------------------

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        (email.utils.formatdate(NOW + 90, usegmt=True), 90.0),
        (email.utils.formatdate(NOW - 3600, usegmt=True), 0.0),  # in the past: now
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
        ("²", None),  # isdigit() but not a number (a Latin-1 header byte)
        ("٣", None),  # an Arabic-Indic digit: not a delta-seconds value
        (str(10 * 365 * 86400), MAX_RETRY_AFTER),  # ten years: capped
        (email.utils.formatdate(NOW + 10 * 365 * 86400, usegmt=True), MAX_RETRY_AFTER),
        ("9" * 400, MAX_RETRY_AFTER),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER),
        ("Mon, 32 Foo 2024 99:99:99 GMT", None),
    ],
)
def test_f12_parse_retry_after(value, expected):
    got = parse_retry_after(value, now=NOW)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1.0)


def test_f12_retry_after_reaches_the_error(server):
    url = server.feed("/feed", b"", status=429, headers={"Retry-After": "30"})
    with pytest.raises(FetchError) as info:
        run(fetch(url))
    assert (info.value.status, info.value.retry_after) == (429, 30.0)


def test_f12_non_ascii_retry_after_byte_does_not_crash(raw_server):
    def handler(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 503 Busy\r\nRetry-After: \xb2\r\nContent-Length: 0\r\n\r\n")

    srv = raw_server(handler)
    with pytest.raises(FetchError) as info:
        run(fetch(srv.url))
    assert info.value.status == 503 and info.value.retry_after is None


@pytest.mark.parametrize("status", [404, 410, 500])
def test_f11_error_statuses_are_fetch_errors_with_status(server, status):
    url = server.feed("/feed", b"gone", status=status)
    with pytest.raises(FetchError) as info:
        run(fetch(url))
    assert info.value.status == status and f"HTTP {status}" in info.value.reason


# --- F13: TLS -----------------------------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path) -> Iterator[tuple[str, list[str]]]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate nobody trusts.

    Neither trustme nor cryptography is installed here, so the certificate comes from the
    openssl command-line tool.
    """
    if shutil.which("openssl") is None:
        pytest.skip("no openssl binary to make a self-signed certificate (nor trustme)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2"]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
        timeout=20,
    )
    served: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            served.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(FEED)))
            self.end_headers()
            self.wfile.write(FEED)

        def log_message(self, *args: Any) -> None:
            pass

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}/feed", served
    httpd.shutdown()
    httpd.server_close()
    thread.join(2)


def test_f13_untrusted_certificate_is_a_clear_fetch_error(tls_server):
    url, served = tls_server
    with pytest.raises(FetchError) as info:
        run(fetch(url))
    assert not isinstance(info.value, BlockedAddressError | FetchTimeoutError)
    assert "CERTIFICATE_VERIFY_FAILED" in info.value.reason
    assert served == []  # no fallback to an unverified request


def test_the_guards_record_of_approved_addresses_stays_bounded():
    # A daemon vets an address on every request for months: the record must not grow
    # without end, and a verdict remembered for speed must stay the policy's verdict.
    policy = AddressPolicy(allow_private=False)
    guard = Guard(policy)

    async def many() -> None:
        for _ in range(25_000):
            await guard.vet("93.184.216.34", 443)
        with pytest.raises(BlockedAddressError):
            await guard.vet("10.0.0.1", 443)
        with pytest.raises(BlockedAddressError):
            await guard.vet("10.0.0.1", 443)  # the remembered verdict, the same answer

    asyncio.run(many())
    assert 0 < len(guard.approved) <= 10_000
    assert guard.approved[-1] == ("93.184.216.34", 443)
    assert not policy.permits(ipaddress.ip_address("::ffff:10.0.0.1"))
