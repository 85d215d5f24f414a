"""Slack rendering (RELIABILITY.md §3, tests S1-S4): feed text is inert and within limits."""

from __future__ import annotations

import copy
import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from monitor.slack import escape, render, safe_link, truncate_escaped

INJECTIONS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<#C1>",
    "<!subteam^S1>",
    "<!date^1^{date}|x>",
    "<https://evil.test|Click>",
    "@channel",
    "@here",
    "&amp;",
    "&lt;!channel&gt;",
]
CORPUS = " ".join(INJECTIONS)
# Our own link wrapper, the only `<...>` a payload may contain.
LINK_RE = re.compile(r"<(https?://[^<>|\s]+)\|([^<>]*)>")
ENTITY_RE = re.compile(r"&(?!(?:amp|lt|gt);)")
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
try:  # optional: not a dependency
    from slack_sdk.models.blocks import Block
except ImportError:  # pragma: no cover - the usual case
    Block = None


def make_event(**item: Any) -> dict[str, Any]:
    """A match.created event shaped like monitor.events.match_event output."""
    base_item = {
        "id": "itm_1",
        "title": "Taliban delisted",
        "link": "https://news.test/a?x=1&y=2",
        "published": "2024-05-01T10:00:00Z",
        "summary": "Summary text.",
        "feed": {"url": "https://news.test/rss", "title": "News Test"},
    }
    evidence = item.pop("evidence", None)
    rule = item.pop("rule", None)
    base_item.update(item)
    return {
        "type": "match.created",
        "id": "evt_0123456789abcdef0123456789abcdef",
        "rule": rule
        or {"id": "taliban", "title": "Taliban status", "severity": "high", "tags": ["af"]},
        "item": base_item,
        "evidence": evidence
        if evidence is not None
        else [
            {
                "kind": "keyword",
                "value": "taliban",
                "field": "title",
                "start": 0,
                "end": 7,
                "text": "Taliban",
                "snippet": "Taliban delisted by the council",
            }
        ],
        "created_at": "2024-05-01T10:05:00Z",
    }


def status_event(**fields: Any) -> dict[str, Any]:
    event = make_event()
    event.update(
        {
            "type": "status.changed",
            "subject": "Taliban",
            "jurisdiction": "Russia",
            "from": "designated",
            "to": "delisted",
            "event_at": "2024-05-01T10:00:00Z",
            "conflict": False,
        }
    )
    event.update(fields)
    return event


def walk(obj: Any) -> Iterator[tuple[str | None, Any]]:
    """Every (key, value) pair in a JSON-like tree; list items have key None."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield k, v
            yield from walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield None, v
            yield from walk(v)


def text_objects(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Every composition text object: a dict whose `text` is a string (not a block)."""
    return [v for _, v in walk(payload) if isinstance(v, dict) and isinstance(v.get("text"), str)]


def mrkdwn_texts(payload: dict[str, Any]) -> list[str]:
    """The top-level text and every mrkdwn text object: where Slack parses `<...>`."""
    texts = [payload["text"]]
    texts += [t["text"] for t in text_objects(payload) if t["type"] == "mrkdwn"]
    return texts


def without_our_links(text: str, expected_url: str | None) -> str:
    def check(m: re.Match[str]) -> str:
        assert m.group(1) == expected_url, f"unexpected link {m.group(1)!r}"
        return m.group(2)

    # Our own blockquote markers at line starts are the only other `>`.
    return re.sub(r"(?m)^> ", "", LINK_RE.sub(check, text))


def validate(payload: dict[str, Any]) -> None:
    """Structural check of Slack's limits (§3.2), and slack_sdk's own if installed."""
    assert set(payload) == {"text", "blocks"}
    assert isinstance(payload["text"], str) and 0 < len(payload["text"]) < 40_000
    blocks = payload["blocks"]
    assert 0 < len(blocks) <= 50
    for block in blocks:
        kind = block["type"]
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
        elif kind == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
        elif kind == "context":
            assert 0 < len(block["elements"]) <= 10
            for element in block["elements"]:
                assert 0 < len(element["text"]) <= 3000
        elif kind == "divider":
            pass
        else:
            pytest.fail(f"unexpected block type {kind}")
    for obj in text_objects(payload):
        assert obj["type"] in ("plain_text", "mrkdwn")
        if obj["type"] == "mrkdwn":
            assert obj.get("verbatim") is True
            # Every `&` starts one of our three entities: nothing cut inside one.
            assert not ENTITY_RE.search(obj["text"]), obj["text"]
    assert not ENTITY_RE.search(payload["text"])
    keys = {k for k, _ in walk(payload) if k is not None}
    assert not keys & {"link_names", "parse", "unfurl_links", "mrkdwn"}
    encoded = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    assert json.loads(encoded) == payload
    if Block is not None:  # pragma: no cover - slack_sdk is not a dependency
        for block in blocks:
            Block.parse(block).to_dict()  # validates field lengths


