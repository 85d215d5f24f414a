"""The Store on a real SQLite file: the batched full-text index (schema m007)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

from conftest import rss, story_feed, write_config
from sqlite_utils import Database

from monitor.config import load_config
from monitor.daemon import Service
from rules import RuleSet, load
from storage import Store, ts
from storage.schema import migrations

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
SEEN = {"last_checked_at": ts(NOW)}


def _item(feed_id: int, key: str, title: str, summary: str = "") -> dict[str, object]:
    return {
        "id": f"{feed_id}:{key}",
        "feed_id": feed_id,
        "key": key,
        "title": title,
        "link": None,
        "summary": summary,
        "content": "",
        "author": None,
        "published": None,
        "fetched_at": ts(NOW),
    }


def _store_with_feed(path: Path) -> tuple[Store, int]:
    store = Store(path)
    feed = store.add_feed("https://example.org/rss", NOW)
    return store, int(feed["id"])


def _fts(store: Store, query: str) -> set[str]:
    rows = store.db.execute(
        "select items.id from items_fts join items on items.rowid = items_fts.rowid "
        "where items_fts match ?",
        [query],
    ).fetchall()
    return {r[0] for r in rows}


def _check_index(store: Store) -> None:
    # FTS5 compares an external-content index with its content table row by row.
    store.db.execute("insert into items_fts (items_fts, rank) values ('integrity-check', 1)")


def test_items_are_searchable_after_index_items_and_not_indexed_twice(tmp_path):
    store, feed = _store_with_feed(tmp_path / "db.sqlite")
    store.commit_poll(feed, SEEN, [_item(feed, "a", "Astana forum opens")], [], [])
    assert _fts(store, "astana") == set()  # stored, not yet indexed: no per-row trigger
    assert store.index_items() == 1
    assert _fts(store, "astana") == {f"{feed}:a"}
    assert store.index_items() == 0
    store.commit_poll(feed, SEEN, [_item(feed, "b", "Astana again")], [], [])
    assert store.index_items() == 1
    assert _fts(store, "astana") == {f"{feed}:a", f"{feed}:b"}
    _check_index(store)


def test_updates_and_deletes_keep_the_index_consistent(tmp_path):
    store, feed = _store_with_feed(tmp_path / "db.sqlite")
    store.commit_poll(feed, SEEN, [_item(feed, k, f"title {k}") for k in "abc"], [], [])
    store.index_items()
    store.commit_poll(feed, SEEN, [_item(feed, "d", "title d")], [], [])  # not indexed yet
    with store.db.atomic():
        # What a user may do with SQL or Datasette, on indexed and unindexed rows alike.
        store.db.execute("update items set title = 'renamed kestrel' where key in ('a', 'd')")
        store.db.execute("delete from items where key = 'b'")
    assert _fts(store, "kestrel") == {f"{feed}:a"}
    store.index_items()
    assert _fts(store, "kestrel") == {f"{feed}:a", f"{feed}:d"}
    assert _fts(store, "b") == set()
    _check_index(store)


def test_a_reused_rowid_is_indexed(tmp_path):
    # SQLite gives a new row max(rowid) + 1, so deleting the highest indexed row frees its
    # rowid for the next insert: the watermark must not hide that row from the index.
    store, feed = _store_with_feed(tmp_path / "db.sqlite")
    store.commit_poll(feed, SEEN, [_item(feed, k, f"title {k}") for k in "ab"], [], [])
    store.index_items()
    store.db.execute("delete from items where key = 'b'")
    store.commit_poll(feed, SEEN, [_item(feed, "c", "heron sighted")], [], [])
    store.index_items()
    assert _fts(store, "heron") == {f"{feed}:c"}
    _check_index(store)


def test_migration_keeps_items_indexed_by_the_old_triggers(tmp_path):
    path = tmp_path / "old.sqlite"
    db = Database(path)
    migrations.apply(db, stop_before="m007_batched_fts")
    db.execute("insert into feeds (url, next_check_at, added_at) values ('u', 'x', 'x')")
    db.execute(
        "insert into items (id, feed_id, key, title, fetched_at) "
        "values ('old', 1, 'k', 'falcon report', 'x')"
    )
    db.close()
    store = Store(path)  # applies m007
    assert _fts(store, "falcon") == {"old"}
    assert store.index_items() == 0  # already indexed: not twice
    triggers = {
        r[0] for r in store.db.execute("select name from sqlite_master where type = 'trigger'")
    }
    assert "items_ai" not in triggers
    _check_index(store)


def test_search_matches_sees_items_not_yet_indexed(tmp_path):
    store, feed = _store_with_feed(tmp_path / "db.sqlite")
    store.commit_poll(
        feed,
        SEEN,
        [_item(feed, "a", "Osprey nest found")],
        [
            {
                "item_id": f"{feed}:a",
                "rule_id": "r",
                "rule_title": "R",
                "severity": "info",
                "evidence": "[]",
                "created_at": ts(NOW),
            }
        ],
        [],
    )
    assert [r["item_id"] for r in store.search_matches("osprey")] == [f"{feed}:a"]


def test_a_poll_cycle_leaves_every_new_item_in_the_index(tmp_path, server):
    extra = [{"guid": f"x{i}", "title": f"Plover count {i}", "description": "d"} for i in range(30)]
    urls = [server.feed("/a.xml", story_feed()), server.feed("/b.xml", rss(extra))]
    config_path = write_config(tmp_path / "c.yaml", feeds=[{"url": u} for u in urls])

    async def cycle() -> int:
        service = Service(load_config(config_path, env={}), RuleSet(load([])))
        async with service:
            return (await service.poller.cycle()).new_items

    assert asyncio.run(cycle()) == 32
    # A reader with its own connection (Datasette, sqlite3) sees the whole cycle indexed.
    conn = sqlite3.connect(tmp_path / "newsmon.db")
    try:
        hits = conn.execute("select count(*) from items_fts where items_fts match 'plover'")
        assert hits.fetchone()[0] == 30
        pending = conn.execute(
            "select count(*) from items where rowid > (select max_rowid from fts_indexed)"
        )
        assert pending.fetchone()[0] == 0
    finally:
        conn.close()
