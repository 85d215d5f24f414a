"""The Store: every read and write newsmon makes, over one SQLite file.

The only module with SQL besides the schema, and the only one that imports sqlite-utils.
A Store belongs to the thread that opened it (sqlite3's rule); the daemon gives writes one
thread. Time is always passed in (`now`), never read here.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from storage.errors import DatabaseOpenError, NotFoundError, StorageError
from storage.schema import migrations

Row = dict[str, Any]


def ts(when: dt.datetime) -> str:
    """A UTC timestamp that sorts as text: 2026-11-27T19:33:16.000000Z."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.db = Database(self.path)
            # Per connection: sqlite leaves foreign keys off; wait for a busy writer
            # instead of failing at once (https://sqlite.org/pragma.html#pragma_busy_timeout).
            self.db.execute("pragma foreign_keys = on")
            self.db.execute("pragma busy_timeout = 5000")
            # NORMAL in WAL mode can lose the last commits on power loss, never on a
            # process crash; a refetch recovers them (https://sqlite.org/pragma.html).
            self.db.execute("pragma synchronous = normal")
            migrations.apply(self.db)
        except (sqlite3.Error, OSError) as e:
            raise DatabaseOpenError(self.path, str(e)) from e

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _tx(self) -> Iterator[None]:
        try:
            with self.db.atomic():
                yield
        except sqlite3.Error as e:
            raise StorageError(f"database write failed: {e}") from e

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
        try:
            return list(self.db.query(sql, params))
        except sqlite3.Error as e:
            raise StorageError(f"database read failed: {e}") from e

    def pragma(self, name: str) -> Any:
        return self.db.execute(f"pragma {name}").fetchone()[0]

    # -- feeds ---------------------------------------------------------------------------

    def add_feed(
        self,
        url: str,
        now: dt.datetime,
        interval_seconds: int | None = None,
        tags: Iterable[str] = (),
    ) -> Row:
        """Add a feed, due now; an existing feed keeps its state but takes interval and tags."""
        with self._tx():
            self.db.execute(
                """insert into feeds (url, tags, interval_seconds, next_check_at, added_at)
                   values (?, ?, ?, ?, ?)
                   on conflict(url) do update set
                     tags = excluded.tags, interval_seconds = excluded.interval_seconds""",
                [url, json.dumps(sorted(set(tags))), interval_seconds, ts(now), ts(now)],
            )
        return self.feed_by_url(url)

    def feed_by_url(self, url: str) -> Row:
        rows = self._rows("select * from feeds where url = ?", [url])
        if not rows:
            raise NotFoundError(f"no feed with url {url}")
        return rows[0]

    def feed(self, feed_id: int) -> Row:
        rows = self._rows("select * from feeds where id = ?", [feed_id])
        if not rows:
            raise NotFoundError(f"no feed with id {feed_id}")
        return rows[0]

    def remove_feed(self, url: str) -> None:
        """Stop polling a feed. Its items and matches stay for review."""
        feed = self.feed_by_url(url)
        with self._tx():
            self.db.execute("delete from feeds where id = ?", [feed["id"]])

    def feeds(self) -> list[Row]:
        return self._rows("select * from feeds order by id")

    def due_feeds(self, now: dt.datetime, include_all: bool = False) -> list[Row]:
        if include_all:
            return self._rows("select * from feeds where disabled = 0 order by id")
        return self._rows(
            "select * from feeds where disabled = 0 and next_check_at <= ? order by next_check_at",
            [ts(now)],
        )

    def update_feed(self, feed_id: int, values: dict[str, Any]) -> None:
        with self._tx():
            self.db.table("feeds").update(feed_id, values)

    # -- items, matches and the outbox -----------------------------------------------------

    def existing_keys(self, feed_id: int, keys: Sequence[str]) -> set[str]:
        """Which of `keys` this feed already has: one query per feed, not one per item."""
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = list(keys[i : i + 500])
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"select key from items where feed_id = ? and key in ({marks})",
                [feed_id, *chunk],
            ).fetchall()
            found.update(r[0] for r in rows)
        return found

    def commit_poll(
        self,
        feed_id: int,
        feed_values: dict[str, Any],
        items: list[Row],
        matches: list[Row],
        deliveries: list[Row],
        statuses: list[Row] | None = None,
    ) -> None:
        """Write a poll's items, matches, status assertions, outbox rows and feed state in
        one transaction.

        `matches` rows carry `item_id`; `deliveries` rows carry `item_id` and `rule_id`
        to be linked to their match. Items already stored are ignored, never overwritten.
        """
        with self._tx():
            if items:
                self.db.table("items").insert_all(items, ignore=True)
            match_ids: dict[tuple[str, str], int] = {}
            for m in matches:
                cur = self.db.execute(
                    """insert into matches (item_id, rule_id, rule_title, severity, evidence,
                                            created_at)
                       values (:item_id, :rule_id, :rule_title, :severity, :evidence,
                               :created_at)
                       on conflict(item_id, rule_id) do nothing""",
                    m,
                )
                if cur.rowcount:
                    match_ids[(m["item_id"], m["rule_id"])] = int(cur.lastrowid or 0)
            for d in deliveries:
                key = (d.get("item_id"), d.get("rule_id"))
                row = {k: v for k, v in d.items() if k not in ("item_id", "rule_id")}
                if key[0] is not None and key not in match_ids:
                    continue  # the match existed already: its alert was queued then
                row["match_id"] = match_ids.get(key)  # type: ignore[arg-type]
                self.db.table("deliveries").insert(row, ignore=True)
            if statuses:
                self.db.table("statuses").insert_all(statuses)
            self.db.table("feeds").update(feed_id, feed_values)

    def items(self, since: str | None = None) -> Iterator[Row]:
        sql = "select items.*, feeds.url as feed_url, feeds.title as feed_title from items "
        sql += "left join feeds on feeds.id = items.feed_id"
        params: list[Any] = []
        if since:
            sql += " where coalesce(items.published, items.fetched_at) >= ?"
            params.append(since)
        yield from self.db.query(sql + " order by items.fetched_at", params)

    def count(self, table: str) -> int:
        return int(self.db.execute(f"select count(*) from [{table}]").fetchone()[0])

    # -- matches -------------------------------------------------------------------------

    _MATCH_SQL = """
        select matches.*, items.title, items.link, items.published, items.summary,
               feeds.url as feed_url, feeds.title as feed_title
        from matches join items on items.id = matches.item_id
        left join feeds on feeds.id = items.feed_id"""

    def matches(
        self, rule_id: str | None = None, limit: int = 50, label: str | None = None
    ) -> list[Row]:
        where: list[str] = []
        params: list[Any] = []
        if rule_id:
            where.append("matches.rule_id = ?")
            params.append(rule_id)
        if label:
            where.append("matches.label is ?" if label == "none" else "matches.label = ?")
            params.append(None if label == "none" else label)
        sql = self._MATCH_SQL + (" where " + " and ".join(where) if where else "")
        sql += " order by matches.created_at desc, matches.id desc limit ?"
        return self._rows(sql, [*params, limit])

    def search_matches(self, query: str, limit: int = 50) -> list[Row]:
        """Matches whose item text matches an FTS5 query (words, "phrases", OR, prefix*)."""
        sql = (
            self._MATCH_SQL
            + """
            where matches.item_id in (
                select items.id from items_fts join items on items.rowid = items_fts.rowid
                where items_fts match ?)
            order by matches.created_at desc, matches.id desc limit ?"""
        )
        return self._rows(sql, [query, limit])

    def label_match(self, match_id: int, label: str | None, now: str, note: str | None) -> None:
        self.match(match_id)  # raises NotFoundError
        with self._tx():
            self.db.table("matches").update(
                match_id, {"label": label, "labelled_at": now if label else None, "note": note}
            )

    def labels(self) -> dict[tuple[str, str], str]:
        """Review labels by (item id, rule id)."""
        rows = self.db.execute(
            "select item_id, rule_id, label from matches where label is not null"
        )
        return {(r[0], r[1]): r[2] for r in rows.fetchall()}

    def match(self, match_id: int) -> Row:
        rows = self._rows(self._MATCH_SQL + " where matches.id = ?", [match_id])
        if not rows:
            raise NotFoundError(f"no match with id {match_id}")
        return rows[0]

    # -- the status ledger ------------------------------------------------------------------

    def status_entries(self, subject: str, jurisdiction: str | None = None) -> list[Row]:
        """Assertions in event-time order, with the item's title, link and feed."""
        sql = """select statuses.*, items.title, items.link, feeds.title as feed_title
                 from statuses left join items on items.id = statuses.item_id
                 left join feeds on feeds.id = items.feed_id
                 where statuses.subject = ?"""
        params: list[Any] = [subject]
        if jurisdiction is not None:
            sql += " and statuses.jurisdiction = ?"
            params.append(jurisdiction)
        return self._rows(sql + " order by statuses.event_at, statuses.id", params)

    def status_subjects(self) -> list[str]:
        return [
            r["subject"] for r in self._rows("select distinct subject from statuses order by 1")
        ]

    def add_seeds(self, rows: list[Row]) -> None:
        """Known states from rule files; each seed is stored once (by its seed_key)."""
        with self._tx():
            self.db.table("statuses").insert_all(rows, ignore=True)

    # -- deliveries ----------------------------------------------------------------------

    def due_deliveries(self, now: dt.datetime, limit: int = 500) -> list[Row]:
        return self._rows(
            """select * from deliveries where status = 'pending' and next_attempt_at <= ?
               order by next_attempt_at, id limit ?""",
            [ts(now), limit],
        )

    def deliveries(self, status: str | None = None, limit: int = 100) -> list[Row]:
        if status:
            return self._rows(
                "select * from deliveries where status = ? order by id desc limit ?",
                [status, limit],
            )
        return self._rows("select * from deliveries order by id desc limit ?", [limit])

    def record_attempt(self, delivery_id: int, values: dict[str, Any]) -> None:
        with self._tx():
            self.db.execute(
                "update deliveries set attempts = attempts + 1 where id = ?", [delivery_id]
            )
            self.db.table("deliveries").update(delivery_id, values)

    def retry_delivery(self, delivery_id: int, now: dt.datetime) -> None:
        rows = self._rows("select id from deliveries where id = ?", [delivery_id])
        if not rows:
            raise NotFoundError(f"no delivery with id {delivery_id}")
        with self._tx():
            self.db.table("deliveries").update(
                delivery_id, {"status": "pending", "next_attempt_at": ts(now)}
            )
