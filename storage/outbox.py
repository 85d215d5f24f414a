"""The outbox (deliveries) and per-destination health.

Part of the Store (see storage/store.py). SQL lives here and in the schema only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from storage.base import Row, StoreBase, ts
from storage.errors import NotFoundError, StorageError


class OutboxMixin(StoreBase):
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
        """Queue a delivery again now; its destination is re-enabled if it was disabled."""
        rows = self._rows("select destination from deliveries where id = ?", [delivery_id])
        if not rows:
            raise NotFoundError(f"no delivery with id {delivery_id}")
        with self._tx():
            self.db.table("deliveries").update(
                delivery_id, {"status": "pending", "next_attempt_at": ts(now)}
            )
            self.db.execute(
                """update destinations set disabled = 0, disabled_reason = null,
                   disabled_at = null where name = ?""",
                [rows[0]["destination"]],
            )

    def due_for(self, destination: str, now: dt.datetime, limit: int = 200) -> list[Row]:
        """Pending deliveries of one destination that are due, oldest first."""
        return self._rows(
            """select * from deliveries
               where destination = ? and status = 'pending' and next_attempt_at <= ?
               order by next_attempt_at, id limit ?""",
            [destination, ts(now), limit],
        )

    def next_due_at(self, destination: str) -> str | None:
        row = self.db.execute(
            """select min(next_attempt_at) from deliveries
               where destination = ? and status = 'pending'""",
            [destination],
        ).fetchone()
        return row[0] if row else None

    def record_attempts(
        self,
        ids: list[int],
        values: dict[str, Any],
        destination: str | None = None,
        health: dict[str, Any] | None = None,
    ) -> None:
        """One attempt for deliveries sent together (one event, or a digest), and the
        destination's health, in one transaction. Plain SQL: this runs per delivery."""
        cols = list(values)
        if any(not c.isidentifier() for c in cols):
            raise StorageError(f"bad column names: {cols}")
        sets = ", ".join(f"[{c}] = ?" for c in cols)
        sql = f"update deliveries set attempts = attempts + 1, {sets} where id = ?"
        with self._tx():
            self.db.conn.executemany(sql, [[*values.values(), i] for i in ids])
            if destination is not None and health:
                self._set_destination(destination, health)

    def retry_dead(self, now: dt.datetime, destination: str | None = None) -> int:
        sql = "update deliveries set status = 'pending', next_attempt_at = ? where status = 'dead'"
        params: list[Any] = [ts(now)]
        if destination:
            sql += " and destination = ?"
            params.append(destination)
        with self._tx():
            cur = self.db.execute(sql, params)
            self.db.execute(
                "update destinations set disabled = 0, disabled_reason = null, disabled_at = null"
                + (" where name = ?" if destination else ""),
                [destination] if destination else [],
            )
        return int(cur.rowcount)

    # -- destination health ------------------------------------------------------------

    def destination(self, name: str) -> Row:
        rows = self._rows("select * from destinations where name = ?", [name])
        return rows[0] if rows else {"name": name, "disabled": 0, "consecutive_failures": 0}

    def destinations(self) -> list[Row]:
        return self._rows("select * from destinations order by name")

    def update_destination(self, name: str, values: dict[str, Any]) -> None:
        with self._tx():
            self._set_destination(name, values)

    def _set_destination(self, name: str, values: dict[str, Any]) -> None:
        cols = list(values)
        if any(not c.isidentifier() for c in cols):
            raise StorageError(f"bad column names: {cols}")
        self.db.execute("insert or ignore into destinations (name) values (?)", [name])
        sets = ", ".join(f"[{c}] = ?" for c in cols)
        self.db.execute(f"update destinations set {sets} where name = ?", [*values.values(), name])

    def disable_destination(self, name: str, reason: str, now: dt.datetime) -> int:
        """Stop sending to a destination; its pending deliveries become dead with the reason."""
        with self._tx():
            self.db.execute("insert or ignore into destinations (name) values (?)", [name])
            self.db.table("destinations").update(
                name, {"disabled": 1, "disabled_reason": reason, "disabled_at": ts(now)}
            )
            cur = self.db.execute(
                """update deliveries set status = 'dead', last_error = ?
                   where destination = ? and status = 'pending'""",
                [f"destination disabled: {reason}", name],
            )
        return int(cur.rowcount)
