"""The legal-status ledger table.

Part of the Store (see storage/store.py). SQL lives here and in the schema only.
"""

from __future__ import annotations

from collections.abc import Collection
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

    def status_tail(self, subject: str, jurisdiction: str, weak: Collection[str] = ()) -> list[Row]:
        """The assertions a pair's current state depends on, in event-time order: the latest
        non-proposed one whose state is not in `weak` (states another state implies), and
        after it the latest of each state asserted since (all in `weak`). Without `weak`,
        just the latest non-proposed assertion. A few rows, however long the ledger."""
        base = """select id, event_at, state, item_id, source from statuses
                  where subject = ? and jurisdiction = ? and state != 'proposed'"""
        weak = sorted(weak)
        marks = ", ".join("?" * len(weak))
        strong = self._rows(
            base
            + (f" and state not in ({marks})" if weak else "")
            + " order by event_at desc, id desc limit 1",
            [subject, jurisdiction, *weak],
        )
        if not weak:
            return strong
        after, params = "", [subject, jurisdiction]
        if strong:
            after = " and (event_at > ? or (event_at = ? and id > ?))"
            params += [strong[0]["event_at"], strong[0]["event_at"], strong[0]["id"]]
        since = self._rows(
            f"""select id, event_at, state, item_id, source from (
                  select *, row_number() over (
                    partition by state order by event_at desc, id desc) as nth
                  from ({base}{after}))
                where nth = 1 order by event_at, id""",
            params,
        )
        return strong + since

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
