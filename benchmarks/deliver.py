"""Delivery benchmark: events per second through newsmon's outbox to a local receiver.

    python benchmarks/deliver.py [--quick] [--events N] [--naive-posts N]

A loopback receiver in a separate process (benchmarks/_feeds.py) answers every POST with
200 at once. E events (`match.created` payloads, ~1.5 KB of JSON; 2,000 by default,
`--quick` 200) are queued for each destination as outbox rows through the Store
(`deliveries` insert_all: event_id, destination, event_type, payload, next_attempt_at,
created_at), then newsmon's `Outbox.run_once()` (StoreThread + `delivery_client`) is called
until nothing is due. Note: one `run_once()` sends at most 200 deliveries per destination
(`Store.due_for` limit), so the count of calls is reported; the daemon's per-destination
workers loop the same way. Variants: 1 webhook destination; 1 signed (Standard Webhooks)
destination; 4 webhook destinations (each gets every event: 4 x E deliveries). Rate 0
(unlimited) everywhere.

Baselines, same payloads, same receiver, sequential:
  naive         `httpx.post(url, content=payload)` per event (a new client each call)
  naive signed  the same with Standard Webhooks headers (monitor.signing.signed_headers)
  naive client  one `httpx.Client` with keep-alive, `client.post` per event
A naive loop is sequential, so its deliveries/s does not depend on the number of
destinations; it is timed on `--naive-posts` posts (default 500) and used for every ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._feeds import FeedServer, peak_rss_mb, server_stats  # noqa: E402

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # 24 bytes of base64: a test secret


def build_events(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """`match.created` payloads shaped like monitor.events.match_event's."""
    from monitor.events import event_id
    from monitor.items import item_id

    rng = random.Random(seed)
    text = "Kazakhstan Taliban trade delegation visit Astana forum rail corridor wheat "
    words = (text + "exports talks minister officials said agreement cargo transit Kabul").split()
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    events = []
    for k in range(n):
        iid = item_id(f"https://news{k % 50}.example/feed", f"urn:item:{k}")
        rule = f"r{rng.randrange(1000)}"
        summary = " ".join(rng.choice(words) for _ in range(150))[:1000]
        events.append(
            {
                "type": "match.created",
                "id": event_id("match.created", iid, rule),
                "rule": {
                    "id": rule,
                    "title": f"random rule {rule}",
                    "severity": "high",
                    "tags": ["bench"],
                },  # fmt: skip
                "item": {
                    "id": iid,
                    "title": " ".join(rng.choice(words) for _ in range(10)),
                    "link": f"https://news{k % 50}.example/{k}",
                    "published": (now - dt.timedelta(minutes=k)).isoformat(),
                    "summary": summary,
                    "feed": {"url": f"https://news{k % 50}.example/feed", "title": "Bench"},
                },
                "evidence": [
                    {
                        "field": "summary",
                        "term": "trade",
                        "start": 10,
                        "end": 15,
                        "snippet": summary[:120],
                    }  # fmt: skip
                ],
                "created_at": now.isoformat(),
            }
        )
    return events


def queue_rows(db_path: str, events: list[dict[str, Any]], destinations: list[str]) -> None:
    from storage import Store, ts

    now = ts(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    store = Store(db_path)
    rows = [
        {
            "event_id": e["id"],
            "destination": d,
            "event_type": e["type"],
            "payload": json.dumps(e, ensure_ascii=False),
            "next_attempt_at": now,
            "created_at": now,
        }
        for d in destinations
        for e in events
    ]
    with store.db.atomic():
        store.db.table("deliveries").insert_all(rows, batch_size=1000)
    store.close()


def config_for(tmp: Path, base: str, n_dest: int, signed: bool) -> Any:
    import yaml

    from monitor.config import load_config

    dests = []
    for k in range(n_dest):
        d: dict[str, Any] = {"name": f"hook{k}", "type": "webhook", "url": f"{base}/hook{k}",
                             "rate": 0, "rules": ["*"]}  # fmt: skip
        if signed:
            d["secret"] = SECRET
        dests.append(d)
    cfg = {"database": str(tmp / "outbox.db"), "allow_private_networks": True,
           "destinations": dests, "feeds": []}  # fmt: skip
    path = tmp / "deliver.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return load_config(path, env={})


async def drain(config: Any) -> tuple[int, int, int, int]:
    """Call Outbox.run_once until nothing is sent; (sent, failed, dead, calls)."""
    from monitor.daemon import utcnow
    from monitor.dbthread import StoreThread
    from monitor.deliver import Outbox, delivery_client

    db = StoreThread(config.database)
    await db.open()
    outbox = Outbox(config, db, delivery_client(config), utcnow, console=io.StringIO())
    sent = failed = dead = calls = 0
    try:
        while True:
            report = await outbox.run_once()
            calls += 1
            sent, failed, dead = sent + report.sent, failed + report.failed, dead + report.dead
            if report.sent == 0:
                break
    finally:
        await outbox.client.aclose()
        await db.close()
    return sent, failed, dead, calls


def run_newsmon(
    base: str, events: list[dict[str, Any]], n_dest: int, signed: bool
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="newsmon-deliver-") as tmpdir:
        tmp = Path(tmpdir)
        config = config_for(tmp, base, n_dest, signed)
        queue_rows(config.database, events, [d.name for d in config.destinations])
        cpu0, t0 = time.process_time(), time.perf_counter()
        sent, failed, dead, calls = asyncio.run(drain(config))
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"deliveries": len(events) * n_dest, "sent": sent, "failed": failed + dead,
            "calls": calls, "wall": wall, "cpu": cpu}  # fmt: skip


