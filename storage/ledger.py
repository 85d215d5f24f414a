"""The legal-status ledger table.

Part of the Store (see storage/store.py). SQL lives here and in the schema only.
"""

from __future__ import annotations

from typing import Any

from storage.base import Row, StoreBase


class LedgerMixin(StoreBase):
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

    def current_status(self, subject: str, jurisdiction: str) -> Row | None:
        """The latest non-proposed assertion of a pair: its current state."""
        rows = self._rows(
            """select event_at, state, item_id, source from statuses
               where subject = ? and jurisdiction = ? and state != 'proposed'
               order by event_at desc, id desc limit 1""",
            [subject, jurisdiction],
        )
        return rows[0] if rows else None

    def asserted_near(
        self, subject: str, jurisdiction: str, state: str, start: str, end: str, item_id: str
    ) -> bool:
        """Whether another item asserted `state` for the pair between `start` and `end`."""
        row = self.db.execute(
            """select 1 from statuses where subject = ? and jurisdiction = ? and state = ?
               and event_at between ? and ? and item_id is not null and item_id != ? limit 1""",
            [subject, jurisdiction, state, start, end, item_id],
        ).fetchone()
        return row is not None

    def status_subjects(self) -> list[str]:
        return [
            r["subject"] for r in self._rows("select distinct subject from statuses order by 1")
        ]

    def add_seeds(self, rows: list[Row]) -> None:
        """Known states from rule files; each seed is stored once (by its seed_key)."""
        with self._tx():
            self.db.table("statuses").insert_all(rows, ignore=True)
