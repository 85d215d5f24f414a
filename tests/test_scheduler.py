"""The scheduler (RELIABILITY.md P4): errors, overlaps and downtime."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3

from conftest import newsmon_process, story_feed, write_config

from monitor.config import load_config
from monitor.daemon import Service, run_forever
from rules import RuleSet, load


def _service(tmp_path) -> Service:
    config = write_config(tmp_path / "c.yaml", poll={"tick": "50ms"})
    return Service(load_config(config, env={}), RuleSet(load([])))


def test_a_tick_that_raises_every_time_does_not_kill_the_daemon(tmp_path, caplog):
    service = _service(tmp_path)
    calls = []

    async def broken():
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGTERM)  # the daemon's own handler stops it
        raise RuntimeError("bug in a tick")

    service.poll = broken  # type: ignore[method-assign]
    asyncio.run(run_forever(service))
    assert len(calls) >= 3
    assert caplog.text.count("tick failed") >= 3


def test_a_slow_tick_is_skipped_not_piled_up(tmp_path):
    service = _service(tmp_path)
    running = []
    peak = []

    async def slow():
        running.append(1)
        peak.append(len(running))
        await asyncio.sleep(0.125)  # 2.5x the 50 ms tick
        running.pop()
        if len(peak) == 4:
            os.kill(os.getpid(), signal.SIGTERM)
        from monitor.pipeline import CycleReport

        return CycleReport()

    service.poll = slow  # type: ignore[method-assign]
    asyncio.run(run_forever(service))
    assert max(peak) == 1  # never two ticks at once


def test_after_downtime_each_due_feed_is_polled_once(tmp_path, server):
    paths = [f"/f{i}.xml" for i in range(3)]
    urls = [server.feed(p, story_feed()) for p in paths]
    config = write_config(
        tmp_path / "c.yaml",
        feeds=[{"url": u, "interval": "1h"} for u in urls],
        poll={"tick": "100ms"},
    )
    daemon = newsmon_process(config, "-v", "run")
    try:
        assert daemon.wait_for("tick 1:"), daemon.output
        assert daemon.stop() == 0
    finally:
        daemon.close()
    # Ten intervals of downtime: every feed is long overdue.
    conn = sqlite3.connect(tmp_path / "newsmon.db")
    conn.execute("update feeds set next_check_at = '2000-01-01T00:00:00.000000Z'")
    conn.commit()
    conn.close()
    before = {p: len(server.gets(p)) for p in paths}
    daemon = newsmon_process(config, "-v", "run")
    try:
        assert daemon.wait_for("tick 10:"), daemon.output
        assert daemon.stop() == 0
    finally:
        daemon.close()
    for p in paths:
        assert len(server.gets(p)) - before[p] == 1, p  # once, not once per missed interval
