"""The legal-status ledger table.

Part of the Store (see storage/store.py). SQL lives here and in the schema only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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

    def current_status(
        self, subject: str, jurisdiction: str, implies: Mapping[str, Sequence[str]] | None = None
    ) -> Row | None:
        """The assertion that holds a pair's current state: the latest non-proposed one,
        unless it and every assertion since the last other state only restate what that
        state implies (`implies`: state -> implied states; see rules.ledger.settle)."""
        sql = """select event_at, state, item_id, source from statuses
                 where subject = ? and jurisdiction = ? and state != 'proposed'{}
                 order by event_at desc, id desc limit 1"""
        rows = self._rows(sql.format(""), [subject, jurisdiction])
        if not rows or not implies:
            return rows[0] if rows else None
        latest = rows[0]
        weak = sorted({s for implied in implies.values() for s in implied})
        if latest["state"] not in weak:
            return latest
        marks = ", ".join("?" * len(weak))
        strong = self._rows(
            sql.format(f" and state not in ({marks})"), [subject, jurisdiction, *weak]
        )
        if not strong:
            return latest
        since = self._rows(
            """select distinct state from statuses
               where subject = ? and jurisdiction = ? and state != 'proposed'
               and event_at > ?""",
            [subject, jurisdiction, strong[0]["event_at"]],
        )
        held = implies.get(strong[0]["state"], ())
        return strong[0] if all(r["state"] in held for r in since) else latest

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
