"""The review web UI over a real database and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import story_feed, write_config

from monitor.daemon import utcnow
from monitor.web import ReviewApp, make_server


@pytest.fixture
def ui(tmp_path, server, cli):
    hostile = {
        "guid": "x",
        "title": "Kazakhstan invites Taliban <script>alert(1)</script>",
        "link": "javascript:alert(1)",
        "description": "Kazakhstan invited the Taliban to the forum.",
        "pubDate": utcnow().strftime("%a, %d %b %Y %H:%M:%S +0000"),
    }
    url = server.feed("/feed.xml", story_feed([hostile]))
    config = write_config(tmp_path / "c.yaml", feeds=[{"url": url}])
    assert cli("run", "--once", config=config).exit_code == 0
    app = ReviewApp(str(tmp_path / "newsmon.db"), utcnow)
    httpd = make_server(app, "127.0.0.1", 0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield app, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


def _post(url: str, data: dict[str, str]) -> int:
    body = urllib.parse.urlencode(data).encode()
    req = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_matches_page_shows_evidence_and_escapes_feed_text(ui):
    _, base = ui
    page = _get(base + "/")
    assert "Kazakhstan invites Taliban trade minister" in page
    assert "<mark>" in page  # evidence highlighted
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert "javascript:" not in page  # hostile links are not linked


def test_labels_need_the_page_token(ui):
    app, base = ui
    page = _get(base + "/?label=none")
    assert "unreviewed" in page
    assert _post(base + "/matches/1/label", {"label": "relevant"}) == 403
    assert _post(base + "/matches/1/label", {"label": "relevant", "token": app.token}) == 200
    assert "label-relevant'>relevant" in _get(base + "/?label=relevant")
    assert _post(base + "/matches/999/label", {"label": "relevant", "token": app.token}) == 400


def test_other_pages_and_search(ui):
    _, base = ui
    assert "taliban" in _get(base + "/status")
    assert "/feed.xml" in _get(base + "/feeds")
    assert "Deliveries" in _get(base + "/deliveries")
    assert "Vassilenko" not in _get(base + "/?q=bakery")
    assert "Kazakhstan invites" in _get(base + "/?q=Vassilenko")
    assert _get(base + "/healthz") == '{"ok": true}'
    with pytest.raises(urllib.error.HTTPError):
        _get(base + "/nope")


def test_evidence_across_a_paragraph_break_is_marked_in_its_one_line_snippet():
    from monitor.web import _highlight

    # Stored text keeps a line per HTML block; the snippet shown is one line.
    marked = _highlight("… Kazakhstan and the Taliban met …", "Taliban met")
    assert "<mark>Taliban met</mark>" in marked
    across = _highlight("… visited Kazakhstan Taliban officials said …", "Kazakhstan\nTaliban")
    assert "<mark>Kazakhstan Taliban</mark>" in across
