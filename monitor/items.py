"""The Item: one normalised feed entry, and its stable identity within a feed.

Pure. No I/O.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    key: str  # stable per feed: guid, else link, else a content hash
    title: str  # plain text
    link: str | None
    summary: str  # plain text: newsmon keeps the text of feed HTML, never its markup
    content: str  # plain text, empty when it repeats the summary
    author: str | None = None
    published: dt.datetime | None = None


def item_id(feed_url: str, key: str) -> str:
    """Global id of an item: the same feed and key always give the same id."""
    digest = hashlib.sha256(f"{feed_url}\x00{key}".encode()).hexdigest()
    return f"itm_{digest[:24]}"


def content_key(title: str, summary: str) -> str:
    # Whitespace made single spaces: the key of an item stored when its summary was one
    # line stays the key of the same item now that a summary keeps a line per HTML block.
    text = f"{' '.join(title.split())}\x00{' '.join(summary.split())}"
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def assign_keys(raw: list[tuple[str | None, str | None, str, str]]) -> list[str]:
    """Keys for entries given as (guid, link, title, summary), in document order.

    Missing guid: the link, else a hash of title and summary (Miniflux rss/adapter.go).
    A key repeated within one document keeps its first use as-is; later ones become
    `key|link`, else `key|position`, so no entry is lost and re-parsing gives the same keys.
    """
    seen: set[str] = set()
    keys = []
    for pos, (guid, link, title, summary) in enumerate(raw):
        key = (guid or "").strip() or (link or "").strip() or content_key(title, summary)
        if key in seen:
            alt = f"{key}|{link}" if link and f"{key}|{link}" not in seen else f"{key}|{pos}"
            while alt in seen:  # a feed may already use `key|pos` as a guid
                alt = f"{alt}|{pos}"
            key = alt
        seen.add(key)
        keys.append(key)
    return keys
