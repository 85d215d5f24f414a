"""Match items against a compiled rule set and explain every match with evidence.

Pure. No I/O. `RuleSet` is the public entry point: compile once, match many items.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from rules.compile import Compiled, compile_book
from rules.model import FIELDS, EntityRef, Group, Op, Regex, Rule, RuleBook, Term
from rules.text import Field, html_to_text

MAX_EVIDENCE = 20


class Matchable(Protocol):
    """What the matcher reads of an item. HTML is allowed in every field."""

    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def content(self) -> str: ...


@dataclass(frozen=True)
class Evidence:
    kind: str  # "term" | "entity" | "regex"
    value: str  # the term as written, the entity id, or the regex
    field: str
    start: int  # offsets in the field's plain text
    end: int
    text: str  # the matched text as it appears
    snippet: str

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "value": self.value,
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class Match:
    rule: Rule
    evidence: tuple[Evidence, ...]


# A hit: (field name, first word, last word), word indexes into Field.words.
Hit = tuple[str, int, int]
Scope = tuple[str, int, int] | None
# Hits found while explaining a match, with the leaf that found them: (hit, kind, value).
Found = list[tuple[Hit, str, str]]


def _label(leaf: Term | EntityRef | Regex) -> tuple[str, str]:
    if isinstance(leaf, Term):
        return "term", leaf.text
    if isinstance(leaf, EntityRef):
        return "entity", leaf.entity_id
    return "regex", leaf.pattern


class Prepared:
    """An item's fields and every atom hit in them: the result of the single pass."""

    def __init__(self, c: Compiled, fields: dict[str, Field]) -> None:
        self.c = c
        self.fields = fields
        self.hits: dict[int, list[Hit]] = defaultdict(list)
        for f in fields.values():
            self._scan(f)
        self._resolve_contexts()

    def _scan(self, f: Field) -> None:
        c, words, name = self.c, f.words, f.name
        hits = self.hits
        present = set(words)
        heads: list[tuple[str, list[int]]] = [(w, c.heads[w]) for w in present & c.heads.keys()]
        for length, table in c.prefixes.items():
            for w in present:
                if len(w) >= length and (pids := table.get(w[:length])):
                    heads.append((w, pids))
        for w, pids in heads:
            for i in _positions(words, w):
                for pid in pids:
                    pat = c.patterns[pid]
                    if len(pat.slots) == 1 or pat.accepts(words, i):
                        end = i + len(pat.slots) - 1
                        for atom in c.pattern_atoms[pid]:
                            hits[atom].append((name, i, end))
        if c.unspaced is not None and any(ord(ch) > 0x2FFF for ch in f.folded):
            starts = [s for s, _ in f.spans]
            for end, pids in c.unspaced.iter(f.folded):
                w = max(0, bisect_right(starts, end) - 1)
                for pid in pids:
                    for atom in c.pattern_atoms[pid]:
                        hits[atom].append((name, w, w))

    def _resolve_contexts(self) -> None:
        """Drop entity hits that overlap one of the entity's `not` contexts."""
        for ent_id, n_atom in self.c.not_atom.items():
            bad = self.hits.get(n_atom)
            atom = self.c.entity_atom[ent_id]
            if not bad or atom not in self.hits:
                continue
            kept = [
                h
                for h in self.hits[atom]
                if not any(b[0] == h[0] and b[1] <= h[2] and h[1] <= b[2] for b in bad)
            ]
            if kept:
                self.hits[atom] = kept
            else:
                del self.hits[atom]

    def regex_hits(self, atom: int) -> list[Hit]:
        if atom not in self.hits:
            rx = self.c.regexes[atom]
            found: list[Hit] = []
            for f in self.fields.values():
                starts = [s for s, _ in f.spans]
                for m in rx.finditer(f.folded):
                    w0 = max(0, bisect_right(starts, m.start()) - 1)
                    w1 = max(w0, bisect_right(starts, max(m.end() - 1, m.start())) - 1)
                    found.append((f.name, w0, w1))
            self.hits[atom] = found
        return self.hits[atom]

    def leaf_hits(self, leaf: Term | EntityRef | Regex, fields: tuple[str, ...]) -> list[Hit]:
        c = self.c
        if isinstance(leaf, Regex):
            hits = self.regex_hits(c.regex_atom[leaf.pattern])
        elif isinstance(leaf, EntityRef):
            hits = self.hits.get(c.entity_atom[leaf.entity_id], [])
        else:
            hits = self.hits.get(c.term_atom[(leaf.words, leaf.mode, leaf.prefixes)], [])
        return [h for h in hits if h[0] in fields]

    def atom_hits(self, atom: int) -> list[Hit]:
        return self.hits.get(atom, [])


