"""Shape the stored status ledger for `newsmon status`: current state and history.

Pure. No I/O.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from rules.ledger import Implies, settle_at


def ledger_view(
    subject: str, rows: list[dict[str, Any]], implies: Implies | None = None
) -> list[dict[str, Any]]:
    """One record per jurisdiction: current state (latest non-proposed by event time, unless
    it only restates what the state before implies: rules.ledger.settle_at), since when,
    and every assertion with its source. `rows` are in event-time order."""
    out = []
    keyed = sorted(rows, key=lambda r: (r["jurisdiction"], r["event_at"], r["id"]))
    for jurisdiction, group in groupby(keyed, key=lambda r: r["jurisdiction"]):
        history = list(group)
        at = settle_at([r["state"] for r in history], implies or {})
        current = None if at is None else history[at]["state"]
        since = None if at is None else history[at]["event_at"]
        out.append(
            {
                "subject": subject,
                "jurisdiction": jurisdiction,
                "state": current,
                "since": since,
                "history": [
                    {
                        "event_at": r["event_at"],
                        "state": r["state"],
                        "target": r["target"],
                        "item_id": r["item_id"],
                        "title": r.get("title"),
                        "link": r.get("link"),
                        "source": r["source"],
                        "changed_from": r["changed_from"],
                        "conflict": bool(r["conflict"]),
                    }
                    for r in history
                ],
            }
        )
    return out
