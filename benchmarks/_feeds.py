"""Shared benchmark helpers: a generated news corpus served by a fast loopback HTTP server.

The server runs in its own process (so it never competes for the benchmark's GIL), on a
small asyncio Protocol (no http.server): keep-alive HTTP/1.1, pre-built response bytes,
strong ETags with `If-None-Match` -> 304, and any POST answered `200 {}` at once (a
webhook receiver). Control endpoints, used by the benchmark workers:

    GET /_state/K     switch the served corpus to version K (0: initial, 1: 5% changed)
    GET /_stats       JSON counters (requests, 304s, posts)

Everything is generated from fixed seeds: the same feed index always has the same items.
"""

from __future__ import annotations

import asyncio
import cProfile
import datetime as dt
import email.utils
import json
import multiprocessing
import os
import pstats
import random
import resource
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SEED = 20240613
CHANGED_EVERY = 20  # feed i changes in version 1 when i % 20 == 0: 5% of feeds
NEW_ITEMS = 3  # items a changed feed gains (its 3 oldest drop off)

# Story sentences: some match the shipped rules (Kazakhstan and the Taliban), some are the
# near misses those rules must not match (the Pakistani Taliban, Astana the cycling team).
STORY = [
    (
        "Kazakhstan invites Taliban trade minister to Astana International Forum",
        "Kazakhstan has invited the Taliban's acting commerce minister to the Astana "
        "International Forum, the foreign ministry in Astana said on Tuesday, as the two "
        "sides discuss a trans-Afghan railway and wheat exports.",
    ),
    (
        "Kazakhstan removes Taliban from list of banned organisations",
        "Kazakhstan has removed the Taliban from its national list of banned terrorist "
        "organisations, the Supreme Court in Astana ruled, opening the way to wider trade "
        "with Afghanistan's de facto government.",
    ),
    (
        "Kazakh delegation visits Kabul for talks on rail corridor",
        "A Kazakh trade delegation visited Kabul for talks with the Taliban administration on "
        "a rail corridor and cargo transit through Hairatan, officials said.",
    ),
    (
        "Pakistani Taliban claim attack on checkpoint in Khyber Pakhtunkhwa",
        "The Pakistani Taliban, Tehreek-e-Taliban, claimed an attack on a police checkpoint "
        "in Khyber Pakhtunkhwa on Monday, officials said.",
    ),
    (
        "Astana team rider wins stage five",
        "An Astana Qazaqstan Team rider won stage five of the race in a sprint finish.",
    ),
]
STORY_SHARE = 0.03  # share of items that carry a story sentence


@dataclass(frozen=True)
class Entry:
    guid: str
    title: str
    summary: str  # may hold HTML
    content: str  # may hold HTML
    published: dt.datetime


def _pool(size: int) -> list[tuple[str, str, str]]:
    """News-like (title, summary, content) texts from benchmarks/match.py's generator:
    the vocabulary its random rules are written in, so those rules match sometimes."""
    from benchmarks import match

    vocab = match.build_vocabulary()
    return [(i.title, i.summary, i.content) for i in match.build_items(vocab, size, seed=SEED)]