# --- S1: mention and link injection ------------------------------------------------------


def corpus_event() -> dict[str, Any]:
    return make_event(
        title=f"Title {CORPUS}",
        summary=f"Summary {CORPUS}",
        feed={"url": "https://news.test/rss", "title": f"Feed {CORPUS}"},
        published=f"2024 {CORPUS}",
        evidence=[
            {
                "kind": "keyword",
                "value": "x",
                "field": "summary",
                "start": 0,
                "end": 1,
                "text": f"text {injection}",
                "snippet": f"snippet {injection} end",
            }
            for injection in INJECTIONS
        ],
    )


def test_s1_no_raw_angle_brackets_from_feed_text():
    event = corpus_event()
    payload = render(event)
    validate(payload)
    link = safe_link(event["item"]["link"])
    for text in mrkdwn_texts(payload):
        rest = without_our_links(text, link)
        assert "<" not in rest and ">" not in rest, rest
    section = payload["blocks"][1]["text"]["text"]
    assert len(LINK_RE.findall(section)) == 1
    blob = json.dumps(payload, ensure_ascii=False)
    for injection in INJECTIONS:
        if "<" in injection:
            assert injection not in blob
            assert escape(injection) in blob


def test_s1_every_feed_field_reaches_the_payload_escaped():
    payload = render(corpus_event())
    section = payload["blocks"][1]["text"]["text"]
    context = payload["blocks"][2]["elements"][0]["text"]
    escaped = escape(CORPUS)
    assert f"Title {escaped}" in section
    assert f"Title {escaped}" in payload["text"]
    assert f"Feed {escaped}" in context
    assert f"2024 {escape('<!channel>')}" in context  # published: short, capped
    assert f"snippet {escape('<!channel>')} end" in section
    assert f"text {escape('<@U123>')}" in context


def test_s1_ampersand_escaped_exactly_once():
    payload = render(make_event(title="A & B &amp; C &lt;x&gt; &#39;"))
    section = payload["blocks"][1]["text"]["text"]
    assert "A &amp; B &amp;amp; C &amp;lt;x&amp;gt; &amp;#39;" in section
    assert "&amp;amp;amp;" not in json.dumps(payload)
    # Slack decodes exactly once: what users see is the feed text itself.
    label = LINK_RE.search(section).group(2)
    assert html.unescape(label.replace("&amp;", "\x00")).replace("\x00", "&") == (
        "A & B &amp; C &lt;x&gt; &#39;"
    )


def test_s1_plain_mentions_stay_plain():
    payload = render(make_event(title="@channel @here @everyone #general"))
    section = payload["blocks"][1]["text"]["text"]
    assert "@channel @here @everyone #general" in section
    assert "<!" not in json.dumps(payload)


def test_s1_no_parse_or_link_names_and_all_mrkdwn_verbatim():
    for event in (corpus_event(), status_event(), make_event(link=None)):
        payload = render(event)
        keys = {k for k, _ in walk(payload)}
        assert "link_names" not in keys and "parse" not in keys
        mrkdwn = [t for t in text_objects(payload) if t["type"] == "mrkdwn"]
        assert mrkdwn and all(t["verbatim"] is True for t in mrkdwn)


def test_s1_escape_helpers():
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert escape("&amp;") == "&amp;amp;"
    assert escape("'\"") == "'\""  # no &quot; / &#x27;: Slack would show them literally


SNAPSHOT = {
    "text": "Taliban status: Taliban &lt;!channel&gt; delisted &amp; &amp;amp; re-listed",
    "blocks": [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": "🟠 Taliban status", "emoji": True},
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*<https://news.test/a?x=1&amp;y=%7C%3Cz%3E|Taliban &lt;!channel&gt; "
                "delisted &amp; &amp;amp; re-listed>*\n"
                "> The &lt;@U123&gt; council &lt;https://evil.test|Click&gt; said\n"
                "> Second snippet",
                "verbatim": True,
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "News &lt;!here&gt; · 2024-05-01T10:00:00Z · high · "
                    "matched: Taliban, delisted",
                    "verbatim": True,
                }
            ],
        },
    ],
}


