"""`newsmon feeds`: add, list, remove, status, OPML."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli.base import (
    Context,
    _fail,
    emit_json,
    handles_errors,
    json_option,
    main,
    pass_ctx,
    utcnow,
)
from monitor.health import feed_health
from monitor.netguard import check_url_policy, check_url_syntax

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
        check_url_policy(url, obj.policy)
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
        click.echo(f"{r['id']:>4}  {feed_health(r)}  {r['url']}")
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
            check_url_policy(url, obj.policy)
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
