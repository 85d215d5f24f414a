"""A fast path for well-formed RSS 2.0 and Atom 1.0: the fields monitor/parse.py reads, exactly
as feedparser's strict (expat) parser would give them, from the C ElementTree parser.

Pure. No I/O, and no feedparser import: feedparser's own helpers (date parser, URL join,
`looks_like_html`, its namespace table, ...) come in through `Hooks`, from monitor/parse.py.

`parse` returns (feed, entries) as plain dicts holding the subset of feedparser's keys that
parse.py reads, or raises `Decline` whenever it is not certain the answer is feedparser's:
not well-formed, a DOCTYPE, an unknown root, xml:base, xhtml, child elements inside a text
field, a field given twice, an element whose feedparser handler could touch a field. The
caller then runs feedparser. Declining is always safe; guessing is not.
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class Decline(Exception):
    """Not sure to match feedparser: use feedparser."""


@dataclass(frozen=True)
class Hooks:
    parse_date: Callable[[str], Any]  # feedparser.datetimes._parse_date
    urljoin: Callable[[str, str], str]  # feedparser.urls._urljoin
    looks_like_html: Callable[[str], bool]  # _FeedParserMixin.looks_like_html
    has_handler: Callable[[str], bool]  # feedparser has _start_KEY or _end_KEY
    namespaces: Mapping[str, str]  # lower-cased namespace URI -> feedparser's prefix
    cp1252: Mapping[int, str]  # feedparser.html._cp1252


ATOM = "http://www.w3.org/2005/Atom"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_HTML_TYPES = ("text/html", "application/xhtml+xml")

TITLE = {"title", "dc_title", "media_title"}
SUMMARY = {"description", "dc_description", "media_description", "summary", "itunes_summary"}
SUMMARY |= {"abstract"}
CONTENT = {"content_encoded", "fullitem", "content", "body", "xhtml_body"}
PUBLISHED = {"pubdate", "published", "issued", "dcterms_issued"}
UPDATED = {"updated", "modified", "lastbuilddate", "dc_date", "dcterms_modified"}
CREATED = {"created", "dcterms_created"}
DATES = {"published_parsed": PUBLISHED, "updated_parsed": UPDATED, "created_parsed": CREATED}
AUTHOR = {"author", "managingeditor", "dc_author", "dc_creator", "itunes_author"}
AUTHOR_PARTS = {"name", "email", "uri", "url", "homepage"}
# Elements with a feedparser handler that never touches a field parse.py reads (read in
# feedparser's namespaces/*.py): allowed anywhere their descendants are allowed too.
INERT = {
    "category", "dc_subject", "enclosure", "media_content", "media_thumbnail", "media_group",
    "media_credit", "media_keywords", "media_category", "media_rating", "media_player",
    "media_restriction", "media_license", "language", "dc_language", "rights", "copyright",
    "dc_rights", "subtitle", "tagline", "itunes_subtitle", "itunes_image", "itunes_explicit",
    "itunes_keywords", "itunes_block", "itunes_category", "expirationdate", "cloud",
    "generator", "webmaster", "dc_publisher", "width", "height",
}  # fmt: skip
# Feed level: also what sets only feed-level keys parse.py does not read.
FEED_INERT = INERT | SUMMARY | PUBLISHED | UPDATED | CREATED
FEED_INERT |= AUTHOR | AUTHOR_PARTS | {"contributor", "itunes_owner", "itunes_name"}
FEED_INERT |= {"itunes_email", "info"}
# Keys parse.py reads from an entry or the feed: a handler-less element of that name would
# be stored under it.
CRITICAL = {"id", "guid", "link", "links", "title", "title_detail", "summary", "content"}
CRITICAL |= {"summary_detail", "author", "author_detail", "authors", "ttl", "version"}
CRITICAL |= set(DATES)
IMAGE_PARTS = {"title", "link", "description", "url", "width", "height"}
TEXTINPUT_PARTS = {"title", "link", "description", "name"}

_HEAD = re.compile(rb"<\w")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)
_C1 = re.compile("[\x80-\x9f]")
_AMP_REF = re.compile("&([A-Za-z0-9_]+);")
# Absolute http(s) URLs that feedparser's urljoin returns as they are (most item links):
# a lower-case scheme, a host, no parameters (;), brackets or whitespace, and a query or
# fragment only when non-empty (urlunparse drops a bare "?" or "#"). Checked on printable
# ASCII only (urlsplit strips or removes some control characters).
_PLAIN_URL = re.compile(r"https?://[^/?#;\[\]\s]+(?:/[^?#;\s]*)?(?:\?[^#\s]+)?(?:#\S+)?")


class _Doc:
    def __init__(self, base: str, hooks: Hooks, atom: bool, decls: list[tuple[str, str]]):
        self.base = base
        self.hooks = hooks
        self.atom = atom
        self.keys: dict[str, str] = {}  # ElementTree tag -> feedparser key (prefix_local)
        self.generic: dict[str, bool] = {}
        known = hooks.namespaces
        canon = {p.lower() for p in known.values() if p}
        bound: dict[str, str] = {}
        self.unknown: dict[str, str] = {}  # unknown namespace URI -> its only prefix
        for prefix, uri in decls:
            if bound.setdefault(prefix, uri) != uri:
                raise Decline("a prefix bound to two namespaces")
            low = uri.lower()
            if "backend.userland.com/rss" in low or low in known:
                p = "" if "backend.userland.com/rss" in low else known[low].lower()
                if prefix and prefix != p and prefix in canon:
                    raise Decline("a feedparser prefix bound to another namespace")
            elif not prefix or prefix in canon or self.unknown.setdefault(uri, prefix) != prefix:
                raise Decline("an unknown namespace without one prefix of its own")

    def key(self, tag: str) -> str:
        key = self.keys.get(tag)
        if key is None:
            if tag[0] != "{":
                key = tag.lower()
            else:
                uri, local = tag[1:].split("}", 1)
                low = uri.lower()
                if "backend.userland.com/rss" in low:
                    prefix = ""
                elif low in self.hooks.namespaces:
                    prefix = self.hooks.namespaces[low].lower()
                elif uri in self.unknown:
                    prefix = self.unknown[uri]
                else:
                    raise Decline("element in an undeclared namespace")
                key = f"{prefix}_{local.lower()}" if prefix else local.lower()
            self.keys[tag] = key
        return key

    def is_generic(self, key: str) -> bool:
        """feedparser keeps it under its own name: harmless unless that name is a field."""
        g = self.generic.get(key)
        if g is None:
            g = self.generic[key] = key not in CRITICAL and not self.hooks.has_handler(key)
        return g

    def fix(self, s: str) -> str:
        """feedparser's pop(): undo UTF-8 read as Latin-1, map C1 controls as cp1252."""
        if s.isascii():
            return s
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            s = s.encode("iso-8859-1").decode("utf-8")
        # translate() with a dict is slow on long texts; C1 controls are rare.
        return s.translate(self.hooks.cp1252) if _C1.search(s) else s

    def resolve(self, uri: str) -> str:
        if uri.isascii() and uri.isprintable() and _PLAIN_URL.fullmatch(uri):
            return uri  # what urljoin would return, without its two parses (tests agree)
        return self.hooks.urljoin(self.base, uri)

    def check(self, el: ET.Element, allowed: set[str]) -> bool:
        """`el` and its descendants may only be allowed or handler-less elements. True
        when one is a media:title (which feedparser ignores after a non-empty title)."""
        media_title = False
        for sub in el.iter():
            if sub.attrib and ("base" in sub.attrib or _XML_BASE in sub.attrib):
                raise Decline("xml:base")
            key = self.key(sub.tag)
            if key == "media_title" and "media_title" in allowed:
                media_title = True
            elif key not in allowed and not self.is_generic(key):
                raise Decline(f"element {key}")
        return media_title

    def leaf(self, el: ET.Element) -> str:
        if len(el) or el.attrib and ("base" in el.attrib or _XML_BASE in el.attrib):
            raise Decline("markup or xml:base inside a text element")
        return (el.text or "").strip()

    def text_construct(self, el: ET.Element, default: str) -> tuple[str, str]:
        """push_content/pop_content: the text and its content type."""
        attrs = _attrs(el, self.hooks.namespaces)
        if "mode" in attrs:
            raise Decline("mode attribute")
        ctype = _map_type(attrs.get("type", default))
        if ctype == "application/xhtml+xml":
            raise Decline("xhtml")
        if not (ctype.startswith("text/") or ctype.endswith(("+xml", "/xml"))):
            raise Decline("base64 content")
        text = self.leaf(el)
        if not self.atom and ctype == "text/plain" and self.hooks.looks_like_html(text):
            ctype = "text/html"
        return self.fix(text), ctype

    def link(self, el: ET.Element, ctx: dict[str, Any], entry: bool) -> None:
        attrs = _attrs(el, self.hooks.namespaces)
        rel = attrs.setdefault("rel", "alternate")
        attrs.setdefault("type", "application/atom+xml" if rel == "self" else "text/html")
        href = attrs.get("url", attrs.get("uri", attrs.get("href")))
        if href:
            attrs["href"] = href
        if "href" in attrs:
            if len(el) or el.text and el.text.strip():
                raise Decline("text inside a link with href")
            href = self.resolve(attrs["href"])
            if rel == "alternate" and _map_type(attrs["type"]) in _HTML_TYPES:
                ctx["link"] = href
            return
        text = self.leaf(el)
        if text:
            text = self.resolve(text)
        text = self.fix(text)
        if entry:
            text = text.replace("&amp;", "&")
        ctx["link"] = _AMP_REF.sub(r"&\g<1>", text)

    def guid(self, el: ET.Element, ctx: dict[str, Any]) -> None:
        attrs = _attrs(el, self.hooks.namespaces)
        is_link = attrs.get("ispermalink", "true") == "true"
        value = self.leaf(el)
        if value and is_link:
            value = self.resolve(value)
        value = self.fix(value)
        ctx["id"] = value
        if is_link:
            ctx.setdefault("link", value)

    def author(self, el: ET.Element) -> str:
        if not len(el):
            return self.fix(self.leaf(el))
        detail: dict[str, str] = {}
        own = el.text or ""
        for part in el:
            key = self.key(part.tag)
            if key not in AUTHOR_PARTS or part.attrib:
                raise Decline(f"author part {key}")
            value = self.leaf(part)
            detail[key if key in ("name", "email") else "href"] = value
            own += part.tail or ""
        if own.strip():
            raise Decline("text around author parts")
        name, email = detail.get("name"), detail.get("email")
        if name and email:
            return f"{name} ({email})"
        return name or email or ""

    def entry(self, item: ET.Element) -> dict[str, Any]:
        if item.attrib:
            attrs = _attrs(item, self.hooks.namespaces)
            if {"href", "lastmod", "rdf:about", "base", "xml:base"} & attrs.keys():
                raise Decline("item attributes")
        e: dict[str, Any] = {}
        st = _EntryState()
        for child in item:
            key = self.key(child.tag)
            group = _GROUP.get(key)
            if group is None or key in SUMMARY or key == "media_title":
                self.nested(child, key, 1, e, st)
            elif group == "title":
                if st.title:
                    raise Decline("two titles")
                st.title = True
                e["title"], ctype = self.text_construct(child, "text/plain")
                e["title_detail"] = {"type": ctype}
            elif group == "content":
                if key not in ("content_encoded", "fullitem", "content"):
                    raise Decline("body")
                st.has_content = True
                self.content(child, "text/plain" if key == "content" else "text/html", e)
            elif group == "link":
                self.link(child, e, entry=True)
            elif group == "id":
                self.guid(child, e)
            elif group == "author":
                if child.attrib or "author" in e:
                    raise Decline("author attributes, or two authors")
                e["author"] = self.author(child)
            else:  # a date: the last of its kind wins
                if child.attrib:
                    raise Decline("date attributes")
                e[group] = self.hooks.parse_date(self.fix(self.leaf(child)))
        if st.media_title and not e.get("title"):
            # A media:title is overridden by, or ignored after, a non-empty <title>: see
            # feedparser's _end_title (title_depth) and _end_media_title.
            raise Decline("media:title without a title")
        return e

    def nested(self, el: ET.Element, key: str, depth: int, e: dict[str, Any], st: Any) -> None:
        """An entry's element that is not one of its direct fields, at `depth` below it."""
        if el.attrib and ("base" in el.attrib or _XML_BASE in el.attrib):
            raise Decline("xml:base")
        if key in SUMMARY:
            self.summary(el, key, depth, e, st)
            return
        if key == "media_title":
            st.media_title = True
            if len(el):
                raise Decline("markup in media:title")
            return
        if key not in INERT and not self.is_generic(key):
            raise Decline(f"element {key}")
        for sub in el:
            self.nested(sub, self.key(sub.tag), depth + 1, e, st)

    def summary(self, el: ET.Element, key: str, depth: int, e: dict[str, Any], st: Any) -> None:
        """_start_description/_start_summary/_start_abstract and their ends, with the
        depth rule of feedparser's pop() (a deeper summary keeps the shallower one's text
        but replaces its summary_detail)."""
        if key != "abstract" and "summary" in e and not st.has_content:
            st.has_content = True  # read as content (_summaryKey = 'content')
            self.content(el, "text/plain", e)
            return
        default = "text/html" if key.endswith("description") else "text/plain"
        text, ctype = self.text_construct(el, default)
        if st.summary_depth is None or depth <= st.summary_depth:
            st.summary_depth = depth
            e["summary"] = text
        e["summary_detail"] = {"type": ctype}

    def content(self, el: ET.Element, default: str, e: dict[str, Any]) -> None:
        ctype = _map_type(_attrs(el, self.hooks.namespaces).get("type", default))
        value, ctype2 = self.text_construct(el, default)
        e.setdefault("content", []).append({"type": ctype2, "value": value})
        if ctype in ("text/plain", *_HTML_TYPES):
            e.setdefault("summary", value)  # _save: no depth recorded

    def feed(self, channel: ET.Element, item_key: str) -> tuple[dict[str, Any], list[Any]]:
        feed: dict[str, Any] = {}
        entries = []
        titles = 0
        for child in channel:
            key = self.key(child.tag)
            if child.attrib and ("base" in child.attrib or _XML_BASE in child.attrib):
                raise Decline("xml:base")
            if key == item_key:
                entries.append(self.entry(child))
            elif key == "title":
                titles += 1
                if titles > 1:
                    raise Decline("two feed titles")
                feed["title"], _ = self.text_construct(child, "text/plain")
            elif key == "link":
                self.link(child, feed, entry=False)
            elif key in ("id", "guid"):
                self.guid(child, feed)
            elif key == "ttl":
                if child.attrib:
                    raise Decline("ttl attributes")
                feed["ttl"] = self.fix(self.leaf(child))
            elif key in ("image", "textinput") and not self.atom:
                parts = IMAGE_PARTS if key == "image" else TEXTINPUT_PARTS
                for part in child:
                    if self.key(part.tag) not in parts:
                        raise Decline(f"{key} part")
                    self.check(part, parts)
            else:
                self.check(child, FEED_INERT)
        return feed, entries


