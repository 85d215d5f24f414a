"""The walking skeleton end to end: poll -> parse -> dedupe -> match -> store -> deliver."""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path

from conftest import LocalServer, newsmon_process, rss, story_feed, write_config
from standardwebhooks import Webhook

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _config(tmp_path: Path, server: LocalServer, feed_urls: list[str], **extra: object) -> Path:
    return write_config(
        tmp_path / "newsmon.yaml",
        feeds=[{"url": u} for u in feed_urls],
        destinations=[
            {
                "name": "hook",
                "type": "webhook",
                "url": server.url + "/hook",
                "secret": SECRET,
                "rules": ["kz-afghanistan-engagement"],
            }
        ],
        **extra,
    )


def _db(config: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(config.parent / "newsmon.db")
    conn.row_factory = sqlite3.Row
    return conn


def test_run_once_stores_matches_and_alerts_exactly_once(tmp_path, server, cli):
    url = server.feed("/feed.xml", story_feed(), etag='"v1"')
    config = _config(tmp_path, server, [url])

    result = cli("run", "--once", config=config)
    assert result.exit_code == 0, result.output

    db = _db(config)
    titles = [r["title"] for r in db.execute("select title from items")]
    assert len(titles) == 2
    matched = {
        r["rule_id"]
        for r in db.execute(
            "select rule_id from matches join items on items.id = matches.item_id "
            "where items.title like 'Kazakhstan invites%'"
        )
    }
    assert {"kz-afghanistan-engagement", "taliban-legal-status"} <= matched
    assert (
        db.execute(
            "select count(*) from matches join items on items.id = matches.item_id "
            "where items.title like 'Local bakery%'"
        ).fetchone()[0]
        == 0
    )

    posts = server.posts("/hook")
    assert len(posts) == 1
    event = json.loads(posts[0].body)
    assert event["type"] == "match.created"
    assert event["rule"]["id"] == "kz-afghanistan-engagement"
    assert event["item"]["title"].startswith("Kazakhstan invites")
    assert event["item"]["feed"]["url"] == url
    assert event["evidence"] and all("snippet" in e for e in event["evidence"])
    # Standard Webhooks: the stock verifier accepts it; the id is the event id.
    assert Webhook(SECRET).verify(posts[0].body, posts[0].headers) == event
    assert posts[0].headers["webhook-id"] == event["id"] and "." not in event["id"]

    # A second cycle over every feed sends nothing new and honours the ETag (304).
    result = cli("run", "--once", "--all", config=config)
    assert result.exit_code == 0, result.output
    gets = server.gets("/feed.xml")
    assert len(gets) == 2
    assert gets[1].headers.get("If-None-Match") == '"v1"'
    assert len(server.posts("/hook")) == 1
    assert _db(config).execute("select count(*) from items").fetchone()[0] == 2


def test_run_once_sends_an_alert_while_slower_feeds_are_still_polled(tmp_path, server, cli):
    # The slow feed answers only once the alert arrived (or after 5 s): the alert must go
    # out while the cycle is still waiting for it, not after the cycle.
    story = server.feed("/story.xml", story_feed())
    slow = server.feed("/slow.xml", rss([]), after_posts=1)
    result = cli("run", "--once", config=_config(tmp_path, server, [story, slow]))
    assert result.exit_code == 0, result.output
    assert server.routes["/slow.xml"].held == [True]
    assert len(server.posts("/hook")) == 1


def test_repoll_with_changed_body_does_not_realert(tmp_path, server, cli):
    url = server.feed("/feed.xml", story_feed())
    config = _config(tmp_path, server, [url])
    assert cli("run", "--once", config=config).exit_code == 0
    # The feed changes (a new unrelated item) but the story item is still there.
    server.feed(
        "/feed.xml", story_feed([{"guid": "n-2", "title": "Weather", "description": "Rain."}])
    )
    assert cli("run", "--once", "--all", config=config).exit_code == 0
    assert len(server.posts("/hook")) == 1
    assert _db(config).execute("select count(*) from items").fetchone()[0] == 3


def test_failed_delivery_stays_pending_and_is_sent_next_cycle_once(tmp_path, server, cli):
    url = server.feed("/feed.xml", story_feed())
    config = _config(tmp_path, server, [url])
    server.post_script = [500]

    assert cli("run", "--once", config=config).exit_code == 0
    row = _db(config).execute("select * from deliveries").fetchone()
    assert row["status"] == "pending" and row["attempts"] == 1 and row["last_status"] == 500

    assert cli("run", "--once", config=config).exit_code == 0
    posts = server.posts("/hook")
    assert len(posts) == 2
    assert posts[0].headers["webhook-id"] == posts[1].headers["webhook-id"]
    row = _db(config).execute("select * from deliveries").fetchone()
    assert row["status"] == "sent" and row["attempts"] == 2

    assert cli("run", "--once", config=config).exit_code == 0
    assert len(server.posts("/hook")) == 2


def test_receiver_down_keeps_alert_pending(tmp_path, server, cli):
    url = server.feed("/feed.xml", story_feed())
    config = write_config(
        tmp_path / "newsmon.yaml",
        feeds=[{"url": url}],
        # Port 9 on loopback: nothing listens there.
        destinations=[{"name": "down", "type": "webhook", "url": "http://127.0.0.1:9/hook"}],
    )
    assert cli("run", "--once", config=config).exit_code == 0
    rows = _db(config).execute("select status, last_error from deliveries").fetchall()
    assert rows and all(r["status"] == "pending" for r in rows)
    assert all("connect" in r["last_error"].lower() for r in rows)


def test_broken_feeds_are_recorded_and_others_carry_on(tmp_path, server, cli):
    good = server.feed("/good.xml", story_feed())
    error = server.feed("/error.xml", b"oops", status=500)
    html = server.feed(
        "/html.xml",
        b"<html><body><h1>Welcome</h1></body></html>",
        headers={"Content-Type": "text/html"},
    )
    down = "http://127.0.0.1:9/feed.xml"
    config = _config(tmp_path, server, [good, error, html, down])

    result = cli("run", "--once", config=config)
    assert result.exit_code == 0, result.output
    rows = {r["url"]: r for r in _db(config).execute("select * from feeds")}
    assert rows[good]["last_error"] is None and rows[good]["last_ok_at"]
    assert rows[error]["last_error"] == "HTTP 500"
    assert "not a feed" in rows[html]["last_error"]
    assert "connect" in rows[down]["last_error"]
    for u in (error, html, down):
        assert rows[u]["consecutive_failures"] == 1
        assert rows[u]["next_check_at"] > rows[u]["last_error_at"]
    assert len(server.posts("/hook")) == 1

    status = cli("feeds", "status", "--json", config=config)
    assert status.exit_code == 0
    errors = {
        json.loads(line)["url"]: json.loads(line)["last_error"]
        for line in status.output.splitlines()
    }
    assert errors[error] == "HTTP 500"


def test_first_poll_is_a_baseline_without_alert_storm(tmp_path, server, cli):
    old = [
        {
            "guid": f"old-{i}",
            "title": f"Kazakhstan invites Taliban delegation to forum, part {i}",
            "description": "Kazakhstan invited the Taliban to the Astana International Forum.",
            "pubDate": "Mon, 20 May 2019 09:30:00 +0000",
        }
        for i in range(30)
    ]
    url = server.feed("/feed.xml", rss(old))
    config = _config(tmp_path, server, [url])
    assert cli("run", "--once", config=config).exit_code == 0
    db = _db(config)
    assert db.execute("select count(*) from matches").fetchone()[0] >= 30
    assert db.execute("select count(*) from deliveries").fetchone()[0] == 0
    assert server.posts("/hook") == []


def test_daemon_polls_delivers_and_stops_cleanly_on_sigterm(tmp_path, server):
    url = server.feed("/feed.xml", story_feed())
    config = _config(tmp_path, server, [url])
    daemon = newsmon_process(config, "run")
    try:
        posts = server.wait_posts(1, timeout=30)
        assert len(posts) == 1
        code = daemon.stop(signal.SIGTERM)
    finally:
        daemon.close()
    assert code == 0, daemon.output
    assert "stopped" in daemon.output
    assert (tmp_path / "newsmon.db.heartbeat").exists()


def test_daemon_stops_on_sigint_with_exit_code_0(tmp_path, server):
    config = _config(tmp_path, server, [])
    daemon = newsmon_process(config, "run")
    try:
        assert daemon.wait_for("newsmon running")
        code = daemon.stop(signal.SIGINT)
    finally:
        daemon.close()
    assert code == 0, daemon.output