def test_s1_snapshot_of_a_full_payload():
    def ev(text: str, snippet: str) -> dict[str, Any]:
        return {
            "kind": "keyword",
            "value": text.lower(),
            "field": "title",
            "start": 0,
            "end": len(text),
            "text": text,
            "snippet": snippet,
        }

    event = make_event(
        title="Taliban <!channel> delisted & &amp; re-listed",
        link="https://news.test/a?x=1&y=|<z>",
        feed={"url": "https://news.test/rss", "title": "News <!here>"},
        evidence=[
            ev("Taliban", "The <@U123> council <https://evil.test|Click> said"),
            ev("delisted", "Second snippet"),
            ev("Taliban", "The <@U123> council <https://evil.test|Click> said"),
        ],
    )
    payload = render(event)
    assert payload == SNAPSHOT
    validate(payload)


def test_render_does_not_mutate_the_event():
    event = corpus_event()
    before = copy.deepcopy(event)
    render(event)
    assert event == before


# --- S2: hostile links -------------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "\x00javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
        "ftp://files.test/x",
        "mailto:a@b.test",
        "//evil.test/x",
        "https:evil.test",
        "http://",
        "http://[::1",  # urlsplit raises
        "",
        None,
    ],
)
def test_s2_non_http_links_are_not_linked(link):
    assert safe_link(link) is None
    payload = render(make_event(link=link, title="Click me"))
    validate(payload)
    section = payload["blocks"][1]["text"]["text"]
    assert section.startswith("*Click me*")
    for text in mrkdwn_texts(payload):
        rest = without_our_links(text, None)
        assert "<" not in rest and ">" not in rest
    blob = json.dumps(payload).lower()
    assert "javascript:" not in blob and "file:" not in blob and "data:" not in blob


def test_s2_link_control_characters_are_percent_encoded():
    assert safe_link("https://ok.test/a|b>c") == "https://ok.test/a%7Cb%3Ec"
    assert safe_link("https://ok.test/<x>?a=1&b=2") == "https://ok.test/%3Cx%3E?a=1&amp;b=2"
    assert safe_link("HTTPS://ok.test/a b") == "HTTPS://ok.test/a%20b"
    assert safe_link("https://ok.test/%7C") == "https://ok.test/%7C"  # not double-encoded
    payload = render(make_event(link="https://ok.test/a|b>c", title="T"))
    validate(payload)
    assert payload["blocks"][1]["text"]["text"] == (
        "*<https://ok.test/a%7Cb%3Ec|T>*\n> Taliban delisted by the council"
    )


@pytest.mark.parametrize(
    "link",
    [
        "https://ok.test/\ud800x",
        "https://ok.test/\u202eexe.txt",
        "https://ok.test/\x00a\nb",
        "https://ok.test/😀/ünï",
    ],
)
def test_s2_links_with_odd_characters_encode(link):
    url = safe_link(link)
    assert url is not None and url.isascii()
    assert not re.search(r"[\s<>|]", url)
    payload = render(make_event(link=link))
    validate(payload)


def test_s2_overlong_link_is_not_linked():
    link = "https://ok.test/" + "a" * 5000
    payload = render(make_event(link=link, title="T"))
    validate(payload)
    section = payload["blocks"][1]["text"]["text"]
    assert section.startswith("*T*")
    assert "<" not in without_our_links(section, None)


# --- S3: oversize content ----------------------------------------------------------------


def huge_event() -> dict[str, Any]:
    title = ("Tom & Jerry <b> " * 700)[:10_000]
    summary = "S&" * 50_000
    return make_event(
        title=title,
        summary=summary,
        link="https://ok.test/" + "&" * 1500,
        published="&" * 5000,
        feed={"url": "https://f.test/", "title": "&<>" * 10_000},
        rule={"id": "r", "title": "R&D " * 1000, "severity": "critical", "tags": []},
        evidence=[
            {
                "kind": "keyword",
                "value": f"kw{i}",
                "field": "summary",
                "start": i,
                "end": i + 3,
                "text": f"kw&{i}",
                "snippet": f"{i} " + "x&y<" * 25_000,
            }
            for i in range(300)
        ],
    )


def test_s3_oversize_event_fits_slack_limits():
    payload = render(huge_event())
    validate(payload)
    assert len(payload["blocks"]) <= 50
    assert len(payload["blocks"][0]["text"]["text"]) <= 150
    assert len(payload["blocks"][1]["text"]["text"]) <= 3000
    assert len(json.dumps(payload, ensure_ascii=False).encode()) < 40_000


def test_s3_section_budget_holds_with_a_long_linked_heading():
    # The longest link we still link, a full label and three long snippets.
    link = "https://ok.test/" + "a" * 1980
    event = make_event(
        title="&" * 1000,
        link=link,
        evidence=[
            {"text": "t", "snippet": f"{i} " + "&" * 5000, "kind": "keyword"} for i in range(5)
        ],
    )
    payload = render(event)
    validate(payload)
    section = payload["blocks"][1]["text"]["text"]
    assert section.startswith(f"*<{link}|")
    assert len(section) <= 3000
    assert section.count("\n> ") >= 1