def run_naive(base: str, events: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    import httpx

    from monitor.signing import signed_headers

    bodies = [(e["id"], json.dumps(e, ensure_ascii=False, separators=(",", ":"))) for e in events]
    url = f"{base}/hook0"
    client = httpx.Client() if mode == "client" else None
    failed = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    for eid, body in bodies:
        headers = {"Content-Type": "application/json"}
        if mode == "signed":
            headers |= signed_headers(SECRET, eid, body, dt.datetime.now(dt.UTC))
        if client is not None:
            r = client.post(url, content=body.encode(), headers=headers)
        else:
            r = httpx.post(url, content=body.encode(), headers=headers)
        failed += not 200 <= r.status_code < 300
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if client is not None:
        client.close()
    return {"deliveries": len(bodies), "sent": len(bodies) - failed, "failed": failed,
            "calls": 0, "wall": wall, "cpu": cpu}  # fmt: skip


HEADER = (
    f"{'system':<24} {'dests':>5} {'deliveries':>10} {'wall s':>7} {'deliv/s':>8} "
    f"{'events/s':>8} {'CPU s':>6} {'failed':>6}  notes"
)


def row(name: str, n_dest: int, r: dict[str, Any], note: str = "") -> str:
    rate = r["sent"] / r["wall"] if r["wall"] else float("nan")
    return (
        f"{name:<24} {n_dest:>5} {r['deliveries']:>10,} {r['wall']:>7.2f} {rate:>8,.0f} "
        f"{rate / n_dest:>8,.0f} {r['cpu']:>6.2f} {r['failed']:>6}  {note}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="200 events")
    ap.add_argument("--events", type=int, default=None, help="events queued per destination")
    ap.add_argument("--naive-posts", type=int, default=None, help="posts the naive loops time")
    args = ap.parse_args(argv)
    n_events = args.events or (200 if args.quick else 2000)
    naive_posts = min(n_events, args.naive_posts or (100 if args.quick else 500))

    import os
    import platform

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python "
        f"{platform.python_version()}; load average {os.getloadavg()[0]:.2f} at start"
    )
    events = build_events(n_events)
    avg = sum(len(json.dumps(e)) for e in events) / len(events)
    print(f"{n_events:,} events per destination, {avg / 1000:.2f} KB of JSON each; "
          f"naive loops timed on {naive_posts} posts")  # fmt: skip
    started = time.perf_counter()
    with FeedServer(0) as server:
        print(f"receiver: {server.base} (separate process, answers 200 at once)")
        print()
        print(HEADER)
        print("-" * len(HEADER))
        results: dict[str, dict[str, Any]] = {}
        for name, n_dest, signed in (
            ("newsmon", 1, False),
            ("newsmon signed", 1, True),
            ("newsmon", 4, False),
        ):
            r = run_newsmon(server.base, events, n_dest, signed)
            results[f"{name}/{n_dest}"] = r
            print(row(name, n_dest, r, f"Outbox.run_once x {r['calls']}"), flush=True)
        for mode, name in (("post", "naive httpx.post"), ("signed", "naive httpx.post signed"),
                           ("client", "naive httpx.Client")):  # fmt: skip
            r = run_naive(server.base, events[:naive_posts], mode)
            results[mode] = r
            print(row(name, 1, r, "sequential"), flush=True)
        stats = server_stats(server.base)
    print()
    print(f"receiver got {stats['post']:,} POSTs ({stats['post_bytes'] / 1e6:.1f} MB)")
    print()

    def rate(key: str) -> float:
        r = results[key]
        return float(r["sent"] / r["wall"])

    for key, label in (("newsmon/1", "1 destination"), ("newsmon signed/1", "1 signed dest"),
                       ("newsmon/4", "4 destinations")):  # fmt: skip
        base = "signed" if "signed" in key else "post"
        print(
            f"ratio deliveries/s {label}: newsmon/naive {rate(key) / rate(base):.2f}x "
            f"({rate(key):,.0f} vs {rate(base):,.0f}); "
            f"newsmon/naive-client {rate(key) / rate('client'):.2f}x ({rate('client'):,.0f})"
        )
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end (other processes share the CPUs)")
    print(f"peak RSS {peak_rss_mb():.0f} MB; total benchmark time "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
