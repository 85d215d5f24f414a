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
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    # `|`, `<`, `>` would end the link or label early; `&` is escaped like any text.
    quoted = quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~")
    return quoted.replace("&", "&amp;")


def render(event: dict[str, Any]) -> dict[str, Any]:
    """The JSON body to POST to a Slack incoming webhook for one event."""
    rule = event.get("rule") or {}
    item = event.get("item") or {}
    severity = str(rule.get("severity", "medium"))
    mark = _SEVERITY_MARK.get(severity, "")
    rule_title = clean(str(rule.get("title", rule.get("id", "alert"))))
    title = clean(str(item.get("title") or "(no title)"))
    feed = item.get("feed") or {}
    outlet = clean(str(feed.get("title") or feed.get("url") or ""))
    if event.get("type") == "status.changed":
        headline = (
            f"{event.get('subject')} in {event.get('jurisdiction')}: "
            f"{event.get('from') or 'unknown'} → {event.get('to')}"
        )
        header = truncate_plain(f"{mark} {clean(headline)}".strip(), HEADER_MAX)
    else:
        header = truncate_plain(f"{mark} {rule_title}".strip(), HEADER_MAX)
    link = safe_link(item.get("link"))
    label = truncate_escaped(title, 500)
    heading = f"*<{link}|{label}>*" if link else f"*{label}*"
    snippets = []
    for ev in (event.get("evidence") or [])[:5]:
        snippet = clean(str(ev.get("snippet", "")))
        if snippet and snippet not in snippets:
            snippets.append(snippet)
    body = "\n".join(f"> {truncate_escaped(s, 600)}" for s in snippets[:3])
    section_text = heading + ("\n" + body if body else "")
    if len(section_text) > SECTION_MAX:
        section_text = heading[: SECTION_MAX - 1]
    matched = sorted({clean(str(ev.get("text", ""))) for ev in event.get("evidence") or []})
    context = " · ".join(
        x
        for x in (
            escape(outlet),
            escape(str(item.get("published") or "")),
            f"{severity}",
            "matched: " + escape(", ".join(m for m in matched if m)[:300]) if matched else "",
        )
        if x
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": section_text, "verbatim": True}},
    ]
    if context:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": truncate_plain(context, 2000), "verbatim": True}
                ],
            }
        )
    fallback = truncate_escaped(f"{rule_title}: {title}", TEXT_MAX)
    return {"text": fallback, "blocks": blocks[:MAX_BLOCKS]}
