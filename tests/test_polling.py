"""Polite, adaptive polling and feed faults (RELIABILITY.md F9-F12, I1-I3, P4)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from conftest import LocalServer, rss, story_feed, write_config

from monitor.schedule import backoff, next_interval, rate_interval, server_hint


def _feeds(config: Path) -> dict[str, sqlite3.Row]:
    conn = sqlite3.connect(config.parent / "newsmon.db")
    conn.row_factory = sqlite3.Row
    return {r["url"]: r for r in conn.execute("select * from feeds")}


def _ts(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def test_last_modified_echoed_and_unchanged_body_not_reparsed(tmp_path, server, cli):
    url = server.feed(
        "/feed.xml", story_feed(), headers={"Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT"}
    )
    config = write_config(tmp_path / "c.yaml", feeds=[{"url": url}])
    assert cli("run", "--once", config=config).exit_code == 0
    second = cli("run", "--once", "--all", config=config)
    assert "1 unchanged" in second.output  # same bytes: no parse, no new items
    gets = server.gets("/feed.xml")
    assert gets[1].headers["If-Modified-Since"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    row = _feeds(config)[url]
    assert row["last_ok_at"] and row["content_hash"]


def test_permanent_redirect_moves_the_feed_temporary_does_not(tmp_path, server, cli):
    new = server.feed("/new.xml", story_feed())
    server.feed("/old.xml", b"", status=301, headers={"Location": "/new.xml"})
    tmp_target = server.feed("/tmp-target.xml", rss([{"guid": "t", "title": "x"}]))
    server.feed("/temp.xml", b"", status=302, headers={"Location": "/tmp-target.xml"})
    old = server.url + "/old.xml"
    temp = server.url + "/temp.xml"
    config = write_config(tmp_path / "c.yaml", feeds=[{"url": old}, {"url": temp}])
    assert cli("run", "--once", config=config).exit_code == 0
    feeds = _feeds(config)
    assert new in feeds and old not in feeds and feeds[new]["moved_from"] == old
    assert temp in feeds and tmp_target not in feeds
    # The config still says the old URL: it names the moved feed, not a new one.
    assert cli("run", "--once", "--all", config=config).exit_code == 0
    assert len(_feeds(config)) == 2


def test_redirect_loop_is_an_error_not_a_hot_loop(tmp_path, server, cli):
    server.feed("/a.xml", b"", status=302, headers={"Location": "/b.xml"})
    server.feed("/b.xml", b"", status=302, headers={"Location": "/a.xml"})
    url = server.url + "/a.xml"
    config = write_config(tmp_path / "c.yaml", feeds=[{"url": url}])
    assert cli("run", "--once", config=config).exit_code == 0
    assert "redirects" in _feeds(config)[url]["last_error"]
    assert len(server.requests) <= 6


def test_410_disables_the_feed_and_raises_feed_broken(tmp_path, server, cli):
    url = server.feed("/gone.xml", b"gone", status=410)
    config = write_config(
        tmp_path / "c.yaml",
        feeds=[{"url": url}],
        destinations=[
            {
                "name": "ops",
                "type": "webhook",
                "url": server.url + "/ops",
                "events": ["feed.broken"],
            }
        ],
    )
    assert cli("run", "--once", config=config).exit_code == 0
    row = _feeds(config)[url]
    assert row["disabled"] == 1 and "410" in row["disabled_reason"]
    posts = server.posts("/ops")
    assert len(posts) == 1
    event = json.loads(posts[0].body)
    assert event["type"] == "feed.broken" and event["feed"]["url"] == url
    for _ in range(2):
        assert cli("run", "--once", "--all", config=config).exit_code == 0
    assert len(server.gets("/gone.xml")) == 1  # never polled again
    assert "disabled" in cli("feeds", "status", config=config).output


def test_errors_back_off_exponentially_and_raise_feed_broken_once(tmp_path, server, cli):
    url = server.feed("/err.xml", b"down", status=500)
    config = write_config(
        tmp_path / "c.yaml",
        feeds=[{"url": url, "interval": "60s"}],
        poll={"broken_after": "1ms"},
        destinations=[
            {
                "name": "ops",
                "type": "webhook",
                "url": server.url + "/ops",
                "events": ["feed.broken"],
            },
            {"name": "news", "type": "webhook", "url": server.url + "/news"},
        ],
    )
    delays = []
    for _ in range(4):
        assert cli("run", "--once", "--all", config=config).exit_code == 0
        row = _feeds(config)[url]
        delays.append((_ts(row["next_check_at"]) - _ts(row["last_error_at"])).total_seconds())
    assert row["consecutive_failures"] == 4 and row["disabled"] == 0
    assert delays == sorted(delays) and delays[-1] >= 4 * delays[0] * 0.99
    assert delays[0] >= 59
    broken = server.posts("/ops")
    assert len(broken) == 1  # once per outage, not per failure
    assert server.posts("/news") == []  # only destinations asking for feed.broken
    # Recovery resets the outage.
    server.feed("/err.xml", story_feed())
    assert cli("run", "--once", "--all", config=config).exit_code == 0
    row = _feeds(config)[url]
    assert row["consecutive_failures"] == 0 and row["broken_since"] is None


def test_retry_after_on_429_sets_the_next_check(tmp_path, server, cli):
    url = server.feed("/busy.xml", b"", status=429, headers={"Retry-After": "7200"})
    config = write_config(tmp_path / "c.yaml", feeds=[{"url": url, "interval": "60s"}])
    assert cli("run", "--once", config=config).exit_code == 0
    row = _feeds(config)[url]
    wait = (_ts(row["next_check_at"]) - _ts(row["last_error_at"])).total_seconds()
    assert 7200 <= wait <= 24 * 3600


def test_items_dedupe_across_polls_and_feeds(tmp_path, server, cli):
    items = [
        {"guid": "same", "title": "Kazakhstan invites Taliban delegation A", "pubDate": _now()},
        {"guid": "same", "title": "Kazakhstan invites Taliban delegation B", "pubDate": _now()},
        {"guid": "same", "title": "Kazakhstan invites Taliban delegation C", "pubDate": _now()},
        {"link": "https://example.org/only-link", "title": "Kazakhstan invites Taliban D"},
        {"title": "Kazakhstan invites Taliban E", "description": "no guid, no link"},
    ]
    a = server.feed("/a.xml", rss(items))
    b = server.feed("/b.xml", rss(items[:1]))
    config = write_config(
        tmp_path / "c.yaml",
        feeds=[{"url": a}, {"url": b}],
        poll={"backfill": "36500d"},
        destinations=[
            {
                "name": "hook",
                "type": "webhook",
                "url": server.url + "/hook",
                "rules": ["kz-afghanistan-engagement"],
            }
        ],
    )
    assert cli("run", "--once", config=config).exit_code == 0
    conn = sqlite3.connect(config.parent / "newsmon.db")
    assert conn.execute("select count(*) from items").fetchone()[0] == 6  # 5 + 1 (other feed)
    first = len(server.posts("/hook"))
    # Dated items alert; undated ones on a feed's first poll are of unknown age (baseline).
    assert first == 4
    # Reordered, one removed and re-added: no new items, no new alerts.
    server.feed("/a.xml", rss(list(reversed(items[1:]))))
    assert cli("run", "--once", "--all", config=config).exit_code == 0
    server.feed("/a.xml", rss(items))
    assert cli("run", "--once", "--all", config=config).exit_code == 0
    assert conn.execute("select count(*) from items").fetchone()[0] == 6
    assert len(server.posts("/hook")) == first


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def test_schedule_decisions():
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    daily = [now - dt.timedelta(days=d) for d in range(10)]
    assert rate_interval(daily, now) == 6 * 3600  # a quarter of a day
    assert rate_interval([now], now) is None
    assert next_interval(600, daily, {}, None, now) == 6 * 3600
    busy = [now - dt.timedelta(minutes=m) for m in range(10)]
    assert next_interval(600, busy, {}, None, now) == 600  # never below the configured one
    assert next_interval(600, [], {"cache-control": "public, max-age=3600"}, None, now) == 3600
    assert next_interval(600, [], {}, 120, now) == 7200  # RSS <ttl> in minutes
    assert next_interval(600, [], {"cache-control": "max-age=9999999"}, None, now) == 24 * 3600
    expires = "Thu, 01 Jan 2026 02:00:00 GMT"
    assert server_hint({"expires": expires}, None, now) == 7200
    assert backoff(60, 1, None) == 60 and backoff(60, 3, None) == 240
    assert backoff(60, 30, None) == 24 * 3600
    assert backoff(60, 1, 3600) == 3600


def test_future_and_missing_dates_do_not_suppress_later_items(tmp_path, server, cli):
    items = [
        {
            "guid": "f",
            "title": "Kazakhstan invites Taliban (future)",
            "pubDate": "Fri, 01 Jan 2100 00:00:00 +0000",
        },
        {"guid": "m", "title": "Kazakhstan invites Taliban (no date)"},
        {"guid": "u", "title": "Kazakhstan invites Taliban (garbled)", "pubDate": "yesterday-ish"},
    ]
    url = server.feed("/f.xml", rss(items))
    config = write_config(tmp_path / "c.yaml", feeds=[{"url": url}])
    assert cli("run", "--once", config=config).exit_code == 0
    server.feed(
        "/f.xml",
        rss(
            [*items, {"guid": "n", "title": "Kazakhstan invites Taliban (new)", "pubDate": _now()}]
        ),
    )
    assert cli("run", "--once", "--all", config=config).exit_code == 0
    conn = sqlite3.connect(config.parent / "newsmon.db")
    # RSS guids are permalinks by default, so feedparser resolves them against the feed URL.
    rows = {k.rsplit("/", 1)[-1]: v for k, v in conn.execute("select key, published from items")}
    assert set(rows) == {"f", "m", "u", "n"}
    assert rows["f"].startswith("2100") and rows["m"] is None and rows["u"] is None


@pytest.mark.parametrize("concurrency", [1, 50])
def test_a_bug_in_one_feed_does_not_stop_the_cycle(tmp_path, server, cli, monkeypatch, concurrency):
    # With one fetch at a time, the task that met the bug must go on to the next feed.
    good = server.feed("/good.xml", story_feed())
    bad = server.feed("/bad.xml", story_feed())
    config = write_config(
        tmp_path / "c.yaml",
        feeds=[{"url": bad}, {"url": good}],
        poll={"concurrency": concurrency},
    )
    import monitor.pipeline as pipeline

    real = pipeline.build_write

    def buggy(config, rules, feed, parsed, new, now):
        if feed["url"] == bad:
            raise RuntimeError("simulated bug")
        return real(config, rules, feed, parsed, new, now)

    monkeypatch.setattr(pipeline, "build_write", buggy)
    result = cli("run", "--once", config=config)
    assert result.exit_code == 0
    assert _feeds(config)[good]["last_ok_at"] is not None


def test_server_fixture_is_loopback_only(server: LocalServer):
    assert server.url.startswith("http://127.0.0.1:")


def test_a_large_cycle_is_indexed_as_it_goes(tmp_path, server, cli, monkeypatch):
    # Items become searchable in batches during the cycle (overlapping the polling), and
    # every item is in the index once the cycle ends.
    import monitor.pipeline as pipeline
    from storage import Store

    urls = [server.feed(f"/f{i}.xml", story_feed()) for i in range(3)]
    # One feed at a time: polls finishing together would share one commit, then one index.
    config = write_config(
        tmp_path / "c.yaml", feeds=[{"url": u} for u in urls], poll={"concurrency": 1}
    )
    monkeypatch.setattr(pipeline, "INDEX_EVERY", 1)
    indexed: list[int] = []
    real = Store.index_items

    def counting(self: Store) -> int:
        indexed.append(real(self))
        return indexed[-1]

    monkeypatch.setattr(Store, "index_items", counting)
    assert cli("run", "--once", config=config).exit_code == 0
    conn = sqlite3.connect(tmp_path / "newsmon.db")
    items = conn.execute("select count(*) from items").fetchone()[0]
    assert items > 0
    assert sum(indexed) == items
    assert len([n for n in indexed if n]) >= 2  # not all at the end
    assert conn.execute("select count(*) from items_fts").fetchone()[0] == items
