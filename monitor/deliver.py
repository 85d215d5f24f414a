"""Deliver queued events from the outbox to Slack, webhooks and the console.

The imperative shell of delivery. One queue per destination per cycle, so a slow receiver
never delays another; an attempt has a total deadline; redirects are never followed;
failures are data (recorded on the delivery row and retried on a schedule), not exceptions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import httpx

from monitor.config import Config, DestinationConfig
from monitor.dbthread import StoreThread
from monitor.errors import DeliveryError
from monitor.fetch import USER_AGENT, parse_retry_after
from monitor.netguard import AddressPolicy, blocked_reason, guarded_transport
from monitor.signing import signed_headers
from monitor.slack import render
from storage import Store, ts

# Slack answers these when the webhook or channel is gone or the payload is ours to fix:
# retrying cannot help (RELIABILITY.md §3.4). Generic webhooks: only 410 is permanent.
_SLACK_PERMANENT = {400, 403, 404, 410}
_WEBHOOK_PERMANENT = {410}


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0


def delivery_client(config: Config) -> httpx.AsyncClient:
    policy = AddressPolicy(config.allow_private_networks, config.allowed_networks)
    return httpx.AsyncClient(
        transport=guarded_transport(policy),
        timeout=httpx.Timeout(config.delivery.timeout),
        follow_redirects=False,  # a 3xx is a failure, never a hop (RELIABILITY.md D6, D13)
        headers={"User-Agent": USER_AGENT},
    )


def format_console(event: dict[str, Any]) -> str:
    item = event.get("item") or {}
    rule = event.get("rule") or {}
    lines = [f"[{rule.get('severity', '')}] {rule.get('id', '')}: {item.get('title', '')}"]
    if event.get("type") == "status.changed":
        lines[0] = (
            f"[status] {event.get('subject')} in {event.get('jurisdiction')}: "
            f"{event.get('from') or 'unknown'} -> {event.get('to')}  ({item.get('title', '')})"
        )
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

    async def run_once(self) -> DeliveryReport:
        rows = await self.db.call(Store.due_deliveries, self.now())
        queues: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            queues[row["destination"]].append(row)
        report = DeliveryReport()
        await asyncio.gather(*(self._drain(name, q, report) for name, q in queues.items()))
        return report

    async def _drain(self, name: str, rows: list[dict[str, Any]], report: DeliveryReport) -> None:
        dest = self.destinations.get(name)
        for row in rows:
            if dest is None:
                values = self._failure(
                    row, DeliveryError(f"destination {name!r} is not configured")
                )
                values["status"] = "pending"  # kept until the destination returns
            else:
                try:
                    status = await self._send(dest, json.loads(row["payload"]))
                    values = {
                        "status": "sent",
                        "sent_at": ts(self.now()),
                        "last_status": status,
                        "last_error": None,
                        "last_attempt_at": ts(self.now()),
                    }
                except DeliveryError as e:
                    values = self._failure(row, e, dest)
            await self.db.call(Store.record_attempt, row["id"], values)
            if values["status"] == "sent":
                report.sent += 1
            elif values["status"] == "dead":
                report.dead += 1
            else:
                report.failed += 1

    def _failure(
        self, row: dict[str, Any], e: DeliveryError, dest: DestinationConfig | None = None
    ) -> dict[str, Any]:
        now = self.now()
        attempts = row["attempts"] + 1
        schedule = self.config.delivery.retry_schedule
        permanent = dest is not None and e.status in (
            _SLACK_PERMANENT if dest.type == "slack" else _WEBHOOK_PERMANENT
        )
        values: dict[str, Any] = {
            "last_status": e.status,
            "last_error": e.reason[:500],
            "last_attempt_at": ts(now),
        }
        if permanent or attempts > len(schedule):
            values["status"] = "dead"
            return values
        delay = schedule[attempts - 1] * random.uniform(0.9, 1.1)  # jitter spreads retries
        if e.retry_after is not None:
            delay = max(delay, min(e.retry_after, self.config.delivery.max_retry_after))
        values["status"] = "pending"
        values["next_attempt_at"] = ts(now + dt.timedelta(seconds=delay))
        return values

    async def _send(self, dest: DestinationConfig, event: dict[str, Any]) -> int:
        if dest.type == "console":
            print(format_console(event), file=self.console, flush=True)
            return 0
        assert dest.url is not None  # noqa: S101 - config validation guarantees it
        url = dest.url.get_secret_value()
        if dest.type == "slack":
            body = json.dumps(render(event), ensure_ascii=False)
            headers = {"Content-Type": "application/json"}
        else:
            body = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
            headers = {"Content-Type": "application/json"}
            if dest.secret is not None:
                headers |= signed_headers(
                    dest.secret.get_secret_value(), event["id"], body, dt.datetime.now(dt.UTC)
                )
        try:
            async with asyncio.timeout(self.config.delivery.timeout):
                r = await self.client.post(url, content=body.encode(), headers=headers)
        except TimeoutError as e:
            raise DeliveryError(f"timed out after {self.config.delivery.timeout:g}s") from e
        except httpx.HTTPError as e:
            blocked = blocked_reason(e)
            reason = blocked or f"{type(e).__name__}: {e}"
            raise DeliveryError(_scrub(reason, url)) from e
        if 200 <= r.status_code < 300:
            return r.status_code
        excerpt = _scrub(r.text[:200], url) if r.content else ""
        raise DeliveryError(
            f"HTTP {r.status_code}" + (f": {excerpt}" if excerpt else ""),
            status=r.status_code,
            retry_after=parse_retry_after(r.headers.get("retry-after")),
        )


def _scrub(text: str, url: str) -> str:
    """Remove the destination URL (Slack URLs are secrets) from error text."""
    return text.replace(url, "<destination url>")
