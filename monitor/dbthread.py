"""The daemon's single SQLite writer: one thread owns the Store; coroutines queue calls.

sqlite3 connections belong to the thread that opened them, and SQLite has one writer, so
every database call of the daemon runs here, in order, off the event loop.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from storage import Store

T = TypeVar("T")


class StoreThread:
    def __init__(self, path: str) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsmon-db")
        self._store: Store | None = None

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

    async def close(self) -> None:
        def shut() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        await asyncio.get_running_loop().run_in_executor(self._pool, shut)
        self._pool.shutdown(wait=True)
