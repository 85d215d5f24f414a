"""Digests: many events in one message, for destinations with `digest:` and for storms.

Pure. No I/O. A digest window ends at a fixed boundary (every 15 minutes on the clock, or
daily at 08:00 UTC), so all events of a window share one batch key and one send.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from monitor.events import event_id, iso
from monitor.slack import escape, safe_link

MAX_LISTED = 20  # events listed by title in one digest message


def window_end(spec: float | tuple[int, int], now: dt.datetime) -> dt.datetime:
    """When the digest window containing `now` closes."""
    now = now.astimezone(dt.UTC)
    if isinstance(spec, tuple):
        hour, minute = spec
        end = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return end if end > now else end + dt.timedelta(days=1)
    seconds = max(1.0, float(spec))
    epoch = now.timestamp()
    return dt.datetime.fromtimestamp((epoch // seconds + 1) * seconds, dt.UTC)


def digest_event(events: list[dict[str, Any]], now: dt.datetime) -> dict[str, Any]:
    """One `digest` event holding `events`, with counts per rule. Its id depends only on the
    events it holds, so a retried digest keeps its id."""
    counts = Counter((e.get("rule") or {}).get("id", "?") for e in events)
    return {
        "type": "digest",
        "id": event_id("digest", *sorted(e["id"] for e in events)),
        "counts": dict(sorted(counts.items())),
        "total": len(events),
        "events": events,
        "created_at": iso(now),
    }


def render_slack(digest: dict[str, Any]) -> dict[str, Any]:
    """A Slack message for a digest: counts per rule, then the first headlines."""
    events = digest["events"]
    counts = ", ".join(f"{escape(rule)}: {n}" for rule, n in digest["counts"].items())
    lines = []
    for e in events[:MAX_LISTED]:
        item = e.get("item") or {}
        title = escape(str(item.get("title") or "(no title)"))[:300]
        link = safe_link(item.get("link"))
        rule = escape(str((e.get("rule") or {}).get("id", "")))
        lines.append(f"• <{link}|{title}> ({rule})" if link else f"• {title} ({rule})")
    if len(events) > MAX_LISTED:
        lines.append(f"…and {len(events) - MAX_LISTED} more")
    body = "\n".join(lines)[:2900]
    header = f"newsmon digest: {digest['total']} alerts"
    return {
        "text": f"{header} ({counts})"[:3000],
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": header[:150]}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": counts[:2000] or "-", "verbatim": True}],
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": body or "-", "verbatim": True}},
        ],
    }
