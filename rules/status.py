"""Legal-status assertions: extraction from a matched item, and the ledger that decides
whether an assertion changes the known state.

Pure. No I/O, no clock: event times are passed in.

Extraction works per sentence: a sentence that names the subject and a state trigger
asserts that state, for the jurisdiction named nearest the trigger (or, failing that, the
one named most recently before it). A negation just before the trigger ("will not lift",
"refusing to recognize") flips it through `negated` (or drops it); a modal cue ("plans to",
"recommended") makes it `proposed`. A year or month named in the sentence ("In 2005, ...")
dates the assertion, so background history does not pass for news.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from rules.match import Evidence, Hit, Prepared, evidence
from rules.model import EntityRef, Rule, StatusSpec, Term

PROPOSED = "proposed"
_CUE_WINDOW = 6  # words before a trigger in which a negation or modal cue applies
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan", "январ"), ("february", "feb", "феврал"), ("march", "mar", "март"),
            ("april", "apr", "апрел"), ("may", "мая", "май"), ("june", "jun", "июн"),
            ("july", "jul", "июл"), ("august", "aug", "август"), ("september", "sep", "сентябр"),
            ("october", "oct", "октябр"), ("november", "nov", "ноябр"), ("december", "dec", "декабр"),
        ]
    )
    for m in names
}  # fmt: skip
_DATE = re.compile(r"(?:\b([a-zа-я]+)\.?\s+)?\b(19[5-9]\d|20\d\d)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Assertion:
    subject: str
    jurisdiction: str
    state: str  # one of the spec's states, or "proposed"
    target: str  # the state a `proposed` assertion points at (else == state)
    evidence: tuple[Evidence, ...]
    dated: dt.date | None = None  # a date the sentence gives for the event, if any


def _hits(p: Prepared, leaf: Term | EntityRef, fields: tuple[str, ...]) -> list[Hit]:
    return p.leaf_hits(leaf, fields)


def _sentence_date(text: str) -> dt.date | None:
    """The earliest explicit year (with its month if given) in a sentence."""
    best: dt.date | None = None
    for m in _DATE.finditer(text):
        month = 1
        word = (m.group(1) or "").lower()
        for prefix, number in _MONTHS.items():
            if word.startswith(prefix) and (len(prefix) > 3 or word == prefix):
                month = number
                break
        when = dt.date(int(m.group(2)), month, 1)
        best = when if best is None or when < best else best
    return best


def extract(p: Prepared, rule: Rule) -> list[Assertion]:
    """The status assertions an item makes under `rule`, in reading order."""
    spec = rule.status
    if spec is None:
        return []
    fields = tuple(f for f in rule.fields if f in p.fields)
    out: list[Assertion] = []
    seen: set[tuple[str, str, dt.date | None]] = set()
    for name in fields:
        for a in _extract_field(p, spec, name):
            # A title and its summary usually say the same thing: one assertion.
            key = (a.jurisdiction, a.state, a.dated)
            if key not in seen:
                seen.add(key)
                out.append(a)
    return out


def _extract_field(p: Prepared, spec: StatusSpec, name: str) -> list[Assertion]:
    f = p.fields[name]
    only = (name,)
    sent_of = f.sentence_of_word
    subject_sents = {sent_of[h[1]] for h in _hits(p, EntityRef(spec.subject), only)}
    if not subject_sents:
        return []
    juris: list[tuple[int, str, Hit]] = sorted(
        (h[1], j, h) for j in spec.jurisdictions for h in _hits(p, EntityRef(j), only)
    )
    negations = [h for t in spec.negation for h in _hits(p, t, only)]
    modals = [h for t in spec.modality for h in _hits(p, t, only)]
    # Per sentence, the triggers of each state; later-declared states win a sentence
    # ("removed from the list of banned organizations" is a removal, not a ban).
    order = list(spec.states)
    per_sentence: dict[int, list[tuple[int, str, Hit]]] = {}
    for state, terms in spec.states.items():
        for t in terms:
            for h in _hits(p, t, only):
                s = sent_of[h[1]]
                if s in subject_sents:
                    per_sentence.setdefault(s, []).append((order.index(state), state, h))
    out = []
    for s in sorted(per_sentence):
        triggers = sorted(per_sentence[s], key=lambda x: (-x[0], x[2][1]))
        _, state, trig = triggers[0]
        target = state
        if _cued(trig, negations, sent_of):
            flipped = spec.negated.get(state, "none")
            if flipped == "none":
                continue
            state = target = flipped
        elif _cued(trig, modals, sent_of):
            state = PROPOSED
        lo = bisect.bisect_left(sent_of, s)
        hi = bisect.bisect_right(sent_of, s)
        places = _jurisdictions(trig, juris, lo, hi)
        if not places:
            continue
        start, end = f.display_span(lo, hi - 1)
        dated = _sentence_date(f.text[start:end])
        for j, jh in places:
            found = [(trig, "term", "trigger"), (jh, "entity", j)]
            out.append(Assertion(spec.subject, j, state, target, evidence(p, found), dated))
    return out


def _cued(trig: Hit, cues: list[Hit], sent_of: list[int]) -> bool:
    """A cue ending within a few words before the trigger, in the same sentence."""
    t0 = trig[1]
    return any(
        0 <= t0 - c[2] <= _CUE_WINDOW and sent_of[c[2]] == sent_of[t0] and c[1] < t0 for c in cues
    )


def _jurisdictions(
    trig: Hit, juris: list[tuple[int, str, Hit]], lo: int, hi: int
) -> list[tuple[str, Hit]]:
    in_sentence = [(w, j, h) for w, j, h in juris if lo <= w < hi]
    if in_sentence:
        after = {j: h for w, j, h in in_sentence if w > trig[2]}
        # "prohibited in Kyrgyzstan, Russia and Tajikistan": a list after the trigger
        # names every jurisdiction it applies to.
        if len(after) >= 2:
            return list(after.items())
        w, j, h = min(in_sentence, key=lambda x: (abs(x[0] - trig[1]), x[0] > trig[1]))
        return [(j, h)]
    before = [(w, j, h) for w, j, h in juris if w < lo]
    if before:
        _, j, h = before[-1]
        return [(j, h)]
    return []


# -- the ledger --------------------------------------------------------------------------


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

    @classmethod
    def seeded(cls, rules: Iterable[Rule]) -> Ledger:
        ledger = cls()
        for rule in rules:
            if rule.status is None:
                continue
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
        for e in reversed(self.entries.get((subject, jurisdiction), [])):
            if e.state != PROPOSED and (at is None or e.when <= at):
                return e.state
        return None

    def record(
        self,
        a: Assertion,
        published: dt.datetime | None,
        item_id: str | None,
        now: dt.datetime | None = None,
    ) -> Change | None:
        """Add an assertion; the Change it makes to the current state, if any."""
        when = event_time(a, published, now)
        before = self.current(a.subject, a.jurisdiction)
        self.add(a.subject, a.jurisdiction, Entry(when, a.state, item_id))
        after = self.current(a.subject, a.jurisdiction)
        if a.state == PROPOSED or before is None or after == before:
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
    if a.dated is not None:
        named = dt.datetime.combine(a.dated, dt.time(), dt.UTC)
        if named < base - dt.timedelta(days=31):
            return named
    return base
