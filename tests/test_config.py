"""Config loading: defaults, ${ENV} interpolation, every problem listed, secrets masked."""

from __future__ import annotations

import pytest

from monitor.config import load_config, parse_duration, parse_size
from monitor.errors import ConfigError


def test_defaults_without_a_file():
    config = load_config(None, env={})
    assert config.database == "newsmon.db"
    assert config.allow_private_networks is False
    assert config.rules == []  # empty = the shipped story rules
    assert len(config.feeds) >= 3 and all(f.url.startswith("https://") for f in config.feeds)
    assert [d.type for d in config.destinations] == ["console"]


def test_env_interpolation_and_newsmon_db(tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    path.write_text(
        "database: ignored.db\n"
        "destinations:\n"
        "  - {name: team, type: slack, url: '${SLACK_URL}'}\n"
        "  - {name: other, type: console, rules: ['${RULE:-kz-afghanistan-engagement}']}\n"
    )
    monkeypatch.setenv("SLACK_URL", "https://hooks.slack.com/services/T1/B2/SECRETTOKEN")
    monkeypatch.setenv("NEWSMON_DB", str(tmp_path / "x.db"))
    config = load_config(path)
    assert config.database == str(tmp_path / "x.db")
    assert config.destinations[0].url is not None
    assert config.destinations[0].url.get_secret_value().endswith("SECRETTOKEN")
    assert config.destinations[1].rules == ["kz-afghanistan-engagement"]
    # Secrets never show in repr or in `config show` data.
    assert "SECRETTOKEN" not in repr(config)
    assert "SECRETTOKEN" not in str(config.masked())
    assert config.masked()["destinations"][0]["url"] == "https://hooks.slack.com/***"


def test_every_problem_is_listed_with_its_key_path(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "databse: typo.db\n"
        "poll: {interval: soon, concurrency: 0}\n"
        "feeds:\n"
        "  - {url: 'file:///etc/passwd'}\n"
        "  - {url: 'https://ok.example/rss', colour: red}\n"
        "destinations:\n"
        "  - {name: a, type: slack}\n"
        "  - {name: b, type: webhook, url: 'https://x.example', secret: '${MISSING_SECRET}'}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    text = str(info.value)
    problems = info.value.problems
    assert any(p.startswith("databse:") and "Extra inputs" in p for p in problems)
    assert any(p.startswith("poll.interval:") and "duration" in p for p in problems)
    assert any(p.startswith("poll.concurrency:") for p in problems)
    assert any(p.startswith("feeds.0.url:") and "http" in p for p in problems)
    assert any(p.startswith("feeds.1.colour:") for p in problems)
    assert any(p.startswith("destinations.0") and "needs a url" in p for p in problems)
    assert any("MISSING_SECRET" in p for p in problems)
    assert text.startswith(f"invalid {path}")


def test_bad_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("feeds: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad, env={})
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml", env={})


def test_units():
    assert parse_duration("10m") == 600
    assert parse_duration("250ms") == 0.25
    assert parse_duration(30) == 30
    assert parse_size("10MB") == 10_000_000
    assert parse_size("1KiB") == 1024
    with pytest.raises(ValueError):
        parse_duration("ten minutes")


def test_bad_webhook_secret_and_duplicate_names(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "destinations:\n"
        "  - {name: a, type: webhook, url: 'https://x.example', secret: 'not base64!!'}\n"
        "  - {name: a, type: console}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    text = str(info.value)
    assert "whsec_" in text


def test_cli_reports_bad_config_without_traceback(tmp_path, cli):
    path = tmp_path / "bad.yaml"
    path.write_text("poll: {interval: never}\nunknown_key: 1\n")
    result = cli("run", "--once", config=path)
    assert result.exit_code == 1
    assert "poll.interval" in result.output and "unknown_key" in result.output
    assert "Traceback" not in result.output


def test_rule_paths_are_relative_to_the_config_file(tmp_path, monkeypatch):
    sub = tmp_path / "conf"
    sub.mkdir()
    (sub / "mine.yaml").write_text("rules: []\n")
    path = sub / "c.yaml"
    path.write_text("rules: [shipped, mine.yaml, /abs/other.yaml]\n")
    monkeypatch.chdir(tmp_path)
    config = load_config(path, env={})
    assert config.rules == ["shipped", str(sub / "mine.yaml"), "/abs/other.yaml"]


def test_shipped_extends_with_own_rules(tmp_path):
    from rules import load

    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "entities: [{id: acme, name: Acme, aliases: [Acme]}]\n"
        "rules: [{id: acme-news, title: Acme, all: ['@acme']}]\n"
    )
    book = load(["shipped", str(mine)])
    ids = {r.id for r in book.rules}
    assert {"acme-news", "kz-afghanistan-engagement", "taliban-legal-status"} <= ids


def test_private_literal_addresses_are_refused_when_added(tmp_path, cli):
    path = tmp_path / "c.yaml"
    path.write_text(
        "feeds:\n"
        "  - {url: 'http://127.0.0.2/feed'}\n"
        "  - {url: 'http://[::ffff:10.0.0.1]/feed'}\n"
        "  - {url: 'http://169.254.169.254/latest/meta-data/'}\n"
        "  - {url: 'http://localhost:8080/feed'}\n"
        "  - {url: 'https://example.org/feed'}\n"
        "destinations:\n"
        "  - {name: h, type: webhook, url: 'http://10.1.2.3/hook'}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    text = str(info.value)
    for where in ("feeds.0.url", "feeds.1.url", "feeds.2.url", "feeds.3.url", "destinations.0.url"):
        assert where in text
    assert "feeds.4" not in text
    # Opting in accepts them.
    path.write_text(path.read_text() + "allowed_networks: ['0.0.0.0/0', '::/0']\n")
    assert len(load_config(path, env={}).feeds) == 5
    config = tmp_path / "ok.yaml"
    config.write_text(f"database: {tmp_path / 'x.db'}\n")
    r = cli("feeds", "add", "http://192.168.1.10/rss", config=config)
    assert r.exit_code == 1 and "non-public" in r.output
