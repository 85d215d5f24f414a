"""Match items against a compiled rule set and explain every match with evidence.

Pure. No I/O. `RuleSet` is the public entry point: compile once, match many items.
"""

from __future__ import annotations

import contextlib
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import compress
from operator import itemgetter
from typing import Any, Protocol

from rules.compile import ALL, ANY, LEAF, NONE, Compiled, Pattern, compile_book
from rules.model import FIELDS, EntityRef, Regex, Rule, RuleBook, Term, Within
from rules.retree import has
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
    """An item's fields and every atom present in them: the result of the single pass.

    Where an atom was found (word positions) is worked out only when asked for
    (`positions`): to evaluate proximity and field filters, resolve exclusion contexts and
    explain a match. Most atoms of most items are never asked for.
    """

    def __init__(self, c: Compiled, fields: dict[str, Field]) -> None:
        self.c = c
        self.fields = fields
        self.present: set[int] = set()
        # positions of atoms worked out so far (and of regex and status-only terms)
        self.hits: dict[int, list[Hit]] = {}
        # positions found during the pass (unspaced scripts), and hits of keys that needed a
        # check, as (field, start in Field.joined, index of the last word after the first)
        self._eager: dict[int, list[Hit]] = defaultdict(list)
        self._late: dict[int, list[tuple[Field, int, int]]] = defaultdict(list)
        # per field, the automaton's matches: (key index, start, end) in Field.joined
        self._found: list[tuple[Field, list[tuple[int, int, int]]]] = []
        self._passes: dict[int, list[tuple[int, int, int]]] = {}  # id(Field.joined) -> found
        # the lazy atoms the item has, once they are looked for (`_scan_lazy`)
        self._lazy_found: set[int] | None = None
        for f in fields.values():
            self._scan(f)
        self.present.discard(-1)
        if c.context_of:
            self._resolve_contexts()
        if c.ref_of:
            self._resolve_refs()

    def _scan(self, f: Field) -> None:
        c, name = self.c, f.name
        eager = self._eager
        if c.words_ac is not None:
            joined = f.joined
            # A field that repeats another (`Field.renamed`) shares its bytes: one pass.
            found = self._passes.get(id(joined))
            if found is None:
                found = self._passes[id(joined)] = c.words_ac.find_matches_as_indexes(
                    joined, overlapping=True
                )
            if found:
                self._found.append((f, found))
                keys = list(map(_FIRST, found))
                # The atoms of simple keys, in C; -1 stands for the others, handled below.
                self.present.update(map(c.key_atom.__getitem__, keys))
                complex_hits = compress(found, map(c.key_complex.__getitem__, keys))
                entries_of = c.word_entries
                late = self._late
                for key, start, end in complex_hits:
                    spelled, checked = entries_of[key]
                    for atom, last in spelled:
                        late[atom].append((f, start, last))
                    for n, atom, rest, head in checked:
                        if _checks(f, start, end, rest, head):
                            late[atom].append((f, start, n - 1))
                self.present.update(late)
        if c.unspaced is not None and f.has_unspaced:
            starts = f.starts
            for key, _, end in c.unspaced.find_matches_as_indexes(f.folded, overlapping=True):
                k = max(0, bisect_right(starts, end - 1) - 1)
                for pid in c.unspaced_pids[key]:
                    for atom in c.pattern_atoms[pid]:
                        eager[atom].append((name, k, k))
        self.present.update(eager)

    def positions(self, atom: int) -> list[Hit]:
        """Where `atom` was found, in field order then word order ([] if absent)."""
        got = self.hits.get(atom)
        if got is not None:
            return got
        if atom not in self.present:
            return []
        out = list(self._eager.get(atom, ()))
        for f, start, more in self._late.get(atom, ()):
            i = f.joined.count(b" ", 0, start)
            out.append((f.name, i, i + more))
        keys = self.c.atom_keys.get(atom)
        if keys:
            last, longer = self.c.key_last, self.c.key_more
            has = keys.__contains__
            for f, found in self._found:
                count, name = f.joined.count, f.name
                # The atom's hits picked out in C: an item has dozens, the atom a few.
                for key, start, end in compress(found, map(has, map(_FIRST, found))):
                    i = count(b" ", 0, start)
                    out.append((name, i, i + last[key]))
                    for n, _, rest, head in longer.get(key, ()):
                        if _checks(f, start, end, rest, head):
                            out.append((name, i, i + n - 1))
        out.sort(key=_reading_order)
        self.hits[atom] = out
        return out

    def _resolve_contexts(self) -> None:
        """Drop entity hits that overlap one of the entity's `not` contexts."""
        present = self.present
        for n_atom in present & self.c.context_of.keys():
            atom = self.c.context_of[n_atom]
            if atom not in present:
                continue
            bad = self.positions(n_atom)
            kept = [h for h in self.positions(atom) if not any(_overlap(b, h) for b in bad)]
            if kept:
                self.hits[atom] = kept
            else:
                present.discard(atom)
                self.hits[atom] = []

    def _resolve_refs(self) -> None:
        """Count a reference ("the group", "движение") as a hit of the entity it refers
        back to: of the entities with references, the one named last before it in reading
        order (title, summary, content), when that naming is not one of the entity's `not`
        contexts ("the Pakistani Taliban ... the group" is not the Taliban). A reference
        before any naming, part of one ("the group of investors" named by another entity),
        followed by one in apposition ("этого движения «Хизб ут-Тахрир»"), possessive ("the
        movement's rival": someone else) or inside one of the entity's `not` contexts
        refers to nothing; such a context, holding a reference, names no one either."""
        present, ref_of, context_of = self.present, self.c.ref_of, self.c.context_of
        live = [(r, a) for r, a in ref_of.items() if r in present and a in present]
        if not live:
            return
        refs = {r: self.positions(r) for r, _ in live}
        every_ref = [h for hits in refs.values() for h in hits]
        referred = set(ref_of.values())
        named: list[tuple[tuple[int, int, int], Hit, int]] = []
        for a in referred & present:
            named.extend((_reading_order(h), h, a) for h in self.positions(a))
        contexts: dict[int, list[Hit]] = {}
        for n_atom in present & context_of.keys():
            a = context_of[n_atom]
            if a in referred:
                contexts[a] = self.positions(n_atom)
                named.extend(
                    (_reading_order(h), h, -1)
                    for h in contexts[a]
                    if not any(_overlap(h, x) for x in every_ref)
                )
        named.sort()
        order = [k for k, _, _ in named]
        for r, a in live:
            more = []
            for h in refs[r]:
                if any(_overlap(n, h) for _, n, _ in named):
                    continue  # part of a naming: "the group of investors", "Islamic Movement"
                at = _FIELD_ORDER[h[0]]
                i = bisect_left(order, (at, h[2] + 1, -1))
                if i < len(order) and order[i][:2] == (at, h[2] + 1):
                    continue  # a naming in apposition: "этого движения «Хизб ут-Тахрир»"
                i = bisect_left(order, (at, h[1], -1)) - 1
                if i < 0 or named[i][2] != a:
                    continue
                if any(_overlap(h, b) for b in contexts.get(a, ())):
                    continue
                words = self.fields[h[0]].words
                if h[2] + 1 < len(words) and words[h[2] + 1] == "s":
                    continue
                more.append(h)
            if more:
                self.hits[a] = sorted(self.positions(a) + more, key=_reading_order)

    def regex_hits(self, atom: int) -> list[Hit]:
        if atom not in self.hits:
            rx = self.c.regexes[atom]
            literals = self.c.regex_needs.get(atom)
            found: list[Hit] = []
            for f in self.fields.values():
                if not f.words:
                    continue  # a match needs a word to anchor it (and to show as evidence)
                if literals is not None and f.plain_case and not has(f.folded, literals):
                    continue  # a match would hold them
                starts = f.starts
                for m in rx.finditer(f.folded):
                    w0 = max(0, bisect_right(starts, m.start()) - 1)
                    w1 = max(w0, bisect_right(starts, max(m.end() - 1, m.start())) - 1)
                    found.append((f.name, w0, w1))
            self.hits[atom] = found
        return self.hits[atom]

    def lazy_hits(self, atom: int) -> list[Hit]:
        """Hits of a term left out of the single pass (`Compiled.lazy`: terms only status
        extraction reads). The first request scans for all of them at once."""
        if self._lazy_found is None:
            self._scan_lazy()
        return self.hits.get(atom, [])

    def _scan_lazy(self) -> None:
        c = self.c
        found: dict[int, list[Hit]] = {a: [] for a in c.lazy}
        for f in self.fields.values():
            if c.lazy_ac is not None:
                joined, name = f.joined, f.name
                for key, start, end in c.lazy_ac.find_matches_as_indexes(joined, overlapping=True):
                    for n, atom, rest, head in c.lazy_entries[key]:
                        if not _checks(f, start, end, rest, head):
                            continue
                        i = joined.count(b" ", 0, start)
                        found[atom].append((name, i, i + n - 1))
            if f.has_unspaced:
                for atom, pats in c.lazy.items():
                    for _, unspaced in pats:
                        if unspaced is not None:
                            found[atom].extend(_substring_hits(f, unspaced))
        for atom, hits in found.items():
            if len(hits) > 1:
                hits.sort(key=_reading_order)
            self.hits.setdefault(atom, hits)
        self._lazy_found = {atom for atom in found if self.hits[atom]}

    def terms_hits(self, terms: tuple[Term, ...], fields: tuple[str, ...]) -> list[list[Hit]]:
        """The hits in `fields` of each of `terms` (compiled terms), in the terms' order:
        what `leaf_hits` gives term by term, with one set operation instead of a lookup per
        term."""
        eager, lazy = self.c.term_plan(terms)
        out: list[list[Hit]] = [[] for _ in terms]
        for atom in self.present.intersection(eager):
            hits = [h for h in self.positions(atom) if h[0] in fields]
            for i in eager[atom]:
                out[i] = hits
        if lazy:
            if self._lazy_found is None:
                self._scan_lazy()
            assert self._lazy_found is not None
            for atom in self._lazy_found.intersection(lazy):
                hits = [h for h in self.hits[atom] if h[0] in fields]
                for i in lazy[atom]:
                    out[i] = hits
        return out

    def leaf_hits(self, leaf: Term | EntityRef | Regex, fields: tuple[str, ...]) -> list[Hit]:
        c = self.c
        if isinstance(leaf, Regex):
            hits = self.regex_hits(c.regex_atom[leaf.pattern])
        elif isinstance(leaf, EntityRef):
            hits = self.positions(c.entity_atom[leaf.entity_id])
        else:
            atom = c.term_atom[(leaf.words, leaf.mode, leaf.prefixes)]
            hits = self.lazy_hits(atom) if atom in c.lazy else self.positions(atom)
        return [h for h in hits if h[0] in fields]


