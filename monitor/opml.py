"""OPML import and export of feed lists.

Pure: bytes in, data out. OPML is parsed with the standard library's expat, which does not
fetch external entities, and entity declarations are refused as in feeds.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import quoteattr

from monitor.errors import MonitorError


def read_opml(data: bytes) -> list[tuple[str, list[str]]]:
    """(feed url, category tags) for every outline with an xmlUrl, in document order."""
    if b"<!ENTITY" in data.upper():
        raise MonitorError("OPML with entity declarations is not accepted")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise MonitorError(f"not valid OPML: {e}") from e
    out: list[tuple[str, list[str]]] = []

    def walk(node: ET.Element, path: list[str]) -> None:
        for child in node:
            if child.tag != "outline":
                continue
            url = child.get("xmlUrl") or child.get("xmlurl")
            title = child.get("title") or child.get("text") or ""
            if url:
                cats = [c.strip() for c in (child.get("category") or "").split(",") if c.strip()]
                out.append((url.strip(), [*path, *cats]))
            else:
                walk(child, [*path, title] if title else path)

    body = root.find("body")
    if body is None:
        raise MonitorError("not valid OPML: no <body>")
    walk(body, [])
    return out


def write_opml(feeds: list[dict[str, Any]]) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0"><head><title>newsmon feeds</title></head><body>',
    ]
    for f in feeds:
        title = f.get("title") or f["url"]
        tags = ",".join(json.loads(f.get("tags") or "[]"))
        cat = f" category={quoteattr(tags)}" if tags else ""
        lines.append(
            f'  <outline type="rss" text={quoteattr(title)} title={quoteattr(title)} '
            f"xmlUrl={quoteattr(f['url'])}{cat}/>"
        )
    lines.append("</body></opml>")
    return "\n".join(lines)
