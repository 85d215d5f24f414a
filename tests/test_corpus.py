"""Real-world feeds, as served, through the whole fetch + parse path.

The corpus (tests/fixtures/corpus/, copied from shared/corpus; see its README.md) holds 2020-21
snapshots of news, blog and podcast feeds, plus broken snapshots: HTML error pages, truncated
downloads, mismatched tags. Each document must yield normalised items (a key, and a title or
summary) or a clear per-feed error; nothing may crash or hang; the same bytes must always give
the same keys.
"""

from __future__ import annotations

import asyncio

import pytest
from conftest import FIXTURES, LocalServer

from monitor.errors import FeedParseError, FetchError
from monitor.fetch import Fetcher
from monitor.netguard import AddressPolicy
from monitor.parse import ParsedFeed, parse_feed
from rules.text import clean_text

CORPUS = FIXTURES / "corpus" / "feeds"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file())
NAMES = [str(p.relative_to(CORPUS)) for p in FILES]

# Documents in real/ that are not feeds at all (an empty file, HTML error pages saved in
# place of the feed). Everything else in real/ must parse.
REAL_NON_FEEDS = {
    "real/dailytelegraph.xml",
    "real/animatedstoriesfromthebible.xml",
    "real/popularparablesofjesus.xml",
}


def test_corpus_is_present():
    assert len([n for n in NAMES if n.startswith("real/")]) >= 60
    assert len([n for n in NAMES if n.startswith("malformed/")]) >= 5


Fetched = tuple[bytes, str | None, str] | FetchError


@pytest.fixture(scope="module")
def fetched() -> dict[str, Fetched]:
    """Every corpus file served from one loopback server, fetched through one Fetcher."""
    server = LocalServer()
    try:
        urls = {
            # No charset: the XML declaration (or the BOM) decides, as for most servers.
            name: server.feed(
                "/" + name, path.read_bytes(), headers={"Content-Type": "application/rss+xml"}
            )
            for path, name in zip(FILES, NAMES, strict=True)
        }
        return asyncio.run(_fetch_all(urls))
    finally:
        server.close()


async def _fetch_all(urls: dict[str, str]) -> dict[str, Fetched]:
    async with Fetcher(AddressPolicy(allowed=["127.0.0.1/32"]), timeout=10.0) as f:

        async def one(url: str) -> Fetched:
            try:
                r = await f.fetch(url)
            except FetchError as e:
                return e
            return r.body, r.headers.get("content-type"), r.url

        # One at a time: ThreadingHTTPServer's listen backlog is 5, and dropped SYNs cost a
        # 1 s retransmit each. Keep-alive makes this fast anyway.
        return {name: await one(url) for name, url in urls.items()}


def _check(feed: ParsedFeed) -> None:
    keys = [i.key for i in feed.items]
    assert all(k and k.strip() for k in keys)
    assert len(set(keys)) == len(keys), "duplicate keys within one document"
    for item in feed.items:
        assert (item.title or item.summary).strip(), item
        assert item.published is None or item.published.tzinfo is not None
        # Clean plain text, as stored and as the matcher takes it without converting again
        # (RuleSet.prepare(item, html=False)): a line per HTML block.
        for text in (item.title, item.summary, item.content):
            assert clean_text(text, lines=True) == text, item


@pytest.mark.timeout(15)
@pytest.mark.parametrize("name", NAMES)
def test_corpus_document(fetched, name):
    result = fetched[name]
    if isinstance(result, FetchError):  # acceptable in principle, never on loopback
        pytest.fail(f"{name}: loopback fetch failed: {result.reason}")
    body, content_type, url = result
    assert body == (CORPUS / name).read_bytes()
    try:
        feed = parse_feed(body, content_type, url)
    except FeedParseError as e:
        assert str(e), "a parse error must say why"
        assert name.startswith("malformed/") or name in REAL_NON_FEEDS, f"{name}: {e}"
        return
    assert name not in REAL_NON_FEEDS, f"{name} was expected to be refused"
    _check(feed)
    if name.startswith("real/"):
        assert feed.items, f"{name}: a real feed gave no items"
    again = parse_feed(body, content_type, url)
    assert [i.key for i in again.items] == [i.key for i in feed.items]
    assert again == feed


def test_truncated_snapshot_keeps_keys_of_the_full_feed():
    """A truncated download must not invent keys that the full feed would not have: the
    items it recovers are keyed exactly as in the complete snapshot of the same feed."""
    full = parse_feed((CORPUS / "real" / "fox.xml").read_bytes())
    full_keys = {i.key for i in full.items}
    for snapshot in sorted((CORPUS / "malformed").glob("fox.xml_*")):
        feed = parse_feed(snapshot.read_bytes())
        assert feed.items and feed.warning
        unknown = [i.key for i in feed.items if i.key not in full_keys]
        # Snapshots are from other days, so other stories are fine; the keys must still be
        # plain guids/links, never position-disambiguated or hashed placeholders.
        assert all(k.startswith("https://") and "|" not in k for k in unknown), unknown