_FIELD_ORDER = {name: k for k, name in enumerate(FIELDS)}


def _reading_order(h: Hit) -> tuple[int, int, int]:
    return (_FIELD_ORDER[h[0]], h[1], h[2])


# In C: the key index of an automaton match; a child's position in its group.
_FIRST = itemgetter(0)


def _checks(
    f: Field, start: int, end: int, rest: Pattern | frozenset[bytes] | None, head: Any
) -> bool:
    """Whether a key found at joined[start:end] is its pattern: the whole first word when
    the key is its stem (`head`), and the words after those the key spells (`rest`)."""
    joined = f.joined
    if head is not None and joined[start + 1 : joined.find(b" ", end)] not in head:
        return False  # the key was the stem of the first word, and the word is another
    if rest.__class__ is frozenset:
        # A two-word phrase: the word after the first, read off the bytes. (The key may end
        # inside the second word: "officials stat".)
        s1 = joined.find(b" ", start + 1)
        s2 = joined.find(b" ", s1 + 1)
        return s2 != -1 and joined[s1 + 1 : s2] in rest
    if rest is not None:
        # The word after the first, tested on the bytes before any split.
        if not joined.startswith(rest.second, joined.find(b" ", start + 1)):  # type: ignore[union-attr]
            return False
        # Keys start with a space: a key's word is the spaces before it.
        return rest.accepts(f.words, joined.count(b" ", 0, start))  # type: ignore[union-attr]
    return True


