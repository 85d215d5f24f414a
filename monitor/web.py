"""The review web UI: recent matches with their evidence, labels, feeds and the ledger.

A small standard-library HTTP server (one thread per request, its own SQLite connection per
request). Read-only except for review labels, which need the page's per-process token, so
another site cannot label through the reviewer's browser. Every value is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from monitor.health import destination_health, feed_health
from monitor.ledgerview import ledger_view
from monitor.slack import safe_link
from storage import NotFoundError, StorageError, Store, ts

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem;color:#222}
nav a{margin-right:1rem} table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
.sev-critical{color:#b00;font-weight:bold}.sev-high{color:#c60}.ev{color:#555;font-size:13px}
mark{background:#ffe58a}.label-relevant{color:#070}.label-irrelevant{color:#888}
form.inline{display:inline}button{font-size:12px}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{_e(title)} - newsmon</title><style>{_STYLE}</style></head><body>"
        "<nav><a href='/'>Matches</a><a href='/status'>Legal status</a>"
        "<a href='/feeds'>Feeds</a><a href='/deliveries'>Deliveries</a></nav>"
        f"<h1>{_e(title)}</h1>{body}</body></html>"
    ).encode()


def _highlight(snippet: str, text: str) -> str:
    """The snippet, escaped, with the matched text marked. A snippet is one line: evidence
    that spans two paragraphs reads with a space where the line break is."""
    text = text.replace("\n", " ")
    if text and text in snippet:
        before, _, after = snippet.partition(text)
        return f"{_e(before)}<mark>{_e(text)}</mark>{_e(after)}"
    return _e(snippet)


class ReviewApp:
    """Renders pages from a Store opened per request (sqlite3 objects stay in one thread)."""

    def __init__(self, database: str, now: Callable[[], dt.datetime]) -> None:
        self.database = database
        self.now = now
        self.token = secrets.token_urlsafe(16)

    @contextmanager
    def _store(self) -> Iterator[Store]:
        """A connection for one request (sqlite3 objects stay in the thread that made them)."""
        store = Store(self.database)
        try:
            yield store
        finally:
            store.close()

    def matches(self, query: dict[str, list[str]]) -> bytes:
        rule = (query.get("rule") or [""])[0]
        label = (query.get("label") or [""])[0]
        search = (query.get("q") or [""])[0]
        with self._store() as store:
            if search:
                try:
                    rows = store.search_matches(search, 200)
                except StorageError:
                    rows = []
            else:
                rows = store.matches(rule_id=rule or None, limit=200, label=label or None)
        out = [
            "<form method='get'><input name='q' placeholder='search' value='"
            + _e(search)
            + "'> <button>Search</button> "
            "<a href='/?label=none'>unreviewed</a> · <a href='/?label=relevant'>relevant</a>"
            " · <a href='/?label=irrelevant'>irrelevant</a></form>",
            "<table><tr><th>when</th><th>rule</th><th>item</th><th>review</th></tr>",
        ]
        for r in rows:
            link = safe_link(r["link"])
            title = _e(r["title"] or "(no title)")
            item = f"<a href='{_e(link)}' rel='noopener noreferrer'>{title}</a>" if link else title
            evidence = json.loads(r["evidence"] or "[]")[:3]
            ev = "".join(
                f"<div class='ev'>{_e(x.get('field'))}: "
                f"{_highlight(x.get('snippet', ''), x.get('text', ''))}</div>"
                for x in evidence
            )
            feed = _e(r["feed_title"] or r["feed_url"] or "")
            buttons = "".join(
                f"<form class='inline' method='post' action='/matches/{r['id']}/label'>"
                f"<input type='hidden' name='token' value='{self.token}'>"
                f"<button name='label' value='{v}'>{v}</button></form>"
                for v in ("relevant", "irrelevant")
            )
            lab = r["label"] or ""
            rule_href = "/?" + urlencode({"rule": r["rule_id"]})
            out.append(
                f"<tr><td>{_e(r['created_at'][:16])}</td>"
                f"<td class='sev-{_e(r['severity'])}'><a href='{_e(rule_href)}'>"
                f"{_e(r['rule_id'])}</a></td>"
                f"<td>{item}<div class='ev'>{feed} · {_e(r['published'] or '')}</div>{ev}</td>"
                f"<td><span class='label-{_e(lab)}'>{_e(lab)}</span> {buttons}</td></tr>"
            )
        out.append("</table>")
        return _page("Matches", "".join(out))

    def label(self, match_id: int, form: dict[str, list[str]]) -> None:
        if (form.get("token") or [""])[0] != self.token:
            raise PermissionError("bad token")
        value = (form.get("label") or [""])[0]
        if value not in ("relevant", "irrelevant", "none"):
            raise ValueError(value)
        with self._store() as store:
            store.label_match(match_id, None if value == "none" else value, ts(self.now()), None)

    def status(self) -> bytes:
        with self._store() as store:
            views = [ledger_view(s, store.status_entries(s)) for s in store.status_subjects()]
        out = [
            "<table><tr><th>subject</th><th>jurisdiction</th><th>state</th><th>history</th></tr>"
        ]
        for view in views:
            for row in view:
                hist = "".join(_history_line(h) for h in row["history"])
                out.append(
                    f"<tr><td>{_e(row['subject'])}</td><td>{_e(row['jurisdiction'])}</td>"
                    f"<td><b>{_e(row['state'])}</b> since {_e((row['since'] or '')[:10])}</td>"
                    f"<td>{hist}</td></tr>"
                )
        out.append("</table>")
        return _page("Legal status", "".join(out))

    def feeds(self) -> bytes:
        with self._store() as store:
            rows = store.feeds()
        out = ["<table><tr><th>feed</th><th>health</th><th>next check</th></tr>"]
        for r in rows:
            out.append(
                f"<tr><td>{_e(r['title'] or '')}<div class='ev'>{_e(r['url'])}</div></td>"
                f"<td>{_e(feed_health(r))}</td><td>{_e(r['next_check_at'])}</td></tr>"
            )
        out.append("</table>")
        return _page("Feeds", "".join(out))

    def deliveries(self) -> bytes:
        with self._store() as store:
            dests, rows = store.destinations(), store.deliveries(None, 200)
        out = ["<ul>"]
        for d in dests:
            out.append(f"<li>{_e(d['name'])}: {_e(destination_health(d))}</li>")
        out.append("</ul><table><tr><th>id</th><th>status</th><th>destination</th><th>event</th>")
        out.append("<th>attempts</th><th>last error</th></tr>")
        for r in rows:
            out.append(
                f"<tr><td>{r['id']}</td><td>{_e(r['status'])}</td><td>{_e(r['destination'])}</td>"
                f"<td>{_e(r['event_type'])}</td><td>{r['attempts']}</td><td>{_e(r['last_error'])}</td></tr>"
            )
        out.append("</table>")
        return _page("Deliveries", "".join(out))


def _history_line(h: dict[str, Any]) -> str:
    changed = f" (changed from {_e(h['changed_from'])})" if h["changed_from"] else ""
    conflict = " CONFLICT" if h["conflict"] else ""
    source = _e(h["title"] or h["source"])
    when, state = _e(h["event_at"][:10]), _e(h["state"])
    return f"<div class='ev'>{when} {state}{changed}{conflict} — {source}</div>"


def make_server(app: ReviewApp, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header(
                "Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'"
            )
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            pages = {"/": lambda: app.matches(query), "/status": app.status,
                     "/feeds": app.feeds, "/deliveries": app.deliveries}  # fmt: skip
            if parts.path == "/healthz":
                self._send(200, b'{"ok": true}', "application/json")
            elif parts.path in pages:
                self._send(200, pages[parts.path]())
            else:
                self._send(404, _page("Not found", ""))

        def do_POST(self) -> None:  # noqa: N802
            parts = urlsplit(self.path).path.strip("/").split("/")
            length = min(int(self.headers.get("Content-Length") or 0), 10_000)
            form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
            if (
                len(parts) != 3
                or parts[0] != "matches"
                or parts[2] != "label"
                or not parts[1].isdigit()
            ):
                self._send(404, _page("Not found", ""))
                return
            try:
                app.label(int(parts[1]), form)
            except PermissionError:
                self._send(403, _page("Forbidden", "<p>Reload the page and try again.</p>"))
                return
            except (ValueError, NotFoundError):
                self._send(400, _page("Bad request", ""))
                return
            self.send_response(303)
            self.send_header("Location", self.headers.get("Referer") or "/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return ThreadingHTTPServer((host, port), Handler)


def parse_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def serve_in_thread(app: ReviewApp, listen: str) -> ThreadingHTTPServer:
    """Start the UI on a daemon thread (for `run`); call .shutdown() to stop it."""
    server = make_server(app, *parse_listen(listen))
    threading.Thread(target=server.serve_forever, daemon=True, name="newsmon-web").start()
    return server
