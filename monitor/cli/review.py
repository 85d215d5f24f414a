"""Rules and review: rules check, match, backtest, matches, status."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import click

from monitor.cli.base import (
    Context,
    _fail,
    _where,
    emit_json,
    handles_errors,
    json_option,
    main,
    pass_ctx,
    rules_option,
    utcnow,
)
from monitor.errors import MonitorError
from rules import RuleError
from rules import load as load_rules
from storage import StorageError

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
@rules_option
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
@rules_option
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
    implies = _implies(obj)
    views = [ledger_view(s, store.status_entries(s), implies.get(s)) for s in subjects]
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


def _implies(obj: Context) -> dict[str, dict[str, tuple[str, ...]]]:
    """Per subject, the states each state implies, from the configured rule files."""
    try:
        book = load_rules(obj.config.rules, destinations={d.name for d in obj.config.destinations})
    except RuleError as e:
        # The ledger stays readable while a rule file is broken; only restatements of an
        # implied state may then show as the current state.
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        click.echo(f"warning: rule files not loaded ({first}); states shown as asserted", err=True)
        return {}
    return {r.status.subject: r.status.implies for r in book.rules if r.status is not None}


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
