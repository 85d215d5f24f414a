"""Parse feed bytes into Items with feedparser, after a raw-byte pre-screen.

Pure: bytes in, Items out. The only module that imports feedparser. feedparser is only ever
given a BytesIO, never a str: given a str it opens paths and fetches URLs itself
(RELIABILITY.md §0.3).
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any

import feedparser

from monitor.errors import FeedParseError
from monitor.items import Item, assign_keys
from rules.text import clean_text, html_to_text

# Any entity declaration, in UTF-8/ASCII or UTF-16 (either byte order). Real feeds do not
# declare entities; feedparser's loose parser expands them without limit (§0.2).
_ENTITY_DECLS = [
    re.compile(rb"<!ENTITY", re.I),
    re.compile("<!ENTITY".encode("utf-16-le"), re.I),
    re.compile("<!ENTITY".encode("utf-16-be"), re.I),
]


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    site_url: str | None
    items: list[Item]
    ttl_minutes: int | None = None
    warning: str | None = None  # feedparser's bozo reason when it recovered


def prescreen(body: bytes, max_bytes: int) -> None:
    if len(body) > max_bytes:
        raise FeedParseError(f"feed is larger than {max_bytes} bytes")
    if not body.strip():
        raise FeedParseError("empty response: not a feed")
    if any(p.search(body) for p in _ENTITY_DECLS):
        raise FeedParseError("entity declarations are not accepted in feeds")


def _when(entry: Any) -> dt.datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return dt.datetime.fromtimestamp(calendar.timegm(value), dt.UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _title(entry: Any, title: str) -> str:
    """Plain-text title. Only an HTML title is parsed: a text title may say `<!channel>`."""
    kind = (entry.get("title_detail") or {}).get("type", "")
    return html_to_text(title) if "html" in kind else clean_text(title)


def _content(entry: Any) -> str:
    parts = [c.get("value", "") for c in entry.get("content") or [] if c.get("value")]
    return "\n".join(parts)


def _link(entry: Any) -> str | None:
    link = (entry.get("link") or "").strip()
    return link or None


def parse_feed(
    body: bytes,
    content_type: str | None = None,
    url: str | None = None,
    max_bytes: int = 10_000_000,
) -> ParsedFeed:
    """Items of a feed document, or FeedParseError when it is not a usable feed."""
    prescreen(body, max_bytes)
    headers = {}
    if content_type:
        headers["content-type"] = content_type  # the HTTP charset wins (§4.2)
    if url:
        headers["content-location"] = url  # base for relative links
    try:
        d = feedparser.parse(io.BytesIO(body), response_headers=headers)
    except Exception as e:  # noqa: BLE001 - feedparser raises anything; translate once
        raise FeedParseError(f"feed parser failed: {type(e).__name__}: {e}") from e
    entries = d.get("entries") or []
    warning = None
    if d.get("bozo"):
        exc = d.get("bozo_exception")
        warning = f"{type(exc).__name__}: {exc}"[:300] if exc else "malformed feed"
    if not entries and not d.get("version"):
        reason = warning or "no feed elements found"
        raise FeedParseError(f"not a feed ({reason})")
    raw = [
        (
            e.get("id") or e.get("guid"),
            _link(e),
            e.get("title", "") or "",
            e.get("summary", "") or "",
        )
        for e in entries
    ]
    keys = assign_keys(raw)
    items = []
    for key, entry, (_, link, title, summary) in zip(keys, entries, raw, strict=True):
        content = _content(entry)
        items.append(
            Item(
                key=key,
                title=_title(entry, title),
                link=link,
                summary=summary,
                content=content if content != summary else "",
                author=(entry.get("author") or None),
                published=_when(entry),
            )
        )
    feed = d.get("feed") or {}
    ttl = feed.get("ttl")
    return ParsedFeed(
        title=html_to_text(feed.get("title", "") or ""),
        site_url=feed.get("link"),
        items=items,
        ttl_minutes=int(ttl) if isinstance(ttl, str) and ttl.isdigit() else None,
        warning=warning,
    )