def _substring_hits(f: Field, key: str) -> list[Hit]:
    """Hits of an unspaced-script pattern: every occurrence, as the word holding its end."""
    out: list[Hit] = []
    starts = f.starts
    i = f.folded.find(key)
    while i != -1:
        w = max(0, bisect_right(starts, i + len(key) - 1) - 1)
        out.append((f.name, w, w))
        i = f.folded.find(key, i + 1)
    return out


def _positions(words: list[str], w: str) -> list[int]:
    return [i for i, x in enumerate(words) if x == w]


def _overlap(a: Hit, b: Hit) -> bool:
    return a[0] == b[0] and a[1] <= b[2] and b[1] <= a[2]


def _in_scope(h: Hit, scope: Scope) -> bool:
    return scope is None or (h[0] == scope[0] and scope[1] <= h[1] and h[2] <= scope[2])


class _Evaluator:
    """Evaluates one rule's compiled condition (`Compiled.program`) on a prepared item.

    `fields` is None when the rule reads every field the item has (no filtering needed).
    """

    __slots__ = ("p", "present", "fields")

    def __init__(self, p: Prepared, fields: frozenset[str] | None) -> None:
        self.p = p
        self.present = p.present
        self.fields = fields

    def _leaf(self, node: tuple[Any, ...], scope: Scope) -> list[Hit]:
        hits = self.p.regex_hits(node[1]) if node[4] else self.p.positions(node[1])
        if not hits:
            return []
        flt = self.fields
        if flt is not None:
            hits = [h for h in hits if h[0] in flt]
        if scope is not None:
            name, lo, hi = scope
            hits = [h for h in hits if h[0] == name and lo <= h[1] and h[2] <= hi]
        return hits

    def holds(self, node: tuple[Any, ...], scope: Scope, ev: Found | None) -> bool:
        op = node[0]
        if op == LEAF:
            if not node[4] and node[1] not in self.present:
                return False
            if ev is None and scope is None and self.fields is None:
                return not node[4] or bool(self._leaf(node, None))
            hits = self._leaf(node, scope)
            if ev is not None and hits:
                ev.extend((h, node[2], node[3]) for h in hits)
            return bool(hits)
        if node[6] is not None:
            # A field-scoped group: only hits in its fields count, inside and below it.
            with self._only(node[6]):
                return self._scoped(node, scope, ev)
        return self._scoped(node, scope, ev)

    @contextlib.contextmanager
    def _only(self, fields: frozenset[str]) -> Iterator[None]:
        """Narrow the fields whose hits count to `fields`, for the duration."""
        saved = self.fields
        self.fields = fields if saved is None else saved & fields
        try:
            yield
        finally:
            self.fields = saved

    def _scoped(self, node: tuple[Any, ...], scope: Scope, ev: Found | None) -> bool:
        op = node[0]
        if node[2] is not None:
            if op == NONE:
                # "none of these within a sentence": no window in which any of them holds.
                return not self._within((ANY, *node[1:]), scope, None)
            return self._within(node, scope, ev)
        return self._group(node, scope, ev)

    def _group(self, g: tuple[Any, ...], scope: Scope, ev: Found | None) -> bool:
        op, children, leaves = g[0], g[1], g[3]
        present = self.present
        if op == ALL:
            if not leaves <= present:
                return False  # a word leaf absent from the whole item is absent everywhere
            if ev is None:
                return all(self.holds(ch, scope, None) for ch in g[7])
            return all(self.holds(ch, scope, ev) for ch in children)
        if op == ANY:
            if ev is None:
                if scope is None and self.fields is None and not leaves.isdisjoint(present):
                    return True
                return any(self.holds(ch, scope, None) for ch in self._live_cheap(g))
            held = False
            for ch in self._live(g):
                if ch[0] == LEAF:  # a leaf adds only its own hits
                    held = self.holds(ch, scope, ev) or held
                    continue
                # A child group that does not hold leaves no evidence: the leaves of it that
                # matched are no reason for the match.
                found: Found = []
                if self.holds(ch, scope, found):
                    ev.extend(found)
                    held = True
            return held
        return not any(self.holds(ch, scope, None) for ch in self._live_cheap(g))

    def _live_cheap(self, g: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """The children of group `g` that may hold, cheapest first (`Compiled.program`):
        where only whether one holds matters, a word leaf spares a regex's pass."""
        found = g[3] & self.present
        others = g[7][len(g[1]) - len(g[4]) :]
        if not found:
            return list(others)
        live = [ch for atom in found for _, ch in g[5][atom]]
        live.extend(others)
        return live

    def _live(self, g: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """The children of group `g` that may hold, in rule order: word leaves whose atom
        the item has (found by one set intersection, not a call per leaf) and the others."""
        found = g[3] & self.present
        if not found:
            return [ch for _, ch in g[4]]
        live = [x for atom in found for x in g[5][atom]]
        live.extend(g[4])
        live.sort(key=_FIRST)
        return [ch for _, ch in live]

    def _anchors(self, g: tuple[Any, ...], scope: Scope) -> list[Hit]:
        """The hits of `g`'s positive leaves in `scope`, in no particular order."""
        out: list[Hit] = []
        for ch in self._live_cheap(g):
            if ch[0] == LEAF:
                out.extend(self._leaf(ch, scope))
            elif ch[0] != NONE:
                if ch[6] is None:
                    out.extend(self._anchors(ch, scope))
                    continue
                with self._only(ch[6]):
                    out.extend(self._anchors(ch, scope))
        return out

    def _window_anchors(self, g: tuple[Any, ...], scope: Scope) -> list[Hit]:
        """Hits at which group `g`'s windows open. For `all` within a sentence, those of its
        first leaf suffice: a sentence where all hold has a hit of each child, so the same
        sentences are tried, in the same order, without one per hit of every other leaf
        (a rule's list of forty relation words)."""
        if g[0] == ALL and g[2].sentence:
            for ch in g[1]:
                if ch[0] == LEAF:
                    return self._leaf(ch, scope)
        return self._anchors(g, scope)

    def _within(self, g: tuple[Any, ...], scope: Scope, ev: Found | None) -> bool:
        within: Within = g[2]
        seen: set[tuple[str, int, int]] = set()
        # Every window opens at a hit of a positive leaf inside the current scope.
        for name, w0, _ in sorted(self._window_anchors(g, scope)):
            if within.sentence:
                f = self.p.fields[name]
                sent = f.sentence_of_word[w0]
                lo = bisect_right(f.sentence_of_word, sent - 1)
                hi = bisect_right(f.sentence_of_word, sent) - 1
                cand: tuple[str, int, int] = (name, lo, hi)
            else:
                cand = (name, w0, w0 + within.words)
            if scope is not None:
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

    def prepare(self, item: Matchable, html: bool = True) -> Prepared:
        """The item's fields prepared for matching. `html=False` says they are already
        clean plain text (`clean_text`'s output: a parsed feed's items, stored items): they
        are matched as they are, so a text/plain title that says "<b>" keeps it, and
        evidence offsets index that text."""
        fields: dict[str, Field] = {}
        if html:
            texts = {name: html_to_text(getattr(item, name, "") or "") for name in FIELDS}
        else:
            texts = {name: getattr(item, name, "") or "" for name in FIELDS}
        for name, text in texts.items():
            if not text:
                continue
            # Feeds often repeat the summary as content: it is prepared once, but stays a
            # field of its own, for rules and groups that read one and not the other.
            if name == "content" and text == texts["summary"]:
                fields[name] = fields["summary"].renamed(name)
            else:
                fields[name] = Field(name, text)
        return Prepared(self.compiled, fields)

    def match(self, item: Matchable, html: bool = True) -> list[Match]:
        return self.match_prepared(self.prepare(item, html))

    def match_prepared(self, p: Prepared) -> list[Match]:
        candidates = self.candidates(p)
        if not candidates:
            return []
        item_fields = p.fields.keys()
        out: list[Match] = []
        for idx in sorted(candidates):
            self._evaluate(p, idx, item_fields, out)
        return out

    def candidates(self, p: Prepared) -> set[int]:
        """The indexes of the rules worth evaluating on `p`: those with an atom of each of
        their clauses (`Compiled.requires`) in the item, and those with no clause."""
        c = self.compiled
        by_atom = c.rules_by_atom
        present = p.present
        requires = c.requires
        candidates: set[int] = set(c.always)
        for atom in present & by_atom.keys():
            direct, gate, gated = by_atom[atom]
            candidates.update(direct)
            if gate.isdisjoint(present):
                continue  # none of these rules has its next clause in the item
            for idx in gated:
                for clause in requires[idx]:
                    if clause.isdisjoint(present):
                        break
                else:
                    candidates.add(idx)
        return candidates

    def _evaluate(self, p: Prepared, idx: int, item_fields: Any, out: list[Match]) -> None:
        """Evaluate rule `idx`; on a match, explain it (evidence) and append it to `out`."""
        c = self.compiled
        rule_fields = c.rule_fields[idx]
        ev = _Evaluator(p, None if item_fields <= rule_fields else rule_fields)
        program = c.programs[idx] or c.program_of(idx)
        if ev.holds(program, None, None):
            found: Found = []
            ev.holds(program, None, found)
            out.append(Match(c.rules[idx], evidence(p, found)))


def evidence(p: Prepared, found: Iterable[tuple[Hit, str, str]]) -> tuple[Evidence, ...]:
    """Evidence records for hits, in reading order, one per span, at most MAX_EVIDENCE."""
    out: list[Evidence] = []
    seen = set()
    # Reading order; a span found by several leaves is labelled by the first in the rule
    # (dict.fromkeys keeps order and the sort is stable, so this does not vary by process).
    order = sorted(dict.fromkeys(found), key=lambda x: (FIELDS.index(x[0][0]), x[0][1]))
    for h, kind, value in order:
        f = p.fields[h[0]]
        start, end = f.display_span(h[1], h[2])
        # By text, not field name: content that repeats the summary (`Field.renamed`, the
        # same bytes) does not show the summary's evidence twice.
        key = (id(f.joined), start, end)
        if key in seen:
            continue
        seen.add(key)
        snippet = f.snippet(start, end)
        out.append(Evidence(kind, value, h[0], start, end, f.text[start:end], snippet))
        if len(out) >= MAX_EVIDENCE:
            break
    return tuple(out)
