"""Render events as Slack Block Kit messages, with feed text made inert.

Pure. No I/O. Escaping follows RELIABILITY.md §3.1: only `&`, `<`, `>` are escaped (Slack
shows any other entity literally), exactly once, after HTML has become text; no
`link_names` or `parse`; mrkdwn objects are `verbatim`; links only for http(s).
Sizes follow §3.2 and are enforced after escaping.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from rules.text import clean_text

HEADER_MAX = 150
SECTION_MAX = 3000
TEXT_MAX = 3000  # top-level fallback; Slack truncates at 40,000, but alerts are short
MAX_BLOCKS = 50
LINK_MAX = 2000  # a longer URL is not linked: it would crowd the title out of the section
LABEL_MAX = 500
SNIPPET_MAX = 600
_SEVERITY_MARK = {"low": "⚪", "medium": "🟡", "high": "🟠", "critical": "🔴"}


def escape(text: str) -> str:
    """Slack control characters as entities; `&` first so nothing is escaped twice."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clean(text: str) -> str:
    """Text safe to encode: no NUL, lone surrogates or bidi overrides. Feed text reaches
    here as plain text already; parsing it as HTML again would eat `<!channel>`."""
    return clean_text(text)


def truncate_escaped(text: str, limit: int) -> str:
    """Escape, then cut to `limit` characters without splitting an entity."""
    out = escape(text)
    if len(out) <= limit:
        return out
    if limit < 1:
        return ""
    cut = out[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]  # never leave half an entity such as "&am"
    return cut + "…"


def truncate_plain(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_link(url: str | None) -> str | None:
    """The URL for use inside <url|label>, or None when it is not plain http(s)."""
    if not url:
        return None
    url = clean(str(url))  # no controls, bidi overrides or lone surrogates (quote would fail)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    # `|`, `<`, `>` would end the link or label early; `&` is escaped like any text.
    quoted = quote(url, safe=":/?#[]@!$&'()*+,;=%~")
    return quoted.replace("&", "&amp;")


def render(event: dict[str, Any]) -> dict[str, Any]:
    """The JSON body to POST to a Slack incoming webhook for one event."""
    rule = event.get("rule") or {}
    item = event.get("item") or {}
    severity = clean(str(rule.get("severity") or "medium"))
    mark = _SEVERITY_MARK.get(severity, "")
    rule_title = clean(str(rule.get("title") or rule.get("id") or "")) or "alert"
    title = clean(str(item.get("title") or "")) or "(no title)"
    feed = item.get("feed") or {}
    outlet = clean(str(feed.get("title") or feed.get("url") or ""))
    if event.get("type") == "status.changed":
        headline = clean(
            f"{event.get('subject')} in {event.get('jurisdiction')}: "
            f"{event.get('from') or 'unknown'} → {event.get('to')}"
        )
    else:
        headline = rule_title
    # Headers are plain_text: Slack parses no mentions or links there, so no escaping.
    header = truncate_plain(f"{mark} {headline}".strip(), HEADER_MAX)

    link = safe_link(item.get("link"))
    label = truncate_escaped(title, LABEL_MAX)
    heading = f"*<{link}|{label}>*" if link and len(link) <= LINK_MAX else f"*{label}*"
    snippets: list[str] = []
    for ev in (event.get("evidence") or [])[:5]:
        snippet = clean(str(ev.get("snippet") or ""))
        if snippet and snippet not in snippets:
            snippets.append(snippet)
    lines = [heading]
    room = SECTION_MAX - len(heading)
    for snippet in snippets[:3]:
        quoted = "> " + truncate_escaped(snippet, min(SNIPPET_MAX, room - 3))
        if len(quoted) <= 3:
            break
        lines.append(quoted)
        room -= len(quoted) + 1

    matched = sorted({clean(str(ev.get("text") or "")) for ev in event.get("evidence") or []})
    matched_text = ", ".join(m for m in matched if m)
    context = " · ".join(
        x
        for x in (
            truncate_escaped(outlet, 300),
            truncate_escaped(clean(str(item.get("published") or "")), 100),
            truncate_escaped(severity, 50),
            "matched: " + truncate_escaped(matched_text, 1000) if matched_text else "",
        )
        if x
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {"type": "section", "text": _mrkdwn("\n".join(lines))},
    ]
    if context:
        blocks.append({"type": "context", "elements": [_mrkdwn(context)]})
    fallback = truncate_escaped(f"{headline}: {title}", TEXT_MAX)
    return {"text": fallback, "blocks": blocks[:MAX_BLOCKS]}


def _mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object Slack does not preprocess (no auto-links or mention parsing)."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}
