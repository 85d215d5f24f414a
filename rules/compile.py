"""Compile a RuleBook into one index for all rules: cost per item does not grow with rules.

Pure. No I/O. The only module that imports ahocorasick_rs.

Every term, alias and context becomes a *pattern* (folded words plus a mode). Patterns are
found in one pass of one Aho-Corasick automaton (Rust) over an item's words joined by
single spaces (" w1 w2 ... wn ", UTF-8): each pattern is a key wrapped in spaces
(" invited taliban "), so every key found starts and ends at word boundaries and no
per-word Python work is done for words that start nothing. Inflected phrases are
expanded into every combination of surface forms when there are few; otherwise the key is
the first word's form (or, for words with many forms, their common stem) or, where that word
is common ("of", "с", one that starts other phrases too), the leading words and the next
word's stem, and the rest is checked per hit. Prefixes (`word*`) are keys without the
closing space.
Unspaced scripts (CJK, Thai) have their own automaton over the folded text, and terms that
only status extraction reads (cues, triggers) a third, run only for items that reach it.
Each pattern feeds one *atom* (a term, an entity, an entity's exclusion contexts, a regex),
and each rule is indexed under atoms of which one must be present for it to match, and
carries the other such clauses (`requires`), so an item only evaluates the rules it could
satisfy; the rules under one atom share a gate (the union of their next clauses), so an
entity that appears without any of its rules' other terms costs one set operation.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import compress, count, product
from math import prod
from os.path import commonprefix
from typing import Any, Generic, TypeVar

import ahocorasick_rs

from rules.gcpause import collector_paused
from rules.inflect import forms
from rules.model import FIELDS, EntityRef, Group, Mode, Node, Op, Regex, Rule, RuleBook, Term
from rules.retree import Needs, needs
from rules.text import fold, is_unspaced

# Surface forms, once per distinct word (phrases share words: "the", "of").
_forms = lru_cache(maxsize=1 << 16)(forms)


@lru_cache(maxsize=1 << 16)
def _in_order(words: frozenset[str]) -> tuple[str, ...]:
    """A word's forms in a fixed order (keys are made in it), once per word: phrases share
    words."""
    return tuple(sorted(words))


@lru_cache(maxsize=1 << 16)
def _spaced(forms: tuple[str, ...]) -> tuple[str, ...]:
    """A word's forms as keys that end with the word: " form ", once per word."""
    return tuple(" " + f + " " for f in forms)


@lru_cache(maxsize=1 << 16)
def _encoded(words: frozenset[str]) -> frozenset[bytes]:
    """A word's forms as UTF-8, as the matcher reads them off the joined text."""
    return frozenset(w.encode() for w in words)


# Node codes of compiled conditions (see `Compiled.program`).
LEAF, ALL, ANY, NONE = 0, 1, 2, 3
_OPS = {Op.ALL: ALL, Op.ANY: ANY, Op.NONE: NONE}
# An inflected phrase becomes one key per combination of its words' forms up to this many;
# beyond, its first word is the key and the rest is verified per hit.
_EXPAND_MAX = 64
# A word with more forms than this (Russian: ~150) is found by its stem, the forms' common
# prefix, and the whole word checked against the forms: fewer keys, a smaller automaton.
_FORMS_MAX = 16
# A phrase too long to spell out is keyed on its leading words in at most this many keys:
# the next word's stem ends the key, which is about as selective as spelling the word and
# needs no more keys (more would make the automaton slower to build than it saves).
_LEAD_MAX = 16
# Built in a fraction of the time of a DFA for 100,000 keys, and nearly as fast to search.
_NFA = ahocorasick_rs.Implementation.ContiguousNFA


