"""The database thread: writes queued together share a transaction, each one atomic, and
each caller hears back only once its writes are committed."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest

from monitor.dbthread import StoreThread
from storage import StorageError, Store, ts

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def _item(key: str) -> dict[str, object]:
    return {"id": key, "feed_id": 1, "key": key, "title": key, "fetched_at": ts(NOW)}


def _outside(path: Path) -> set[str]:
    """Item ids another connection sees: only committed ones."""
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("select id from items")}
    finally:
        conn.close()


def test_queued_writes_share_one_transaction_each_atomic_and_acknowledged_after_commit(
    tmp_path,
):
    path = tmp_path / "db.sqlite"
    Store(path).add_feed("https://example.org/rss", NOW)
    seen_outside: dict[str, set[str]] = {}

    def write(store: Store, key: str, fail: bool) -> str:
        store.commit_poll(1, {"last_checked_at": ts(NOW)}, [_item(key)], [], [])
        seen_outside[key] = _outside(path)
        if fail:
            raise StorageError(f"{key} failed after writing")
        return key

    async def scenario() -> list[object]:
        db = StoreThread(str(path))
        await db.open()
        gate = threading.Event()
        try:
            # Hold the database thread so the three writes queue up behind it.
            blocker = asyncio.ensure_future(db.call(lambda store: gate.wait(10)))
            await asyncio.sleep(0)
            writes = [
                asyncio.ensure_future(db.call_batched(write, key, key == "b")) for key in "abc"
            ]
            await asyncio.sleep(0)
            gate.set()
            await blocker
            return await asyncio.gather(*writes, return_exceptions=True)
        finally:
            await db.close()

    a, b, c = asyncio.run(scenario())
    assert (a, c) == ("a", "c")
    assert isinstance(b, StorageError)
    # One transaction: "a" was not committed yet while "c" was being written.
    assert seen_outside["c"] == set()
    # Each write atomic: "b" rolled back alone, the others committed.
    assert _outside(path) == {"a", "c"}


def test_a_failed_commit_is_reported_to_every_write_of_the_batch(tmp_path):
    path = tmp_path / "db.sqlite"
    Store(path).add_feed("https://example.org/rss", NOW)
    holder = sqlite3.connect(path, timeout=1)

    def write(store: Store, key: str) -> str:
        store.db.execute("pragma busy_timeout = 100")
        store.commit_poll(1, {"last_checked_at": ts(NOW)}, [_item(key)], [], [])
        return key

    async def scenario() -> list[object]:
        db = StoreThread(str(path))
        await db.open()
        try:
            holder.execute("begin immediate")  # another writer holds the lock
            try:
                return await asyncio.gather(
                    *(db.call_batched(write, k) for k in "xy"), return_exceptions=True
                )
            finally:
                holder.rollback()
        finally:
            await db.close()

    results = asyncio.run(scenario())
    holder.close()
    assert all(isinstance(r, StorageError) for r in results), results
    assert _outside(path) == set()


@pytest.mark.parametrize("n", [1, 130])
def test_every_queued_write_is_answered(tmp_path, n):
    # More than MAX_BATCH writes queued at once are split over several transactions.
    path = tmp_path / "db.sqlite"
    Store(path).add_feed("https://example.org/rss", NOW)

    def write(store: Store, key: str) -> str:
        store.commit_poll(1, {"last_checked_at": ts(NOW)}, [_item(key)], [], [])
        return key

    async def scenario() -> list[str]:
        db = StoreThread(str(path))
        await db.open()
        try:
            return await asyncio.gather(*(db.call_batched(write, f"k{i}") for i in range(n)))
        finally:
            await db.close()

    assert asyncio.run(scenario()) == [f"k{i}" for i in range(n)]
    assert len(_outside(path)) == n
