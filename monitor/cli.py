"""The `newsmon` command line. The only module that imports click.

Command bodies build objects, call one function and print. Our errors become one line on
stderr and exit code 1; only bugs show a traceback.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from monitor.config import Config, load_config
from monitor.daemon import Service, run_forever, run_once, utcnow
from monitor.errors import MonitorError
from monitor.netguard import check_url_syntax
from rules import RuleError, RuleSet
from rules import load as load_rules
from storage import StorageError, Store

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def handles_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (MonitorError, RuleError, StorageError) as e:
            _fail(str(e))

    return wrapper  # type: ignore[return-value]


def _where(ev: dict[str, Any]) -> str:
    return f"{ev['field']}[{ev['start']}:{ev['end']}]"


def json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")(fn)


def emit_json(rows: Iterable[dict[str, Any]]) -> None:
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False, default=str))


class Context:
    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def rules(self, paths: Iterable[str] = ()) -> RuleSet:
        paths = list(paths) or self.config.rules
        names = {d.name for d in self.config.destinations}
        return RuleSet(load_rules(paths, destinations=names))

    def store(self) -> Store:
        return Store(self.config.database)


pass_ctx = click.make_pass_decorator(Context)


@click.group()
@click.option(
    "--config",
    "config_path",
    envvar="NEWSMON_CONFIG",
    type=click.Path(dir_okay=False),
    help="Config file (YAML). Default: $NEWSMON_CONFIG, else built-in defaults.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
@click.version_option(package_name="newsmon")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """newsmon: self-hosted news monitoring with entity and legal-status alerts."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    ctx.obj = Context(config_path)


# -- run ------------------------------------------------------------------------------------


def heartbeat_path(config: Config) -> Path:
    return Path(config.database + ".heartbeat")


@main.command()
@click.option("--once", is_flag=True, help="One poll + delivery cycle of the due feeds, then exit.")
@click.option("--all", "include_all", is_flag=True, help="With --once: poll every feed now.")
@pass_ctx
@handles_errors
def run(obj: Context, once: bool, include_all: bool) -> None:
    """Run the daemon (or one cycle with --once)."""
    if include_all and not once:
        _fail("--all only works with --once")
    service = Service(obj.config, obj.rules())
    if once:
        report = asyncio.run(run_once(service, include_all))
        p, d = report.poll, report.delivery
        click.echo(
            f"polled {p.feeds} feeds: {p.ok} ok, {p.not_modified} unchanged, {p.failed} failed; "
            f"{p.new_items} new items, {p.matches} matches; "
            f"deliveries: {d.sent} sent, {d.failed} failed, {d.dead} dead",
            err=True,
        )
        return
    asyncio.run(run_forever(service, heartbeat_path(obj.config)))


@main.command()
@pass_ctx
@handles_errors
def healthcheck(obj: Context) -> None:
    """Exit 0 when the running daemon has ticked recently."""
    path = heartbeat_path(obj.config)
    try:
        last = dt.datetime.fromisoformat(path.read_text().strip())
    except (OSError, ValueError):
        _fail(f"no heartbeat at {path}: is the daemon running?")
        return
    age = (utcnow() - last).total_seconds()
    limit = 3 * obj.config.poll.tick + obj.config.poll.timeout + 60
    if age > limit:
        _fail(f"last tick {age:.0f}s ago (limit {limit:.0f}s)")
    click.echo(f"ok: last tick {age:.0f}s ago")


@main.command()
@click.option("--keep", type=click.Path(file_okay=False), help="Keep the demo database here.")
@handles_errors
def demo(keep: str | None) -> None:
    """Offline end-to-end run on bundled sample feeds and a local webhook receiver."""
    from monitor.demo import run_demo

    run_demo(keep)


# -- feeds ----------------------------------------------------------------------------------


@main.group()
def feeds() -> None:
    """Add, list, remove and inspect feeds."""


@feeds.command("add")
@click.argument("url")
@click.option("--interval", help="Poll interval, e.g. 5m (default: poll.interval).")
@click.option("--tag", "tags", multiple=True, help="Tag (repeatable).")
@pass_ctx
@handles_errors
def feeds_add(obj: Context, url: str, interval: str | None, tags: tuple[str, ...]) -> None:
    """Add a feed by URL."""
    from monitor.config import parse_duration

    try:
        check_url_syntax(url)
        seconds = int(parse_duration(interval)) if interval else None
    except ValueError as e:
        _fail(str(e))
        return
    row = obj.store().add_feed(url, utcnow(), seconds, tags)
    click.echo(f"added feed {row['id']}: {url}")


