"""The Store's base: one SQLite file, its pragmas and migrations; feeds and items.

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
from storage.schema import FTS_COLUMNS, migrations

Row = dict[str, Any]


TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def ts(when: dt.datetime) -> str:
    """A UTC timestamp that sorts as text: 2026-11-27T19:33:16.000000Z."""
    return when.astimezone(dt.UTC).strftime(TS_FORMAT)


def parse_ts(value: str) -> dt.datetime:
    """The datetime a `ts()` string stands for (UTC)."""
    return dt.datetime.strptime(value, TS_FORMAT).replace(tzinfo=dt.UTC)


def _existing_keys(conn: sqlite3.Connection, feed_id: int, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    try:
        for i in range(0, len(keys), 500):
            chunk = list(keys[i : i + 500])
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"select key from items where feed_id = ? and key in ({marks})",
                [feed_id, *chunk],
            ).fetchall()
            found.update(r[0] for r in rows)
    except sqlite3.Error as e:
        raise StorageError(f"database read failed: {e}") from e
    return found


class ItemKeys:
    """Read-only: which item keys a feed already has, for processes besides the writer's
    (the parse and match workers). Opens the file read-only; no migrations, no writes.
    Sees what the writer has committed (WAL readers never block it)."""

    def __init__(self, path: str) -> None:
        try:
            uri = Path(path).resolve().as_uri() + "?mode=ro"
            self.conn = sqlite3.connect(uri, uri=True)
            self.conn.execute("pragma busy_timeout = 5000")
        except (sqlite3.Error, OSError) as e:
            raise DatabaseOpenError(path, str(e)) from e

    def existing(self, feed_id: int, keys: Sequence[str]) -> set[str]:
        return _existing_keys(self.conn, feed_id, keys)

    def close(self) -> None:
        self.conn.close()


class StoreBase:
    """Connection, pragmas, migrations, transactions; feeds and items."""

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

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction; nested, a savepoint: an error rolls back only the inner block."""
        with self._tx():
            yield

    @property
    def in_transaction(self) -> bool:
        """False after an error (a full disk, I/O) made SQLite roll back everything."""
        return bool(self.db.conn.in_transaction)

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
        try:
            return list(self.db.query(sql, params))
        except sqlite3.Error as e:
            raise StorageError(f"database read failed: {e}") from e

    def pragma(self, name: str) -> Any:
        return self.db.execute(f"pragma {name}").fetchone()[0]

    # -- feeds ---------------------------------------------------------------------------

    _UPSERT_FEED = """insert into feeds (url, tags, interval_seconds, next_check_at, added_at)
        values (?, ?, ?, ?, ?)
        on conflict(url) do update set
          tags = excluded.tags, interval_seconds = excluded.interval_seconds"""

    def _current_url(self, url: str) -> str:
        """A URL the feed had before a permanent redirect names the same feed."""
        moved = self._rows("select url from feeds where moved_from = ?", [url])
        return str(moved[0]["url"]) if moved else url

    def add_feed(
        self,
        url: str,
        now: dt.datetime,
        interval_seconds: int | None = None,
        tags: Iterable[str] = (),
    ) -> Row:
        """Add a feed, due now; an existing feed keeps its state but takes interval and tags."""
        self.add_feeds([(url, interval_seconds, tags)], now)
        return self.feed_by_url(self._current_url(url))

    def add_feeds(
        self, feeds: Sequence[tuple[str, int | None, Iterable[str]]], now: dt.datetime
    ) -> None:
        """add_feed for many feeds in one transaction (the config's feeds at start-up)."""
        moved = {
            r["moved_from"]: r["url"]
            for r in self._rows("select url, moved_from from feeds where moved_from is not null")
        }
        stamp = ts(now)
        rows = [
            (moved.get(url, url), json.dumps(sorted(set(tags))), interval, stamp, stamp)
            for url, interval, tags in feeds
        ]
        with self._tx():
            self.db.conn.executemany(self._UPSERT_FEED, rows)

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

    def fail_feed(self, feed_id: int, values: dict[str, Any], deliveries: list[Row]) -> None:
        """Record a failed poll and queue its events (feed.broken) in one transaction."""
        with self._tx():
            self._set_feed(feed_id, values)
            for d in deliveries:
                self.db.table("deliveries").insert(d, ignore=True)

    def update_feed(self, feed_id: int, values: dict[str, Any]) -> None:
        self.update_feeds([(feed_id, values)])

    def update_feeds(self, updates: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Many feeds' new state in one transaction (a cycle's unchanged feeds), one
        statement per set of columns."""
        groups: dict[tuple[str, ...], list[list[Any]]] = {}
        for feed_id, values in updates:
            groups.setdefault(tuple(values), []).append([*values.values(), feed_id])
        with self._tx():
            for cols, params in groups.items():
                self.db.conn.executemany(self._update_feed_sql(cols), params)

    @staticmethod
    def _update_feed_sql(cols: tuple[str, ...]) -> str:
        if any(not c.isidentifier() for c in cols):
            raise StorageError(f"bad column names: {cols}")
        return f"update feeds set {', '.join(f'[{c}] = ?' for c in cols)} where id = ?"

    def _set_feed(self, feed_id: int, values: dict[str, Any]) -> None:
        # Plain SQL: sqlite-utils' table.update() re-reads the table's schema on each call.
        self.db.execute(self._update_feed_sql(tuple(values)), [*values.values(), feed_id])

    # -- items, matches and the outbox -----------------------------------------------------

    def existing_keys(self, feed_id: int, keys: Sequence[str]) -> set[str]:
        """Which of `keys` this feed already has: one query per feed, not one per item."""
        return _existing_keys(self.db.conn, feed_id, keys)

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
                # Plain executemany: sqlite-utils' insert_all inspects every value of every
                # row (jsonify) and was a fifth of a cold cycle's database time.
                self._insert_rows("items", items)
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
            outbox: list[Row] = []
            for d in deliveries:
                key = (d.get("item_id"), d.get("rule_id"))
                row = {k: v for k, v in d.items() if k not in ("item_id", "rule_id")}
                if key[0] is not None and key not in match_ids:
                    continue  # the match existed already: its alert was queued then
                row["match_id"] = match_ids.get(key)  # type: ignore[arg-type]
                outbox.append(row)
            self._insert_rows("deliveries", outbox)
            if statuses:
                self._insert_rows("statuses", statuses, ignore=False)
            self._set_feed(feed_id, feed_values)

    def _insert_rows(self, table: str, rows: list[Row], ignore: bool = True) -> None:
        """Insert rows (dicts); rows with different keys are grouped by their key set."""
        groups: dict[tuple[str, ...], list[Row]] = {}
        for row in rows:
            groups.setdefault(tuple(row), []).append(row)
        verb = "insert or ignore" if ignore else "insert"
        for cols, group in groups.items():
            if any(not c.isidentifier() for c in cols):
                raise StorageError(f"bad column names: {cols}")
            names = ", ".join(f"[{c}]" for c in cols)
            marks = ", ".join("?" * len(cols))
            self.db.conn.executemany(
                f"{verb} into [{table}] ({names}) values ({marks})",
                [[r[c] for c in cols] for r in group],
            )

    def index_items(self) -> int:
        """Add items stored since the last call to the full-text index, in one statement
        (see schema.m007). Returns how many were indexed."""
        cols = ", ".join(f"[{c}]" for c in FTS_COLUMNS)
        with self._tx():
            mark = self.db.execute(
                "select max_rowid from fts_indexed where table_name = 'items'"
            ).fetchone()[0]
            top = self.db.execute("select coalesce(max(rowid), 0) from items").fetchone()[0]
            if top <= mark:
                return 0
            cur = self.db.execute(
                f"""insert into items_fts (rowid, {cols})
                    select rowid, {cols} from items where rowid > ? and rowid <= ?""",
                [mark, top],
            )
            self.db.execute(
                "update fts_indexed set max_rowid = ? where table_name = 'items'", [top]
            )
        return int(cur.rowcount)

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
