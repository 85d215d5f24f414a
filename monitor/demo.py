"""`newsmon demo`: the whole pipeline offline, on bundled sample feeds.

Serves the sample feeds and a signature-checking webhook receiver on 127.0.0.1, runs one
cycle with the shipped rules into a temporary database, and prints what was matched and
what the receiver got.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import sys
import tempfile
import threading
from base64 import b64encode
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from monitor.config import Config, load_config
from monitor.daemon import Service, run_once
from monitor.signing import verify
from rules import RuleBook, RuleSet
from rules import load as load_rules
from storage import Store


class _DemoServer:
    """Sample feeds under /feeds/NAME and a receiver at /hook, on an ephemeral port."""

    def __init__(self, feeds: dict[str, bytes], secret: str) -> None:
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                name = self.path.rsplit("/", 1)[-1]
                body = feeds.get(name)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                verified = verify(secret, body, dict(self.headers.items()))
                outer.received.append({"verified": verified, "event": json.loads(body)})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _DemoServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _heading(text: str) -> None:
    print(f"\033[1m{text}\033[0m" if sys.stdout.isatty() else text)


# The sample news runs to April 2025: the demo's ledger starts from the seeds known before
# it, so the Russian court's ruling in the samples shows as the status change it was.
SAMPLES_AS_OF = dt.date(2025, 1, 1)


def _as_of(book: RuleBook, day: dt.date) -> RuleBook:
    """`book` with only the status seeds dated before `day`."""
    rules = tuple(
        r
        if r.status is None
        else replace(
            r, status=replace(r.status, seeds=tuple(s for s in r.status.seeds if s.date < day))
        )
        for r in book.rules
    )
    return replace(book, rules=rules)


def sample_feeds() -> dict[str, bytes]:
    root = resources.files("monitor") / "samples"
    return {p.name: p.read_bytes() for p in root.iterdir() if p.name.endswith(".xml")}


def run_demo(keep: str | None = None) -> None:
    secret = "whsec_" + b64encode(secrets.token_bytes(32)).decode()
    feeds = sample_feeds()
    workdir = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="newsmon-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    with _DemoServer(feeds, secret) as server:
        config_path = workdir / "demo.yaml"
        config_path.write_text(
            json.dumps(
                {
                    "database": str(workdir / "demo.db"),
                    # The demo's receiver and feeds live on loopback.
                    "allow_private_networks": True,
                    "poll": {"backfill": "36500d", "timeout": "10s"},
                    "feeds": [{"url": f"{server.url}/feeds/{name}"} for name in sorted(feeds)],
                    "destinations": [
                        {
                            "name": "demo-hook",
                            "type": "webhook",
                            "url": f"{server.url}/hook",
                            "secret": secret,
                        },
                    ],
                }  # fmt: skip
            )
        )
        config: Config = load_config(config_path, env={})
        rules = RuleSet(_as_of(load_rules(config.rules), SAMPLES_AS_OF))
        print(f"newsmon demo: {len(feeds)} sample feeds served at {server.url}")
        print(f"rules: {', '.join(r.id for r in rules.rules)}\n")
        report = asyncio.run(run_once(Service(config, rules), include_all=True))
        p = report.poll
        print(
            f"polled {p.feeds} feeds: {p.new_items} items stored, {p.matches} matches, "
            f"{report.delivery.sent} webhook deliveries\n"
        )
        store = Store(config.database)
        _heading("Matches")
        for m in reversed(store.matches(limit=100)):
            print(f"  [{m['severity']}] {m['rule_id']}: {m['title']}")
            for ev in json.loads(m["evidence"])[:4]:
                print(f"      {ev['field']}: {ev['kind']} {ev['value']!r} -> {ev['text']!r}")
        store.close()
        print("")
        _heading("Webhook payloads received (signature verified with standardwebhooks)")
        for r in server.received:
            ev = r["event"]
            print(
                f"  {'verified' if r['verified'] else 'BAD SIGNATURE'}  {ev['type']}  {ev['id']}  "
                f"rule={ev['rule']['id']}  item={ev['item']['title'][:70]!r}"
            )
        if server.received:
            print("\nFirst payload:")
            print(json.dumps(server.received[0]["event"], indent=2, ensure_ascii=False)[:3000])
    print(f"\ndemo database: {config.database}")