@feeds.command("remove")
@click.argument("url")
@pass_ctx
@handles_errors
def feeds_remove(obj: Context, url: str) -> None:
    """Stop polling a feed (its items and matches are kept)."""
    obj.store().remove_feed(url)
    click.echo(f"removed {url}")


@feeds.command("list")
@json_option
@pass_ctx
@handles_errors
def feeds_list(obj: Context, as_json: bool) -> None:
    """List feeds."""
    rows = obj.store().feeds()
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        state = "disabled" if r["disabled"] else "active"
        click.echo(f"{r['id']:>4}  {state:8}  {r['url']}  {r['title'] or ''}")


@feeds.command("status")
@json_option
@pass_ctx
@handles_errors
def feeds_status(obj: Context, as_json: bool) -> None:
    """Each feed's health: last ok, last error, failures in a row, next check."""
    rows = obj.store().feeds()
    keys = (
        "id", "url", "title", "disabled", "disabled_reason", "last_ok_at", "last_error",
        "last_error_at", "consecutive_failures", "next_check_at",
    )  # fmt: skip
    if as_json:
        emit_json({k: r[k] for k in keys} for r in rows)
        return
    for r in rows:
        health = "ok" if not r["last_error"] else f"failing x{r['consecutive_failures']}"
        if r["disabled"]:
            health = f"disabled ({r['disabled_reason'] or ''})"
        click.echo(f"{r['id']:>4}  {health}  {r['url']}")
        click.echo(f"      last ok: {r['last_ok_at'] or 'never'}  next: {r['next_check_at']}")
        if r["last_error"]:
            click.echo(f"      last error: {r['last_error']} ({r['last_error_at']})")


@feeds.command("import-opml")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--tag", "tags", multiple=True, help="Tag every imported feed (repeatable).")
@pass_ctx
@handles_errors
def feeds_import_opml(obj: Context, path: str, tags: tuple[str, ...]) -> None:
    """Add every feed of an OPML file (categories become tags)."""
    from monitor.opml import read_opml

    store = obj.store()
    added = 0
    for url, categories in read_opml(Path(path).read_bytes()):
        try:
            check_url_syntax(url)
        except ValueError as e:
            click.echo(f"skipped {url}: {e}", err=True)
            continue
        store.add_feed(url, utcnow(), None, [*tags, *categories])
        added += 1
    click.echo(f"imported {added} feeds")


@feeds.command("export-opml")
@pass_ctx
@handles_errors
def feeds_export_opml(obj: Context) -> None:
    """Print every feed as OPML 2.0."""
    from monitor.opml import write_opml

    click.echo(write_opml(obj.store().feeds()))


# -- rules and matching ----------------------------------------------------------------------


@main.group()
def rules() -> None:
    """Validate rule files."""


@rules.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@pass_ctx
def rules_check(obj: Context, paths: tuple[str, ...]) -> None:
    """Validate rule files (default: the configured rules); list every error, exit 1."""
    try:
        book = load_rules(list(paths) or obj.config.rules)
    except RuleError as e:
        for line in str(e).splitlines():
            click.echo(line, err=True)
        sys.exit(1)
    except MonitorError as e:
        _fail(str(e))
        return
    click.echo(f"ok: {len(book.rules)} rules, {len(book.entities)} entities")


@main.command("match")
@click.argument("source")
@click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(exists=True),
    help="Rule file or folder (repeatable). Default: the configured rules.",
)
@click.option("--seed", is_flag=True, help="Start the status ledger from the rule files' seeds.")
@json_option
@pass_ctx
@handles_errors
def match_cmd(
    obj: Context, source: str, rule_paths: tuple[str, ...], seed: bool, as_json: bool
) -> None:
    """Dry run: match a feed file, a feed URL or a .jsonl of items; store and send nothing."""
    from monitor.dryrun import load_input, match_records

    ruleset = obj.rules(rule_paths)
    items = load_input(source, obj.config)
    records = match_records(items, ruleset, seed=seed)
    if as_json:
        emit_json(records)
        return
    count = 0
    for r in records:
        count += 1
        click.echo(f"{r['item_id']}  {r['rule']}  {r['title']}")
        for ev in r["evidence"][:6]:
            click.echo(f"    {_where(ev)} {ev['kind']} {ev['value']!r}: {ev['text']!r}")
        for st in r.get("statuses", []):
            mark = "CHANGED " if st["changed"] else ""
            click.echo(
                f"    status: {mark}{st['subject']} in {st['jurisdiction']}: "
                f"{st['previous'] or 'unknown'} -> {st['state']} ({st['when'][:10]})"
            )
    click.echo(f"{count} matches in {len(items)} items", err=True)


