"""The legal-status ledger in the database: seeding, recording assertions, status.changed.

Runs on the database thread, so reading the ledger, deciding what changed and writing the
assertions with their outbox rows happen without another poll interleaving.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.config import Config
from monitor.events import event_id, iso, rule_info
from monitor.outboxrows import queue
from rules import Rule, RuleHead
from rules.ledger import Assertion, Change, Entry, Ledger, event_time
from storage import Store, parse_ts, ts

CONFLICT_WINDOW = dt.timedelta(days=7)


@dataclass(frozen=True)
class Pending:
    """An assertion found in a new item, waiting to be recorded."""

    item_id: str
    item: dict[str, Any]  # title, link, published, summary (for the event payload)
    feed: dict[str, Any]
    rule: RuleHead  # not the Rule: workers send these, and a condition is large
    assertion: Assertion
    published: dt.datetime | None
    alert: bool  # False for a feed's baseline poll: recorded, not announced


def seed_rows(rules: Iterable[Rule], now: dt.datetime) -> list[dict[str, Any]]:
    rows = []
    for rule in rules:
        if rule.status is None:
            continue
        for s in rule.status.seeds:
            rows.append(
                {
                    "subject": rule.status.subject,
                    "jurisdiction": s.jurisdiction,
                    "state": s.state,
                    "target": s.state,
                    "event_at": ts(dt.datetime.combine(s.date, dt.time(), dt.UTC)),
                    "rule_id": rule.id,
                    "source": s.source,
                    "recorded_at": ts(now),
                    "seed_key": f"{rule.id}:{s.jurisdiction}:{s.state}:{s.date.isoformat()}",
                }
            )
    return rows


def ledger_for(store: Store, pending: Sequence[Pending]) -> Ledger:
    """The part of the stored ledger a change is decided against: each pair's current
    state (its latest non-proposed assertion, or the stronger state that one restates:
    `Store.status_tail`). An assertion dated before it lands in history; one after it is
    the news. Reading a few rows per pair keeps each poll's cost flat however long the
    ledger grows."""
    ledger = Ledger()
    for p in pending:
        ledger.implies.setdefault(p.assertion.subject, dict(p.assertion.implies))
    for subject, jurisdiction in {(p.assertion.subject, p.assertion.jurisdiction) for p in pending}:
        weak = {s for implied in ledger.implies[subject].values() for s in implied}
        for row in store.status_tail(subject, jurisdiction, weak):
            entry = Entry(parse_ts(row["event_at"]), row["state"], row["item_id"], row["source"])
            ledger.add(subject, jurisdiction, entry)
    return ledger


def _conflict(
    store: Store, ledger: Ledger, change: Change, when: dt.datetime, item_id: str
) -> bool:
    """Another source asserted the previous state close to this one's time."""
    start, end = ts(when - CONFLICT_WINDOW), ts(when + CONFLICT_WINDOW)
    rows = ledger.entries.get((change.subject, change.jurisdiction), [])
    if any(
        e.item_id not in (None, item_id)
        and e.state == change.previous
        and abs(e.when - when) <= CONFLICT_WINDOW
        for e in rows
    ):
        return True
    return store.asserted_near(
        change.subject, change.jurisdiction, change.previous, start, end, item_id
    )


def record(
    store: Store, config: Config, pending: list[Pending], now: dt.datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Status rows and status.changed outbox rows for `pending`, decided against the
    stored ledger (read here, on the database thread)."""
    if not pending:
        return [], []
    ledger = ledger_for(store, pending)
    rows, deliveries = [], []
    for p in pending:
        a = p.assertion
        when = event_time(a, p.published, now)
        change = ledger.record(a, p.published, p.item_id, now)
        conflict = change is not None and _conflict(store, ledger, change, when, p.item_id)
        rows.append(
            {
                "subject": a.subject,
                "jurisdiction": a.jurisdiction,
                "state": a.state,
                "target": a.target,
                "event_at": ts(when),
                "item_id": p.item_id,
                "rule_id": p.rule.id,
                "evidence": json.dumps([e.to_dict() for e in a.evidence], ensure_ascii=False),
                "source": p.feed.get("title") or p.feed.get("url") or "",
                "recorded_at": ts(now),
                "changed_from": change.previous if change else None,
                "conflict": int(conflict),
            }
        )
        if change is None or not p.alert:
            continue
        event = {
            "type": "status.changed",
            "id": event_id("status.changed", p.item_id, a.subject, a.jurisdiction, change.state),
            "rule": rule_info(p.rule),
            "item": {**p.item, "id": p.item_id, "feed": p.feed},
            "evidence": [e.to_dict() for e in a.evidence],
            "subject": a.subject,
            "jurisdiction": a.jurisdiction,
            "from": change.previous,
            "to": change.state,
            "event_at": iso(when),
            "conflict": conflict,
            "created_at": iso(now),
        }
        deliveries.extend(queue(event, p.rule, config, now))
    return rows, deliveries
