"""Worker processes for the CPU-bound stages (parsing, matching), so a large poll cycle
uses every core instead of one (the GIL).

The pool starts only once many feeds have needed parsing: small cycles (a `run --once` over
a few feeds, most daemon ticks) stay in-process, where starting processes would cost more
than it saves. Workers compile the rules once, at start; the pool lives as long as the
Poller (the daemon's lifetime).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
import signal
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

from monitor.config import Config
from monitor.heap import settle_heap
from monitor.items import Item
from monitor.parse import ParsedFeed, parse_feed
from rules import RuleBook, RuleSet

MIN_PARSES = 20  # the pool starts at this many parses (earlier ones run in-process)

_RULES: RuleSet | None = None
_CONFIG: Config | None = None


def _init(book: RuleBook, config: Config) -> None:
    global _RULES, _CONFIG
    # Ctrl-C reaches the whole process group; the daemon decides how to stop, not workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _RULES = RuleSet(book)
    _CONFIG = config
    settle_heap()


def _parse(body: bytes, content_type: str | None, url: str, max_bytes: int) -> ParsedFeed:
    return parse_feed(body, content_type, url, max_bytes)


def _build(
    feed: dict[str, Any],
    parsed: ParsedFeed,
    new: list[Item],
    now: dt.datetime,
) -> Any:
    from monitor.pipeline import build_write  # the pipeline imports this module

    if _RULES is None or _CONFIG is None:
        raise RuntimeError("worker not initialised")
    return build_write(_CONFIG, _RULES, feed, parsed, new, now)


class CpuPool:
    """Runs parse and match jobs in worker processes, or in a thread when none are wanted."""

    def __init__(self, rules: RuleSet, config: Config) -> None:
        self.rules = rules
        self.config = config
        self.workers = config.poll.workers
        self._pool: Executor | None = None
        self._parses = 0
        self.started = False  # whether worker processes were used at all

    def _start(self) -> None:
        # spawn, not fork: the daemon has threads (database, HTTP), and a forked child
        # would inherit their locks mid-use.
        self.started = True
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init,
            # The config goes once, here: per job it would be pickled with every feed in it.
            initargs=(self.rules.book, self.config),
        )

    async def parse(
        self, body: bytes, content_type: str | None, url: str, max_bytes: int
    ) -> ParsedFeed:
        self._parses += 1
        if self._pool is None and self.workers > 0 and self._parses >= MIN_PARSES:
            self._start()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, _parse, body, content_type, url, max_bytes)

    async def build(
        self,
        config: Config,
        feed: dict[str, Any],
        parsed: ParsedFeed,
        new: list[Item],
        now: dt.datetime,
    ) -> Any:
        loop = asyncio.get_running_loop()
        if self._pool is None:
            from monitor.pipeline import build_write

            return await loop.run_in_executor(
                None, build_write, config, self.rules, feed, parsed, new, now
            )
        return await loop.run_in_executor(self._pool, _build, feed, parsed, new, now)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
