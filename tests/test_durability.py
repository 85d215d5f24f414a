"""Durability (RELIABILITY.md P1-P3): kill -9 during ingest, pragmas, a locked or
read-only database."""

from __future__ import annotations

import asyncio
import random
import signal
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from conftest import newsmon_process, rss, story_feed, write_config

from monitor.config import load_config
from monitor.daemon import Service, utcnow
from rules import RuleSet, load


class GrowingFeed:
    """A feed that has new matching items on every request."""

    def __init__(self) -> None:
        self.n = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                with outer.lock:
                    outer.n += 25
                    n = outer.n
                now = utcnow().strftime("%a, %d %b %Y %H:%M:%S +0000")
                items = [
                    {"guid": f"g{i}", "title": f"Kazakhstan invites Taliban delegation {i}",
                     "description": "Kazakhstan invited the Taliban to the Astana forum.",
                     "pubDate": now}
                    for i in range(max(0, n - 50), n)
                ]  # fmt: skip
                body = rss(items)
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_kill_9_during_ingest_loses_nothing_and_splits_nothing(tmp_path):
    feed = GrowingFeed()
    rng = random.Random(7)
    try:
        config = write_config(
            tmp_path / "c.yaml",
            feeds=[{"url": feed.url + "/feed.xml", "interval": "100ms"}],
            poll={"tick": "100ms", "timeout": "5s"},
            destinations=[{"name": "hook", "type": "webhook", "url": feed.url + "/hook",
                           "rules": ["kz-afghanistan-engagement"]}],
        )  # fmt: skip
        db = tmp_path / "newsmon.db"
        seen_items = 0
        for _ in range(20):
            daemon = newsmon_process(config, "run")
            try:
                # Wait until it runs, then kill it at a random point of its ingest loop.
                assert daemon.wait_for("newsmon running", timeout=30), daemon.output
                threading.Event().wait(rng.uniform(0.05, 0.4))
                daemon.stop(signal.SIGKILL)
            finally:
                daemon.close()
            conn = sqlite3.connect(db)
            try:
                assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
                items = conn.execute("select count(*) from items").fetchone()[0]
                assert items >= seen_items  # every acknowledged commit survives
                seen_items = items
                # All-or-nothing: every stored item has its match, every match its outbox row.
                orphans = conn.execute(
                    "select count(*) from items where id not in (select item_id from matches)"
                ).fetchone()[0]
                assert orphans == 0
                unqueued = conn.execute(
                    """select count(*) from matches m
                       where m.rule_id = 'kz-afghanistan-engagement'
                       and not exists (select 1 from deliveries d where d.match_id = m.id)"""
                ).fetchone()[0]
                assert unqueued == 0
                dupes = conn.execute(
                    "select count(*) - count(distinct event_id || destination) from deliveries"
                ).fetchone()[0]
                assert dupes == 0
            finally:
                conn.close()
        assert seen_items > 0
    finally:
        feed.close()


def test_startup_logs_effective_pragmas(tmp_path, server):
    config = write_config(tmp_path / "c.yaml")
    daemon = newsmon_process(config, "run")
    try:
        assert daemon.wait_for("newsmon running")
        assert daemon.stop() == 0
    finally:
        daemon.close()
    assert "journal_mode=wal" in daemon.output
    assert "busy_timeout=5000" in daemon.output


def test_locked_database_is_a_clear_error_and_the_poll_is_retried(tmp_path, server, cli):
    url = server.feed("/feed.xml", story_feed())
    config_path = write_config(tmp_path / "c.yaml", feeds=[{"url": url}])
    assert cli("feeds", "list", config=config_path).exit_code == 0  # creates the db

    holder = sqlite3.connect(tmp_path / "newsmon.db", timeout=1)
    holder.execute("begin immediate")
    try:
        # Start-up needs to write (config feeds): a clear one-line error, exit 1.
        r = cli("run", "--once", config=config_path)
        assert r.exit_code == 1 and "database is locked" in r.output
        assert "Traceback" not in r.output
    finally:
        holder.rollback()

    async def scenario() -> tuple[int, int, int]:
        service = Service(load_config(config_path, env={}), RuleSet(load([])))
        async with service:
            holder.execute("begin immediate")  # the lock arrives after start-up
            try:
                first = await service.poller.cycle()
            finally:
                holder.rollback()
            stored_then = holder.execute("select count(*) from items").fetchone()[0]
            second = await service.poller.cycle(include_all=True)
        return first.failed, stored_then, second.new_items

    failed, stored_then, new_items = asyncio.run(scenario())
    holder.close()
    assert failed == 1 and stored_then == 0
    assert new_items == 2  # nothing was lost: the next cycle stored the items


def test_unopenable_database_is_a_clear_error(tmp_path, cli):
    # A directory where the database file should be. (A read-only directory would not do:
    # these machines and CI run as root, which ignores permissions.)
    (tmp_path / "dir.db").mkdir()
    config = write_config(tmp_path / "c.yaml", database=str(tmp_path / "dir.db"))
    r = cli("run", "--once", config=config)
    assert r.exit_code == 1
    assert "cannot open database" in r.output and "Traceback" not in r.output
