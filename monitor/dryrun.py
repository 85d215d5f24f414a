"""Dry runs: `newsmon match` over a feed file, a feed URL or a .jsonl of items, and
`newsmon backtest` over stored items. Both store and send nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.config import Config
from monitor.errors import FeedParseError, MonitorError
from monitor.fetch import Fetcher
from monitor.items import item_id
from monitor.netguard import AddressPolicy
from monitor.parse import parse_feed
from rules import Match, RuleSet
from rules.ledger import Ledger, event_time
from rules.status import extract


@dataclass(frozen=True)
class InputItem:
    id: str
    title: str = ""
    summary: str = ""
    content: str = ""
    link: str | None = None
    published: str | None = None
    source: str | None = None
    # Whether the fields may be HTML (a .jsonl line); parsed and stored items are plain text.
    html: bool = True

    @property
    def when(self) -> dt.datetime | None:
        if not self.published:
            return None
        try:
            value = dt.datetime.fromisoformat(self.published.replace("Z", "+00:00"))
        except ValueError:
            return None
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _from_jsonl(path: Path) -> list[InputItem]:
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise MonitorError(f"{path}:{n}: not JSON: {e.msg}") from e
        if not isinstance(obj, dict):
            raise MonitorError(f"{path}:{n}: each line must be a JSON object")
        items.append(
            InputItem(
                id=str(obj.get("id") or f"line-{n}"),
                title=str(obj.get("title") or ""),
                summary=str(obj.get("summary") or ""),
                content=str(obj.get("content") or ""),
                link=obj.get("link"),
                published=obj.get("published"),
                source=obj.get("source"),
            )
        )
    return items


def _from_feed(body: bytes, url: str, content_type: str | None, max_bytes: int) -> list[InputItem]:
    parsed = parse_feed(body, content_type, url, max_bytes)
    return [
        InputItem(
            id=item_id(url, it.key),
            title=it.title,
            summary=it.summary,
            content=it.content,
            link=it.link,
            published=it.published.isoformat() if it.published else None,
            source=parsed.title or url,
            html=False,
        )
        for it in parsed.items
    ]


async def _fetch(url: str, config: Config) -> tuple[bytes, str | None]:
    policy = AddressPolicy(config.allow_private_networks, config.allowed_networks)
    async with Fetcher(policy, config.poll.timeout, config.poll.max_bytes) as fetcher:
        result = await fetcher.fetch(url)
    return result.body, result.headers.get("content-type")


def load_input(source: str, config: Config) -> list[InputItem]:
    """Items from a .jsonl file, a feed file, or an http(s) feed URL (fetched with the guard)."""
    if source.startswith(("http://", "https://")):
        body, ctype = asyncio.run(_fetch(source, config))
        return _from_feed(body, source, ctype, config.poll.max_bytes)
    path = Path(source)
    if not path.is_file():
        raise MonitorError(f"no such file: {source}")
    if path.suffix == ".jsonl":
        return _from_jsonl(path)
    try:
        return _from_feed(path.read_bytes(), path.resolve().as_uri(), None, config.poll.max_bytes)
    except FeedParseError as e:
        raise MonitorError(f"{source}: {e}") from e


def match_records(
    items: Iterable[InputItem], rules: RuleSet, seed: bool = False
) -> Iterator[dict[str, Any]]:
    """One record per (item, rule) match, in item order; status rules see items as history.

    The ledger starts empty (the file is the history) unless `seed` adds the rule files'
    known states.
    """
    ledger = Ledger.seeded(rules.rules) if seed else Ledger()
    # An item without a date is news as of now, as the daemon dates it when first seen: a
    # sentence's own date ("delisted in December 2023") then reads as that date, not 1970.
    now = dt.datetime.now(dt.UTC)
    for item in items:
        prepared = rules.prepare(item, item.html)
        for m in rules.match_prepared(prepared):
            record = _record(item, m)
            assertions: list[dict[str, Any]] = []
            for a in extract(prepared, m.rule):
                when = event_time(a, item.when, now)
                previous = ledger.current(a.subject, a.jurisdiction, at=when)
                change = ledger.record(a, item.when, item.id, now)
                assertions.append(
                    {
                        "subject": a.subject,
                        "jurisdiction": a.jurisdiction,
                        "state": a.state,
                        "previous": previous,
                        "changed": change is not None,
                        "when": when.isoformat(),
                        "evidence": [e.to_dict() for e in a.evidence],
                    }
                )
            if assertions:
                # DESIGN.md §4 names one `status` object: the item's news, i.e. the last
                # assertion that changed a state, else its latest claim. Every assertion
                # the item makes is listed in `statuses`.
                changed = [x for x in assertions if x["changed"]]
                latest = changed[-1] if changed else max(assertions, key=lambda x: str(x["when"]))
                record["status"] = {
                    k: latest[k] for k in ("subject", "jurisdiction", "state", "previous")
                }
                record["statuses"] = assertions
            yield record


def _record(item: InputItem, m: Match) -> dict[str, Any]:
    return {
        "item_id": item.id,
        "rule": m.rule.id,
        "title": item.title,
        "link": item.link,
        "evidence": [e.to_dict() for e in m.evidence],
    }


@dataclass
class RuleStats:
    rule: str
    title: str
    hits: int = 0
    relevant: int = 0
    irrelevant: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)


def backtest(
    rows: Iterable[dict[str, Any]],
    rules: RuleSet,
    labels: dict[tuple[str, str], str],
    progress: Callable[[int], None] | None = None,
    sample_size: int = 5,
) -> list[RuleStats]:
    """Hit counts per rule over stored items, with review labels where they exist."""
    stats = {r.id: RuleStats(r.id, r.title) for r in rules.rules}
    for row in rows:
        item = InputItem(
            id=row["id"],
            title=row.get("title") or "",
            summary=row.get("summary") or "",
            content=row.get("content") or "",
            link=row.get("link"),
            published=row.get("published"),
            html=False,
        )
        for m in rules.match(item, html=False):
            s = stats[m.rule.id]
            s.hits += 1
            label = labels.get((item.id, m.rule.id))
            if label == "relevant":
                s.relevant += 1
            elif label == "irrelevant":
                s.irrelevant += 1
            if len(s.sample) < sample_size:
                s.sample.append({"item_id": item.id, "title": item.title, "link": item.link})
        if progress is not None:
            progress(1)
    return list(stats.values())