def _spelled_lead(choices: list[Any], slots: tuple[frozenset[str] | str, ...]) -> int:
    """How many leading words of a phrase can be spelled out in at most _LEAD_MAX keys:
    words given as forms (not prefixes), each with at most _FORMS_MAX of them."""
    lead, keys = 0, 1
    for slot, options in zip(slots, choices, strict=True):
        if isinstance(slot, str) or len(slot) > _FORMS_MAX or keys * len(options) > _LEAD_MAX:
            break
        lead, keys = lead + 1, keys * len(options)
    return lead


def _stem(slot: frozenset[str] | str) -> str | None:
    """The start every form of a word shares, when a key may end with it: a prefix
    (`word*`), or the forms' common stem when it is long enough to be selective."""
    if isinstance(slot, str):
        return slot
    stem = commonprefix(_in_order(slot))
    return stem if len(stem) >= 3 else None


K = TypeVar("K")
V = TypeVar("V")


class IdMemo(Generic[K, V]):
    """obj -> compute(obj), remembered by identity: for a rule set's immutable parts (status
    specs, their term lists), where hashing hundreds of terms per lookup would cost more
    than the lookup saves. Holds the objects, so an id is not reused while remembered;
    bounded, so rule sets replaced by a reload do not pile up. `compute` is passed per call,
    not kept: a memo kept on an object and holding its bound method would be a reference
    cycle, left to the cyclic collector (which `settle_heap` keeps off the rule set)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._seen: dict[int, tuple[K, V]] = {}

    def get(self, obj: K, compute: Callable[[K], V]) -> V:
        got = self._seen.get(id(obj))
        if got is not None and got[0] is obj:
            return got[1]
        value = compute(obj)
        if len(self._seen) >= self.size:
            self._seen.clear()
        self._seen[id(obj)] = (obj, value)
        return value


@dataclass(frozen=True)
class Pattern:
    """Per word, either the set of accepted surface forms or (for `word*`) a prefix."""

    slots: tuple[frozenset[str] | str, ...]

    @cached_property
    def second(self) -> bytes:
        """b" " and the start every form of the second word shares (its prefix, or the
        forms' common prefix): a hit whose next word does not start so is rejected on the
        joined bytes, before the field is split into words for `accepts`. Phrases keyed on
        a common first word ("government ...", "министр ...") are tried at every one of its
        occurrences, and nearly all fail here. Made on first use: most patterns never are."""
        nxt = self.slots[1] if len(self.slots) > 1 else ""
        start = nxt if isinstance(nxt, str) else commonprefix(_in_order(nxt))
        return b" " + start.encode()

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


# What a key of the word automaton finds: (number of words, atom fed, what the words after
# the first must be (the pattern, or for two words the forms of the second) or None when the
# key spells them, the forms the whole first word must be one of when the key is its stem
# or None).
Entry = tuple[int, int, Pattern | frozenset[bytes] | None, frozenset[bytes] | None]
# A rule index entry per atom: (rules with no further clause, the union of the next clause
# of the other rules, those other rules).
AtomRules = tuple[tuple[int, ...], frozenset[int], tuple[int, ...]]
# A list of terms' atoms: (atoms found in the single pass, lazy atoms), each atom -> the
# indexes in the list of the terms that feed it.
TermPlan = tuple[dict[int, tuple[int, ...]], dict[int, tuple[int, ...]]]


@dataclass
class Compiled:
    """The index. Built once; while matching, only rules' programs are added, each on first
    use (`program_of`; safe to share between threads)."""

    book: RuleBook
    patterns: list[Pattern] = field(default_factory=list)
    pattern_atoms: list[list[int]] = field(default_factory=list)
    # key of the word automaton -> what it finds, while building
    keys: dict[str, list[Entry]] = field(default_factory=lambda: defaultdict(list))
    words_ac: Any = None  # ahocorasick_rs.BytesAhoCorasick over b" w1 w2 ... ", or None
    # per key index that is not simple (below): (atom, index of its last word after the
    # first) for the patterns it spells, and the entries that need a check; None if simple
    word_entries: list[tuple[tuple[tuple[int, int], ...], tuple[Entry, ...]] | None] = field(
        default_factory=list
    )
    # Most keys feed one atom and need no check ("simple"): per key index, that atom (or -1),
    # the index of its last word after the first, and whether the key is not simple; and per
    # atom its simple keys. An item's atoms are then found in C, positions only on demand.
    key_atom: list[int] = field(default_factory=list)
    key_last: list[int] = field(default_factory=list)
    key_complex: list[bool] = field(default_factory=list)
    atom_keys: dict[int, frozenset[int]] = field(default_factory=dict)
    # simple keys that also start longer patterns of their atom (`_lengthening`): the
    # entries to check for those, per key index
    key_more: dict[int, tuple[Entry, ...]] = field(default_factory=dict)
    # unspaced-script substring -> pattern ids, while building; then the automaton over
    # folded text (ahocorasick_rs.AhoCorasick, or None) and pattern ids per key index
    unspaced_keys: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    unspaced: Any = None
    unspaced_pids: list[list[int]] = field(default_factory=list)
    atom_names: list[tuple[str, str]] = field(default_factory=list)  # (kind, value)
    term_atom: dict[tuple[tuple[str, ...], Mode, frozenset[int]], int] = field(default_factory=dict)
    entity_atom: dict[str, int] = field(default_factory=dict)
    not_atom: dict[str, int] = field(default_factory=dict)  # entity id -> context atom
    regex_atom: dict[str, int] = field(default_factory=dict)
    regexes: dict[int, re.Pattern[str]] = field(default_factory=dict)
    # literals one of which a regex's match holds (`rules.retree.needs`), by atom
    regex_needs: dict[int, Needs] = field(default_factory=dict)
    rules_by_atom: dict[int, AtomRules] = field(default_factory=dict)
    always: list[int] = field(default_factory=list)  # rules evaluated on every item
    rules: tuple[Rule, ...] = ()
    # context atom -> entity atom, for entities with `not` contexts
    context_of: dict[int, int] = field(default_factory=dict)
    # reference atom -> entity atom, for entities with `refs` (Prepared._resolve_refs)
    ref_of: dict[int, int] = field(default_factory=dict)
    # per rule: clauses (atom sets) each of which must meet the item's atoms for a match
    requires: list[tuple[frozenset[int], ...]] = field(default_factory=list)
    # per rule: its condition as nested tuples (see `program`; None until first needed,
    # `program_of`) and its fields
    programs: list[tuple[Any, ...] | None] = field(default_factory=list)
    rule_fields: list[frozenset[str]] = field(default_factory=list)
    # atoms of terms only status extraction reads: found on demand (Prepared.leaf_hits),
    # not in the pass over every item -> their patterns
    # (and, for unspaced scripts, the substring to find)
    lazy: dict[int, list[tuple[Pattern, str | None]]] = field(default_factory=dict)
    # Their keys while building, then their own automaton (run only for items that reach
    # status extraction, so the pass over every item stays small) and entries per key.
    lazy_keys: dict[str, list[Entry]] = field(default_factory=lambda: defaultdict(list))
    lazy_ac: Any = None
    lazy_entries: list[tuple[Entry, ...]] = field(default_factory=list)
    # phrases whose keys wait for all patterns to be known (`_split_heads`), and how many
    # of them start with each first-word key, per key dict
    # (key dict, head keys, (the leading words' forms, the next word's stem), entry)
    _phrases: list[
        tuple[dict[str, list[Entry]], tuple[str, ...], tuple[list[Any], str | None], Entry]
    ] = field(default_factory=list)
    _heads: Counter[tuple[int, str]] = field(default_factory=Counter)
    _plans: IdMemo[tuple[Term, ...], TermPlan] = field(default_factory=IdMemo)
    # compiled leaves by id of the leaf, with the leaf (programs are made on demand)
    _leaf_programs: dict[int, tuple[Node, tuple[Any, ...]]] = field(default_factory=dict)
    # while building: leaves' atoms by id of the leaf, with the leaf
    _leaf_atoms: dict[int, tuple[Node, int]] = field(default_factory=dict)

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
        pat = Pattern(tuple(slots))
        if lazy:
            self.lazy.setdefault(atom, []).append((pat, key))
            if key is None:
                self._keys(pat, atom, self.lazy_keys)
            return
        pid = len(self.patterns)
        self.patterns.append(pat)
        self.pattern_atoms.append([atom])
        if key is not None:
            # Unspaced scripts have no word boundaries to respect: substring search.
            self.unspaced_keys[key].append(pid)
            return
        self._keys(pat, atom, self.keys)

    def _keys(self, pat: Pattern, atom: int, keys: dict[str, list[Entry]]) -> None:
        """The automaton keys that find `pat` (a pattern of a spaced script), into `keys`."""
        slots = pat.slots
        n = len(slots)
        choices = [(s,) if isinstance(s, str) else _in_order(s) for s in slots]
        # A prefix can only end a key: after it, the key would need the rest of its word.
        spelled = all(not isinstance(s, str) and len(s) <= _FORMS_MAX for s in slots[:-1])
        if spelled and prod(map(len, choices)) <= _EXPAND_MAX:
            end = "" if isinstance(slots[-1], str) else " "
            entry: Entry = (n, atom, None, None)
            if n == 1 and end:
                for k in _spaced(choices[0]):  # most patterns: one word and its forms
                    keys[k].append(entry)
                return
            for combo in product(*choices):
                keys[" " + " ".join(combo) + end].append(entry)
            return
        rest: Pattern | frozenset[bytes] | None = pat if n > 1 else None
        if n == 2 and not isinstance(slots[1], str):
            rest = _encoded(slots[1])  # checked on the bytes, no split
        lead = _spelled_lead(choices, slots)
        tail = _stem(slots[lead]) if 0 < lead < n else None
        if lead >= 2 or tail:
            # Keyed on its first word's forms, unless phrases share them (`_split_heads`).
            heads = _spaced(choices[0])
            self._phrases.append((keys, heads, (choices[:lead], tail), (n, atom, rest, None)))
            for k in heads:
                self._heads[(id(keys), k)] += 1
            return
        head = slots[0]
        if isinstance(head, str):
            keys[" " + head].append((n, atom, rest, None))
        elif len(head) > _FORMS_MAX and len(stem := commonprefix(choices[0])) >= 3:
            keys[" " + stem].append((n, atom, rest, _encoded(head)))
        else:
            for form in choices[0]:
                keys[" " + form + " "].append((n, atom, rest, None))

    def _split_heads(self) -> None:
        """Key the phrases `_keys` set aside: on their first word's forms, or, where a form
        starts other phrases too or has at most three characters (common words: "of",
        "the", "с"), on as many leading words as fit in _LEAD_MAX keys and then the next word's
        prefix or stem ("of afghan", "с талиб"), so the words after are checked only where
        the phrase may start, not at every "of" in the text. Other phrases keep the shorter
        keys: a key per phrase would make the automaton slower to build than it saves."""
        for keys, heads, (lead, tail), entry in self._phrases:
            shared = any(self._heads[(id(keys), k)] > 1 or len(k) <= 5 for k in heads)
            if shared:
                heads = tuple(" " + " ".join(c) + " " + (tail or "") for c in product(*lead))
            for k in heads:
                keys[k].append(entry)
        self._phrases, self._heads = [], Counter()

    def term(self, term: Term, lazy: bool = False) -> int:
        key = (term.words, term.mode, term.prefixes)
        if key not in self.term_atom:
            atom = self._atom("term", term.text)
            self.term_atom[key] = atom
            self._pattern(term, atom, lazy)
        return self.term_atom[key]

    def term_plan(self, terms: tuple[Term, ...]) -> TermPlan:
        """For a list of compiled terms read as a whole (status cues and triggers), made
        once per list: its atoms found in the single pass and its lazy ones, each with the
        terms' indexes, so an item looks up only the atoms it has, not every term (status
        triggers number hundreds)."""
        return self._plans.get(terms, self._term_plan)

    def _term_plan(self, terms: tuple[Term, ...]) -> TermPlan:
        eager: dict[int, list[int]] = defaultdict(list)
        lazy: dict[int, list[int]] = defaultdict(list)
        for i, t in enumerate(terms):
            atom = self.term_atom[(t.words, t.mode, t.prefixes)]
            (lazy if atom in self.lazy else eager)[atom].append(i)
        return (
            {a: tuple(ix) for a, ix in eager.items()},
            {a: tuple(ix) for a, ix in lazy.items()},
        )

    def regex(self, pattern: str) -> int:
        if pattern not in self.regex_atom:
            atom = self._atom("regex", pattern)
            self.regex_atom[pattern] = atom
            self.regexes[atom] = re.compile(pattern, re.IGNORECASE)
            literals = needs(pattern)
            if literals is not None:
                self.regex_needs[atom] = literals
        return self.regex_atom[pattern]

    def leaf_atom(self, node: Node) -> int:
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, EntityRef):
            return self.entity_atom[node.entity_id]
        if isinstance(node, Regex):
            return self.regex(node.pattern)
        raise TypeError(node)

    def _leaf_atom(self, node: Node) -> int:
        """leaf_atom, remembered by the leaf's identity while building: rules share their
        leaves (rules.load parses each distinct term once), and a term's key is its words."""
        got = self._leaf_atoms.get(id(node))
        if got is not None and got[0] is node:
            return got[1]
        atom = self.leaf_atom(node)
        self._leaf_atoms[id(node)] = (node, atom)
        return atom

    def clauses(self, node: Node) -> list[frozenset[int]]:
        """Atom sets each of which must meet an item's atoms for `node` to hold: one per
        word leaf of an `all`, one (the union of a clause of each child) for an `any`, none
        for a `none` or a regex. Finds or makes the atom of every leaf, `none`'s too."""
        if isinstance(node, Group):
            if node.op == Op.NONE:
                for leaf in _leaves(node):
                    self._leaf_atom(leaf)
                return []
            per_child = [self.clauses(child) for child in node.children]
            if node.op == Op.ALL:
                return list(dict.fromkeys(cl for cs in per_child for cl in cs))
            # ANY: one clause per child must hold, so the union of one from each does.
            if not per_child or any(not cs for cs in per_child):
                return [] if per_child else [frozenset()]
            return [frozenset().union(*(min(cs, key=_size) for cs in per_child))]
        atom = self._leaf_atom(node)
        return [] if isinstance(node, Regex) else [frozenset({atom})]

    def program_of(self, idx: int) -> tuple[Any, ...]:
        """Rule `idx`'s program, made on first use: of 10,000 rules most are never a
        candidate for an item, and making them all took a fifth of the compile. Safe
        between threads: two making the same program make equal ones."""
        prog = self.programs[idx]
        if prog is None:
            prog = self.programs[idx] = self.program(self.rules[idx].condition)
        return prog

    def make_programs(self) -> None:
        """Every rule's program, now: for a rule set compiled once and shared by forked
        workers, which would otherwise each make their own copies."""
        for idx in range(len(self.programs)):
            self.program_of(idx)

    def program(self, node: Node) -> tuple[Any, ...]:
        """A condition as nested tuples the matcher walks without isinstance tests:
        (LEAF, atom, kind, value, is_regex) or (op, children, within, leaf atoms, others,
        leaves by atom, fields, cheap), where leaf atoms, others and leaves by atom split the
        children: the atoms of the word leaves, the other children as (position, child),
        and the word leaves by atom as (position, leaf); fields is the group's own field
        filter or None, and cheap the children in the order that decides the group soonest.
        """
        if isinstance(node, Group):
            op = _OPS[node.op]
            children: list[tuple[Any, ...]] = []
            for child in node.children:
                prog = self.program(child)
                # all(all(a, b), c) is all(a, b, c), and so for any: rule files nest groups
                # freely, and each level costs a call per item evaluated.
                if op != NONE and prog[0] == op and prog[2] is None and prog[6] is None:
                    children.extend(prog[1])
                else:
                    children.append(prog)
            # The atoms of the direct word leaves, and the other children: a group whose
            # leaves are absent from an item is decided by set operations, not a call each
            # (the shipped rules have groups of hundreds of terms).
            by_atom: dict[int, list[tuple[int, tuple[Any, ...]]]] = {}
            others = []
            for i, c in enumerate(children):
                if c[0] == LEAF and not c[4]:
                    by_atom.setdefault(c[1], []).append((i, c))
                else:
                    others.append((i, c))
            leaves = {atom: tuple(found) for atom, found in by_atom.items()}
            # The children cheapest first, to decide a group without evidence: word leaves
            # (looked up), then groups, then regexes (a pass over the text each).
            kids = tuple(children)
            cheap = tuple(sorted(kids, key=_cost)) if others else kids
            return (
                op,
                kids,
                node.within,
                frozenset(leaves),
                tuple(others),
                leaves,
                node.fields,
                cheap,
            )
        # Rules share their leaves (rules.load parses each distinct term once): one compiled
        # leaf per leaf object.
        got = self._leaf_programs.get(id(node))
        if got is not None and got[0] is node:
            return got[1]
        atom = self.leaf_atom(node)
        if isinstance(node, Term):
            prog = (LEAF, atom, "term", node.text, False)
        elif isinstance(node, EntityRef):
            prog = (LEAF, atom, "entity", node.entity_id, False)
        else:
            prog = (LEAF, atom, "regex", node.pattern, True)
        self._leaf_programs[id(node)] = (node, prog)
        return prog


