"""Delivery you can trust (RELIABILITY.md table A): retries, Retry-After, deadlines,
redirects, disabling, dead letters, Slack semantics and rate limits, digests, crashes."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import LocalServer, newsmon_process, rss, story_feed, write_config
from standardwebhooks import Webhook

from monitor.config import load_config
from monitor.daemon import Service, run_once
from rules import RuleSet, load

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # hold the response this long (seconds)
    reset: bool = False  # read the request, then drop the connection without answering


class Receiver:
    """A scripted webhook receiver: each POST takes the next Reply (then 200)."""

    def __init__(self, host: str = "127.0.0.1", default: Reply | None = None) -> None:
        self.script: dict[str, list[Reply]] = {}
        self.default = default or Reply()
        self.hits: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                n = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(n) if n else b""
                with outer.cond:
                    queue = outer.script.get(self.path, [])
                    reply = queue.pop(0) if queue else outer.default
                    outer.hits.append(
                        {
                            "path": self.path,
                            "method": self.command,
                            "headers": httpx.Headers(self.headers.items()),
                            "body": body,
                            "at": time.monotonic(),
                        }
                    )
                    outer.cond.notify_all()
                if reply.reset:
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                    )
                    self.close_connection = True
                    self.connection.close()
                    return
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client is gone (killed mid-request): nothing to answer

            do_POST = do_GET = _handle  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def posts(self, path: str = "/hook") -> list[dict[str, Any]]:
        return [h for h in self.hits if h["path"] == path and h["method"] == "POST"]

    def wait(self, n: int, path: str = "/hook", timeout: float = 30) -> list[dict[str, Any]]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.posts(path)) >= n, timeout)
        return self.posts(path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _setup(
    tmp_path: Path, server: LocalServer, destinations: list[dict[str, Any]], **kw: Any
) -> Path:
    url = server.feed("/feed.xml", story_feed())
    return write_config(tmp_path / "c.yaml", feeds=[{"url": url}], destinations=destinations, **kw)


def _hook(receiver: Receiver, path: str = "/hook", **kw: Any) -> dict[str, Any]:
    return {
        "name": kw.pop("name", "hook"),
        "type": kw.pop("type", "webhook"),
        "url": receiver.url + path,
        "rules": ["kz-afghanistan-engagement"],
        **kw,
    }


def _rows(config: Path, table: str = "deliveries") -> list[sqlite3.Row]:
    conn = sqlite3.connect(config.parent / "newsmon.db")
    conn.row_factory = sqlite3.Row
    return conn.execute(f"select * from {table} order by rowid").fetchall()


def test_500_500_200_is_one_delivery_with_one_id(tmp_path, server, receiver, cli):
    receiver.script["/hook"] = [Reply(500), Reply(500)]
    config = _setup(tmp_path, server, [_hook(receiver, secret=SECRET)])
    for _ in range(3):
        assert cli("run", "--once", config=config).exit_code == 0
    posts = receiver.posts()
    assert len(posts) == 3
    ids = {p["headers"]["webhook-id"] for p in posts}
    assert len(ids) == 1
    for p in posts:
        Webhook(SECRET).verify(p["body"], p["headers"])
    (row,) = _rows(config)
    assert row["status"] == "sent" and row["attempts"] == 3
    assert cli("run", "--once", config=config).exit_code == 0
    assert len(receiver.posts()) == 3


def test_retry_after_seconds_date_garbage_and_huge(tmp_path, server, receiver, cli):
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)
    receiver.script["/hook"] = [
        Reply(429, {"Retry-After": "30"}),
        Reply(503, {"Retry-After": format_datetime(later, usegmt=True)}),
        Reply(503, {"Retry-After": "soon-ish"}),
        Reply(503, {"Retry-After": "999999999"}),
    ]
    config = _setup(
        tmp_path,
        server,
        [_hook(receiver)],
        delivery={"max_retry_after": "1h", "retry_schedule": ["10ms"] * 6},
    )
    expected_min = [30, 110, 0, 3600]
    for lower in expected_min:
        before = dt.datetime.now(dt.UTC)
        assert cli("run", "--once", config=config).exit_code == 0
        (row,) = _rows(config)
        due = dt.datetime.strptime(row["next_attempt_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=dt.UTC
        )
        wait = (due - before).total_seconds()
        assert wait >= lower - 1, (lower, wait)
        assert wait <= max(lower, 1) * 1.2 + 5, (lower, wait)  # capped, never "forever"
        # Make it due again for the next round.
        conn = sqlite3.connect(config.parent / "newsmon.db")
        conn.execute("update deliveries set next_attempt_at = '2000-01-01T00:00:00.000000Z'")
        conn.commit()
    assert len(receiver.posts()) == 4


def test_hung_receiver_hits_the_deadline_and_others_flow(tmp_path, server, receiver, cli):
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)  # accepts, never answers
    try:
        hung_url = f"http://127.0.0.1:{hung.getsockname()[1]}/hook"
        config = _setup(
            tmp_path,
            server,
            [
                {"name": "hung", "type": "webhook", "url": hung_url},
                _hook(receiver, name="fast"),
            ],
            delivery={"timeout": "1s"},
        )
        started = time.monotonic()
        assert cli("run", "--once", config=config).exit_code == 0
        elapsed = time.monotonic() - started
    finally:
        hung.close()
    rows = {r["destination"]: r for r in _rows(config)}
    assert rows["fast"]["status"] == "sent"
    assert rows["hung"]["status"] == "pending" and "timed out" in rows["hung"]["last_error"]
    assert elapsed < 10
    # The fast destination did not wait for the hung one's deadline.
    assert receiver.posts()[0]["at"] - started < 1.0 + (elapsed - 1.0)


def test_ambiguous_failure_is_retried_with_the_same_id(tmp_path, server, receiver, cli):
    receiver.script["/hook"] = [Reply(reset=True)]  # reads the body, then drops the line
    config = _setup(tmp_path, server, [_hook(receiver, secret=SECRET)])
    assert cli("run", "--once", config=config).exit_code == 0
    (row,) = _rows(config)
    assert row["status"] == "pending" and row["last_error"].startswith("ambiguous")
    assert cli("run", "--once", config=config).exit_code == 0
    posts = receiver.posts()
    assert len(posts) == 2
    assert len({p["headers"]["webhook-id"] for p in posts}) == 1  # the receiver can dedupe
    assert _rows(config)[0]["status"] == "sent"


def test_redirect_is_a_failure_and_never_followed(tmp_path, server, receiver, cli):
    receiver.script["/hook"] = [Reply(308, {"Location": receiver.url + "/second"})]
    config = _setup(tmp_path, server, [_hook(receiver)])
    assert cli("run", "--once", config=config).exit_code == 0
    (row,) = _rows(config)
    assert row["status"] == "pending" and row["last_status"] == 308
    assert receiver.posts("/second") == [] and not [
        h for h in receiver.hits if h["path"] == "/second"
    ]


def test_redirect_to_private_address_never_reaches_it(tmp_path, server, cli):
    internal = Receiver("127.0.0.2")
    front = Receiver("127.0.0.1")
    try:
        front.script["/hook"] = [Reply(302, {"Location": internal.url + "/latest/meta-data/"})]
        config = _setup(
            tmp_path,
            server,
            [_hook(front)],
            allow_private_networks=False,
            allowed_networks=["127.0.0.1/32"],
        )
        assert cli("run", "--once", config=config).exit_code == 0
        assert internal.hits == []
        (row,) = _rows(config)
        assert row["status"] == "pending" and row["last_status"] == 302
    finally:
        internal.close()
        front.close()


def test_410_disables_the_destination_and_dead_letters_its_queue(tmp_path, server, receiver, cli):
    receiver.script["/hook"] = [Reply(410, body=b"gone")]
    extra = [
        {
            "guid": f"x{i}",
            "title": f"Kazakhstan hosts Taliban delegation {i}",
            "description": "Kazakhstan invited the Taliban to Astana for trade talks.",
            "pubDate": story_feed and time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
        }
        for i in range(3)
    ]
    url = server.feed("/feed.xml", story_feed(extra))
    config = write_config(tmp_path / "c.yaml", feeds=[{"url": url}], destinations=[_hook(receiver)])
    assert cli("run", "--once", config=config).exit_code == 0
    rows = _rows(config)
    assert len(rows) == 4 and all(r["status"] == "dead" for r in rows)
    assert len(receiver.posts()) == 1  # no further attempts after the 410
    dest = _rows(config, "destinations")[0]
    assert dest["disabled"] == 1 and "410" in dest["disabled_reason"]
    listing = cli("deliveries", "list", "--dead", config=config).output
    assert "destination disabled" in listing
    assert cli("run", "--once", config=config).exit_code == 0
    assert len(receiver.posts()) == 1
    # `deliveries retry` re-enables the destination and sends again.
    assert cli("deliveries", "retry", str(rows[0]["id"]), config=config).exit_code == 0
    assert cli("run", "--once", config=config).exit_code == 0
    assert len(receiver.posts()) == 2


def test_persistent_failure_ends_dead_with_status_and_excerpt(tmp_path, server, receiver, cli):
    receiver.default = Reply(500, body=b"internal trouble")
    config = _setup(
        tmp_path, server, [_hook(receiver)], delivery={"retry_schedule": ["10ms", "10ms"]}
    )
    for _ in range(4):
        assert cli("run", "--once", config=config).exit_code == 0
    (row,) = _rows(config)
    assert row["status"] == "dead" and row["attempts"] == 3
    assert row["last_status"] == 500 and "internal trouble" in row["last_error"]
    failed = cli("deliveries", "list", "--dead", "--json", config=config).output
    assert json.loads(failed.splitlines()[0])["status"] == "dead"
    assert cli("deliveries", "retry", "--dead", config=config).exit_code == 0
    assert _rows(config)[0]["status"] == "pending"


def test_sustained_failure_disables_and_a_success_resets_the_window(tmp_path, server, receiver):
    receiver.default = Reply(500, body=b"down")
    url = server.feed("/feed.xml", story_feed())
    config = write_config(
        tmp_path / "c.yaml",
        feeds=[{"url": url}],
        destinations=[_hook(receiver)],
        delivery={"retry_schedule": ["1m"] * 20, "disable_after": "2h"},
    )
    clock = [dt.datetime.now(dt.UTC)]

    def tick(minutes: int) -> None:
        clock[0] += dt.timedelta(minutes=minutes)
        asyncio.run(run_once(_service(config, clock), include_all=True))

    tick(0)
    tick(90)  # failing for 1.5 h: still trying
    assert _rows(config, "destinations")[0]["disabled"] == 0
    receiver.default = Reply(200)
    server.feed(
        "/feed.xml",
        story_feed(
            [
                {
                    "guid": "n1",
                    "title": "Kazakhstan hosts Taliban envoy",
                    "pubDate": clock[0].strftime("%a, %d %b %Y %H:%M:%S +0000"),
                }
            ]
        ),
    )
    tick(10)  # a success resets the window
    assert _rows(config, "destinations")[0]["failing_since"] is None
    receiver.default = Reply(500)
    server.feed(
        "/feed.xml",
        story_feed(
            [
                {
                    "guid": "n2",
                    "title": "Kazakhstan invites Taliban minister",
                    "pubDate": clock[0].strftime("%a, %d %b %Y %H:%M:%S +0000"),
                }
            ]
        ),
    )
    tick(10)
    tick(100)
    assert _rows(config, "destinations")[0]["disabled"] == 0  # 1h40 since the reset
    tick(30)  # now 2h10 of failure
    dest = _rows(config, "destinations")[0]
    assert dest["disabled"] == 1 and "failing for" in dest["disabled_reason"]
    assert {r["status"] for r in _rows(config)} >= {"dead", "sent"}


@pytest.mark.parametrize(
    ("status", "body", "retried"),
    [
        (400, b"invalid_payload", False),
        (403, b"action_prohibited", False),
        (404, b"channel_not_found", False),
        (410, b"channel_is_archived", False),
        (500, b"rollup_error", True),
    ],
)
def test_slack_error_semantics(tmp_path, server, receiver, cli, status, body, retried):
    receiver.script["/slack"] = [Reply(status, body=body)]
    config = _setup(tmp_path, server, [_hook(receiver, "/slack", name="team", type="slack")])
    assert cli("run", "--once", config=config).exit_code == 0
    (row,) = _rows(config)
    assert body.decode() in row["last_error"]
    if retried:
        assert row["status"] == "pending"
        assert cli("run", "--once", config=config).exit_code == 0
        assert _rows(config)[0]["status"] == "sent"
    else:
        assert row["status"] == "dead"
        assert _rows(config, "destinations")[0]["disabled"] == 1
    posted = json.loads(receiver.posts("/slack")[0]["body"])
    assert "blocks" in posted and posted["text"]
    assert "link_names" not in posted and "parse" not in posted


def test_slack_rate_limit_under_burst_loses_nothing(tmp_path, server, cli):
    """200 alerts to a Slack stub that allows 20/s (burst 5) and answers 429 beyond it."""
    rate, burst = 20.0, 5
    stub = Receiver()
    other = Receiver()
    lock = threading.Lock()
    bucket = {"tokens": float(burst), "at": time.monotonic()}
    accepted: list[str] = []

    def limited(handler_reply_default=stub.default):
        pass

    orig_handle = stub.httpd.RequestHandlerClass

    class Limited(orig_handle):  # type: ignore[misc,valid-type]
        def do_POST(self) -> None:  # noqa: N802
            with lock:
                now = time.monotonic()
                bucket["tokens"] = min(burst, bucket["tokens"] + (now - bucket["at"]) * rate)
                bucket["at"] = now
                ok = bucket["tokens"] >= 1
                if ok:
                    bucket["tokens"] -= 1
            stub.script.setdefault("/slack", []).insert(
                0, Reply(200, body=b"ok") if ok else Reply(429, {"Retry-After": "1"})
            )
            super().do_POST()
            if ok:
                accepted.append(json.loads(stub.hits[-1]["body"])["text"])

    stub.httpd.RequestHandlerClass = Limited
    try:
        items = [
            {
                "guid": f"a{i}",
                "title": f"Kazakhstan invites Taliban delegation number {i}",
                "description": "Kazakhstan invited the Taliban to the Astana forum.",
                "pubDate": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
            }
            for i in range(200)
        ]
        url = server.feed("/feed.xml", rss(items))
        config = write_config(
            tmp_path / "c.yaml",
            feeds=[{"url": url}],
            destinations=[
                {
                    "name": "team",
                    "type": "slack",
                    "url": stub.url + "/slack",
                    "rate": rate,
                    "burst": burst,
                    "rules": ["kz-afghanistan-engagement"],
                },
                {
                    "name": "other",
                    "type": "slack",
                    "url": other.url + "/slack",
                    "rules": ["kz-afghanistan-engagement"],
                    "rate": 0,
                },
            ],
            delivery={"storm_threshold": 1000, "retry_schedule": ["100ms"] * 5},
        )
        started = time.monotonic()
        assert cli("run", "--once", config=config).exit_code == 0
        for _ in range(5):
            if all(r["status"] == "sent" for r in _rows(config)):
                break
            assert cli("run", "--once", config=config).exit_code == 0
        assert len(accepted) == 200 and len(set(accepted)) == 200  # all, none twice
        rejected = [h for h in stub.posts("/slack") if h not in stub.posts("/slack")[:0]]
        assert len(rejected) - 200 <= 10  # the sender kept to the limit: few 429s
        # The second Slack URL was not slowed by the first one's limit.
        other_posts = other.posts("/slack")
        assert len(other_posts) == 200
        assert other_posts[-1]["at"] - started < 5
    finally:
        stub.close()
        other.close()


def _service(config_path: Path, clock: list[dt.datetime]) -> Service:
    config = load_config(config_path, env={})
    return Service(config, RuleSet(load([])), now=lambda: clock[0])


def test_digest_batches_a_window_into_one_message(tmp_path, server, receiver):
    items = [
        {
            "guid": f"d{i}",
            "title": f"Kazakhstan invites Taliban delegation {i}",
            "description": "Kazakhstan invited the Taliban to the Astana forum for trade talks.",
            "pubDate": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
        }
        for i in range(5)
    ]
    url = server.feed("/feed.xml", rss(items))
    config = write_config(
        tmp_path / "c.yaml",
        feeds=[{"url": url}],
        destinations=[
            {
                "name": "digest",
                "type": "webhook",
                "url": receiver.url + "/hook",
                "digest": "15m",
                "rules": ["*"],
            }
        ],
    )
    clock = [dt.datetime.now(dt.UTC)]
    asyncio.run(run_once(_service(config, clock)))
    assert receiver.posts() == []  # the window is still open
    clock[0] += dt.timedelta(minutes=16)
    asyncio.run(run_once(_service(config, clock)))
    posts = receiver.posts()
    assert len(posts) == 1
    digest = json.loads(posts[0]["body"])
    assert digest["type"] == "digest" and digest["total"] >= 5
    assert digest["counts"]["kz-afghanistan-engagement"] == 5
    assert {r["status"] for r in _rows(config)} == {"sent"}


def test_storm_becomes_one_digest(tmp_path, server, receiver, cli):
    items = [
        {
            "guid": f"s{i}",
            "title": f"Kazakhstan invites Taliban delegation {i}",
            "description": "Kazakhstan invited the Taliban to the Astana forum.",
            "pubDate": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
        }
        for i in range(30)
    ]
    url = server.feed("/feed.xml", rss(items))
    config = write_config(
        tmp_path / "c.yaml",
        feeds=[{"url": url}],
        destinations=[_hook(receiver)],
        delivery={"storm_threshold": 10},
    )
    assert cli("run", "--once", config=config).exit_code == 0
    posts = receiver.posts()
    assert len(posts) == 1
    assert json.loads(posts[0]["body"])["total"] == 30


def test_kill_9_during_in_flight_post_redelivers_same_id(tmp_path, server):
    slow = Receiver(default=Reply(200, delay=3.0))
    try:
        config = _setup(tmp_path, server, [_hook(slow, secret=SECRET)])
        daemon = newsmon_process(config, "run")
        try:
            slow.wait(1)
            daemon.stop(signal.SIGKILL)
        finally:
            daemon.close()
        (row,) = _rows(config)
        assert row["status"] == "pending"  # the send was in flight: not acknowledged
        slow.default = Reply(200)
        daemon = newsmon_process(config, "run")
        try:
            posts = slow.wait(2)
            assert daemon.stop(signal.SIGTERM) == 0
        finally:
            daemon.close()
        assert len(posts) >= 2
        assert posts[0]["headers"]["webhook-id"] == posts[1]["headers"]["webhook-id"]
        conn = sqlite3.connect(config.parent / "newsmon.db")
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert conn.execute("select count(*) from deliveries").fetchone()[0] == 1
        assert conn.execute("select status from deliveries").fetchone()[0] == "sent"
        conn.close()
    finally:
        slow.close()


def test_sigterm_with_delivery_in_flight_exits_0_quickly(tmp_path, server):
    slow = Receiver(default=Reply(200, delay=2.0))
    try:
        config = _setup(tmp_path, server, [_hook(slow)])
        daemon = newsmon_process(config, "run")
        try:
            slow.wait(1)
            started = time.monotonic()
            code = daemon.stop(signal.SIGTERM)
            elapsed = time.monotonic() - started
        finally:
            daemon.close()
        assert code == 0, daemon.output
        assert elapsed < 10
        (row,) = _rows(config)
        assert row["status"] in ("sent", "pending")
    finally:
        slow.close()


def test_secrets_stay_out_of_errors_db_and_output(tmp_path, server, cli, monkeypatch):
    token = "XOXB-SECRET-TOKEN-123"
    monkeypatch.setenv("SLACK_URL", f"http://127.0.0.1:9/services/T0/B0/{token}")
    url = server.feed("/feed.xml", story_feed())
    path = tmp_path / "c.yaml"
    path.write_text(
        f"database: {tmp_path / 'newsmon.db'}\nallow_private_networks: true\n"
        f"feeds: [{{url: '{url}'}}]\n"
        "destinations:\n  - {name: team, type: slack, url: '${SLACK_URL}'}\n"
        f"  - {{name: w, type: webhook, url: 'http://127.0.0.1:9/x', secret: {SECRET}}}\n"
    )
    result = cli("-v", "run", "--once", config=path)
    outputs = [result.output]
    for args in (("deliveries", "list"), ("deliveries", "list", "--json"), ("config", "show")):
        outputs.append(cli(*args, config=path).output)
    dump = "\n".join(outputs)
    conn = sqlite3.connect(tmp_path / "newsmon.db")
    dump += "\n".join(str(tuple(r)) for r in conn.execute("select last_error from deliveries"))
    dump += "\n".join(str(tuple(r)) for r in conn.execute("select * from destinations"))
    assert "connect" in dump.lower()  # the failure itself is reported
    assert token not in dump
    assert SECRET not in dump and "MfKQ9r8G" not in dump
