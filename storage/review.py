"""Stored matches for review: listing, search, labels.

Part of the Store (see storage/store.py). SQL lives here and in the schema only.
"""

from __future__ import annotations

import contextlib
from typing import Any

from storage.base import Row, StoreBase
from storage.errors import NotFoundError, StorageError


class ReviewMixin(StoreBase):
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
        """Matches whose item text matches an FTS5 query (words, "phrases", OR, prefix*).

        Items a running cycle stored but has not indexed yet are indexed first; when that
        cannot be done now (the database is read-only or busy) the search still runs.
        """
        with contextlib.suppress(StorageError):
            self.index_items()
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
