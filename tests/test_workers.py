"""Worker processes for parsing and matching give the same results as in-process work."""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from conftest import rss, write_config

import monitor.pipeline
from monitor.config import load_config
from monitor.daemon import Service, run_once, utcnow
from rules import RuleSet, load


def _feeds(server, n: int) -> list[str]:
    now = utcnow().strftime("%a, %d %b %Y %H:%M:%S +0000")
    return [
        server.feed(
            f"/f{i}.xml",
            rss(
                [
                    {"guid": f"{i}-{k}", "title": f"Kazakhstan invites Taliban delegation {i}-{k}",
                     "description": "Kazakhstan invited the Taliban to the Astana forum.",
                     "pubDate": now}
                    for k in range(3)
                ]
            ),
        )
        for i in range(n)
    ]  # fmt: skip


def _ready(service: Service) -> None:
    """Start the service's worker processes and wait until they take jobs: until then,
    jobs run in-process."""
    service.poller.cpu.expect_work()
    assert service.poller.cpu._ready.wait(60)


def _run(tmp_path, urls, workers: int) -> list[tuple[str, str]]:
    path = write_config(
        tmp_path / f"c{workers}.yaml",
        database=str(tmp_path / f"w{workers}.db"),
        feeds=[{"url": u} for u in urls],
        poll={"workers": workers},
    )
    service = Service(load_config(path, env={}), RuleSet(load([])))
    if workers:
        _ready(service)
    report = asyncio.run(run_once(service, include_all=True))
    assert report.poll.ok == len(urls)
    assert service.poller.cpu.started == bool(workers)
    # Every feed's parse and match ran in a worker process.
    assert service.poller.cpu.remote_jobs == (len(urls) if workers else 0)
    assert service.poller.cpu._pool is None  # closed with the service
    conn = sqlite3.connect(tmp_path / f"w{workers}.db")
    rows = conn.execute(
        "select items.key, matches.rule_id from matches join items on items.id = matches.item_id"
    ).fetchall()
    return sorted(rows)


def test_worker_processes_match_like_the_daemon_itself(tmp_path, server):
    urls = _feeds(server, 25)
    in_process = _run(tmp_path, urls, workers=0)
    pooled = _run(tmp_path, urls, workers=2)
    assert pooled == in_process
    assert len(in_process) >= 3 * len(urls)


def test_a_small_cycle_stays_in_process(tmp_path, server):
    # Starting workers costs more CPU than a few feeds' parsing and matching.
    urls = _feeds(server, 10)
    path = write_config(tmp_path / "c.yaml", feeds=[{"url": u} for u in urls], poll={"workers": 2})
    service = Service(load_config(path, env={}), RuleSet(load([])))
    report = asyncio.run(run_once(service, include_all=True))
    assert report.poll.ok == len(urls) and report.poll.new_items == 30
    assert not service.poller.cpu.started


def test_many_never_read_feeds_start_the_workers_at_once(tmp_path, server, monkeypatch):
    # Few feeds stay in-process (above); past WORKERS_AFTER_NEW_FEEDS never-read feeds the
    # cycle starts the workers before any in-process job has shown the need. Jobs run
    # in-process until a worker is ready, so nothing waits for the start.
    monkeypatch.setattr(monitor.pipeline, "WORKERS_AFTER_NEW_FEEDS", 5)
    urls = _feeds(server, 10)
    path = write_config(tmp_path / "c.yaml", feeds=[{"url": u} for u in urls], poll={"workers": 2})
    service = Service(load_config(path, env={}), RuleSet(load([])))
    report = asyncio.run(run_once(service, include_all=True))
    assert report.poll.ok == len(urls) and report.poll.new_items == 30
    assert service.poller.cpu.started
    # Read again, the feeds are no longer new: the next cycle does not start workers.
    again = Service(load_config(path, env={}), RuleSet(load([])))
    asyncio.run(run_once(again, include_all=True))
    assert not again.poller.cpu.started


