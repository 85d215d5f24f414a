"""The daemon's single SQLite writer: one thread owns the Store; coroutines queue calls.

sqlite3 connections belong to the thread that opened them, and SQLite has one writer, so
every database call of the daemon runs here, in order, off the event loop. Writes queued
while the thread is busy (`call_batched`) share one transaction, each in its own savepoint,
and each caller hears back only after that transaction has committed.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from storage import Store

T = TypeVar("T")

# Writes per shared transaction at most: a bound on how long one commit holds the lock.
MAX_BATCH = 64


class _Queued:
    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], fut: asyncio.Future[Any]):
        self.fn, self.args, self.fut = fn, args, fut
        self.result: Any = None
        self.error: BaseException | None = None


class StoreThread:
    def __init__(self, path: str) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsmon-db")
        self._store: Store | None = None
        self._queued: list[_Queued] = []
        self._lock = threading.Lock()

    def _open(self) -> None:
        self._store = Store(self.path)

    async def open(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool, self._open)

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(store, *args, **kwargs)` on the database thread."""

        def run() -> T:
            if self._store is None:
                raise RuntimeError("StoreThread.open() was not awaited")
            return fn(self._store, *args, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(run))

    async def call_batched(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(store, *args)` on the database thread, atomically, in a transaction it
        may share with other writes queued meanwhile (one commit instead of many). An
        error in `fn` rolls back only its own writes. Returns once the writes committed."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        with self._lock:
            self._queued.append(_Queued(fn, args, fut))
            first = len(self._queued) == 1
        if first:
            self._pool.submit(self._write_queued, loop)
        return await fut

    def _write_queued(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the database thread: the queued writes, in order, in one transaction."""
        with self._lock:
            batch, self._queued = self._queued[:MAX_BATCH], self._queued[MAX_BATCH:]
            if self._queued:
                self._pool.submit(self._write_queued, loop)
        store = self._store
        try:
            if store is None:
                raise RuntimeError("StoreThread.open() was not awaited")
            if len(batch) == 1:
                # Alone: its own transaction, without the savepoint around it.
                batch[0].result = batch[0].fn(store, *batch[0].args)
            else:
                self._write_together(store, batch)
        except Exception as e:
            for q in batch:
                q.error = q.error or e
        for q in batch:
            loop.call_soon_threadsafe(_settle, q)

    @staticmethod
    def _write_together(store: Store, batch: list[_Queued]) -> None:
        with store.transaction():
            for q in batch:
                try:
                    with store.transaction():
                        q.result = q.fn(store, *q.args)
                except Exception as e:
                    if not store.in_transaction:
                        raise  # SQLite rolled back the others' writes too
                    q.error = e

    async def close(self) -> None:
        def shut() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        await asyncio.get_running_loop().run_in_executor(self._pool, shut)
        self._pool.shutdown(wait=True)


def _settle(q: _Queued) -> None:
    if q.fut.done():  # the caller was cancelled
        return
    if q.error is not None:
        q.fut.set_exception(q.error)
    else:
        q.fut.set_result(q.result)
