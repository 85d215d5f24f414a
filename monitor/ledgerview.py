"""Shape the stored status ledger for `newsmon status`: current state and history.

Pure. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import groupby
from typing import Any

_PROPOSED = "proposed"


def ledger_view(
    subject: str, rows: list[dict[str, Any]], implies: Mapping[str, Sequence[str]] | None = None
) -> list[dict[str, Any]]:
    """One record per jurisdiction: current state (latest non-proposed by event time, unless
    it only restates what the state before implies: see rules.ledger.settle), since when,
    and every assertion with its source. `rows` are in event-time order."""
    implies = implies or {}
    out = []
    keyed = sorted(rows, key=lambda r: (r["jurisdiction"], r["event_at"], r["id"]))
    for jurisdiction, group in groupby(keyed, key=lambda r: r["jurisdiction"]):
        history = list(group)
        current = None
        since = None
        for r in history:
            if r["state"] == _PROPOSED or r["state"] in implies.get(current or "", ()):
                continue
            if r["state"] != current:
                current, since = r["state"], r["event_at"]
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
