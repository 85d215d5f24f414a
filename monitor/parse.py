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
import feedparser.api
import feedparser.datetimes
import feedparser.html
import feedparser.urls
from feedparser.encodings import convert_to_utf8

from monitor import fastparse
from monitor.errors import FeedParseError
from monitor.items import Item, assign_keys
from rules.text import html_to_text, plain_to_text

# Any entity declaration, in UTF-8/ASCII or UTF-16 (either byte order). Real feeds do not
# declare entities; feedparser's loose parser expands them without limit (§0.2).
_ENTITY_DECLS = [
    re.compile(rb"<!ENTITY", re.I),
    re.compile("<!ENTITY".encode("utf-16-le"), re.I),
    re.compile("<!ENTITY".encode("utf-16-be"), re.I),
]


# ASCII digits only: str.isdigit() accepts "²", which int() refuses.
_TTL = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    site_url: str | None
    items: list[Item]
    ttl_minutes: int | None = None
    warning: str | None = None  # feedparser's bozo reason when it recovered


# Use the fast path (monitor/fastparse.py) when it is sure to match feedparser.
FAST = True

_Strict = feedparser.api.StrictFeedParser
_HANDLERS: dict[str, bool] = {}


def _has_handler(key: str) -> bool:
    found = _HANDLERS.get(key)
    if found is None:
        found = _HANDLERS[key] = hasattr(_Strict, "_start_" + key) or hasattr(
            _Strict, "_end_" + key
        )
    return found


# The date form nearly every RSS feed writes ("Sat, 28 Nov 2026 11:39:07 +0000"), read as
# feedparser's RFC 822 handler reads it. feedparser first tries its W3C handler (which does
# not take it), then splits the text and looks up each part: ~10 µs an item, a tenth of
# parsing one.
_RFC822 = re.compile(
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun), )?([0-9]{1,2}) "
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec) ([0-9]{4}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) (gmt|ut|z|[+-][0-9]{4})",
    re.IGNORECASE,
)
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: k for k, m in enumerate(_MONTH_NAMES, 1)}


def parse_date(text: str) -> Any:
    """feedparser's `_parse_date`, with its result for the common RFC 822 form computed
    directly: the same struct_time (a test compares them on every form the regex takes)."""
    m = _RFC822.fullmatch(text)
    if m is None:
        return feedparser.datetimes._parse_date(text)
    day, month, year, hour, minute, second, zone = m.groups()
    try:
        stamp = dt.datetime(
            int(year), _MONTHS[month.lower()], int(day), int(hour), int(minute), int(second)
        )
        if zone[0] in "+-" and zone[1:] != "0000":
            sign = -1 if zone[0] == "-" else 1
            stamp -= dt.timedelta(hours=sign * int(zone[1:3]), minutes=sign * int(zone[3:]))
        return stamp.utctimetuple()
    except (OverflowError, ValueError):
        return feedparser.datetimes._parse_date(text)  # out of range: as feedparser has it


HOOKS = fastparse.Hooks(
    parse_date=parse_date,
    urljoin=feedparser.urls._urljoin,
    looks_like_html=_Strict.looks_like_html,
    has_handler=_has_handler,
    namespaces={k.lower(): v for k, v in _Strict.namespaces.items()},
    cp1252=feedparser.html._cp1252,
)


def prescreen(body: bytes, max_bytes: int, headers: dict[str, str] | None = None) -> None:
    """Refuse what feedparser must never see: oversize, empty, or declaring entities.

    `headers` must be the response headers feedparser will get: they pick the encoding.
    """
    _prescreen(body, max_bytes, headers, {})


def _prescreen(
    body: bytes, max_bytes: int, headers: dict[str, str] | None, result: dict[str, Any]
) -> bytes:
    """prescreen, returning the UTF-8 bytes feedparser parses; `result` gets feedparser's
    encoding and bozo keys."""
    if len(body) > max_bytes:
        raise FeedParseError(f"feed is larger than {max_bytes} bytes")
    if not body.strip():
        raise FeedParseError("empty response: not a feed")
    # The UTF-16 spellings hold NUL bytes: a body without one (nearly all) skips them.
    if any(p.search(body) for p in (_ENTITY_DECLS if b"\x00" in body else _ENTITY_DECLS[:1])):
        raise FeedParseError("entity declarations are not accepted in feeds")
    # feedparser first re-encodes the document to UTF-8 from whatever the BOM, the HTTP
    # charset or the XML declaration names (UTF-32, EBCDIC, UTF-7, ...), and only then
    # looks for entity declarations. Screen exactly those bytes: a UTF-32 or cp037 body
    # slipped past the raw-byte patterns above and expanded a 2 KB entity 200 times.
    try:
        as_parsed: bytes = convert_to_utf8(dict(headers or {}), body, result)
    except Exception as e:  # noqa: BLE001 - feedparser would fail the same way
        raise FeedParseError(f"cannot decode feed: {type(e).__name__}: {e}") from e
    if _ENTITY_DECLS[0].search(as_parsed):
        raise FeedParseError("entity declarations are not accepted in feeds")
    return as_parsed


