"""Every CLI command against a real SQLite file and a loopback feed server."""

from __future__ import annotations

import csv
import io
import json

from conftest import FIXTURES, STORY, jsonl, story_feed, write_config


def _stored(tmp_path, server, cli):
    """A database with the story feed polled once and its alerts sent."""
    url = server.feed("/feed.xml", story_feed())
    config = write_config(
        tmp_path / "c.yaml",
        feeds=[{"url": url}],
        destinations=[{"name": "hook", "type": "webhook", "url": server.url + "/hook"}],
    )
    assert cli("run", "--once", config=config).exit_code == 0
    return config, url


def test_feeds_add_list_status_remove(tmp_path, cli):
    config = write_config(tmp_path / "c.yaml")
    r = cli(
        "feeds", "add", "https://example.org/rss", "--interval", "5m", "--tag", "x", config=config
    )
    assert r.exit_code == 0 and "added feed" in r.output
    rows = jsonl(cli("feeds", "list", "--json", config=config).output)
    assert [(f["url"], f["interval_seconds"], json.loads(f["tags"])) for f in rows] == [
        ("https://example.org/rss", 300, ["x"])
    ]
    status = jsonl(cli("feeds", "status", "--json", config=config).output)
    assert status[0]["consecutive_failures"] == 0 and status[0]["last_ok_at"] is None
    assert "last ok: never" in cli("feeds", "status", config=config).output
    assert cli("feeds", "remove", "https://example.org/rss", config=config).exit_code == 0
    assert jsonl(cli("feeds", "list", "--json", config=config).output) == []


def test_feeds_add_refuses_bad_urls(tmp_path, cli):
    config = write_config(tmp_path / "c.yaml")
    for bad in ("file:///etc/passwd", "gopher://x", "/tmp/feed.xml"):
        r = cli("feeds", "add", bad, config=config)
        assert r.exit_code == 1 and "error:" in r.output
    r = cli("feeds", "remove", "https://nope.example/", config=config)
    assert r.exit_code == 1 and "no feed" in r.output


def test_opml_import_and_export(tmp_path, cli):
    config = write_config(tmp_path / "c.yaml")
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        '<outline text="Asia"><outline text="A" xmlUrl="https://a.example/rss"/></outline>'
        '<outline text="B" xmlUrl="https://b.example/atom" category="law,un"/>'
        '<outline text="Bad" xmlUrl="file:///etc/passwd"/>'
        "</body></opml>"
    )
    r = cli("feeds", "import-opml", str(opml), config=config)
    assert r.exit_code == 0 and "imported 2 feeds" in r.output and "skipped file:" in r.output
    feeds = {
        f["url"]: json.loads(f["tags"])
        for f in jsonl(cli("feeds", "list", "--json", config=config).output)
    }
    assert feeds == {"https://a.example/rss": ["Asia"], "https://b.example/atom": ["law", "un"]}
    out = cli("feeds", "export-opml", config=config).output
    assert 'xmlUrl="https://a.example/rss"' in out and 'category="law,un"' in out


def test_matches_list_show_search_export_label_and_backtest(tmp_path, server, cli):
    config, _ = _stored(tmp_path, server, cli)
    rows = jsonl(cli("matches", "list", "--json", config=config).output)
    rules = {r["rule_id"] for r in rows}
    assert {"kz-afghanistan-engagement", "taliban-legal-status"} <= rules
    assert all(r["evidence"] for r in rows)
    one = rows[0]["id"]

    shown = cli("matches", "show", str(one), config=config).output
    assert f"match {one}:" in shown and "summary[" in shown or "title[" in shown

    found = jsonl(cli("matches", "search", "Vassilenko", "--json", config=config).output)
    assert found and all("Kazakhstan invites" in r["title"] for r in found)
    assert jsonl(cli("matches", "search", "bakery", "--json", config=config).output) == []
    bad = cli("matches", "search", '"unbalanced', config=config)
    assert bad.exit_code == 1

    exported = list(
        csv.DictReader(
            io.StringIO(cli("matches", "export", "--format", "csv", config=config).output)
        )
    )
    assert {r["rule_id"] for r in exported} == rules

    legal = next(r["id"] for r in rows if r["rule_id"] == "taliban-legal-status")
    assert (
        cli(
            "matches", "label", str(legal), "irrelevant", "--note", "background", config=config
        ).exit_code
        == 0
    )
    assert (
        jsonl(cli("matches", "show", str(legal), "--json", config=config).output)[0]["label"]
        == "irrelevant"
    )

    stats = {s["rule"]: s for s in jsonl(cli("backtest", "--json", config=config).output)}
    assert stats["taliban-legal-status"]["hits"] == 1
    assert stats["taliban-legal-status"]["labelled_irrelevant"] == 1
    assert stats["kz-afghanistan-engagement"]["sample"][0]["title"].startswith("Kazakhstan invites")
    later = {
        s["rule"]: s["hits"]
        for s in jsonl(cli("backtest", "--since", "2999-01-01", "--json", config=config).output)
    }
    assert set(later.values()) == {0}


def test_deliveries_list_and_retry(tmp_path, server, cli):
    config, _ = _stored(tmp_path, server, cli)
    rows = jsonl(cli("deliveries", "list", "--json", config=config).output)
    assert rows and all(r["status"] == "sent" for r in rows)
    assert "payload" not in rows[0]
    r = cli("deliveries", "retry", str(rows[0]["id"]), config=config)
    assert r.exit_code == 0
    assert cli("run", "--once", config=config).exit_code == 0
    hook_ids = [json.loads(p.body)["id"] for p in server.posts("/hook")]
    assert hook_ids.count(rows[0]["event_id"]) == 2  # resent with the same id
    assert cli("deliveries", "retry", "9999", config=config).exit_code == 1


