"""Commands that run newsmon: run, healthcheck, demo, serve, config show."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import click
import yaml

from monitor.cli.base import (
    Context,
    _fail,
    handles_errors,
    json_option,
    main,
    pass_ctx,
    utcnow,
)
from monitor.config import Config
from monitor.daemon import Service, run_forever, run_once
from monitor.heap import settle_heap

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
    # Settled before the rules are loaded, so they are frozen as they are built
    # (rules.gcpause), and again once the service is.
    settle_heap()
    service = Service(obj.config, obj.rules())
    settle_heap()
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
    asyncio.run(run_forever(service, heartbeat_path(obj.config), obj.rules))


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


@main.command()
@click.option("--listen", help="host:port to serve on (default: web.listen).")
@pass_ctx
@handles_errors
def serve(obj: Context, listen: str | None) -> None:
    """Serve the review web UI: matches with evidence, labels, feeds, legal status."""
    import signal
    import threading

    from monitor.web import ReviewApp, make_server, parse_listen
    from storage import Store

    Store(obj.config.database).close()  # create and migrate before the first request
    host, port = parse_listen(listen or obj.config.web.listen)
    server = make_server(ReviewApp(obj.config.database, utcnow), host, port)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    click.echo(f"review UI on http://{host}:{server.server_address[1]}/", err=True)
    stop.wait()
    server.shutdown()
    server.server_close()
