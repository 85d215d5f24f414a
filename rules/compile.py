"""Compile a RuleBook into one index for all rules: cost per item does not grow with rules.

Pure. No I/O. The only module that imports pyahocorasick.

Every term, alias and context becomes a *pattern* (folded words plus a mode). Patterns are
found in one pass over an item's words: single words and phrase heads by dict lookup of
every inflected surface form (expanded here, once), prefixes by a lookup per prefix length,
and unspaced scripts (CJK, Thai) by one Aho-Corasick automaton. Each pattern feeds one or
more *atoms* (a term, an entity, an entity's exclusion contexts, a regex), and each rule is
indexed under the atoms that must be present for it to match, so an item only evaluates the
rules it could satisfy.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

from rules.inflect import forms
from rules.model import EntityRef, Group, Mode, Node, Op, Regex, Rule, RuleBook, Term
from rules.text import is_unspaced


@dataclass(frozen=True)
class Pattern:
    """Per word, either the set of accepted surface forms or (for `word*`) a prefix."""

    slots: tuple[frozenset[str] | str, ...]

    def accepts(self, words: list[str], i: int) -> bool:
        """Whether the pattern's words 2..n match words[i+1:]; the head is matched already."""
        n = len(self.slots)
        if i + n > len(words):
            return False
        for k in range(1, n):
            slot, w = self.slots[k], words[i + k]
            if not (w.startswith(slot) if isinstance(slot, str) else w in slot):
                return False
        return True


@dataclass
class Compiled:
    """The index. Built once; read-only while matching (safe to share between threads)."""

    book: RuleBook
    patterns: list[Pattern] = field(default_factory=list)
    pattern_atoms: list[list[int]] = field(default_factory=list)
    # surface form of a pattern's first word -> pattern ids
    heads: dict[str, list[int]] = field(default_factory=dict)
    # prefix length -> prefix -> pattern ids, for patterns whose first word is `word*`
    prefixes: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    unspaced: Any = None  # ahocorasick.Automaton over folded text, or None
    atom_names: list[tuple[str, str]] = field(default_factory=list)  # (kind, value)
    term_atom: dict[tuple[tuple[str, ...], Mode, frozenset[int]], int] = field(default_factory=dict)
    entity_atom: dict[str, int] = field(default_factory=dict)
    not_atom: dict[str, int] = field(default_factory=dict)  # entity id -> context atom
    regex_atom: dict[str, int] = field(default_factory=dict)
    regexes: dict[int, re.Pattern[str]] = field(default_factory=dict)
    rules_by_atom: dict[int, list[int]] = field(default_factory=dict)
    always: list[int] = field(default_factory=list)  # rules evaluated on every item
    rules: tuple[Rule, ...] = ()

    # -- building ---------------------------------------------------------------------------

    def _atom(self, kind: str, value: str) -> int:
        self.atom_names.append((kind, value))
        return len(self.atom_names) - 1

    def _pattern(self, term: Term, atom: int) -> None:
        words = term.words
        slots: list[frozenset[str] | str] = []
        for k, w in enumerate(words):
            if k in term.prefixes:
                slots.append(w)
            elif term.mode == Mode.INFLECT:
                slots.append(forms(w))
            else:
                slots.append(frozenset({w}))
        pid = len(self.patterns)
        self.patterns.append(Pattern(tuple(slots)))
        self.pattern_atoms.append([atom])
        head = slots[0]
        if is_unspaced("".join(words)):
            if self.unspaced is None:
                self.unspaced = ahocorasick.Automaton()
            # Unspaced scripts have no word boundaries to respect: substring search.
            key = " ".join(words)
            existing = self.unspaced.get(key, [])
            self.unspaced.add_word(key, [*existing, pid])
        elif isinstance(head, str):
            self.prefixes.setdefault(len(head), {}).setdefault(head, []).append(pid)
        else:
            for f in head:
                self.heads.setdefault(f, []).append(pid)

    def term(self, term: Term) -> int:
        key = (term.words, term.mode, term.prefixes)
        if key not in self.term_atom:
            atom = self._atom("term", term.text)
            self.term_atom[key] = atom
            self._pattern(term, atom)
        return self.term_atom[key]

    def regex(self, pattern: str) -> int:
        if pattern not in self.regex_atom:
            atom = self._atom("regex", pattern)
            self.regex_atom[pattern] = atom
            self.regexes[atom] = re.compile(pattern, re.IGNORECASE)
        return self.regex_atom[pattern]

    def leaf_atom(self, node: Node) -> int:
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, EntityRef):
            return self.entity_atom[node.entity_id]
        if isinstance(node, Regex):
            return self.regex(node.pattern)
        raise TypeError(node)

    def trigger(self, node: Node) -> set[int] | None:
        """Atoms of which at least one is present whenever `node` holds; None if no such set."""
        if not isinstance(node, Group):
            return None if isinstance(node, Regex) else {self.leaf_atom(node)}
        if node.op == Op.NONE:
            return None
        child_sets = [self.trigger(c) for c in node.children]
        if node.op == Op.ANY:
            if any(s is None for s in child_sets):
                return None
            return set().union(*(s for s in child_sets if s is not None))
        known = [s for s in child_sets if s is not None]
        # ALL: any one child's trigger will do; the smallest keeps candidates fewest.
        return min(known, key=len) if known else None


def _leaves(node: Node) -> list[Node]:
    if isinstance(node, Group):
        return [leaf for c in node.children for leaf in _leaves(c)]
    return [node]


def compile_book(book: RuleBook) -> Compiled:
    c = Compiled(book=book, rules=book.rules)
    for ent in book.entities.values():
        atom = c._atom("entity", ent.id)
        c.entity_atom[ent.id] = atom
        for alias in ent.aliases:
            c._pattern(alias, atom)
        if ent.not_contexts:
            n_atom = c._atom("not", ent.id)
            c.not_atom[ent.id] = n_atom
            for ctx in ent.not_contexts:
                c._pattern(ctx, n_atom)
    by_atom: dict[int, list[int]] = defaultdict(list)
    for idx, rule in enumerate(book.rules):
        for leaf in _leaves(rule.condition):
            c.leaf_atom(leaf)
        if rule.status:
            for terms in (*rule.status.states.values(), rule.status.negation, rule.status.modality):
                for t in terms:
                    c.term(t)
        trig = c.trigger(rule.condition)
        if trig is None:
            c.always.append(idx)
        else:
            for atom in trig:
                by_atom[atom].append(idx)
    c.rules_by_atom = dict(by_atom)
    if c.unspaced is not None:
        c.unspaced.make_automaton()
    return c
