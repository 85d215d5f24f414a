"""A naive reference matcher: one small set of compiled regexes per rule, evaluated in a loop.

This is the baseline the indexed matcher in `rules.match` is measured against, and the
oracle the property tests compare it with. It shares only text preparation with the engine
(`html_to_text`, `fold`, the sentence splitter); terms, entities and groups are evaluated
here from scratch, rule by rule, with regexes over the folded text:

- a word of a term is an alternation of its inflected forms (`rules.inflect.forms`), or
  `prefix\\w*` for `word*`, or the word itself for `=exact`;
- the words of a phrase are joined by `\\W+` and the whole is bounded by `(?<!\\w)…(?!\\w)`;
- terms in unspaced scripts (CJK, Thai) are plain substrings;
- an entity is any of its aliases, less hits overlapping one of its `not` contexts;
- `all`/`any`/`none` are evaluated over the hits in scope, and a group with `within`
  holds when some hit of its positive leaves opens a window (its sentence, or that word and
  the N following) in which the group holds.

Hits are (field, first word, last word), word numbers counted by `\\w+` in the folded field.
Slow on purpose: cost grows linearly with the number of rules.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rules.inflect import forms
from rules.model import (
    FIELDS,
    Entity,
    EntityRef,
    Group,
    Mode,
    Node,
    Op,
    Rule,
    RuleBook,
    Term,
)
from rules.text import _SENTENCE_END, fold, html_to_text, is_unspaced

Hit = tuple[str, int, int]
Window = tuple[str, int, int] | None


def term_regex(term: Term) -> re.Pattern[str]:
    """The regex of a term over folded text, matching at every word start (overlapping)."""
    if is_unspaced("".join(term.words)):
        # A substring of the folded text as written (Thai vowel signs split `words`).
        body = term.text.strip().removeprefix("=")
        key = " ".join(fold(chunk.rstrip("*")) for chunk in body.split())
        return re.compile("(?=(" + re.escape(key) + "))")
    slots = []
    for k, w in enumerate(term.words):
        if k in term.prefixes:
            slots.append(re.escape(w) + r"\w*")
        elif term.mode == Mode.INFLECT:
            alts = sorted(forms(w), key=lambda s: (-len(s), s))
            slots.append("(?:" + "|".join(re.escape(a) for a in alts) + ")")
        else:
            slots.append(re.escape(w))
    # The lookahead makes every start position a candidate, so overlapping phrases
    # ("a a" in "a a a") are all found.
    return re.compile(r"(?<!\w)(?=(" + r"\W+".join(slots) + r"(?!\w)))")


@dataclass
class NaiveField:
    name: str
    folded: str
    starts: list[int]
    sentence: list[int]  # sentence number of each word


def prepare(item: Any) -> dict[str, NaiveField]:
    texts = {name: html_to_text(getattr(item, name, "") or "") for name in FIELDS}
    out = {}
    for name, text in texts.items():
        if not text:
            continue  # content that repeats the summary is still a field of its own
        folded = fold(text)
        starts = [m.start() for m in re.finditer(r"\w+", folded)]
        ends = [m.start() for m in _SENTENCE_END.finditer(folded)]
        sentence = [sum(1 for e in ends if e <= s) for s in starts]
        out[name] = NaiveField(name, folded, starts, sentence)
    return out


def _word_at(f: NaiveField, pos: int) -> int:
    return max(0, bisect_right(f.starts, pos) - 1)


@dataclass
class NaiveRule:
    rule: Rule
    leaf: dict[int, Callable[[dict[str, NaiveField]], list[Hit]]] = field(default_factory=dict)


class NaiveMatcher:
    """Evaluate every rule on every item, each with its own regexes."""

    def __init__(self, book: RuleBook) -> None:
        self.book = book
        self._term_rx: dict[Term, re.Pattern[str]] = {}
        self._regex: dict[str, re.Pattern[str]] = {}
        self.rules = [self._compile(r) for r in book.rules]

    # -- compiling --------------------------------------------------------------------------

    def _trx(self, term: Term) -> re.Pattern[str]:
        if term not in self._term_rx:
            self._term_rx[term] = term_regex(term)
        return self._term_rx[term]

    def _compile(self, rule: Rule) -> NaiveRule:
        nr = NaiveRule(rule)

        def walk(node: Node) -> None:
            if isinstance(node, Group):
                for ch in node.children:
                    walk(ch)
            elif isinstance(node, Term):
                nr.leaf[id(node)] = self._term_leaf(self._trx(node), node)
            elif isinstance(node, EntityRef):
                nr.leaf[id(node)] = self._entity_leaf(self.book.entities[node.entity_id])
            else:
                if node.pattern not in self._regex:
                    self._regex[node.pattern] = re.compile(node.pattern, re.IGNORECASE)
                nr.leaf[id(node)] = self._regex_leaf(self._regex[node.pattern])

        walk(rule.condition)
        return nr

    @staticmethod
    def _term_hits(rx: re.Pattern[str], unspaced: bool, fields: dict[str, NaiveField]) -> list[Hit]:
        out = []
        for f in fields.values():
            for m in rx.finditer(f.folded):
                s, e = m.span(1)
                if unspaced:
                    w = _word_at(f, e - 1)
                    out.append((f.name, w, w))
                else:
                    out.append((f.name, _word_at(f, s), _word_at(f, e - 1)))
        return out

    def _term_leaf(self, rx: re.Pattern[str], term: Term) -> Callable[..., list[Hit]]:
        unspaced = is_unspaced("".join(term.words))
        return lambda fields: self._term_hits(rx, unspaced, fields)

    def _entity_leaf(self, ent: Entity) -> Callable[..., list[Hit]]:
        aliases = [(self._trx(a), is_unspaced("".join(a.words))) for a in ent.aliases]
        contexts = [(self._trx(a), is_unspaced("".join(a.words))) for a in ent.not_contexts]

        def hits(fields: dict[str, NaiveField]) -> list[Hit]:
            found = [h for rx, u in aliases for h in self._term_hits(rx, u, fields)]
            if not found or not contexts:
                return found
            bad = [h for rx, u in contexts for h in self._term_hits(rx, u, fields)]
            return [
                h
                for h in found
                if not any(b[0] == h[0] and b[1] <= h[2] and h[1] <= b[2] for b in bad)
            ]

        return hits

    @staticmethod
    def _regex_leaf(rx: re.Pattern[str]) -> Callable[..., list[Hit]]:
        def hits(fields: dict[str, NaiveField]) -> list[Hit]:
            out = []
            for f in fields.values():
                if not f.starts:
                    continue  # no word to anchor a hit in (see rules.match)
                for m in rx.finditer(f.folded):
                    w0 = _word_at(f, m.start())
                    out.append((f.name, w0, max(w0, _word_at(f, max(m.end() - 1, m.start())))))
            return out

        return hits

    # -- matching ---------------------------------------------------------------------------

    def match_ids(self, item: Any) -> list[str]:
        """Ids of the rules the item matches, in rule order."""
        fields = prepare(item)
        return [nr.rule.id for nr in self.rules if self.rule_holds(nr, fields)]

    def rule_holds(self, nr: NaiveRule, fields: dict[str, NaiveField]) -> bool:
        mine = {k: v for k, v in fields.items() if k in nr.rule.fields}
        cache: dict[int, list[Hit]] = {}

        def hits(leaf: Node) -> list[Hit]:
            key = id(leaf)
            if key not in cache:
                cache[key] = nr.leaf[key](mine)
            return cache[key]

        def inside(h: Hit, w: Window) -> bool:
            return w is None or (h[0] == w[0] and w[1] <= h[1] and h[2] <= w[2])

        def positive_hits(node: Node) -> list[Hit]:
            if not isinstance(node, Group):
                return hits(node)
            if node.op == Op.NONE:
                return []
            return [h for ch in node.children for h in positive_hits(ch)]

        def holds(node: Node, w: Window) -> bool:
            if not isinstance(node, Group):
                return any(inside(h, w) for h in hits(node))
            if node.within is None:
                return plain(node, w)
            if node.op == Op.NONE:
                # No window (opened by a hit of one of its children) where any child holds.
                return not holds(Group(Op.ANY, node.children, node.within), w)
            for h in positive_hits(node):
                if not inside(h, w):
                    continue
                name, w0 = h[0], h[1]
                f = mine[name]
                if node.within.sentence:
                    s = f.sentence[w0]
                    ids = [i for i, x in enumerate(f.sentence) if x == s]
                    lo, hi = ids[0], ids[-1]
                else:
                    lo, hi = w0, w0 + node.within.words
                if w is not None:
                    lo, hi = max(lo, w[1]), min(hi, w[2])
                if plain(node, (name, lo, hi)):
                    return True
            return False

        def plain(g: Group, w: Window) -> bool:
            if g.op == Op.ALL:
                return all(holds(ch, w) for ch in g.children)
            if g.op == Op.ANY:
                return any(holds(ch, w) for ch in g.children)
            return not any(holds(ch, w) for ch in g.children)

        return holds(nr.rule.condition, None)
