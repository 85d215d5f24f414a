"""Shared fixtures: a local feed server, a recording webhook receiver, configs, a CLI runner.

Everything listens on 127.0.0.1 only; nothing reaches the internet.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner, Result

from monitor.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # answer 304 when If-None-Match matches
    # Hold the response until this many POSTs arrived (at most 5 s); whether they did is
    # recorded in `held` (a slow feed that answers only once an alert went out).
    after_posts: int = 0
    held: list[bool] = field(default_factory=list)


@dataclass
class Request:
    method: str
    path: str
    headers: httpx.Headers
    body: bytes


class LocalServer:
    """A loopback HTTP server: GET serves routes, POST records and answers from a script."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.post_script: list[int] = []  # statuses for the next POSTs; then 200
        self.post_event = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _record(self, body: bytes = b"") -> Request:
                # Header names are case-insensitive (RFC 9110 §5.1): so is the record.
                req = Request(self.command, self.path, httpx.Headers(self.headers.items()), body)
                outer.requests.append(req)
                return req

            def do_GET(self) -> None:  # noqa: N802
                self._record()
                route = outer.routes.get(self.path)
                if route is not None and route.after_posts:
                    with outer.post_event:
                        route.held.append(
                            outer.post_event.wait_for(
                                lambda: len(outer.posts()) >= route.after_posts, 5.0
                            )
                        )
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    self.send_response(304)
                    self.send_header("ETag", route.etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(route.status)
                headers = {"Content-Type": "application/rss+xml; charset=utf-8", **route.headers}
                if route.etag:
                    headers["ETag"] = route.etag
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = outer.post_script.pop(0) if outer.post_script else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with outer.post_event:
                    self._record(body)
                    outer.post_event.notify_all()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # A short poll interval: shutdown() waits up to one interval.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def feed(self, path: str, body: bytes, **kw: Any) -> str:
        self.routes[path] = Route(body=body, **kw)
        return self.url + path

    def gets(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == "GET" and r.path == path]

    def posts(self, path: str | None = None) -> list[Request]:
        return [r for r in self.requests if r.method == "POST" and (path is None or r.path == path)]

    def wait_posts(self, n: int, timeout: float = 20.0) -> list[Request]:
        """Block until at least `n` POSTs arrived (a condition, not a sleep)."""
        with self.post_event:
            self.post_event.wait_for(lambda: len(self.posts()) >= n, timeout)
        return self.posts()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    s = LocalServer()
    yield s
    s.close()


def rss(items: list[dict[str, str]], title: str = "Test feed") -> bytes:
    """An RSS 2.0 document; each item: guid, title, description, optional link, pubDate."""
    from xml.sax.saxutils import escape

    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://example.org/</link>",
    ]
    for it in items:
        parts.append("<item>")
        for k in ("guid", "title", "link", "description", "pubDate"):
            if k in it:
                parts.append(f"<{k}>{escape(it[k])}</{k}>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def recent(hours: float = 1.0) -> str:
    """An RFC 822 date `hours` ago: inside the default 24 h backfill window."""
    when = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)
    return when.strftime("%a, %d %b %Y %H:%M:%S +0000")


STORY = (FIXTURES / "story" / "seed-story.txt").read_text(encoding="utf-8")


def story_feed(extra: list[dict[str, str]] | None = None) -> bytes:
    items = [
        {
            "guid": "story-1",
            "title": "Kazakhstan invites Taliban trade minister to Astana International Forum",
            "link": "https://example.org/story-1",
            "description": STORY,
            "pubDate": recent(),
        },
        {
            "guid": "other-1",
            "title": "Local bakery wins regional bread award",
            "link": "https://example.org/other-1",
            "description": "The bakery's rye loaf won first prize at the fair.",
            "pubDate": recent(),
        },
    ]
    return rss(items + (extra or []))


def write_config(path: Path, **values: Any) -> Path:
    data: dict[str, Any] = {
        "database": str(path.parent / "newsmon.db"),
        "allow_private_networks": True,
        "feeds": [],
        "destinations": [],
        "poll": {"timeout": "5s", "tick": "200ms"},
        "delivery": {"timeout": "5s", "retry_schedule": ["10ms", "10ms", "10ms"]},
    }
    for k, v in values.items():
        if isinstance(v, dict) and isinstance(data.get(k), dict):
            data[k] = {**data[k], **v}
        else:
            data[k] = v
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


@pytest.fixture
def cli() -> Any:
    runner = CliRunner()

    def invoke(*args: str, config: Path | None = None) -> Result:
        full = (["--config", str(config)] if config else []) + list(args)
        return runner.invoke(main, full, catch_exceptions=False)

    return invoke


class Daemon:
    """The real daemon in a subprocess, its output read by threads (a full pipe would block
    it), with waits on log lines instead of sleeps."""

    def __init__(self, config: Path, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=config.parent,
        )
        self.lines: list[str] = []
        self.cond = threading.Condition()
        self.readers = [
            threading.Thread(target=self._read, args=(stream,), daemon=True)
            for stream in (self.proc.stdout, self.proc.stderr)
        ]
        for t in self.readers:
            t.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        stream.close()

    @property
    def output(self) -> str:
        with self.cond:
            return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 30) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: any(text in line for line in self.lines), timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            self.close()
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for t in self.readers:
            t.join(timeout=5)


def newsmon_process(config: Path, *args: str) -> Daemon:
    return Daemon(config, *args)


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