class Corpus:
    """N feeds of 20-50 items each, version 0 (initial) and version 1 (5% changed)."""

    def __init__(self, n_feeds: int, base: dt.datetime, pool_size: int = 3000) -> None:
        self.n = n_feeds
        self.base = base
        self.pool = _pool(pool_size)

    def entries(self, i: int, version: int) -> list[Entry]:
        rng = random.Random(SEED * 1_000_003 + i)
        count = rng.randint(20, 50)
        spacing = rng.uniform(0.5, 6.0)  # hours between items: some feeds busy, some slow
        out = []
        for j in range(count + NEW_ITEMS):
            title, summary, _ = rng.choice(self.pool)
            content = rng.choice(self.pool)[2]
            if rng.random() < STORY_SHARE:
                title, lead = rng.choice(STORY)
                summary = f"{lead} {summary}"
            # j < NEW_ITEMS: the items a changed feed gains in version 1 (newest first).
            age = dt.timedelta(hours=(j - NEW_ITEMS) * spacing + rng.uniform(0, 0.4))
            out.append(
                Entry(f"urn:bench:feed{i}:item{j}", title, summary, content, self.base - age)
            )
        if version >= 1 and i % CHANGED_EVERY == 0:
            return out[:count]
        return out[NEW_ITEMS:]

    def document(self, i: int, version: int) -> bytes:
        parts = [
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>Bench wire {i}</title><link>http://news{i}.example/</link>"
            f"<description>Generated feed {i}</description><language>en</language>"
        ]
        for e in self.entries(i, version):
            link = f"http://news{i}.example/{e.guid.rsplit(':', 1)[-1]}"
            parts.append(
                f"<item><title>{escape(e.title, quote=False)}</title><link>{link}</link>"
                f'<guid isPermaLink="false">{e.guid}</guid>'
                f"<pubDate>{email.utils.format_datetime(e.published, usegmt=True)}</pubDate>"
                f"<description>{escape(e.summary, quote=False)}</description>"
                f"<content:encoded>{escape(e.content, quote=False)}</content:encoded></item>"
            )
        parts.append("</channel></rss>\n")
        return "".join(parts).encode("utf-8")

    def etag(self, i: int, version: int) -> bytes:
        v = version if i % CHANGED_EVERY == 0 else 0
        return f'"f{i}-v{v}"'.encode()


def feed_url(base: str, i: int) -> str:
    return f"{base}/feed/{i}.xml"


# --- the server -----------------------------------------------------------------------------

_CT = b"application/rss+xml; charset=utf-8"


def _response(status: bytes, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> bytes:
    head = [b"HTTP/1.1 " + status]
    head += [k + b": " + v for k, v in headers]
    head.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(head) + b"\r\n\r\n" + body


class _State:
    def __init__(self, docs: list[dict[int, tuple[bytes, bytes]]]) -> None:
        self.docs = docs  # per version: feed index -> (etag, full 200 response)
        self.version = 0
        self.stats = {"get": 0, "not_modified": 0, "post": 0, "post_bytes": 0}


class _Proto(asyncio.Protocol):
    def __init__(self, state: _State) -> None:
        self.state = state
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buf[:end].split(b"\r\n")
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(b":")
                headers[k.strip().lower()] = v.strip()
            n = int(headers.get(b"content-length", b"0") or 0)
            if len(self.buf) < end + 4 + n:
                return  # the body is still arriving
            self.buf = self.buf[end + 4 + n :]
            method, path, _ = (lines[0].split(b" ", 2) + [b"", b""])[:3]
            assert self.transport is not None
            self.transport.write(self.answer(method, path, headers, n))
            if headers.get(b"connection", b"").lower() == b"close":
                self.transport.close()
                return

    def answer(self, method: bytes, path: bytes, headers: dict[bytes, bytes], n: int) -> bytes:
        st = self.state
        if method == b"POST":
            st.stats["post"] += 1
            st.stats["post_bytes"] += n
            return _response(b"200 OK", [(b"Content-Type", b"application/json")], b"{}")
        if path.startswith(b"/feed/"):
            try:
                i = int(path[6:].split(b".", 1)[0])
                etag, full = st.docs[st.version][i]
            except (ValueError, KeyError):
                return _response(b"404 Not Found", [])
            st.stats["get"] += 1
            if headers.get(b"if-none-match") == etag:
                st.stats["not_modified"] += 1
                return _response(b"304 Not Modified", [(b"ETag", etag)])
            return full
        if path.startswith(b"/_state/"):
            st.version = int(path[8:])
            return _response(b"200 OK", [], b"ok")
        if path == b"/_stats":
            return _response(b"200 OK", [], json.dumps(st.stats).encode())
        return _response(b"404 Not Found", [])


def _build_docs(n_feeds: int) -> list[dict[int, tuple[bytes, bytes]]]:
    base = dt.datetime.now(dt.UTC).replace(microsecond=0)
    corpus = Corpus(n_feeds, base)
    v0: dict[int, tuple[bytes, bytes]] = {}
    v1: dict[int, tuple[bytes, bytes]] = {}
    for i in range(n_feeds):
        etag = corpus.etag(i, 0)
        v0[i] = (etag, _response(b"200 OK", [(b"Content-Type", _CT), (b"ETag", etag)],
                                 corpus.document(i, 0)))  # fmt: skip
        if i % CHANGED_EVERY == 0:
            etag1 = corpus.etag(i, 1)
            v1[i] = (etag1, _response(b"200 OK", [(b"Content-Type", _CT), (b"ETag", etag1)],
                                      corpus.document(i, 1)))  # fmt: skip
        else:
            v1[i] = v0[i]
    return [v0, v1]


def _serve(n_feeds: int, conn: Any) -> None:
    try:
        docs = _build_docs(n_feeds)
        size = sum(len(full) for _, full in docs[0].values())
        state = _State(docs)

        async def main() -> None:
            loop = asyncio.get_running_loop()
            server = await loop.create_server(
                lambda: _Proto(state), "127.0.0.1", 0, backlog=1024, reuse_address=True
            )
            conn.send((server.sockets[0].getsockname()[1], size))
            await asyncio.Event().wait()

        asyncio.run(main())
    except Exception as e:  # noqa: BLE001 - reported to the parent
        conn.send(("error", repr(e)))
        raise


class FeedServer:
    """The loopback server in a separate process. `with FeedServer(n) as s: s.base`."""

    def __init__(self, n_feeds: int = 0) -> None:
        self.n_feeds = n_feeds
        self.base = ""
        self.corpus_bytes = 0

    def __enter__(self) -> FeedServer:
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(self.n_feeds, child), daemon=True)
        self.proc.start()
        port, size = parent.recv()
        if port == "error":
            raise RuntimeError(f"feed server failed: {size}")
        self.base = f"http://127.0.0.1:{port}"
        self.corpus_bytes = size
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.join(5)


