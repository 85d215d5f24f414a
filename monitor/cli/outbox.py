"""`newsmon deliveries`: the outbox and destination health."""

from __future__ import annotations

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
from monitor.health import destination_health

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
        click.echo(f"destination {d['name']}: {destination_health(d)}")
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