def _base_uri(url: str | None) -> str | None:
    """The base feedparser resolves links against, or None when it would move between
    elements (it re-joins the base with itself at every start tag)."""
    base = url or ""  # make_safe_absolute_uri("", url) is url itself
    if base and (feedparser.urls.make_safe_absolute_uri(base, base) or base) != base:
        return None
    return base


def _fast(data: bytes, url: str | None, result: dict[str, Any]) -> ParsedFeed | None:
    """The fast path's ParsedFeed, or None when it declines."""
    base = _base_uri(url)
    if not result.get("encoding") or result.get("bozo") or base is None:
        return None  # feedparser would use its loose parser, or warn
    try:
        feed, entries = fastparse.parse(data, base, HOOKS)
    except fastparse.Decline:
        return None
    return _build(feed, entries, None)


def _when(entry: Any) -> dt.datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get: FeedParserDict.get maps a missing updated_parsed to published_parsed
        # with a DeprecationWarning (feedparser issue 310); we want exactly this key.
        value = dict.get(entry, key)
        if value:
            try:
                return dt.datetime.fromtimestamp(calendar.timegm(value), dt.UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _text(value: str, detail: Any) -> str:
    """Plain text of a feed field. Only HTML is parsed as HTML: a text/plain field may
    literally say `<!channel>`, and that is its text."""
    kind = (detail or {}).get("type", "") if isinstance(detail, dict) else ""
    return html_to_text(value) if "html" in kind or "xml" in kind else plain_to_text(value)


def _title(entry: Any, title: str) -> str:
    return _text(title, entry.get("title_detail"))


def _content(entry: Any) -> str:
    parts = [_text(c.get("value", ""), c) for c in entry.get("content") or [] if c.get("value")]
    return "\n".join(p for p in parts if p)


def _link(entry: Any) -> str | None:
    link = (entry.get("link") or "").strip()
    return link or None


def parse_feed(
    body: bytes,
    content_type: str | None = None,
    url: str | None = None,
    max_bytes: int = 10_000_000,
    fast: bool | None = None,
) -> ParsedFeed:
    """Items of a feed document, or FeedParseError when it is not a usable feed.

    `fast`: try monitor/fastparse.py first (default: the module's FAST); it declines to
    feedparser whenever it is not sure to give the same ParsedFeed."""
    headers = {}
    if content_type:
        headers["content-type"] = content_type  # the HTTP charset wins (§4.2)
    if url:
        headers["content-location"] = url  # base for relative links
    result: dict[str, Any] = {}
    data = _prescreen(body, max_bytes, headers, result)
    if FAST if fast is None else fast:
        parsed = _fast(data, url, result)
        if parsed is not None:
            return parsed
    try:
        # No sanitizing and no URI rewriting inside HTML: newsmon keeps only the text of
        # summaries and content (never their markup), so both would be wasted work; they
        # are most of feedparser's time (kurtmckee/feedparser#209). Entry links are still
        # resolved against content-location.
        d = feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
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
    return _build(d.get("feed") or {}, entries, warning)


def _build(feed: Any, entries: list[Any], warning: str | None) -> ParsedFeed:
    """The ParsedFeed of feedparser's feed and entries (or fastparse's plain dicts)."""
    raw = [
        (
            e.get("id") or e.get("guid"),
            _link(e),
            _title(e, e.get("title", "") or ""),
            _text(e.get("summary", "") or "", e.get("summary_detail")),
        )
        for e in entries
    ]
    keys = assign_keys(raw)
    items = []
    hollow = 0
    for key, entry, (_, link, text_title, summary) in zip(keys, entries, raw, strict=True):
        content = _content(entry)
        if not (text_title.strip() or summary.strip() or content.strip()):
            # Nothing to match or show, typically the last entry of a truncated download.
            # Kept, its key would be stored as seen and hide the whole entry next poll.
            # Skipped after assign_keys, so the other keys match a full parse.
            hollow += 1
            continue
        items.append(
            Item(
                key=key,
                title=text_title,
                link=link,
                summary=summary,
                content=content if content != summary else "",
                author=(entry.get("author") or None),
                published=_when(entry),
            )
        )
    if hollow:
        note = f"{hollow} entries without a title or text skipped"
        warning = f"{warning}; {note}" if warning else note
    ttl = feed.get("ttl")
    return ParsedFeed(
        title=html_to_text(feed.get("title", "") or ""),
        site_url=feed.get("link"),
        items=items,
        ttl_minutes=int(ttl) if isinstance(ttl, str) and _TTL.fullmatch(ttl) else None,
        warning=warning,
    )
