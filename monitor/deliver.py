"""Deliver queued events from the outbox to Slack, webhooks and the console.

The imperative shell of delivery. Each destination drains its own queue (a worker task in
the daemon), so a slow or failing receiver never delays another. An attempt has a total
deadline; redirects are never followed; failures are data, recorded on the delivery and
the destination and retried on a schedule, never exceptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import httpx

from monitor.config import Config, DestinationConfig
from monitor.dbthread import StoreThread
from monitor.digest import digest_event, render_slack
from monitor.errors import DeliveryError
from monitor.fetch import USER_AGENT, parse_retry_after
from monitor.netguard import AddressPolicy, Guard, explain, guarded_transport, never_sent
from monitor.ratelimit import TokenBucket
from monitor.signing import signed_headers
from monitor.slack import render
from storage import Store, parse_ts, ts

log = logging.getLogger("newsmon.deliver")

# Slack answers these when the webhook or channel is gone or the payload is ours to fix:
# retrying cannot help (RELIABILITY.md §3.4). Generic webhooks: only 410 is permanent.
_SLACK_PERMANENT = {400, 403, 404, 410}
_WEBHOOK_PERMANENT = {410}
_IDLE_POLL = 1.0  # seconds a worker waits for new work when nothing is due
_MAX_PASSES = 10_000  # bounds one drain; each pass sends up to Store.due_for's limit


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0


def delivery_client(config: Config) -> httpx.AsyncClient:
    policy = AddressPolicy(config.allow_private_networks, config.allowed_networks)
    return httpx.AsyncClient(
        transport=guarded_transport(Guard(policy)),
        timeout=httpx.Timeout(config.delivery.timeout),
        follow_redirects=False,  # a 3xx is a failure, never a hop (RELIABILITY.md D6, D13)
        headers={"User-Agent": USER_AGENT},
    )


def format_console(event: dict[str, Any]) -> str:
    if event.get("type") == "digest":
        head = f"[digest] {event['total']} alerts: {event['counts']}"
        return "\n".join([head] + [format_console(e) for e in event["events"][:20]])
    item = event.get("item") or {}
    rule = event.get("rule") or {}
    lines = [f"[{rule.get('severity', '')}] {rule.get('id', '')}: {item.get('title', '')}"]
    if event.get("type") == "status.changed":
        lines[0] = (
            f"[status] {event.get('subject')} in {event.get('jurisdiction')}: "
            f"{event.get('from') or 'unknown'} -> {event.get('to')}  ({item.get('title', '')})"
        )
    elif event.get("type") == "feed.broken":
        feed = event.get("feed") or {}
        lines[0] = f"[feed broken] {feed.get('url')}: {event.get('error')}"
    if item.get("link"):
        lines.append(f"    {item['link']}")
    for ev in (event.get("evidence") or [])[:3]:
        lines.append(f"    {ev.get('field')}: {ev.get('snippet')}")
    return "\n".join(lines)


class Outbox:
    def __init__(
        self,
        config: Config,
        db: StoreThread,
        client: httpx.AsyncClient,
        now: Callable[[], dt.datetime],
        console: TextIO | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.client = client
        self.now = now
        self.console = console or sys.stdout
        self.destinations = {d.name: d for d in config.destinations}
        self.buckets: dict[str, TokenBucket] = {}
        self._wake = {name: asyncio.Event() for name in self.destinations}

    def bucket(self, dest: DestinationConfig) -> TokenBucket:
        # One bucket per URL: two destinations posting to one Slack webhook share its limit.
        key = dest.url.get_secret_value() if dest.url is not None else dest.name
        if key not in self.buckets:
            self.buckets[key] = TokenBucket(dest.effective_rate, dest.burst)
        return self.buckets[key]

    def wake(self) -> None:
        """New work was queued: let idle workers look now."""
        for event in self._wake.values():
            event.set()

    async def run_once(self, report: DeliveryReport | None = None) -> DeliveryReport:
        """Drain every destination's due deliveries once (for `run --once` and tests),
        counting into `report` (a new one by default)."""
        report = report or DeliveryReport()
        await asyncio.gather(*(self.drain(d, report) for d in self.destinations.values()))
        return report

    async def worker(
        self, name: str, stop: asyncio.Event, report: DeliveryReport | None = None
    ) -> None:
        """The daemon's loop for one destination: drain, then wait for work or a due retry."""
        dest = self.destinations[name]
        wake = self._wake[name]
        report = report or DeliveryReport()
        while not stop.is_set():
            wake.clear()
            try:
                await self.drain(dest, report, stop)
            except Exception:
                log.exception("delivery worker for %s failed; continuing", name)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_IDLE_POLL):
                    await _first(wake, stop)

    async def drain(
        self, dest: DestinationConfig, report: DeliveryReport, stop: asyncio.Event | None = None
    ) -> None:
        # Pass after pass until everything that was due when the drain began is done (a
        # backlog larger than one page); a retry scheduled during the drain waits for its
        # own time, so one drain makes at most one attempt per delivery.
        began = self.now()
        attempted: set[int] = set()
        for _ in range(_MAX_PASSES):
            state = await self.db.call(Store.destination, dest.name)
            if state.get("disabled") or (stop is not None and stop.is_set()):
                return
            page = await self.db.call(Store.due_for, dest.name, began)
            rows = [r for r in page if r["id"] not in attempted]
            if not rows:
                return
            attempted.update(r["id"] for r in rows)
            await self._drain_rows(dest, rows, report, stop)

    async def _drain_rows(
        self,
        dest: DestinationConfig,
        rows: list[dict[str, Any]],
        report: DeliveryReport,
        stop: asyncio.Event | None,
    ) -> None:
        units: list[list[dict[str, Any]]] = []
        batches: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            if row.get("batch"):
                batches.setdefault(row["batch"], []).append(row)
            else:
                units.append([row])
        units.extend(batches.values())
        for unit in units:
            if stop is not None and stop.is_set():
                return
            outcome = await self._deliver(dest, unit)
            setattr(report, outcome, getattr(report, outcome) + len(unit))
            if outcome == "dead" and (await self.db.call(Store.destination, dest.name)).get(
                "disabled"
            ):
                return

    async def _deliver(self, dest: DestinationConfig, rows: list[dict[str, Any]]) -> str:
        events = [json.loads(r["payload"]) for r in rows]
        event = events[0] if len(rows) == 1 and not rows[0].get("batch") else None
        if event is None:
            event = digest_event(events, self.now())
        wait = self.bucket(dest).take()
        if wait > 0:
            await asyncio.sleep(wait)
        ids = [r["id"] for r in rows]
        try:
            status = await self._send(dest, event)
        except DeliveryError as e:
            return await self._failed(dest, rows, e)
        now = self.now()
        await self.db.call(
            Store.record_attempts,
            ids,
            {
                "status": "sent",
                "sent_at": ts(now),
                "last_status": status,
                "last_error": None,
                "last_attempt_at": ts(now),
            },
            dest.name,
            {"last_success_at": ts(now), "consecutive_failures": 0, "failing_since": None},
        )
        return "sent"

    async def _failed(
        self, dest: DestinationConfig, rows: list[dict[str, Any]], e: DeliveryError
    ) -> str:
        now = self.now()
        attempts = max(r["attempts"] for r in rows) + 1
        schedule = self.config.delivery.retry_schedule
        permanent = e.status in (_SLACK_PERMANENT if dest.type == "slack" else _WEBHOOK_PERMANENT)
        state = await self.db.call(Store.destination, dest.name)
        since = state.get("failing_since") or ts(now)
        await self.db.call(
            Store.update_destination,
            dest.name,
            {
                "last_error": e.reason[:500],
                "last_error_at": ts(now),
                "consecutive_failures": int(state.get("consecutive_failures") or 0) + 1,
                "failing_since": since,
            },
        )
        outage = (now - parse_ts(since)).total_seconds()
        if outage >= self.config.delivery.disable_after:
            # Failing without a single success for this long: stop and say so, as Svix
            # does after five days, instead of retrying into the void.
            permanent = True
            e = DeliveryError(f"failing for {outage / 3600:.0f} h: {e.reason}", e.status)
        values: dict[str, Any] = {
            "last_status": e.status,
            "last_error": e.reason[:500],
            "last_attempt_at": ts(now),
        }
        ids = [r["id"] for r in rows]
        if permanent:
            values["status"] = "dead"
            await self.db.call(Store.record_attempts, ids, values)
            reason = e.reason[:300]
            dropped = await self.db.call(Store.disable_destination, dest.name, reason, now)
            log.error(
                "destination %s disabled (%s); %d pending deliveries moved to dead",
                dest.name, reason, dropped,
            )  # fmt: skip
            return "dead"
        if e.status == 429:
            self.bucket(dest).pause(e.retry_after if e.retry_after is not None else 1.0)
        if attempts > len(schedule):
            values["status"] = "dead"
            await self.db.call(Store.record_attempts, ids, values)
            log.warning(
                "delivery to %s gave up after %d attempts: %s", dest.name, attempts, e.reason
            )
            return "dead"
        delay = schedule[attempts - 1] * random.uniform(0.9, 1.1)  # jitter spreads retries
        if e.retry_after is not None:
            delay = max(delay, min(e.retry_after, self.config.delivery.max_retry_after))
        values["status"] = "pending"
        values["next_attempt_at"] = ts(now + dt.timedelta(seconds=delay))
        await self.db.call(Store.record_attempts, ids, values)
        return "failed"

    async def _send(self, dest: DestinationConfig, event: dict[str, Any]) -> int:
        if dest.type == "console":
            print(format_console(event), file=self.console, flush=True)
            return 0
        if dest.url is None:
            raise DeliveryError(f"destination {dest.name} has no url")
        url = dest.url.get_secret_value()
        headers = {"Content-Type": "application/json"}
        if dest.type == "slack":
            message = render_slack(event) if event["type"] == "digest" else render(event)
            body = json.dumps(message, ensure_ascii=False)
        else:
            body = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
            if dest.secret is not None:
                # UTC-aware: standardwebhooks replaces tzinfo rather than converting (§0.5).
                headers |= signed_headers(
                    dest.secret.get_secret_value(), event["id"], body, dt.datetime.now(dt.UTC)
                )
        try:
            async with asyncio.timeout(self.config.delivery.timeout):
                r = await self.client.post(url, content=body.encode(), headers=headers)
        except TimeoutError as e:
            raise DeliveryError(f"timed out after {self.config.delivery.timeout:g}s") from e
        except Exception as e:
            explained = explain(e)
            if explained is None:
                raise
            # At-least-once: a retry carries the same event id, so receivers can dedupe.
            reason = explained[1]
            if not never_sent(e):
                # The request may have been received before the failure.
                reason = f"ambiguous (may have arrived): {reason}"
            raise DeliveryError(_scrub(reason, url)) from e
        if 200 <= r.status_code < 300:
            return r.status_code
        excerpt = _scrub(r.text[:200], url) if r.content else ""
        raise DeliveryError(
            f"HTTP {r.status_code}" + (f": {excerpt}" if excerpt else ""),
            status=r.status_code,
            retry_after=parse_retry_after(r.headers.get("retry-after")),
        )


async def _first(*events: asyncio.Event) -> None:
    """Return when any of `events` is set."""
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


def _scrub(text: str, url: str) -> str:
    """Remove the destination URL (Slack URLs are secrets) from error text."""
    return text.replace(url, "<destination url>")