def test_workers_dedupe_against_what_is_stored(tmp_path, server):
    # Pooled polls read the stored keys in the worker: known items are not new again.
    urls = _feeds(server, 6)
    path = write_config(tmp_path / "c.yaml", feeds=[{"url": u} for u in urls], poll={"workers": 2})
    config = load_config(path, env={})
    first = Service(config, RuleSet(load([])))
    assert asyncio.run(run_once(first, include_all=True)).poll.new_items == 18
    now = utcnow().strftime("%a, %d %b %Y %H:%M:%S +0000")
    for i in range(6):  # every feed gains one item and keeps its three
        items = [{"guid": f"{i}-{k}", "title": f"Kazakhstan invites Taliban delegation {i}-{k}",
                  "description": "Kazakhstan invited the Taliban to the Astana forum.",
                  "pubDate": now} for k in range(4)]  # fmt: skip
        server.feed(f"/f{i}.xml", rss(items))
    second = Service(config, RuleSet(load([])))
    _ready(second)
    report = asyncio.run(run_once(second, include_all=True))
    assert second.poller.cpu.remote_jobs == 6
    assert report.poll.new_items == 6
    conn = sqlite3.connect(tmp_path / "newsmon.db")
    assert conn.execute("select count(*) from items").fetchone()[0] == 24
    conn.close()


def test_workers_that_fail_to_start_leave_the_work_in_process(tmp_path, server, caplog):
    # A worker that cannot start (its first job fails) never takes jobs: the cycle is
    # parsed and matched in-process, whole, and the failure is logged.
    urls = _feeds(server, 4)
    path = write_config(tmp_path / "c.yaml", feeds=[{"url": u} for u in urls], poll={"workers": 2})
    service = Service(load_config(path, env={}), RuleSet(load([])))
    failed: Future[None] = Future()
    failed.set_exception(BrokenProcessPool("a worker died while starting"))
    service.poller.cpu._started(failed)
    report = asyncio.run(run_once(service, include_all=True))
    assert report.poll.ok == 4 and report.poll.new_items == 12 and report.poll.matches >= 12
    assert service.poller.cpu.remote_jobs == 0
    assert "worker processes failed to start" in caplog.text


_PRELOAD_SCRIPT = """
import json, os, sys
from monitor.config import Config
from monitor.workers import CpuPool, preloaded_rules
from rules import RuleSet, load

def pool(rules, db):
    p = CpuPool(rules, Config(database=db, poll={"workers": 2}))
    p.expect_work()
    assert p._ready.wait(120)
    return p

db = os.path.join(sys.argv[1], "x.db")
first = pool(RuleSet(load([])), db)
used = [first._pool.submit(preloaded_rules).result() for _ in range(4)]
book = first._book_path
first.close()
custom = os.path.join(sys.argv[1], "custom.yaml")
with open(custom, "w") as f:
    f.write("rules:\\n  - id: only\\n    title: only\\n    any: [kabul]\\n")
second = pool(RuleSet(load([custom])), db)
other = [second._pool.submit(preloaded_rules).result() for _ in range(4)]
# ... and matches with them: the custom rule, not the shipped ones.
from monitor.parse import parse_feed
from monitor.workers import _build
import datetime as dt
body = (b"<rss><channel><title>t</title><item><guid>g</guid><title>Taliban delegation "
        b"visits Kabul and Astana</title></item></channel></rss>")
parsed = parse_feed(body, "application/rss+xml", "http://x/f.xml", 10**6)
feed = {"id": 1, "url": "http://x/f.xml", "baseline_done": 1}
now = dt.datetime.now(dt.timezone.utc)
write = second._pool.submit(_build, feed, parsed, parsed.items, now).result()
matched = sorted({m["rule_id"] for m in write.matches})
second.close()
print(json.dumps({"first": used, "second": other, "matched": matched,
                  "book_removed": not os.path.exists(book),
                  "book_names_pid": os.path.basename(book).startswith(
                      f"newsmon-rules-{os.getpid()}-")}))
"""


def test_workers_take_the_rules_the_fork_server_compiled_once(tmp_path):
    # A fresh process (its own fork server): the first pool's workers fork with the rules
    # compiled by the fork server; a later pool with other rules compiles its own.
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run(
        [sys.executable, "-c", _PRELOAD_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {
        "first": [True] * 4,
        "second": [False] * 4,
        "matched": ["only"],
        "book_removed": True,
        "book_names_pid": True,
    }


def test_rule_book_files_of_dead_processes_are_removed(tmp_path):
    # A daemon killed with SIGKILL leaves its rule book file; the next pool started on the
    # machine removes it, and leaves those of live processes alone.
    import os
    import subprocess
    import sys

    from monitor.workers import remove_stale_books

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = tmp_path / f"newsmon-rules-{gone.stdout.strip()}-abc.pickle"
    live = tmp_path / f"newsmon-rules-{os.getpid()}-def.pickle"
    other = tmp_path / "newsmon-rules-notapid.pickle"
    for p in (dead, live, other):
        p.write_bytes(b"x")
    assert remove_stale_books(str(tmp_path)) == [dead.name]
    assert not dead.exists() and live.exists() and other.exists()
