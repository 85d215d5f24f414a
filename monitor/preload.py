"""Compile the rules once in the worker processes' fork server, before any worker forks.

Imported only by the fork server (`CpuPool` names it in the preload list). The pool's first
start writes its rule book to a file and names it in NEWSMON_WORKER_RULES; the fork server,
a fresh process started by that first pool, compiles the rules from it once, and every
worker forks with them compiled (copy-on-write) instead of compiling its own: ~1 s of CPU
per worker at 1,000 rules, ~2 s at 10,000, paid by every `newsmon run --once` that starts
workers. A worker whose pool's rules are not these (a reload, another pool in the same
process) compiles its own (`monitor.workers._init`).
"""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path

from monitor.workers import PRELOAD_ENV, book_digest, compile_settled
from rules import RuleBook, RuleSet

log = logging.getLogger("newsmon.workers")


def _preload() -> tuple[str, RuleSet] | None:
    # "<pid of the daemon>:<path>": only the fork server of the process that wrote the file
    # acts on it, not a newsmon started from that process's environment.
    owner, _, path = os.environ.get(PRELOAD_ENV, "").partition(":")
    if not path or owner != str(os.getppid()):
        return None
    try:
        data = Path(path).read_bytes()
        book = pickle.loads(data)
        if not isinstance(book, RuleBook):
            return None
        # Frozen before the workers fork: the collector never touches them.
        return book_digest(data), compile_settled(book)
    except Exception as e:  # noqa: BLE001 - the fork server must start; workers compile
        log.warning("worker rules not preloaded: %s", e)
        return None


# (digest of the pickled rule book, its compiled rules), or None
RULES: tuple[str, RuleSet] | None = _preload()