def _cost(prog: tuple[Any, ...]) -> int:
    """A compiled child's rank in `cheap` order: word leaf, group, regex."""
    if prog[0] == LEAF:
        return 2 if prog[4] else 0
    return 1


def _size(clause: frozenset[int]) -> int:
    return len(clause)


def _lengthening(entries: list[Entry]) -> tuple[Entry, ...] | None:
    """For a key with several entries, all of one atom, one of them the atom's word spelled
    out (an entity's alias "Baplaidri" beside its "Baplaidri Group", keyed on its first
    word): the key alone says the atom is present, and the others only lengthen its hits.
    Those others, checked when the atom's positions are asked for, so the key is simple
    (found in C). None for keys of several atoms or none of whose entries is the word."""
    atom = entries[0][1]
    word = False
    more: list[Entry] = []
    for e in entries:
        if e[1] != atom:
            return None
        if e[2] is None and e[3] is None:
            if e[0] != 1:
                return None
            word = True
        else:
            more.append(e)
    return tuple(more) if word else None


def _entries(
    entries: list[Entry],
) -> tuple[tuple[tuple[int, int], ...], tuple[Entry, ...]]:
    """A key's entries as `Compiled.word_entries` keeps them: (atom, index of the last word
    after the first) of those it spells, and those that need a check."""
    return (
        tuple((e[1], e[0] - 1) for e in entries if e[2] is None and e[3] is None),
        tuple(e for e in entries if e[2] is not None or e[3] is not None),
    )


