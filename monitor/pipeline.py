"""One poll cycle: due feeds -> fetch -> parse -> dedupe -> match -> store (with the outbox).

The imperative shell around the pure stages. Expected failures (a feed down, not a feed)
are recorded on the feed row and backed off; they never stop the cycle.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from monitor.config import Config
from monitor.dbthread import StoreThread
from monitor.errors import FeedParseError, FetchError
from monitor.events import event_id, iso, match_event
from monitor.fetch import Fetcher, FetchResult
from monitor.items import Item, item_id
from monitor.outboxrows import damp_storm, queue
from monitor.parse import ParsedFeed
from monitor.schedule import backoff, jittered, next_interval
from monitor.statuses import Pending
from monitor.statuses import record as record_statuses
from monitor.workers import CpuPool
from rules import Match, RuleSet
from rules.status import extract
from storage import NotFoundError, StorageError, Store, parse_ts, ts

log = logging.getLogger("newsmon.poll")


@dataclass
class CycleReport:
    feeds: int = 0
    ok: int = 0
    not_modified: int = 0
    failed: int = 0
    new_items: int = 0
    matches: int = 0
    alerts: int = 0


@dataclass(frozen=True)
class PollWrite:
    """Everything one successful poll writes, built off the event loop."""

    items: list[dict[str, Any]]
    matches: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]
    alerts: int
    pending: list[Pending]  # status assertions, decided against the ledger at commit


def _interval(config: Config, feed: dict[str, Any]) -> float:
    return float(feed.get("interval_seconds") or config.poll.interval)


def build_write(
    config: Config,
    rules: RuleSet,
    feed: dict[str, Any],
    parsed: ParsedFeed,
    new: list[Item],
    now: dt.datetime,
) -> PollWrite:
    """Rows for new items, their matches and their outbox entries. Pure apart from `now`."""
    feed_info = {"url": feed["url"], "title": parsed.title or feed.get("title")}
    baseline = not feed.get("baseline_done")
    horizon = now - dt.timedelta(seconds=config.poll.backfill)
    items, matches, deliveries = [], [], []
    pending: list[Pending] = []
    alerts = 0
    stamp = ts(now)
    for item in new:
        iid = item_id(feed["url"], item.key)
        published = iso(item.published)
        items.append(
            {
                "id": iid,
                "feed_id": feed["id"],
                "key": item.key,
                "title": item.title,
                "link": item.link,
                "summary": item.summary,
                "content": item.content,
                "author": item.author,
                "published": published,
                "fetched_at": stamp,
            }
        )
        prepared = rules.prepare(item, html=False)  # parse_feed made it plain text
        found: list[Match] = rules.match_prepared(prepared)
        if not found:
            continue
        # The first poll of a feed is a baseline: store and match everything, but alert
        # only on items recent enough to be news (no alert storm from a feed's archive).
        alert = not baseline or (item.published is not None and item.published >= horizon)
        item_info = {
            "title": item.title,
            "link": item.link,
            "published": published,
            "summary": (item.summary or item.content)[:1000],  # already plain text
        }
        for m in found:
            pending.extend(
                Pending(iid, item_info, feed_info, m.rule.head, a, item.published, alert)
                for a in extract(prepared, m.rule)
            )
            matches.append(
                {
                    "item_id": iid,
                    "rule_id": m.rule.id,
                    "rule_title": m.rule.title,
                    "severity": str(m.rule.severity),
                    "evidence": json.dumps([e.to_dict() for e in m.evidence], ensure_ascii=False),
                    "created_at": stamp,
                }
            )
            if not alert:
                continue
            event = match_event(m, iid, item_info, feed_info, now)
            rows = queue(event, m.rule, config, now)
            if rows:
                alerts += 1
            for row in rows:
                deliveries.append({**row, "item_id": iid, "rule_id": m.rule.id})
    damp_storm(deliveries, config, f"{feed['id']}:{stamp}")
    return PollWrite(items, matches, deliveries, alerts, pending)


def commit(
    store: Store,
    config: Config,
    feed_id: int,
    values: dict[str, Any],
    write: PollWrite,
    now: dt.datetime,
) -> int:
    """On the database thread: decide status changes and write everything in one
    transaction. Returns the number of status changes announced."""
    if "url" in values:
        try:
            store.feed_by_url(values["url"])
            # Another feed already has the new URL: keep this one where it is.
            values = {k: v for k, v in values.items() if k not in ("url", "moved_from")}
        except NotFoundError:
            pass
    statuses, status_deliveries = record_statuses(store, config, write.pending, now)
    store.commit_poll(
        feed_id, values, write.items, write.matches, write.deliveries + status_deliveries, statuses
    )
    return len({d["event_id"] for d in status_deliveries})


# Feeds never read before in one cycle from which the worker processes start at once.
WORKERS_AFTER_NEW_FEEDS = 50
# New items between search-index updates within a cycle: large enough that the statement's
# fixed cost does not matter, small enough that a big cycle's indexing overlaps its polling.
INDEX_EVERY = 2_000


class Poller:
    def __init__(
        self,
        config: Config,
        db: StoreThread,
        fetcher: Fetcher,
        rules: RuleSet,
        now: Callable[[], dt.datetime],
        on_alerts: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.fetcher = fetcher
        self.rules = rules
        self.now = now
        self.on_alerts = on_alerts  # told when a stored poll queued alerts
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._unchanged: list[tuple[int, dict[str, Any]]] = []
        self._unindexed = 0  # items stored this cycle and not yet in the search index
        self.cpu = CpuPool(rules, config)

    def close(self) -> None:
        self.cpu.close()

    async def cycle(self, include_all: bool = False) -> CycleReport:
        feeds = await self.db.call(Store.due_feeds, self.now(), include_all)
        report = CycleReport(feeds=len(feeds))
        if sum(1 for f in feeds if not f.get("content_hash")) >= WORKERS_AFTER_NEW_FEEDS:
            # Many feeds never read before: every item of theirs is new, so the cycle will
            # need the workers; no point in waiting for in-process jobs to show it.
            await asyncio.get_running_loop().run_in_executor(None, self.cpu.expect_work)
        # `poll.concurrency` tasks take the feeds in turn. A task per feed, each queued on a
        # semaphore, cost 10-17% more CPU in an all-304 cycle of 5,000 feeds (task creation
        # and wake-ups).
        queue = iter(feeds)

        async def take_turns() -> None:
            for feed in queue:
                try:
                    await self.poll(feed, report)
                except Exception:
                    # A bug, not a feed fault: logged with its traceback; other feeds go on.
                    log.exception("polling %s failed", feed["url"])
                    report.failed += 1

        tasks = [
            asyncio.ensure_future(take_turns())
            for _ in range(min(self.config.poll.concurrency, len(feeds)))
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            # However the gather ended (shutdown, or a task cancelled on its own), no task
            # goes on polling past the flush and the report.
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._flush_unchanged()
            await self._index_items()
        return report

    async def poll(self, feed: dict[str, Any], report: CycleReport) -> None:
        now = self.now()
        try:
            async with self._host_slot(feed["url"]):
                result = await self.fetcher.fetch(feed["url"], feed["etag"], feed["last_modified"])
        except FetchError as e:
            await self._failed(feed, e, now, report)
            return
        digest = hashlib.sha256(result.body).hexdigest() if not result.not_modified else None
        if result.not_modified or digest == feed.get("content_hash"):
            # 304, or the same bytes as last time: nothing to parse (RELIABILITY F9).
            # Unchanged feeds' new state is written in batches: one transaction (and one
            # hop to the database thread) per few hundred feeds, not per feed. A crash
            # before the flush only means those feeds are polled again (and 304 again).
            self._unchanged.append((feed["id"], self._ok_values(feed, result, now, None)))
            if len(self._unchanged) >= 500:
                await self._flush_unchanged()
            report.not_modified += 1
            return
        try:
            parsed, published, write = await self._parse_and_build(feed, result, now)
        except FeedParseError as e:
            await self._failed(feed, FetchError(feed["url"], str(e)), now, report)
            return
        values = self._ok_values(feed, result, now, parsed, published)
        values["content_hash"] = digest
        if result.permanent_url and result.permanent_url != feed["url"]:
            # 301/308: the feed moved for good. The new URL passed the guard on its hop.
            values["url"] = result.permanent_url
            values["moved_from"] = feed.get("moved_from") or feed["url"]
            log.info("feed %s moved permanently to %s", feed["url"], result.permanent_url)
        try:
            # Batched: polls finishing together share one transaction, each atomic.
            changes = await self.db.call_batched(
                commit, self.config, feed["id"], values, write, now
            )
        except StorageError as e:
            # Locked, read-only or full: nothing of this poll was written and the feed's
            # state is unchanged, so its items are fetched again next time. Not lost.
            log.error("could not store poll of %s: %s", feed["url"], e)
            report.failed += 1
            return
        if parsed.warning:
            log.info("feed %s recovered from malformed XML: %s", feed["url"], parsed.warning)
        report.ok += 1
        report.new_items += len(write.items)
        self._unindexed += len(write.items)
        if self._unindexed >= INDEX_EVERY:
            # Indexed while the cycle goes on, in the database thread (SQLite lets go of the
            # GIL), so it overlaps the parsing and matching instead of following them.
            self._unindexed = 0
            await self._index_items()
        report.matches += len(write.matches)
        report.alerts += write.alerts + changes
        if (write.alerts or changes) and self.on_alerts is not None:
            self.on_alerts()

    async def _parse_and_build(
        self, feed: dict[str, Any], result: FetchResult, now: dt.datetime
    ) -> tuple[ParsedFeed, list[dt.datetime | None], PollWrite]:
        """The parsed feed (its items may be left out), its items' dates, and the rows to
        write for its new items."""
        args = (result.body, result.headers.get("content-type"), result.url)
        if self.cpu.shares_database:
            # One worker job: parse, dedupe (the worker reads the database) and build.
            return await self.cpu.poll(feed, *args, self.config.poll.max_bytes, now)
        parsed = await self.cpu.parse(*args, self.config.poll.max_bytes)
        keys = [i.key for i in parsed.items]
        known = await self.db.call(Store.existing_keys, feed["id"], keys)
        new = [i for i in parsed.items if i.key not in known]
        write: PollWrite = await self.cpu.build(self.config, feed, parsed, new, now)
        return parsed, [i.published for i in parsed.items], write

    async def _flush_unchanged(self) -> None:
        batch, self._unchanged = self._unchanged, []
        if batch:
            await self.db.call(Store.update_feeds, batch)

    async def _index_items(self) -> None:
        """Full-text index the items stored since the last call, in one statement (see
        storage m007): every INDEX_EVERY new items and at the end of the cycle."""
        try:
            await self.db.call(Store.index_items)
        except StorageError as e:
            # The items are stored; the next cycle (or the next search) indexes them.
            log.warning("could not update the search index: %s", e)

    def _host_slot(self, url: str) -> asyncio.Semaphore:
        """At most `poll.per_host` fetches at once to one host: politeness."""
        host = _hostname(url)
        if host not in self._hosts:
            self._hosts[host] = asyncio.Semaphore(self.config.poll.per_host)
        return self._hosts[host]

    def _ok_values(
        self,
        feed: dict[str, Any],
        result: FetchResult,
        now: dt.datetime,
        parsed: ParsedFeed | None,
        published: list[dt.datetime | None] | None = None,
    ) -> dict[str, Any]:
        interval = next_interval(
            _interval(self.config, feed),
            published or [],
            result.headers,
            parsed.ttl_minutes if parsed is not None else None,
            now,
        )
        stamp = ts(now)
        values: dict[str, Any] = {
            "last_checked_at": stamp,
            "last_ok_at": stamp,
            "consecutive_failures": 0,
            "next_check_at": ts(jittered(now, interval)),
            "last_error": None,
            "broken_since": None,
            "broken_notified": 0,
        }
        if not result.not_modified:
            # Stored verbatim and echoed back verbatim, quotes included (RELIABILITY F9).
            values["etag"] = result.headers.get("etag")
            values["last_modified"] = result.headers.get("last-modified")
        if parsed is not None:
            values["title"] = parsed.title or feed.get("title")
            values["site_url"] = parsed.site_url
            values["baseline_done"] = 1
        return values

    async def _failed(
        self, feed: dict[str, Any], e: FetchError, now: dt.datetime, report: CycleReport
    ) -> None:
        failures = int(feed["consecutive_failures"]) + 1
        delay = backoff(_interval(self.config, feed), failures, e.retry_after)
        log.warning("feed %s failed (%d in a row): %s", feed["url"], failures, e.reason)
        since = feed.get("broken_since") or ts(now)
        values: dict[str, Any] = {
            "last_checked_at": ts(now),
            "last_error": e.reason[:500],
            "last_error_at": ts(now),
            "consecutive_failures": failures,
            "next_check_at": ts(now + dt.timedelta(seconds=delay)),
            "broken_since": since,
        }
        if e.status == 410:
            # Gone: the publisher says it will not come back (RELIABILITY F11).
            values |= {"disabled": 1, "disabled_reason": "HTTP 410 Gone"}
        events: list[dict[str, Any]] = []
        broken_for = (now - parse_ts(since)).total_seconds()
        if not feed.get("broken_notified") and (
            broken_for >= self.config.poll.broken_after or e.status == 410
        ):
            values["broken_notified"] = 1
            events = queue(broken_event(feed, e.reason, since, now), None, self.config, now)
        await self.db.call(Store.fail_feed, feed["id"], values, events)
        report.failed += 1


@functools.lru_cache(maxsize=65536)
def _hostname(url: str) -> str:
    return urlsplit(url).hostname or ""  # once per feed URL, not on every poll


def broken_event(feed: dict[str, Any], error: str, since: str, now: dt.datetime) -> dict[str, Any]:
    """`feed.broken`: a feed has failed for `poll.broken_after` (or is gone)."""
    return {
        "type": "feed.broken",
        "id": event_id("feed.broken", feed["url"], since),
        "feed": {"url": feed["url"], "title": feed.get("title")},
        "error": error,
        "failing_since": since,
        "consecutive_failures": int(feed["consecutive_failures"]) + 1,
        "created_at": iso(now),
    }