def control(base: str, path: str) -> bytes:
    with urllib.request.urlopen(f"{base}{path}", timeout=10) as r:  # noqa: S310 - loopback
        data: bytes = r.read()
        return data


def set_version(base: str, version: int) -> None:
    control(base, f"/_state/{version}")


def server_stats(base: str) -> dict[str, int]:
    data: dict[str, int] = json.loads(control(base, "/_stats"))
    return data


# --- measuring ------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_worker(script: str, args: list[str], timeout: float = 1800) -> dict[str, Any]:
    """Run `script --worker ...` in a fresh interpreter; its last stdout line is JSON."""
    import subprocess

    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run(
        [sys.executable, script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise RuntimeError(f"worker {args[:2]} exited with {proc.returncode}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
        raise RuntimeError(f"worker {args[:2]} printed no result")
    result: dict[str, Any] = json.loads(lines[-1])
    if proc.stderr.strip():
        # newsmon logs warnings (failed feeds) here: show how many, not the flood.
        result["stderr_lines"] = len(proc.stderr.splitlines())
        result["stderr_tail"] = proc.stderr.splitlines()[-3:]
    return result


class ThreadProfiler:
    """cProfile in every thread started while it is on (the event loop, the executor that
    parses and matches, the database thread), merged into one report. The clock is each
    thread's own CPU time (`time.thread_time`), so time spent waiting for the GIL, for
    sockets or for queues is not charged: the shares are shares of CPU."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def _start(self, *_: Any) -> None:
        p = cProfile.Profile(time.thread_time)
        with self._lock:
            self.profiles.append(p)
        p.enable()

    def __enter__(self) -> ThreadProfiler:
        threading.setprofile(self._start)
        main = cProfile.Profile(time.thread_time)
        self.profiles.append(main)
        main.enable()
        return self

    def __exit__(self, *exc: object) -> None:
        self.profiles[0].disable()
        threading.setprofile(None)  # type: ignore[arg-type]

    def dump(self, path: str, out: Callable[[str], None] = print, top: int = 40) -> None:
        stats = pstats.Stats(self.profiles[0])
        for p in self.profiles[1:]:
            try:
                stats.add(p)
            except TypeError:  # a thread that never ran a profiled call
                continue
        stats.dump_stats(path)
        import io

        buf = io.StringIO()
        s = pstats.Stats(path, stream=buf)
        s.sort_stats("tottime").print_stats(top)
        s.sort_stats("cumulative").print_stats(top)
        out(buf.getvalue())
