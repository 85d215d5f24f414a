"""SIGHUP reloads the rule files in the running daemon; broken files leave the old rules."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

from conftest import LocalServer, newsmon_process, rss, write_config

A, B, C = "A zeppelin over the quasar", "Only a quasar tonight", "Another quasar and a zeppelin"
RULE = """\
  - id: {id}
    title: {id}
    any: [{term}]
"""


def _rules(path: Path, *rules: tuple[str, str]) -> None:
    body = "".join(RULE.format(id=i, term=t) for i, t in rules)
    path.write_text("rules:\n" + body, encoding="utf-8")


def _matched(db: Path, title: str) -> set[str]:
    try:
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                "select m.rule_id from matches m join items i on i.id = m.item_id"
                " where i.title = ?",
                (title,),
            ).fetchall()
    except sqlite3.OperationalError:
        return set()  # the daemon has not created its tables yet
    return {r[0] for r in rows}


def _wait(predicate, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sighup_reloads_rules_and_a_broken_file_keeps_the_running_ones(
    tmp_path: Path, server: LocalServer
) -> None:
    rules = tmp_path / "mine.yaml"
    _rules(rules, ("zep", "zeppelin"))
    items = [{"guid": "a", "title": A}]
    url = server.feed("/feed.xml", rss(items))
    config = write_config(
        tmp_path / "newsmon.yaml",
        feeds=[{"url": url}],
        rules=[str(rules)],
        poll={"interval": "200ms"},
    )
    db = tmp_path / "newsmon.db"
    daemon = newsmon_process(config, "run")
    try:
        assert _wait(lambda: _matched(db, A) == {"zep"}), daemon.output

        _rules(rules, ("zep", "zeppelin"), ("qua", "quasar"))
        daemon.proc.send_signal(signal.SIGHUP)
        assert daemon.wait_for("rules reloaded: 2 rules"), daemon.output
        items.append({"guid": "b", "title": B})
        server.feed("/feed.xml", rss(items))
        assert _wait(lambda: _matched(db, B) == {"qua"}), daemon.output

        rules.write_text("rules:\n  - id: broken\n    title: x\n    all: ['@nobody']\n")
        daemon.proc.send_signal(signal.SIGHUP)
        assert daemon.wait_for("rules not reloaded"), daemon.output
        assert "unknown entity @nobody" in daemon.output
        items.append({"guid": "c", "title": C})
        server.feed("/feed.xml", rss(items))
        # The rules loaded before the broken edit are still the ones in use.
        assert _wait(lambda: _matched(db, C) == {"zep", "qua"}), daemon.output
        code = daemon.stop(signal.SIGTERM)
    finally:
        daemon.close()
    assert code == 0, daemon.output