_ITEM_INERT = INERT | {"media_title"}
_GROUP = {k: "title" for k in TITLE} | {k: "summary" for k in SUMMARY}
_GROUP |= {k: "content" for k in CONTENT} | {k: "author" for k in AUTHOR}
_GROUP |= {"link": "link", "guid": "id", "id": "id"}
_GROUP |= {k: group for group, keys in DATES.items() for k in keys}


class _EntryState:
    def __init__(self) -> None:
        self.title = self.has_content = self.media_title = False
        self.summary_depth: int | None = None


def _map_type(ctype: str) -> str:
    ctype = ctype.lower()
    return {"text": "text/plain", "plain": "text/plain", "html": "text/html"}.get(
        ctype, "application/xhtml+xml" if ctype == "xhtml" else ctype
    )


def _attrs(el: ET.Element, known: Mapping[str, str]) -> dict[str, str]:
    """Attributes as feedparser's strict parser names them: lower-cased, known namespaces
    by feedparser's prefix, unknown ones by local name; rel and type values lower-cased."""
    out = {}
    for name, value in el.attrib.items():
        if name[0] == "{":
            uri, local = name[1:].split("}", 1)
            prefix = known.get(uri.lower(), "")
            name = f"{prefix}:{local}" if prefix else local
        name = name.lower()
        out[name] = value.lower() if name in ("rel", "type") else value
    return out


