"""Outbox rows for an event: which destinations, when, and in which digest batch.

Pure apart from the `now` passed in.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

from monitor.config import Config
from monitor.digest import window_end
from monitor.events import routes
from rules import Rule, RuleHead
from storage import ts


def queue(
    event: dict[str, Any], rule: Rule | RuleHead | None, config: Config, now: dt.datetime
) -> list[dict[str, Any]]:
    """Outbox rows for `event`, one per destination that takes it.

    A destination with `digest` gets the row due at the end of its window, batched with
    the window's other events.
    """
    if rule is not None:
        names = routes(
            rule.id, rule.tags, str(rule.severity), rule.notify, config.destinations, event["type"]
        )
    else:
        names = [d.name for d in config.destinations if event["type"] in d.events]
    payload = json.dumps(event, ensure_ascii=False)
    by_name = {d.name: d for d in config.destinations}
    rows = []
    for name in names:
        dest = by_name[name]
        due, batch = now, None
        if dest.digest is not None:
            due = window_end(dest.digest, now)
            batch = f"digest:{ts(due)}"
        rows.append(
            {
                "event_id": event["id"],
                "destination": name,
                "event_type": event["type"],
                "payload": payload,
                "next_attempt_at": ts(due),
                "created_at": ts(now),
                "batch": batch,
            }
        )
    return rows


def damp_storm(rows: list[dict[str, Any]], config: Config, key: str) -> None:
    """One poll with more alerts for a destination than `delivery.storm_threshold` sends
    them as one digest instead of a flood (in place)."""
    counts = Counter(r["destination"] for r in rows if not r.get("batch"))
    storming = {d for d, n in counts.items() if n > config.delivery.storm_threshold}
    for r in rows:
        if r["destination"] in storming and not r.get("batch"):
            r["batch"] = f"storm:{key}"
