"""The daemon: an APScheduler tick that polls due feeds, and one delivery worker per
destination draining the outbox.

The only module that imports apscheduler. The scheduler only ticks; the database decides
what is due (`next_check_at`), so a restart loses nothing. SIGTERM and SIGINT stop it
cleanly: no new ticks, the running tick and in-flight sends finish, exit code 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import Config
from monitor.dbthread import StoreThread
from monitor.deliver import DeliveryReport, Outbox, delivery_client
from monitor.fetch import Fetcher
from monitor.heap import settle_heap
from monitor.netguard import AddressPolicy, Resolver, system_resolve
from monitor.pipeline import CycleReport, Poller
from monitor.statuses import seed_rows
from rules import RuleError, RuleSet
from storage import Store

log = logging.getLogger("newsmon.daemon")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class TickReport:
    poll: CycleReport
    delivery: DeliveryReport


class Service:
    """Everything a running newsmon holds: database thread, HTTP clients, rules."""

    def __init__(
        self,
        config: Config,
        rules: RuleSet,
        now: Callable[[], dt.datetime] = utcnow,
        console: TextIO | None = None,
        resolver: Resolver = system_resolve,
    ) -> None:
        self.config = config
        self.rules = rules
        self.now = now
        self.db = StoreThread(config.database)
        policy = AddressPolicy(config.allow_private_networks, config.allowed_networks)
        self.fetcher = Fetcher(
            policy,
            timeout=config.poll.timeout,
            max_bytes=config.poll.max_bytes,
            max_connections=config.poll.concurrency,
            resolver=resolver,
        )
        self.outbox = Outbox(config, self.db, delivery_client(config), now, console)
        self.poller = self._poller(rules)

    def _poller(self, rules: RuleSet) -> Poller:
        # Alerts go out as their polls are stored, not when a long cycle ends.
        return Poller(
            self.config, self.db, self.fetcher, rules, self.now, on_alerts=self.outbox.wake
        )

    async def __aenter__(self) -> Service:
        await self.db.open()
        await self.sync_feeds()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.poller.close)
        await self.fetcher.aclose()
        await self.outbox.client.aclose()
        await self.db.close()

    async def describe_database(self) -> str:
        def pragmas(store: Store) -> str:
            names = ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            return " ".join(f"{n}={store.pragma(n)}" for n in names)

        return await self.db.call(pragmas)

    async def sync_feeds(self) -> None:
        """Make sure every feed in the config exists in the database (due at once if new)."""
        now = self.now()
        feeds = [(f.url, _secs(f.interval), f.tags) for f in self.config.feeds]
        await self.db.call(Store.add_feeds, feeds, now)
        await self.db.call(Store.add_seeds, seed_rows(self.rules.rules, now))

    async def reload_rules(self, load: Callable[[], RuleSet]) -> bool:
        """Swap in freshly loaded rules between ticks; on any problem keep the old ones.

        The poller (and its worker processes, which compiled the old rules) is replaced
        whole; nothing in it outlives a cycle."""
        loop = asyncio.get_running_loop()
        try:
            rules = await loop.run_in_executor(None, load)
        except RuleError as e:
            log.error("rules not reloaded; the running ones stay in use:\n%s", e)
            return False
        old, self.rules = self.poller, rules
        self.poller = self._poller(rules)
        await loop.run_in_executor(None, old.close)
        await self.db.call(Store.add_seeds, seed_rows(rules.rules, self.now()))
        settle_heap()
        log.info("rules reloaded: %d rules", len(rules.rules))
        return True

    async def tick(self, include_all: bool = False) -> TickReport:
        """Poll, sending alerts as their polls are stored, then deliver everything still
        due (the `--once` cycle)."""
        delivery = DeliveryReport()
        stop = asyncio.Event()
        senders = [
            asyncio.create_task(self.outbox.worker(name, stop, delivery), name=f"deliver-{name}")
            for name in self.outbox.destinations
        ]
        try:
            poll = await self.poller.cycle(include_all)
        finally:
            # Each sender finishes the send in hand; what is left is drained below.
            stop.set()
            await asyncio.gather(*senders, return_exceptions=True)
        await self.outbox.run_once(delivery)
        return TickReport(poll, delivery)

    async def poll(self) -> CycleReport:
        """Poll due feeds and wake the delivery workers (the daemon's tick)."""
        report = await self.poller.cycle()
        if report.alerts or report.failed:
            self.outbox.wake()
        return report


def _secs(value: float | None) -> int | None:
    return int(value) if value is not None else None


async def run_once(service: Service, include_all: bool = False) -> TickReport:
    async with service:
        return await service.tick(include_all)


async def run_forever(
    service: Service,
    heartbeat: Path | None = None,
    load_rules: Callable[[], RuleSet] | None = None,
) -> None:
    """Tick every `poll.tick` seconds until SIGTERM or SIGINT; on SIGHUP, reload the rules
    with `load_rules` before the next tick."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reload_wanted = asyncio.Event()
    in_flight: set[asyncio.Task[None]] = set()
    ticks = 0

    async with service:

        async def tick() -> None:
            task = asyncio.current_task()
            assert task is not None  # noqa: S101 - always inside a task here
            in_flight.add(task)
            try:
                nonlocal ticks
                ticks += 1
                if reload_wanted.is_set() and load_rules is not None:
                    # Here, between cycles: no poll is using the rules being replaced.
                    reload_wanted.clear()
                    await service.reload_rules(load_rules)
                p = await service.poll()
                log.debug("tick %d: %d feeds due", ticks, p.feeds)
                if p.feeds:
                    log.info(
                        "tick: %d feeds (%d ok, %d unchanged, %d failed), %d new items, "
                        "%d matches, %d alerts queued",
                        p.feeds, p.ok, p.not_modified, p.failed, p.new_items, p.matches,
                        p.alerts,
                    )  # fmt: skip
                if heartbeat is not None:
                    heartbeat.write_text(service.now().isoformat())
            except Exception:
                # The one catch-all: a bug in one tick is logged; the daemon lives on.
                log.exception("tick failed")
            finally:
                in_flight.discard(task)

        scheduler = AsyncIOScheduler(
            timezone=dt.UTC,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": max(1, int(service.config.poll.tick)),
            },
        )

        def on_event(event: JobExecutionEvent) -> None:
            if event.code == EVENT_JOB_MAX_INSTANCES:
                log.warning("previous tick still running; this one skipped")

        scheduler.add_listener(on_event, EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES)
        scheduler.add_job(
            tick,
            IntervalTrigger(seconds=service.config.poll.tick),
            id="dispatch",
            next_run_time=dt.datetime.now(dt.UTC),
            replace_existing=True,
        )
        scheduler.start()

        def on_hangup() -> None:
            log.info("SIGHUP: reloading the rules before the next tick")
            reload_wanted.set()
            scheduler.modify_job("dispatch", next_run_time=dt.datetime.now(dt.UTC))

        if load_rules is not None:
            loop.add_signal_handler(signal.SIGHUP, on_hangup)
        web = None
        if service.config.web.enabled:
            from monitor.web import ReviewApp, serve_in_thread

            web = serve_in_thread(
                ReviewApp(service.config.database, service.now), service.config.web.listen
            )
            log.info("review UI on http://%s/", service.config.web.listen)
        workers = [
            asyncio.create_task(service.outbox.worker(name, stop), name=f"deliver-{name}")
            for name in service.outbox.destinations
        ]
        log.info(
            "newsmon running: %d feeds configured, %d rules, database %s (%s)",
            len(service.config.feeds), len(service.rules.rules), service.config.database,
            await service.describe_database(),
        )  # fmt: skip
        await stop.wait()
        log.info("stopping: waiting for the running tick to finish")
        scheduler.pause()
        if in_flight:
            await asyncio.wait(set(in_flight), timeout=30)
        # shutdown(wait=True) would cancel running coroutine jobs (LIBRARIES.md §1).
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)
        if web is not None:
            web.shutdown()
            web.server_close()
        # Workers finish the send in hand; one stuck past its deadline is cancelled and its
        # delivery stays pending (it is sent again, with the same id, after a restart).
        if workers:
            _, late = await asyncio.wait(workers, timeout=service.config.delivery.timeout + 2)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
    with contextlib.suppress(Exception):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
    log.info("stopped")