def test_s3_status_header_is_capped():
    payload = render(status_event(subject="S" * 400, jurisdiction="J" * 400))
    validate(payload)
    header = payload["blocks"][0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("…")


@pytest.mark.parametrize("unit", ["a&b", "<&>", "&&&&", "x😀&", "😀😀"])
def test_s3_truncate_escaped_never_splits_an_entity(unit):
    text = unit * 50
    for limit in range(0, 60):
        out = truncate_escaped(text, limit)
        assert len(out) <= limit
        assert not ENTITY_RE.search(out), out
        out.encode("utf-8")
        visible = html.unescape(out.removesuffix("…")) if out else ""
        assert text.startswith(visible)


def test_s3_truncate_escaped_leaves_short_text_whole():
    assert truncate_escaped("a & b", 9) == "a &amp; b"
    assert truncate_escaped("a & b", 8) == "a &amp;…"
    assert truncate_escaped("a & b", 6) == "a …"  # not "a &am…"


def test_s3_emoji_truncation_is_whole_code_points():
    payload = render(make_event(title="😀" * 5000, rule={"title": "🔥" * 500, "id": "r"}))
    validate(payload)
    for _, value in walk(payload):
        if isinstance(value, str):
            assert not re.search("[\ud800-\udfff]", value)


# --- S4: Unicode and control characters --------------------------------------------------

NASTY = "a\u202eb\u200dc\u200bd\x00e\ud800f\udc00g😀h\u2066i\ufeffj\x1bk"


def nasty_event() -> dict[str, Any]:
    return make_event(
        title=f"T {NASTY}",
        summary=f"S {NASTY}",
        link=f"https://ok.test/{NASTY}",
        published=f"P {NASTY}",
        feed={"url": "https://f.test/", "title": f"F {NASTY}"},
        rule={"id": "r", "title": f"R {NASTY}", "severity": "low", "tags": []},
        evidence=[{"kind": "keyword", "text": f"E {NASTY}", "snippet": f"N {NASTY}"}],
    )


@pytest.mark.parametrize("event", [nasty_event(), status_event(subject=NASTY, to=NASTY)])
def test_s4_unicode_hazards_are_removed(event):
    payload = render(event)
    validate(payload)
    json.dumps(payload, ensure_ascii=False).encode("utf-8")
    for _, value in walk(payload):
        if not isinstance(value, str):
            continue
        assert "\x00" not in value and "\x1b" not in value
        assert not re.search("[\ud800-\udfff]", value)
        assert not any(ch in value for ch in BIDI)
        assert "\u200d" not in value and "\u200b" not in value and "\ufeff" not in value


def test_s4_four_byte_emoji_survive():
    payload = render(nasty_event())
    assert "😀" in payload["blocks"][1]["text"]["text"]
    assert "😀" in payload["blocks"][0]["text"]["text"]
    assert "😀" in payload["text"]


# --- status.changed ----------------------------------------------------------------------


def test_status_changed_header_shows_subject_jurisdiction_and_change():
    payload = render(status_event())
    validate(payload)
    assert payload["blocks"][0]["text"] == {
        "type": "plain_text",
        "text": "🟠 Taliban in Russia: designated → delisted",
        "emoji": True,
    }
    assert payload["text"].startswith("Taliban in Russia: designated → delisted: ")
    assert payload["blocks"][1]["text"]["text"].startswith(
        "*<https://news.test/a?x=1&amp;y=2|Taliban delisted>*"
    )


def test_status_changed_from_unknown():
    payload = render(status_event(**{"from": None}))
    assert payload["blocks"][0]["text"]["text"] == "🟠 Taliban in Russia: unknown → delisted"


def test_status_changed_fields_are_escaped_in_mrkdwn():
    payload = render(status_event(subject="<!channel>", jurisdiction="<@U1>", to="a&b"))
    validate(payload)
    header = payload["blocks"][0]["text"]["text"]
    assert header == "🟠 <!channel> in <@U1>: designated → a&b"  # plain_text: never parsed
    assert payload["text"].startswith("&lt;!channel&gt; in &lt;@U1&gt;: designated → a&amp;b")


# --- sparse events -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        {"type": "match.created"},
        {"type": "match.created", "rule": {"id": "r"}, "item": {"title": None}},
        {"type": "match.created", "rule": {"title": "", "severity": "weird"}, "evidence": []},
        {"type": "status.changed", "subject": "S", "to": "t"},
        make_event(title="", evidence=[{"snippet": None, "text": None}]),
    ],
)
def test_sparse_events_still_render_valid_payloads(event):
    payload = render(event)
    validate(payload)
    assert "None" not in payload["blocks"][1]["text"]["text"]