def _positions(words: list[str], w: str) -> list[int]:
    return [i for i, x in enumerate(words) if x == w]


def _in_scope(h: Hit, scope: Scope) -> bool:
    return scope is None or (h[0] == scope[0] and scope[1] <= h[1] and h[2] <= scope[2])


class _Evaluator:
    def __init__(self, p: Prepared, rule: Rule) -> None:
        self.p = p
        self.fields = tuple(f for f in rule.fields if f in p.fields)

    def holds(self, node: Term | EntityRef | Regex | Group, scope: Scope, ev: Found | None) -> bool:
        if not isinstance(node, Group):
            hits = [h for h in self.p.leaf_hits(node, self.fields) if _in_scope(h, scope)]
            if ev is not None and hits:
                label = _label(node)
                ev.extend((h, *label) for h in hits)
            return bool(hits)
        if node.within is not None:
            return self._within(node, scope, ev)
        return self._group(node, scope, ev)

    def _group(self, g: Group, scope: Scope, ev: Found | None) -> bool:
        if g.op == Op.ALL:
            return all(self.holds(ch, scope, ev) for ch in g.children)
        if g.op == Op.ANY:
            if ev is None:
                return any(self.holds(ch, scope, None) for ch in g.children)
            results = [self.holds(ch, scope, ev) for ch in g.children]
            return any(results)
        return not any(self.holds(ch, scope, None) for ch in g.children)

    def _anchors(self, g: Group) -> list[Hit]:
        out: list[Hit] = []
        for ch in g.children:
            if isinstance(ch, Group):
                if ch.op != Op.NONE:
                    out.extend(self._anchors(ch))
            else:
                out.extend(self.p.leaf_hits(ch, self.fields))
        return out

    def _within(self, g: Group, scope: Scope, ev: Found | None) -> bool:
        within = g.within
        if within is None:
            return self._group(g, scope, ev)
        seen: set[tuple[str, int, int]] = set()
        for name, w0, _ in sorted(self._anchors(g)):
            if within.sentence:
                f = self.p.fields[name]
                sent = f.sentence_of_word[w0]
                lo = bisect_right(f.sentence_of_word, sent - 1)
                hi = bisect_right(f.sentence_of_word, sent) - 1
                cand: tuple[str, int, int] = (name, lo, hi)
            else:
                cand = (name, w0, w0 + within.words)
            if scope is not None:
                if scope[0] != name:
                    continue
                cand = (name, max(cand[1], scope[1]), min(cand[2], scope[2]))
            if cand in seen:
                continue
            seen.add(cand)
            if self._group(g, cand, None):
                if ev is not None:
                    self._group(g, cand, ev)
                return True
        return False


class RuleSet:
    """All rules compiled into one index. Immutable after construction."""

    def __init__(self, book: RuleBook) -> None:
        self.book = book
        self.compiled = compile_book(book)

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self.book.rules

    def prepare(self, item: Matchable) -> Prepared:
        fields: dict[str, Field] = {}
        texts = {name: html_to_text(getattr(item, name, "") or "") for name in FIELDS}
        for name, text in texts.items():
            # Feeds often repeat the summary as content; matching it twice adds nothing.
            if text and not (name == "content" and text == texts["summary"]):
                fields[name] = Field(name, text)
        return Prepared(self.compiled, fields)

    def match(self, item: Matchable) -> list[Match]:
        return self.match_prepared(self.prepare(item))

    def match_prepared(self, p: Prepared) -> list[Match]:
        c = self.compiled
        candidates: set[int] = set(c.always)
        for atom in p.hits.keys() & c.rules_by_atom.keys():
            candidates.update(c.rules_by_atom[atom])
        out = []
        for idx in sorted(candidates):
            rule = c.rules[idx]
            ev = _Evaluator(p, rule)
            if ev.holds(rule.condition, None, None):
                found: Found = []
                ev.holds(rule.condition, None, found)
                out.append(Match(rule, evidence(p, found)))
        return out


def evidence(p: Prepared, found: Iterable[tuple[Hit, str, str]]) -> tuple[Evidence, ...]:
    """Evidence records for hits, in reading order, one per span, at most MAX_EVIDENCE."""
    out: list[Evidence] = []
    seen = set()
    for h, kind, value in sorted(set(found), key=lambda x: (FIELDS.index(x[0][0]), x[0][1])):
        f = p.fields[h[0]]
        start, end = f.display_span(h[1], h[2])
        key = (h[0], start, end)
        if key in seen:
            continue
        seen.add(key)
        snippet = f.snippet(start, end)
        out.append(Evidence(kind, value, h[0], start, end, f.text[start:end], snippet))
        if len(out) >= MAX_EVIDENCE:
            break
    return tuple(out)
