"""Building a rule set without the cyclic garbage collector.

Pure (no I/O); only the interpreter's collector is touched, and restored.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Loading and compiling rules build ~10^6 objects that all live on: the collector would
    rescan the growing heap again and again for nothing (most of the time taken by 10,000
    rules). Nothing they build is a cycle to collect."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