def parse(data: bytes, base: str, hooks: Hooks) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(feed, entries) from UTF-8 `data` as feedparser.encodings.convert_to_utf8 left it,
    with `base` the base URI feedparser would use throughout; or Decline."""
    head = _HEAD.search(data)
    if head is None or _DOCTYPE.search(data, 0, head.start()):
        raise Decline("DOCTYPE")
    parser: ET.XMLPullParser[Any] = ET.XMLPullParser(events=("start-ns",))
    try:
        parser.feed(data)
        decls: list[tuple[str, str]] = [ev[1] for ev in parser.read_events()]  # type: ignore[misc]
        root: ET.Element = parser._close_and_return_root()  # type: ignore[attr-defined]
    except ET.ParseError as e:
        raise Decline(f"not well-formed: {e}") from e
    if root.tag == "rss":
        doc = _Doc(base, hooks, False, decls)
        channel = None
        for child in root:
            if child.tag == "channel" and channel is None:
                channel = child
            else:
                doc.check(child, INERT)
        if channel is None or root.attrib.keys() - {"version"} or channel.attrib:
            raise Decline("rss without one plain channel")
        return doc.feed(channel, "item")
    if root.tag == f"{{{ATOM}}}feed":
        if any(uri.lower() in _NOT_ATOM for _, uri in decls):
            raise Decline("RSS 1.0 namespace in Atom")
        doc = _Doc(base, hooks, True, decls)
        if root.attrib and ("base" in root.attrib or _XML_BASE in root.attrib):
            raise Decline("xml:base")
        return doc.feed(root, "entry")
    raise Decline(f"root element {root.tag}")


_NOT_ATOM = {"http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"}
