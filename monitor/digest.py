"""Digests: many events in one message, for destinations with `digest:` and for storms.

Pure. No I/O. A digest window ends at a fixed boundary (every 15 minutes on the clock, or
daily at 08:00 UTC), so all events of a window share one batch key and one send.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from monitor.events import event_id, iso
from monitor.slack import (
    HEADER_MAX,
    LINK_MAX,
    SECTION_MAX,
    TEXT_MAX,
    clean,
    safe_link,
    truncate_escaped,
)

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
    """A Slack message for a digest: counts per rule, then the first headlines. Feed text is
    cleaned and escaped like single alerts, and cut only between whole lines or entities."""
    events = digest["events"]
    counts = ", ".join(f"{clean(str(rule))}: {n}" for rule, n in digest["counts"].items())
    lines: list[str] = []
    budget = SECTION_MAX - 40  # room for the "…and N more" line
    for i, e in enumerate(events[:MAX_LISTED]):
        item = e.get("item") or {}
        title = truncate_escaped(clean(str(item.get("title") or "(no title)")), 300)
        link = safe_link(item.get("link"))
        if link is not None and len(link) > LINK_MAX:
            link = None
        rule = truncate_escaped(clean(str((e.get("rule") or {}).get("id", ""))), 100)
        line = f"• <{link}|{title}> ({rule})" if link else f"• {title} ({rule})"
        if sum(len(x) + 1 for x in lines) + len(line) > budget:
            lines.append(f"…and {len(events) - i} more")
            break
        lines.append(line)
    else:
        if len(events) > MAX_LISTED:
            lines.append(f"…and {len(events) - MAX_LISTED} more")
    header = f"newsmon digest: {digest['total']} alerts"
    return {
        "text": truncate_escaped(f"{header} ({counts})", TEXT_MAX),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": header[:HEADER_MAX]}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": truncate_escaped(counts, 2000) or "-",
                        "verbatim": True,
                    }
                ],
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "\n".join(lines) or "-", "verbatim": True},
            },
        ],
    }