@main.command()
@click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(exists=True),
    help="Rule file or folder (repeatable). Default: the configured rules.",
)
@click.option("--since", help="Only items published (or fetched) on or after this date.")
@json_option
@pass_ctx
@handles_errors
def backtest(obj: Context, rule_paths: tuple[str, ...], since: str | None, as_json: bool) -> None:
    """Run rules over stored items: hits per rule, samples, review labels."""
    from monitor.dryrun import backtest as run_backtest

    if since:
        try:
            since = dt.date.fromisoformat(since[:10]).isoformat()
        except ValueError:
            _fail(f"--since takes a date like 2024-01-31, not {since!r}")
    ruleset = obj.rules(rule_paths)
    store = obj.store()
    labels = store.labels()
    total = store.count("items")
    rows = store.items(since)
    show_bar = not as_json and sys.stderr.isatty()
    if show_bar:
        with click.progressbar(length=total, label="backtest", file=sys.stderr) as bar:
            stats = run_backtest(rows, ruleset, labels, bar.update)
    else:
        stats = run_backtest(rows, ruleset, labels)
    if as_json:
        emit_json(
            {
                "rule": s.rule,
                "title": s.title,
                "hits": s.hits,
                "labelled_relevant": s.relevant,
                "labelled_irrelevant": s.irrelevant,
                "sample": s.sample,
            }
            for s in stats
        )
        return
    for s in stats:
        labelled = (
            f"  ({s.relevant} relevant, {s.irrelevant} irrelevant)"
            if s.relevant or s.irrelevant
            else ""
        )
        click.echo(f"{s.rule}: {s.hits} hits{labelled}")
        for x in s.sample:
            click.echo(f"    {x['title']}")


# -- matches --------------------------------------------------------------------------------


@main.group()
def matches() -> None:
    """Review stored matches."""


@matches.command("list")
@click.option("--rule", "rule_id", help="Only this rule.")
@click.option("--limit", default=50, show_default=True)
@json_option
@pass_ctx
@handles_errors
def matches_list(obj: Context, rule_id: str | None, limit: int, as_json: bool) -> None:
    """List stored matches, newest first."""
    rows = obj.store().matches(rule_id=rule_id, limit=limit)
    if as_json:
        emit_json({**r, "evidence": json.loads(r["evidence"])} for r in rows)
        return
    for r in rows:
        click.echo(f"{r['id']:>5}  {r['created_at'][:19]}  {r['rule_id']:28}  {r['title']}")
        if r["link"]:
            click.echo(f"       {r['link']}")


@main.command("status")
@click.argument("subject", required=False)
@json_option
@pass_ctx
@handles_errors
def status_cmd(obj: Context, subject: str | None, as_json: bool) -> None:
    """Legal-status ledger: current state per jurisdiction and the dated history."""
    from monitor.ledgerview import ledger_view

    store = obj.store()
    subjects = [subject] if subject else store.status_subjects()
    views = [ledger_view(s, store.status_entries(s)) for s in subjects]
    if as_json:
        emit_json(row for view in views for row in view)
        return
    if not any(views):
        click.echo("no status assertions recorded" + (f" for {subject}" if subject else ""))
    for view in views:
        for row in view:
            since = (row["since"] or "")[:10]
            state = row["state"] or "unknown"
            click.echo(f"{row['subject']} in {row['jurisdiction']}: {state} (since {since})")
            for h in row["history"]:
                mark = f"  changed from {h['changed_from']}" if h["changed_from"] else ""
                conflict = "  CONFLICT" if h["conflict"] else ""
                source = h["title"] or h["source"] or ""
                click.echo(f"    {h['event_at'][:10]}  {h['state']:10}  {source}{mark}{conflict}")
                if h["link"]:
                    click.echo(f"                            {h['link']}")


def _match_out(r: dict[str, Any]) -> dict[str, Any]:
    return {**r, "evidence": json.loads(r["evidence"])}


@matches.command("show")
@click.argument("match_id", type=int)
@json_option
@pass_ctx
@handles_errors
def matches_show(obj: Context, match_id: int, as_json: bool) -> None:
    """Show one match with its evidence."""
    r = _match_out(obj.store().match(match_id))
    if as_json:
        emit_json([r])
        return
    click.echo(f"match {r['id']}: {r['rule_id']} ({r['severity']}) at {r['created_at']}")
    click.echo(f"  {r['title']}")
    click.echo(f"  {r['link'] or ''}")
    click.echo(f"  feed: {r['feed_title'] or r['feed_url']}  published: {r['published'] or '?'}")
    click.echo(f"  label: {r['label'] or '-'}" + (f"  ({r['note']})" if r["note"] else ""))
    for ev in r["evidence"]:
        click.echo(f"  {_where(ev)} {ev['kind']} {ev['value']!r}: {ev['snippet']}")


