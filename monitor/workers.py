"""Worker processes for the CPU-bound stages (parsing, matching), so a large poll cycle
uses every core instead of one (the GIL).

The pool starts only once the in-process work has cost about as much CPU as starting it
would (each worker imports newsmon and compiles the rules: ~1-2 s of CPU): small cycles (a
`run --once` over a few changed feeds, most daemon ticks) stay in-process, and a large one
pays at most twice the best choice (the ski-rental rule). The pool then lives as long as
the Poller (the daemon's lifetime).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import multiprocessing
import os
import pickle
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from monitor.config import Config
from monitor.heap import settle_heap
from monitor.items import Item
from monitor.parse import ParsedFeed, parse_feed
from rules import RuleBook, RuleSet
from storage import ItemKeys

# In-process CPU seconds of parsing and matching after which the pool starts: about what
# starting one worker costs.
START_AFTER_CPU = 1.0

T = TypeVar("T")

log = logging.getLogger("newsmon.workers")

# Names the rule book file for the fork server to compile (monitor.preload).
PRELOAD_ENV = "NEWSMON_WORKER_RULES"

_RULES: RuleSet | None = None
_CONFIG: Config | None = None
_DATABASE = ""  # the database file's absolute path, as the daemon resolved it
_KEYS: ItemKeys | None = None  # this worker's read-only connection, opened on first use


def book_digest(data: bytes) -> str:
    """Names a pickled rule book: the workers' rules are the fork server's when it matches."""
    return hashlib.sha256(data).hexdigest()


def _init(digest: str, book_path: str, config: Config, database: str) -> None:
    global _RULES, _CONFIG, _DATABASE
    # Ctrl-C reaches the whole process group; the daemon decides how to stop, not workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _CONFIG = config
    _DATABASE = database
    # Imported by the fork server before this worker forked from it, so its rules are
    # compiled already (or, from a server started without it, nothing to find: not the
    # parent named in the environment).
    from monitor import preload

    preloaded = preload.RULES
    if preloaded is not None and preloaded[0] == digest:
        _RULES = preloaded[1]  # compiled by the fork server (monitor.preload)
        return
    _RULES = compile_settled(pickle.loads(Path(book_path).read_bytes()))


def compile_settled(book: RuleBook) -> RuleSet:
    """The rules compiled in a worker or the fork server, frozen out of the collector's
    reach. Settled first, so they are frozen as they are built (rules.gcpause) instead of
    scanned by the collector once more afterwards."""
    settle_heap()
    rules = RuleSet(book)
    # Made once here, not by each forked worker as items need them.
    rules.compiled.make_programs()
    settle_heap()
    return rules


def preloaded_rules() -> bool:
    """A job: whether this worker took its rules from the fork server."""
    from monitor import preload

    return preload.RULES is not None and _RULES is preload.RULES[1]


def _ready() -> None:
    """A first job: done once a worker has started and compiled the rules."""


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


def _poll(
    feed: dict[str, Any],
    body: bytes,
    content_type: str | None,
    url: str,
    max_bytes: int,
    now: dt.datetime,
) -> tuple[ParsedFeed, list[dt.datetime | None], Any]:
    """Parse, dedupe against the database and build the poll's rows in one job: the items'
    text crosses between processes twice (the body in, the rows out), not four times.
    Returns the feed without its items, the items' dates, and the PollWrite."""
    from monitor.pipeline import build_write

    global _KEYS
    if _RULES is None or _CONFIG is None:
        raise RuntimeError("worker not initialised")
    parsed = parse_feed(body, content_type, url, max_bytes)
    if _KEYS is None:
        _KEYS = ItemKeys(_DATABASE)
    known = _KEYS.existing(feed["id"], [i.key for i in parsed.items])
    new = [i for i in parsed.items if i.key not in known]
    write = build_write(_CONFIG, _RULES, feed, parsed, new, now)
    return replace(parsed, items=[]), [i.published for i in parsed.items], write


# Rule book files are named "newsmon-rules-<pid of the writer>-<random>.pickle".
_BOOK_PREFIX = "newsmon-rules-"


