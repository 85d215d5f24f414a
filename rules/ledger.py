"""The legal-status ledger: assertions per (subject, jurisdiction) in event-time order,
and the decision whether a new assertion changes the known state.

Pure: no I/O, no clock (times are passed in).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from rules.match import Evidence
from rules.model import Rule

PROPOSED = "proposed"

# state -> the states it already holds (StatusSpec.implies)
Implies = Mapping[str, Sequence[str]]


def settle_at(states: Sequence[str], implies: Implies) -> int | None:
    """Where the current state after `states` (in event-time order) took hold: the index of
    the first of its run. The current state is the latest one not proposed, except that a
    state the current one implies restates it (after a recognition, "lifted the ban" is no
    change) and leaves it standing."""
    current: str | None = None
    at: int | None = None
    for i, state in enumerate(states):
        if state == PROPOSED or (current is not None and state in implies.get(current, ())):
            continue
        if state != current:
            current, at = state, i
    return at


def settle(states: Iterable[str], implies: Implies) -> str | None:
    """The current state after `states`, in event-time order (see settle_at)."""
    seq = list(states)
    at = settle_at(seq, implies)
    return None if at is None else seq[at]


@dataclass(frozen=True)
class Assertion:
    subject: str
    jurisdiction: str
    state: str  # one of the spec's states, or "proposed"
    target: str  # the state a `proposed` assertion points at (else == state)
    evidence: tuple[Evidence, ...]
    dated: dt.date | None = None  # a date the sentence gives for the event, if any
    month: int | None = None  # a month named without a year ("in April"): the latest before
    # The spec's `implies` as pairs (state, implied states): what the ledger needs to tell
    # a restatement from a change, carried with the assertion to the database thread.
    implies: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class Entry:
    when: dt.datetime
    state: str
    item_id: str | None
    source: str = ""


@dataclass(frozen=True)
class Change:
    subject: str
    jurisdiction: str
    previous: str
    state: str


@dataclass
class Ledger:
    """Assertions per (subject, jurisdiction), ordered by event time.

    The current state is the latest non-proposed assertion by event time, so an old article
    fetched late lands in history without overwriting a newer state. The first assertion
    for a pair establishes its state; a change needs a known previous state (seed known
    states so the first article after installation is compared with history).
    """

    entries: dict[tuple[str, str], list[Entry]] = field(default_factory=dict)
    implies: dict[str, Implies] = field(default_factory=dict)  # per subject

    @classmethod
    def seeded(cls, rules: Iterable[Rule]) -> Ledger:
        ledger = cls()
        for rule in rules:
            if rule.status is None:
                continue
            ledger.implies[rule.status.subject] = rule.status.implies
            for seed in rule.status.seeds:
                when = dt.datetime.combine(seed.date, dt.time(), dt.UTC)
                ledger.add(
                    rule.status.subject,
                    seed.jurisdiction,
                    Entry(when, seed.state, None, seed.source),
                )
        return ledger

    def add(self, subject: str, jurisdiction: str, entry: Entry) -> None:
        rows = self.entries.setdefault((subject, jurisdiction), [])
        keys = [e.when for e in rows]
        rows.insert(bisect.bisect_right(keys, entry.when), entry)

    def current(self, subject: str, jurisdiction: str, at: dt.datetime | None = None) -> str | None:
        """The state as of `at` (default: the latest known)."""
        rows = self.entries.get((subject, jurisdiction), [])
        states = (e.state for e in rows if at is None or e.when <= at)
        return settle(states, self.implies.get(subject, {}))

    def record(
        self,
        a: Assertion,
        published: dt.datetime | None,
        item_id: str | None,
        now: dt.datetime | None = None,
    ) -> Change | None:
        """Add an assertion; the Change it makes to the current state, if any. Only the
        newest assertion of a pair can make one: an older one, fetched late, is history
        (with `implies` it can still shift how later ones read, without an alert)."""
        when = event_time(a, published, now)
        if a.implies:
            self.implies.setdefault(a.subject, dict(a.implies))
        before = self.current(a.subject, a.jurisdiction)
        entry = Entry(when, a.state, item_id)
        self.add(a.subject, a.jurisdiction, entry)
        after = self.current(a.subject, a.jurisdiction)
        if a.state == PROPOSED or before is None or after == before:
            return None
        rows = self.entries[(a.subject, a.jurisdiction)]
        pos = next(i for i in range(len(rows) - 1, -1, -1) if rows[i] is entry)
        if any(e.state != PROPOSED for e in rows[pos + 1 :]):
            return None
        return Change(a.subject, a.jurisdiction, before, after or a.state)

    def history(self, subject: str) -> dict[str, list[Entry]]:
        return {j: rows for (s, j), rows in sorted(self.entries.items()) if s == subject}


def event_time(
    a: Assertion, published: dt.datetime | None, now: dt.datetime | None = None
) -> dt.datetime:
    """When the asserted event happened: a date the sentence names, if it is before the
    item's own date; else the item's published time; else `now` (first seen)."""
    base = published or now or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    named = a.dated
    if named is None and a.month is not None and a.month != base.month:
        # "in April": the latest April before the item ("in December", said in May, is last year's).
        named = dt.date(base.year - (a.month > base.month), a.month, 1)
    if named is not None:
        when = dt.datetime.combine(named, dt.time(), dt.UTC)
        if when < base - dt.timedelta(days=31):
            return when
    return base