def test_match_dry_run_on_the_seed_story(tmp_path, cli):
    config = write_config(tmp_path / "c.yaml")
    items = tmp_path / "story.jsonl"
    items.write_text(
        json.dumps(
            {
                "id": "seed",
                "title": "Kazakhstan invites Taliban minister",
                "summary": STORY,
                "published": "2024-05-20T09:00:00Z",
            }
        )
        + "\n"
    )
    out = jsonl(cli("match", str(items), "--json", config=config).output)
    by_rule = {r["rule"]: r for r in out}
    assert {"kz-afghanistan-engagement", "taliban-legal-status"} <= set(by_rule)
    for r in out:
        assert r["item_id"] == "seed" and r["evidence"]
    status = by_rule["taliban-legal-status"]["status"]
    assert status == {
        "subject": "taliban",
        "jurisdiction": "kazakhstan",
        "state": "delisted",
        "previous": "banned",
    }
    # Nothing was stored.
    assert not (tmp_path / "newsmon.db").exists()


def test_match_on_a_feed_file_and_a_feed_url(tmp_path, server, cli):
    config = write_config(tmp_path / "c.yaml")
    feed = tmp_path / "feed.xml"
    feed.write_bytes(story_feed())
    from_file = jsonl(cli("match", str(feed), "--json", config=config).output)
    url = server.feed("/f.xml", story_feed())
    from_url = jsonl(cli("match", url, "--json", config=config).output)
    assert {r["rule"] for r in from_file} == {r["rule"] for r in from_url}
    assert len(from_file) >= 2
    missing = cli("match", str(tmp_path / "nope.xml"), config=config)
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_status_command_after_replaying_history(tmp_path, server, cli):
    from conftest import rss

    items = [
        {
            "guid": "a",
            "title": "Kazakhstan's Supreme Court designates the Taliban a terrorist organization",
            "description": "The Supreme Court of Kazakhstan designated the Taliban "
            "as a terrorist organization.",
            "pubDate": "Tue, 15 Mar 2005 10:00:00 +0000",
        },
        {
            "guid": "b",
            "title": "Kazakhstan removes the Taliban from its list of banned organizations",
            "description": "Kazakhstan removed the Taliban from the list of "
            "prohibited organizations.",
            "pubDate": "Fri, 29 Dec 2023 10:00:00 +0000",
        },
    ]
    url = server.feed("/feed.xml", rss(items))
    config = write_config(
        tmp_path / "c.yaml",
        feeds=[{"url": url}],
        poll={"backfill": "36500d"},
        destinations=[
            {
                "name": "hook",
                "type": "webhook",
                "url": server.url + "/hook",
                "rules": ["taliban-legal-status"],
            }
        ],
    )
    assert cli("run", "--once", config=config).exit_code == 0
    view = {
        v["jurisdiction"]: v
        for v in jsonl(cli("status", "taliban", "--json", config=config).output)
    }
    assert view["kazakhstan"]["state"] == "delisted"
    states = [h["state"] for h in view["kazakhstan"]["history"] if h["item_id"]]
    assert states == ["banned", "delisted"]
    assert view["russia"]["state"] == "recognized"  # from the shipped seeds
    text = cli("status", config=config).output
    assert "taliban in kazakhstan: delisted" in text


def test_config_show_masks_secrets(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("HOOK", "https://hooks.slack.com/services/T0/B0/TOPSECRET")
    path = tmp_path / "c.yaml"
    path.write_text(
        "destinations:\n"
        "  - {name: s, type: slack, url: '${HOOK}'}\n"
        "  - {name: w, type: webhook, url: 'https://x.example/h',\n"
        "     secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n"
    )
    for args in (("config", "show"), ("config", "show", "--json")):
        out = cli(*args, config=path).output
        assert "TOPSECRET" not in out and "MfKQ9r8G" not in out
        assert "hooks.slack.com" in out


def test_rules_check(tmp_path, cli):
    ok = cli("rules", "check")
    assert ok.exit_code == 0 and "ok: 3 rules" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: r1\n    title: t\n    all: ['@nobody']\n    colour: red\n")
    r = cli("rules", "check", str(bad))
    assert r.exit_code == 1
    assert "colour" in r.output and "r1" in r.output and str(bad) in r.output


def test_healthcheck_without_and_with_heartbeat(tmp_path, cli):
    config = write_config(tmp_path / "c.yaml")
    r = cli("healthcheck", config=config)
    assert r.exit_code == 1 and "heartbeat" in r.output
    import datetime as dt

    (tmp_path / "newsmon.db.heartbeat").write_text(dt.datetime.now(dt.UTC).isoformat())
    assert cli("healthcheck", config=config).exit_code == 0
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    (tmp_path / "newsmon.db.heartbeat").write_text(old.isoformat())
    assert cli("healthcheck", config=config).exit_code == 1


def test_demo_runs_offline(cli):
    r = cli("demo")
    assert r.exit_code == 0, r.output
    assert "kz-afghanistan-engagement: Kazakhstan invites Taliban" in r.output
    assert "verified  match.created" in r.output
    assert "BAD SIGNATURE" not in r.output
    assert "status.changed" in r.output


def test_fixture_story_is_the_shared_story():
    shared = FIXTURES.parents[2] / "shared" / "story" / "seed-story.txt"
    if shared.exists():  # next to the repo on development machines and CI
        assert shared.read_text(encoding="utf-8") == STORY