def remove_stale_books(directory: str) -> list[str]:
    """Remove the rule book files of processes that are gone: a daemon killed with SIGKILL
    never closes its pool, so its file stays behind. Returns the names removed."""
    removed = []
    for path in Path(directory).glob(f"{_BOOK_PREFIX}*-*.pickle"):
        pid = path.name[len(_BOOK_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path.name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: alive
    return True


class CpuPool:
    """Runs parse and match jobs in worker processes, or in a thread when none are wanted."""

    def __init__(self, rules: RuleSet, config: Config) -> None:
        self.rules = rules
        self.config = config
        self.workers = config.poll.workers
        self._pool: Executor | None = None
        self._in_process_cpu = 0.0
        self._slot: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._book_path: str | None = None  # the rule book the workers read (_start)
        self.started = False  # whether worker processes were started at all
        self.remote_jobs = 0  # jobs the worker processes ran
        # Set (from the pool's thread) once a worker has compiled the rules and taken a
        # job: until then jobs keep running in-process rather than queue behind start-up.
        self._ready = threading.Event()

    def _start(self) -> None:
        # Not fork: the daemon has threads (database, HTTP), and a forked child would
        # inherit their locks mid-use. The forkserver is a fresh single-threaded process
        # that imports the workers' modules once and forks each worker from there: a
        # worker skips the imports (~0.9 s of CPU each with spawn), and a later pool in
        # the same process (the next `run --once` cycle of a benchmark) reuses the server.
        self.started = True
        # The rule book goes to the workers as a file they read if they need it: a fork
        # server started now compiles it once for all of them (monitor.preload), and the
        # workers of a later pool, forked from a server that has other rules, compile it.
        data = pickle.dumps(self.rules.book, protocol=pickle.HIGHEST_PROTOCOL)
        remove_stale_books(tempfile.gettempdir())
        fd, book_path = tempfile.mkstemp(prefix=f"{_BOOK_PREFIX}{os.getpid()}-", suffix=".pickle")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        self._book_path = book_path
        os.environ[PRELOAD_ENV] = f"{os.getpid()}:{book_path}"
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["monitor.workers", "monitor.pipeline", "monitor.preload"])
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=_init,
            # The config goes once, here: per job it would be pickled with every feed in it.
            initargs=(
                book_digest(data),
                book_path,
                self.config,
                str(Path(self.config.database).resolve()),
            ),
        )
        self._pool.submit(_ready).add_done_callback(self._started)

    def _started(self, first: Future[None]) -> None:
        if first.exception() is None:
            self._ready.set()
        else:
            # Never ready: parsing and matching go on in this process, slower but whole.
            log.error("worker processes failed to start: %s", first.exception())

    def expect_work(self) -> None:
        """Start the workers now, for a cycle known to bring much to parse and match: they
        import newsmon and compile the rules while the first jobs run in-process, instead
        of after the in-process jobs have paid for their start."""
        if self.workers and self._pool is None:
            self._start()

    def _local_slot(self) -> asyncio.Semaphore:
        # Created in the running loop: a semaphore may not move between loops.
        loop = asyncio.get_running_loop()
        if self._slot is None or self._slot[0] is not loop:
            self._slot = (loop, asyncio.Semaphore(1))
        return self._slot[1]

    async def _run(self, local: Callable[..., T], local_args: tuple[Any, ...], *remote: Any) -> T:
        """`local(*local_args)` on a thread until the pool starts, then `remote` (a worker
        function and its arguments) in a worker process."""
        loop = asyncio.get_running_loop()
        if self._pool is None and self.workers == 0:
            return await loop.run_in_executor(None, local, *local_args)
        if not self._ready.is_set():
            # One in-process job at a time: otherwise a burst of concurrent feeds all runs
            # in-process before the first one's CPU time is even counted.
            async with self._local_slot():
                if not self._ready.is_set():
                    return await self._in_process(local, *local_args)
        self.remote_jobs += 1
        result: T = await loop.run_in_executor(self._pool, *remote)
        return result

    async def _in_process(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` on a thread and count its CPU time towards starting the pool."""
        spent: list[float] = []

        def timed() -> T:
            t0 = time.thread_time()
            try:
                return fn(*args)
            finally:
                spent.append(time.thread_time() - t0)

        try:
            return await asyncio.get_running_loop().run_in_executor(None, timed)
        finally:
            self._in_process_cpu += sum(spent)
            if self._pool is None and self._in_process_cpu >= START_AFTER_CPU:
                self._start()

    async def parse(
        self, body: bytes, content_type: str | None, url: str, max_bytes: int
    ) -> ParsedFeed:
        args = (body, content_type, url, max_bytes)
        return await self._run(_parse, args, _parse, *args)

    async def build(
        self,
        config: Config,
        feed: dict[str, Any],
        parsed: ParsedFeed,
        new: list[Item],
        now: dt.datetime,
    ) -> Any:
        from monitor.pipeline import build_write

        local = (config, self.rules, feed, parsed, new, now)
        return await self._run(build_write, local, _build, feed, parsed, new, now)

    @property
    def shares_database(self) -> bool:
        """Whether the workers are running and can read the database file themselves."""
        return self._ready.is_set() and self.config.database != ":memory:"

    async def poll(
        self,
        feed: dict[str, Any],
        body: bytes,
        content_type: str | None,
        url: str,
        max_bytes: int,
        now: dt.datetime,
    ) -> tuple[ParsedFeed, list[dt.datetime | None], Any]:
        """Parse, dedupe and build in a worker (see `_poll`); only when shares_database."""
        loop = asyncio.get_running_loop()
        self.remote_jobs += 1
        return await loop.run_in_executor(
            self._pool, _poll, feed, body, content_type, url, max_bytes, now
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            self._ready.clear()
        if self._book_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._book_path)
            self._book_path = None
