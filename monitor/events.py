"""Alert events: stable ids, payloads (DESIGN.md §4) and routing to destinations.

Pure. No I/O. An event id depends only on what the event is about, so it is the same on
every retry and after a restart, and receivers can dedupe on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from rules import Match, Rule, RuleHead

_SEVERITY = ("low", "medium", "high", "critical")


def event_id(kind: str, *parts: str) -> str:
    """`evt_<hex>`: no `.`, which the Standard Webhooks signature scheme forbids in ids."""
    digest = hashlib.sha256("\x00".join((kind, *parts)).encode()).hexdigest()
    return f"evt_{digest[:32]}"


def iso(when: dt.datetime | None) -> str | None:
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if when else None


def match_event(
    match: Match,
    item_id: str,
    item: dict[str, Any],
    feed: dict[str, Any],
    now: dt.datetime,
) -> dict[str, Any]:
    """The `match.created` payload. `item` holds title, link, published, summary (text)."""
    rule = match.rule
    return {
        "type": "match.created",
        "id": event_id("match.created", item_id, rule.id),
        "rule": rule_info(rule),
        "item": {
            "id": item_id,
            "title": item.get("title", ""),
            "link": item.get("link"),
            "published": item.get("published"),
            "summary": item.get("summary", ""),
            "feed": {"url": feed.get("url"), "title": feed.get("title")},
        },
        "evidence": [e.to_dict() for e in match.evidence],
        "created_at": iso(now),
    }


def rule_info(rule: Rule | RuleHead) -> dict[str, Any]:
    return {
        "id": rule.id,
        "title": rule.title,
        "severity": str(rule.severity),
        "tags": list(rule.tags),
    }


def routes(
    rule_id: str,
    tags: Sequence[str],
    severity: str,
    notify: Iterable[str],
    destinations: Iterable[Any],
    event_type: str = "match.created",
) -> list[str]:
    """Names of the destinations that take an event of this rule.

    A destination takes a rule listed in its `rules` (`*`, the rule id, or `tag:NAME`), or
    named in the rule's `notify`; either way only at or above its `min_severity`, and only
    event types listed in its `events`.
    """
    named = set(notify)
    out = []
    for d in destinations:
        if event_type not in d.events:
            continue
        wanted = d.name in named or any(
            sel == "*" or sel == rule_id or (sel.startswith("tag:") and sel[4:] in tags)
            for sel in d.rules
        )
        if wanted and _SEVERITY.index(severity) >= _SEVERITY.index(d.min_severity):
            out.append(d.name)
    return out
