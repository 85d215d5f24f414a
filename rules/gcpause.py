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
    rules). Nothing they build is a cycle to collect.

    In a process that has frozen its heap (`monitor.heap.settle_heap`: the daemon, its
    workers), what is built is frozen too, as the daemon would do next: otherwise the first
    young collection after the pause scans all of it once more (a quarter of a second at
    10,000 rules). The garbage of before is collected first, so none of it is frozen with
    it; cheap there, since the rest of the heap is frozen already. Only on success: a
    failed load's traceback frames are cycles to collect."""
    enabled = gc.isenabled()
    settled = gc.get_freeze_count() > 0
    if settled:
        gc.collect()
    gc.disable()
    try:
        yield
        if settled:
            gc.freeze()
    finally:
        if enabled:
            gc.enable()
