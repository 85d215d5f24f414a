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

    def ledger_rows(self, subject: str, jurisdiction: str, start: str, end: str) -> list[Row]:
        """What deciding a change needs, without the whole history: the latest non-proposed
        assertion (the current state), and every assertion between `start` and `end`."""
        return self._rows(
            """select event_at, state, item_id, source from (
                   select * from (select * from statuses
                       where subject = :s and jurisdiction = :j and state != 'proposed'
                       order by event_at desc, id desc limit 1)
                   union
                   select * from statuses
                       where subject = :s and jurisdiction = :j
                       and event_at >= :start and event_at <= :end)
               order by event_at, id""",
            {"s": subject, "j": jurisdiction, "start": start, "end": end},
        )

    def status_subjects(self) -> list[str]:
        return [
            r["subject"] for r in self._rows("select distinct subject from statuses order by 1")
        ]

    def add_seeds(self, rows: list[Row]) -> None:
        """Known states from rule files; each seed is stored once (by its seed_key)."""
        with self._tx():
            self.db.table("statuses").insert_all(rows, ignore=True)