def _leaves(node: Node) -> list[Node]:
    if isinstance(node, Group):
        return [leaf for c in node.children for leaf in _leaves(c)]
    return [node]


def compile_book(book: RuleBook) -> Compiled:
    with collector_paused():
        return _compile(book)


def _compile(book: RuleBook) -> Compiled:
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
        if ent.refs:
            r_atom = c._atom("ref", ent.id)
            c.ref_of[r_atom] = atom
            for ref in ent.refs:
                c._pattern(ref, r_atom)
    by_atom: dict[int, list[int]] = defaultdict(list)
    all_fields = frozenset(FIELDS)
    # Each rule's clauses, read off its condition (which finds or makes every leaf's atom);
    # its program is made the first time an item makes it a candidate (`program_of`).
    rule_clauses = [c.clauses(rule.condition) for rule in book.rules]
    c.programs = [None] * len(book.rules)
    for rule in book.rules:
        fields = frozenset(rule.fields)
        c.rule_fields.append(all_fields if fields == all_fields else fields)
    # Status terms ("not", "may", "plan") are read only for rules that matched: found then.
    for rule in book.rules:
        if rule.status:
            spec = rule.status
            for terms in (
                *spec.states.values(),
                spec.negation,
                spec.modality,
                spec.negation_after,
                spec.modality_after,
            ):
                for t in terms:
                    c.term(t, lazy=True)
    for idx, clauses in enumerate(rule_clauses):
        if not clauses:
            c.always.append(idx)
            c.requires.append(())
            continue
        # Index under the smallest clause; check the others before evaluating the rule.
        first = min(clauses, key=_size)
        for atom in first:
            by_atom[atom].append(idx)
        # Smallest first: the first is the one the rule's atom gate is built from.
        c.requires.append(tuple(sorted((cl for cl in clauses if cl is not first), key=_size)))
    for atom, idxs in by_atom.items():
        direct = tuple(i for i in idxs if not c.requires[i])
        gated = tuple(i for i in idxs if c.requires[i])
        gate = frozenset().union(*(c.requires[i][0] for i in gated))
        c.rules_by_atom[atom] = (direct, gate, gated)
    c._split_heads()
    if c.keys:
        keys = list(c.keys)
        c.words_ac = ahocorasick_rs.BytesAhoCorasick(
            [k.encode() for k in keys], implementation=_NFA
        )
        # Simple keys (most): one atom, spelled out, nothing to check; found in C
        # (key_atom), so no entries to keep. Built column by column: 10^5 keys.
        table = list(c.keys.values())
        simple = [len(es) == 1 and es[0][2] is None and es[0][3] is None for es in table]
        for k in compress(count(), [len(es) > 1 for es in table]):
            more = _lengthening(table[k])
            if more is not None:
                simple[k] = True
                table[k] = [(1, table[k][0][1], None, None)]
                if more:
                    c.key_more[k] = more
        c.key_complex = [not x for x in simple]
        c.key_atom = [es[0][1] if x else -1 for es, x in zip(table, simple, strict=True)]
        c.key_last = [es[0][0] - 1 if x else 0 for es, x in zip(table, simple, strict=True)]
        c.word_entries = [None if x else _entries(es) for es, x in zip(table, simple, strict=True)]
        atom_keys: dict[int, list[int]] = defaultdict(list)
        for k in compress(count(), simple):
            atom_keys[c.key_atom[k]].append(k)
        c.atom_keys = {atom: frozenset(ks) for atom, ks in atom_keys.items()}
    if c.unspaced_keys:
        c.unspaced = ahocorasick_rs.AhoCorasick(list(c.unspaced_keys), implementation=_NFA)
        c.unspaced_pids = list(c.unspaced_keys.values())
    if c.lazy_keys:
        lazy_keys = list(c.lazy_keys)
        c.lazy_ac = ahocorasick_rs.BytesAhoCorasick(
            [k.encode() for k in lazy_keys], implementation=_NFA
        )
        c.lazy_entries = [tuple(c.lazy_keys[k]) for k in lazy_keys]
    # only the automata are needed from here on
    c.keys, c.unspaced_keys, c.lazy_keys, c._leaf_atoms = {}, {}, {}, {}
    return c
