"""The Store: every read and write newsmon makes, over one SQLite file.

The only code with SQL (with the schema), and the only code that imports sqlite-utils.
A Store belongs to the thread that opened it (sqlite3's rule); the daemon gives writes one
thread. Time is always passed in (`now`), never read here. The Store is assembled from one
part per concern: feeds and items (base), review, the status ledger, the outbox.
"""

from __future__ import annotations

from storage.base import Row, StoreBase, parse_ts, ts
from storage.ledger import LedgerMixin
from storage.outbox import OutboxMixin
from storage.review import ReviewMixin

__all__ = ["Row", "Store", "parse_ts", "ts"]


class Store(ReviewMixin, LedgerMixin, OutboxMixin, StoreBase):
    """All of newsmon's database operations."""
