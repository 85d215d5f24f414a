"""SQLite storage through sqlite-utils: schema, migrations and the Store API.

Imports nothing from `monitor` or `rules`.
"""

from storage.base import ItemKeys
from storage.errors import DatabaseOpenError, NotFoundError, StorageError
from storage.store import Store, parse_ts, ts

__all__ = [
    "DatabaseOpenError",
    "ItemKeys",
    "NotFoundError",
    "StorageError",
    "Store",
    "parse_ts",
    "ts",
]
