"""Parsing hostile, broken and odd feed bytes (RELIABILITY.md §5: F7, F14, I1, I2).

F8 (feedparser only ever gets bytes) is the AST test in test_layout.py.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator

import pytest
from conftest import LocalServer, rss
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import FeedParseError
from monitor.items import assign_keys, content_key, item_id
from monitor.parse import parse_feed

UTC = dt.UTC


@pytest.fixture(scope="module")
def recorder() -> Iterator[LocalServer]:
    """A loopback server that records any request: external DTDs must never reach it."""
    s = LocalServer()
    yield s
    s.close()


def _refused_fast(body: bytes, content_type: str | None = None) -> FeedParseError:
    start = time.monotonic()
    with pytest.raises(FeedParseError) as info:
        parse_feed(body, content_type)
    assert time.monotonic() - start < 1.0
    return info.value


def _doc(doctype: str, title: str = "t") -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n{doctype}\n'
        '<rss version="2.0"><channel><title>Feed</title>'
        f"<item><guid>1</guid><title>{title}</title><description>d</description></item>"
        "</channel></rss>"
    )


# --- F7: XML attacks ------------------------------------------------------------------------


def _billion_laughs(one_line: bool) -> bytes:
    decls = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    sep = "" if one_line else "\n"
    return _doc(f"<!DOCTYPE rss [{sep}{sep.join(decls)}{sep}]>", "&lol9;").encode()


@pytest.mark.parametrize("one_line", [False, True])
def test_f7_billion_laughs_refused(one_line):
    assert "entity" in str(_refused_fast(_billion_laughs(one_line)))


def test_f7_quadratic_blowup_refused():
    """One 200 KB entity referenced 2,000 times: stock feedparser took 29 s and 1.19 GB."""
    body = _doc(f'<!DOCTYPE rss [<!ENTITY a "{"x" * 200_000}">]>', "&a;" * 2000).encode()
    assert len(body) > 200_000
    assert "entity declarations" in str(_refused_fast(body))


def test_f7_doctype_smuggling_refused():
    """An entity value containing ']>' ends a naive DOCTYPE regex early (LIBRARIES.md §2)."""
    body = _doc(
        '<!DOCTYPE rss [<!ENTITY x "]>">]>\n<!DOCTYPE rss [<!ENTITY a "' + "x" * 1000 + '">]>',
        "&a;" * 100,
    ).encode()
    _refused_fast(body)


def test_f7_xxe_file_sentinel_never_read(tmp_path):
    sentinel = tmp_path / "sentinel.txt"
    sentinel.write_text("SENTINEL-7f3a9c")
    for decl in (
        f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{sentinel}">]>',
        f'<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM\n  "{sentinel}">\n]>',
    ):
        err = _refused_fast(_doc(decl, "&xxe;").encode())
        assert "SENTINEL" not in str(err)


def test_f7_parameter_entity_and_external_dtd_never_fetched(recorder):
    dtd = f"{recorder.url}/evil.dtd"
    for decl in (
        f'<!DOCTYPE rss [<!ENTITY % p SYSTEM "{dtd}"> %p;]>',
        f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{dtd}">]>',
    ):
        _refused_fast(_doc(decl, "&xxe;").encode())
    assert recorder.requests == []


def test_f7_external_doctype_without_entities_parses_offline(recorder):
    """The RSS 0.91 Netscape DOCTYPE names an external DTD: it parses, nothing is fetched."""
    before = len(recorder.requests)
    for decl in (
        f'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        f'"{recorder.url}/rss-0.91.dtd">',
        f'<!DOCTYPE rss SYSTEM "{recorder.url}/other.dtd">',
    ):
        feed = parse_feed(_doc(decl, "Hello").encode())
        assert [i.title for i in feed.items] == ["Hello"]
    assert len(recorder.requests) == before


def _small_blowup() -> str:
    """2 KB x 200 references: small enough to stay cheap if the pre-screen ever regresses."""
    return _doc(f'<!DOCTYPE rss [\n<!ENTITY e "{"A" * 2000}">\n]>', "&e;" * 200)


@pytest.mark.parametrize(
    ("encoding", "content_type"),
    [
        ("utf-16", None),  # with BOM
        ("utf-16-le", None),
        ("utf-16-be", None),
        ("utf-32", None),  # feedparser converts these to UTF-8 before its entity handling
        ("utf-32-le", None),
        ("utf-32-be", None),
        ("cp037", None),  # EBCDIC, sniffed from '<?xm'
    ],
)
def test_f7_entity_declaration_in_other_encodings_refused(encoding, content_type):
    body = _small_blowup().replace('encoding="utf-8"', f'encoding="{encoding}"').encode(encoding)
    assert b"<!ENTITY" not in body  # the raw-byte pattern cannot see it
    assert "entity declarations" in str(_refused_fast(body, content_type))


def test_f7_entity_declaration_in_utf7_charset_refused():
    """UTF-7 named by the HTTP charset: '<' is '+ADw-' on the wire."""
    body = _small_blowup().replace("<!ENTITY", "+ADw-!ENTITY").encode()
    _refused_fast(body, "application/xml; charset=utf-7")


# --- F14: malformed and non-feed content ----------------------------------------------------

THREE = rss(
    [
        {"guid": f"g{i}", "title": f"Title {i}", "description": f"Body {i}", "link": f"/s/{i}"}
        for i in range(3)
    ]
)


def test_f14_truncated_xml_uses_recovered_entries():
    cut = THREE[: THREE.index(b"<title>Title 2")]
    feed = parse_feed(cut, "application/rss+xml")
    assert [i.title for i in feed.items][:2] == ["Title 0", "Title 1"]
    assert feed.warning  # bozo is reported, not fatal


def test_f14_truncated_entry_without_text_is_skipped():
    """A cut after the last entry's guid left a hollow item; stored as seen, it would have
    hidden the full entry on the next poll."""
    cut = THREE[: THREE.index(b"<title>Title 2")] + b"<link>https://example.org/x</link>"
    full_keys = [i.key for i in parse_feed(THREE).items]
    feed = parse_feed(cut)
    assert [i.key for i in feed.items] == full_keys[:2]
    assert feed.warning and "skipped" in feed.warning


def test_f14_undefined_entity_in_xml():
    body = rss([{"guid": "1", "title": "A B", "description": "x"}]).replace(b"A B", b"A&nbsp;B")
    feed = parse_feed(body, "application/rss+xml")
    assert len(feed.items) == 1
    assert feed.items[0].title.replace("\xa0", " ") == "A B"
    assert feed.warning  # undefined entity: the strict parser gave up, the loose one recovered


LATIN1 = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>f</title>'
    "<item><guid>1</guid><title>Caf\u00e9 na\u00efve</title></item></channel></rss>"
).encode("latin-1")


def test_f14_wrong_declared_encoding_does_not_crash():
    feed = parse_feed(LATIN1, "application/rss+xml; charset=utf-8")
    # Not UTF-8 after all: feedparser falls back to windows-1252 and says so.
    assert [i.title for i in feed.items] == ["Caf\u00e9 na\u00efve"]
    assert feed.warning


def test_f14_http_charset_wins():
    feed = parse_feed(LATIN1, "application/rss+xml; charset=iso-8859-1")
    assert feed.items[0].title == "Caf\u00e9 na\u00efve"


HTML = b"""<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>
<body><h1>Bad Gateway</h1><p>The proxy server received an invalid response.</p></body></html>"""


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (HTML, "text/html; charset=utf-8"),
        (HTML, None),
        (b'{"version": "https://jsonfeed.org/version/1", "items": [{"id": "1"}]}', None),
        (b'{"items": []}', "application/json"),
        (b"just some text\n", "text/plain"),
    ],
    ids=["html", "html-no-type", "jsonfeed", "json", "text"],
)
def test_f14_not_a_feed(body, content_type):
    err = _refused_fast(body, content_type)
    assert "not a feed" in str(err)


@pytest.mark.parametrize("body", [b"", b"   \n\t  ", b"\x00" * 10])
def test_f14_empty_or_blank_body(body):
    with pytest.raises(FeedParseError):
        parse_feed(body)


def test_f14_random_binary_is_an_error_not_a_crash():
    body = random.Random(7).randbytes(5_000_000)
    start = time.monotonic()
    with pytest.raises(FeedParseError):
        parse_feed(body, "application/octet-stream")
    assert time.monotonic() - start < 5.0


def test_f14_oversized_input_refused_before_parsing():
    with pytest.raises(FeedParseError, match="larger than"):
        parse_feed(THREE, max_bytes=len(THREE) - 1)


def test_f14_valid_feed_without_items_is_not_an_error():
    feed = parse_feed(rss([], title="Quiet"))
    assert feed.items == [] and feed.title == "Quiet" and feed.warning is None


@pytest.mark.parametrize(("ttl", "expected"), [("60", 60), ("\u00b2", None), ("9" * 5000, None)])
def test_f14_ttl_is_read_safely(ttl, expected):
    body = THREE.replace(b"<title>Test feed</title>", f"<ttl>{ttl}</ttl>".encode())
    assert parse_feed(body).ttl_minutes == expected


# --- I1: identity -------------------------------------------------------------------------


def test_i1_duplicate_guids_get_distinct_stable_keys():
    body = rss(
        [
            {"guid": "same", "title": "One", "link": "https://example.org/1"},
            {"guid": "same", "title": "Two", "link": "https://example.org/2"},
            {"guid": "same", "title": "Three"},
        ]
    )
    keys = [i.key for i in parse_feed(body).items]
    assert len(set(keys)) == 3
    assert keys[0] == "same"  # the first keeps the guid as-is
    assert keys == [i.key for i in parse_feed(body).items]


def test_i1_fallbacks_link_then_content_hash():
    body = rss(
        [
            {"title": "Linked", "link": "https://example.org/a", "description": "x"},
            {"title": "Bare", "description": "no guid, no link"},
        ]
    )
    linked, bare = parse_feed(body).items
    assert linked.key == "https://example.org/a"
    assert bare.key == content_key("Bare", "no guid, no link")
    assert bare.key.startswith("sha256:")
    assert [i.key for i in parse_feed(body).items] == [linked.key, bare.key]


def test_i1_content_hash_key_is_the_one_a_one_line_summary_had():
    # Summaries keep a line per HTML block; items keyed by their text before that (stored
    # as one line) keep their keys, so an upgrade alerts on none of them again.
    body = rss([{"title": "Bare", "description": "<p>First part</p><p>second part</p>"}])
    (item,) = parse_feed(body).items
    assert item.summary == "First part\nsecond part"
    assert item.key == content_key("Bare", "First part second part")


def test_i1_same_guid_in_two_feeds_gives_two_ids():
    assert item_id("https://a.example/feed", "g1") != item_id("https://b.example/feed", "g1")
    assert item_id("https://a.example/feed", "g1") == item_id("https://a.example/feed", "g1")


def test_i1_keys_survive_reordering_of_distinct_items():
    items = [{"guid": f"g{i}", "title": f"T{i}"} for i in range(5)]
    forward = {i.title: i.key for i in parse_feed(rss(items)).items}
    backward = {i.title: i.key for i in parse_feed(rss(items[::-1])).items}
    assert forward == backward


def test_i1_a_guid_that_looks_like_a_disambiguated_key():
    """A feed whose guids include 'a|2' plus two 'a's gave the key 'a|2' twice."""
    keys = assign_keys([("a|2", None, "", ""), ("a", None, "", ""), ("a", None, "", "")])
    assert len(set(keys)) == 3


_piece = st.sampled_from(["a", "b", "a|1", "a|2", "a|x", "x", "", " "])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.none() | _piece,
            st.none() | st.sampled_from(["x", "y", "a|1"]),
            st.sampled_from(["", "t"]),
            st.sampled_from(["", "s"]),
        ),
        max_size=12,
    )
)
def test_i1_keys_are_always_unique_and_deterministic(raw):
    keys = assign_keys(raw)
    assert len(keys) == len(raw)
    assert len(set(keys)) == len(keys)
    assert assign_keys(list(raw)) == keys


# --- I2: dates ----------------------------------------------------------------------------


def test_i2_odd_dates_never_crash():
    body = rss(
        [
            {"guid": "missing", "title": "no date"},
            {"guid": "garbage", "title": "bad date", "pubDate": "yesterday-ish"},
            {"guid": "future", "title": "future", "pubDate": "Fri, 01 Jan 2100 00:00:00 GMT"},
            {"guid": "old", "title": "old", "pubDate": "Mon, 01 Jan 1990 12:00:00 GMT"},
            {"guid": "zero", "title": "zero", "pubDate": "Mon, 01 Jan 0001 00:00:00 GMT"},
            {"guid": "huge", "title": "huge", "pubDate": "Fri, 31 Dec 99999 23:59:59 GMT"},
        ]
    )
    by_key = {i.key: i.published for i in parse_feed(body).items}
    assert set(by_key) == {"missing", "garbage", "future", "old", "zero", "huge"}
    assert by_key["missing"] is None
    assert by_key["garbage"] is None
    assert by_key["future"] == dt.datetime(2100, 1, 1, tzinfo=UTC)
    assert by_key["old"] == dt.datetime(1990, 1, 1, 12, tzinfo=UTC)
    for key in ("zero", "huge"):
        value = by_key[key]
        assert value is None or value.tzinfo is not None


_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "sat", "SUN"]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@settings(max_examples=2000, deadline=None)
@given(
    day=st.sampled_from(["", *(d + ", " for d in _DAYS)]),
    date=st.tuples(
        st.integers(0, 39).map(str) | st.integers(0, 9).map("0{}".format),
        st.sampled_from(_MONTHS + [m.upper() for m in _MONTHS]),
        st.integers(1, 9999).map("{:04d}".format),
    ),
    clock=st.tuples(*[st.integers(0, 99).map("{:02d}".format)] * 3),
    zone=st.sampled_from(["GMT", "gmt", "UT", "Z", "UTC", "EST"])
    | st.tuples(st.sampled_from("+-"), st.integers(0, 9999)).map(lambda t: f"{t[0]}{t[1]:04d}"),
)
def test_i2_common_rfc822_dates_read_exactly_as_feedparser_reads_them(day, date, clock, zone):
    # newsmon reads this form itself (faster); out-of-range parts and unknown zones too.
    import feedparser.datetimes

    from monitor.parse import parse_date

    text = f"{day}{' '.join(date)} {':'.join(clock)} {zone}"
    assert parse_date(text) == feedparser.datetimes._parse_date(text)


def test_i2_atom_updated_used_when_no_published():
    body = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>a</title>'
        b"<entry><id>urn:1</id><title>x</title><updated>2024-02-29T10:00:00+02:00</updated>"
        b"</entry></feed>"
    )
    (item,) = parse_feed(body).items
    assert item.published == dt.datetime(2024, 2, 29, 8, tzinfo=UTC)