@matches.command("search")
@click.argument("query")
@click.option("--limit", default=50, show_default=True)
@json_option
@pass_ctx
@handles_errors
def matches_search(obj: Context, query: str, limit: int, as_json: bool) -> None:
    """Full-text search of matched items (SQLite FTS5 syntax)."""
    try:
        rows = obj.store().search_matches(query, limit)
    except StorageError as e:
        _fail(f"bad search query {query!r}: {e}")
        return
    if as_json:
        emit_json(_match_out(r) for r in rows)
        return
    for r in rows:
        click.echo(f"{r['id']:>5}  {r['rule_id']:28}  {r['title']}")


@matches.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option("--rule", "rule_id", help="Only this rule.")
@click.option("--limit", default=100000, show_default=True)
@pass_ctx
@handles_errors
def matches_export(obj: Context, fmt: str, rule_id: str | None, limit: int) -> None:
    """Export matches to stdout as JSON lines or CSV."""
    import csv

    rows = obj.store().matches(rule_id=rule_id, limit=limit)
    if fmt == "jsonl":
        emit_json(_match_out(r) for r in rows)
        return
    cols = [
        "id",
        "created_at",
        "rule_id",
        "severity",
        "label",
        "title",
        "link",
        "published",
        "feed_url",
    ]
    writer = csv.DictWriter(sys.stdout, fieldnames=cols, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)


@matches.command("label")
@click.argument("match_id", type=int)
@click.argument("label", type=click.Choice(["relevant", "irrelevant", "none"]))
@click.option("--note", help="A note kept with the label.")
@pass_ctx
@handles_errors
def matches_label(obj: Context, match_id: int, label: str, note: str | None) -> None:
    """Label a match relevant or irrelevant (`none` clears it); backtest reports labels."""
    from storage import ts

    obj.store().label_match(match_id, None if label == "none" else label, ts(utcnow()), note)
    click.echo(f"match {match_id}: {label}")


# -- deliveries and config --------------------------------------------------------------------


@main.group()
def deliveries() -> None:
    """Inspect and retry the outbox."""


@deliveries.command("list")
@click.option("--failed", is_flag=True, help="Only pending deliveries that have failed.")
@click.option("--dead", is_flag=True, help="Only deliveries that gave up.")
@click.option("--limit", default=100, show_default=True)
@json_option
@pass_ctx
@handles_errors
def deliveries_list(obj: Context, failed: bool, dead: bool, limit: int, as_json: bool) -> None:
    """List deliveries, newest first, after each destination's health."""
    store = obj.store()
    rows = store.deliveries("dead" if dead else None, limit)
    if failed:
        rows = [r for r in rows if r["status"] == "pending" and r["attempts"] > 0]
    rows = [{k: v for k, v in r.items() if k != "payload"} for r in rows]
    if as_json:
        emit_json(rows)
        return
    for d in store.destinations():
        if d["disabled"]:
            health = f"DISABLED since {d['disabled_at']}: {d['disabled_reason']}"
        elif d["consecutive_failures"]:
            health = f"failing x{d['consecutive_failures']}: {d['last_error']}"
        else:
            health = f"ok (last success {d['last_success_at'] or 'never'})"
        click.echo(f"destination {d['name']}: {health}")
    for r in rows:
        err = f"  {r['last_error']}" if r["last_error"] else ""
        click.echo(
            f"{r['id']:>5}  {r['status']:7}  {r['destination']:12}  {r['event_type']:15}  "
            f"attempts={r['attempts']}{err}"
        )


@deliveries.command("retry")
@click.argument("delivery_id", type=int, required=False)
@click.option("--dead", is_flag=True, help="Queue every dead delivery again.")
@click.option("--destination", help="With --dead: only this destination.")
@pass_ctx
@handles_errors
def deliveries_retry(
    obj: Context, delivery_id: int | None, dead: bool, destination: str | None
) -> None:
    """Queue a delivery (or every dead one) again; its destination is re-enabled."""
    store = obj.store()
    if dead == (delivery_id is not None):
        _fail("give a delivery ID or --dead")
    if delivery_id is not None:
        store.retry_delivery(delivery_id, utcnow())
        click.echo(f"delivery {delivery_id} queued")
        return
    n = store.retry_dead(utcnow(), destination)
    click.echo(f"{n} dead deliveries queued")


@main.group("config")
def config_group() -> None:
    """Show the effective configuration."""


@config_group.command("show")
@json_option
@pass_ctx
@handles_errors
def config_show(obj: Context, as_json: bool) -> None:
    """Print the effective config, secrets masked."""
    data = obj.config.masked()
    if as_json:
        click.echo(json.dumps(data))
    else:
        click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
