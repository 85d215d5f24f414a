"""Compile a RuleBook into one index for all rules: cost per item does not grow with rules.

Pure. No I/O. The only module that imports pyahocorasick.

Every term, alias and context becomes a *pattern* (folded words plus a mode). Patterns are
found in one pass over an item's distinct words: single words and phrase heads by dict
lookup of every inflected surface form (expanded here, once), prefixes by a lookup per
prefix length, and unspaced scripts (CJK, Thai) by one Aho-Corasick automaton. What a word
starts is remembered (`head_entries`), so a word seen before costs one set operation.
Each pattern feeds one or more *atoms* (a term, an entity, an entity's exclusion contexts,
a regex), and each rule is indexed under atoms of which one must be present for it to
match, and carries the other such clauses (`requires`), so an item only evaluates the rules
it could satisfy.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import ahocorasick

from rules.inflect import forms
from rules.model import FIELDS, EntityRef, Group, Mode, Node, Op, Regex, Rule, RuleBook, Term
from rules.text import fold, is_unspaced

# Surface forms, once per distinct word (phrases share words: "the", "of").
_forms = lru_cache(maxsize=1 << 16)(forms)
# Node codes of compiled conditions (see `Compiled.program`).
LEAF, ALL, ANY, NONE = 0, 1, 2, 3
_OPS = {Op.ALL: ALL, Op.ANY: ANY, Op.NONE: NONE}
# Words remembered per index before the memo starts over (bounds memory on endless feeds).
_MEMO_MAX = 200_000


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


def unspaced_key(term: Term) -> str | None:
    """For a term in a script written without spaces (CJK, Thai), the folded substring to
    find; None for other terms. Built from the text as written, not from `words`: Thai
    vowel signs are not word characters, so "ตาลีบัน" is three words but one substring."""
    if not is_unspaced("".join(term.words)):
        return None
    body = term.text.strip().removeprefix("=")
    return " ".join(fold(chunk.rstrip("*")) for chunk in body.split())


# What a word starts: (number of words, atoms fed, the pattern, forms of one of its other
# words, at least one of which the text must contain, or None), one per pattern.
Entry = tuple[int, tuple[int, ...], Pattern, frozenset[str] | None]


@dataclass
class Compiled:
    """The index. Built once; read-only while matching (safe to share between threads),
    apart from the word memo, whose updates are idempotent and made under a lock."""

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
    # context atom -> entity atom, for entities with `not` contexts
    context_of: dict[int, int] = field(default_factory=dict)
    # per rule: clauses (atom sets) each of which must meet the item's atoms for a match
    requires: list[tuple[frozenset[int], ...]] = field(default_factory=list)
    # per rule: its condition as nested tuples (see `program`) and its fields
    programs: list[tuple[Any, ...]] = field(default_factory=list)
    rule_fields: list[frozenset[str]] = field(default_factory=list)
    # word memo: every word looked up, and those that start a pattern -> entries
    # atoms of terms only status extraction reads: found on demand (Prepared.leaf_hits),
    # not in the pass over every item -> their patterns
    # (and, for unspaced scripts, the substring to find)
    lazy: dict[int, list[tuple[Pattern, str | None]]] = field(default_factory=dict)
    seen_words: set[str] = field(default_factory=set)
    head_entries: dict[str, tuple[Entry, ...]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- building ---------------------------------------------------------------------------

    def _atom(self, kind: str, value: str) -> int:
        self.atom_names.append((kind, value))
        return len(self.atom_names) - 1

    def _pattern(self, term: Term, atom: int, lazy: bool = False) -> None:
        words = term.words
        slots: list[frozenset[str] | str] = []
        for k, w in enumerate(words):
            if k in term.prefixes:
                slots.append(w)
            elif term.mode == Mode.INFLECT:
                slots.append(_forms(w))
            else:
                slots.append(frozenset({w}))
        key = unspaced_key(term)
        if lazy:
            self.lazy.setdefault(atom, []).append((Pattern(tuple(slots)), key))
            return
        pid = len(self.patterns)
        self.patterns.append(Pattern(tuple(slots)))
        self.pattern_atoms.append([atom])
        head = slots[0]
        if key is not None:
            if self.unspaced is None:
                self.unspaced = ahocorasick.Automaton()
            # Unspaced scripts have no word boundaries to respect: substring search.
            existing = self.unspaced.get(key, [])
            self.unspaced.add_word(key, [*existing, pid])
        elif isinstance(head, str):
            self.prefixes.setdefault(len(head), {}).setdefault(head, []).append(pid)
        else:
            for f in head:
                self.heads.setdefault(f, []).append(pid)

    def term(self, term: Term, lazy: bool = False) -> int:
        key = (term.words, term.mode, term.prefixes)
        if key not in self.term_atom:
            atom = self._atom("term", term.text)
            self.term_atom[key] = atom
            self._pattern(term, atom, lazy)
        return self.term_atom[key]

    @cached_property
    def lazy_index(
        self,
    ) -> tuple[
        dict[str, list[tuple[int, Pattern]]], dict[int, dict[str, list[tuple[int, Pattern]]]]
    ]:
        """Lazy patterns by head word form and by head prefix, for one pass per item."""
        heads: dict[str, list[tuple[int, Pattern]]] = {}
        prefixes: dict[int, dict[str, list[tuple[int, Pattern]]]] = {}
        for atom, pats in self.lazy.items():
            for pat, unspaced in pats:
                if unspaced is not None:
                    continue
                head = pat.slots[0]
                if isinstance(head, str):
                    prefixes.setdefault(len(head), {}).setdefault(head, []).append((atom, pat))
                else:
                    for form in head:
                        heads.setdefault(form, []).append((atom, pat))
        return heads, prefixes

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
        clauses = self.clauses(node)
        if not clauses:
            return None
        best: frozenset[int] = min(clauses, key=_size)
        return set(best)

    def clauses(self, node: Node) -> list[frozenset[int]]:
        """Atom sets that each meet the item's atoms whenever `node` holds (may be none).

        Regex atoms never appear: their hits are found only when a rule asks for them.
        """
        return _clauses(self.program(node))

    def program(self, node: Node) -> tuple[Any, ...]:
        """A condition as nested tuples the matcher walks without isinstance tests:
        (LEAF, atom, kind, value, is_regex) or (op, children, within)."""
        if isinstance(node, Group):
            return (_OPS[node.op], tuple(self.program(c) for c in node.children), node.within)
        atom = self.leaf_atom(node)
        if isinstance(node, Term):
            return (LEAF, atom, "term", node.text, False)
        if isinstance(node, EntityRef):
            return (LEAF, atom, "entity", node.entity_id, False)
        return (LEAF, atom, "regex", node.pattern, True)

    # -- matching support --------------------------------------------------------------------

    def learn(self, words: set[str]) -> None:
        """Remember which patterns each of `words` starts (by surface form or prefix)."""
        found: dict[str, tuple[Entry, ...]] = {}
        heads, prefixes = self.heads, self.prefixes
        for w in words:
            pids = list(heads.get(w, ()))
            for length, table in prefixes.items():
                if len(w) >= length and (more := table.get(w[:length])):
                    pids.extend(more)
            if pids:
                found[w] = tuple(self._entry(pid) for pid in pids)
        with self._lock:
            if len(self.seen_words) > _MEMO_MAX:
                self.seen_words = set()
                self.head_entries = {}
            self.head_entries.update(found)
            self.seen_words |= words

    def _entry(self, pid: int) -> Entry:
        pat = self.patterns[pid]
        # For a phrase, the fewest forms among its later (non-prefix) words: a cheap test
        # that skips checking "the ban" at every "the" of a text without "ban".
        others = [s for s in pat.slots[1:] if not isinstance(s, str)]
        need = min(others, key=len) if others else None
        return (len(pat.slots), tuple(self.pattern_atoms[pid]), pat, need)


def _size(clause: frozenset[int]) -> int:
    return len(clause)


def _clauses(prog: tuple[Any, ...]) -> list[frozenset[int]]:
    """`Compiled.clauses` of a compiled condition (see `Compiled.program`)."""
    op = prog[0]
    if op == LEAF:
        return [] if prog[4] else [frozenset({prog[1]})]
    if op == NONE:
        return []
    per_child = [_clauses(c) for c in prog[1]]
    if op == ALL:
        return list(dict.fromkeys(c for cs in per_child for c in cs))
    # ANY: one clause per child must hold, so the union of one from each does.
    if not per_child or any(not cs for cs in per_child):
        return [] if per_child else [frozenset()]
    return [frozenset().union(*(min(cs, key=_size) for cs in per_child))]


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
            c.context_of[n_atom] = atom
            for ctx in ent.not_contexts:
                c._pattern(ctx, n_atom)
    by_atom: dict[int, list[int]] = defaultdict(list)
    all_fields = frozenset(FIELDS)
    for rule in book.rules:
        c.programs.append(c.program(rule.condition))
        fields = frozenset(rule.fields)
        c.rule_fields.append(all_fields if fields == all_fields else fields)
    # Status terms ("not", "may", "plan") are read only for rules that matched: found then.
    for rule in book.rules:
        if rule.status:
            for terms in (*rule.status.states.values(), rule.status.negation, rule.status.modality):
                for t in terms:
                    c.term(t, lazy=True)
    for idx, prog in enumerate(c.programs):
        clauses = _clauses(prog)
        if not clauses:
            c.always.append(idx)
            c.requires.append(())
            continue
        # Index under the smallest clause; check the others before evaluating the rule.
        first = min(clauses, key=_size)
        for atom in first:
            by_atom[atom].append(idx)
        c.requires.append(tuple(cl for cl in clauses if cl is not first))
    c.rules_by_atom = dict(by_atom)
    if c.unspaced is not None:
        c.unspaced.make_automaton()
    return c
