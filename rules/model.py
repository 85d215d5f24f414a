"""The rule language as values: entities, terms, groups, rules and status specs.

Pure. No I/O. Built by `rules.load`, compiled by `rules.compile`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class Mode(StrEnum):
    INFLECT = "inflect"  # each word may take inflectional endings (default)
    EXACT = "exact"  # "=words": exactly these words


class Op(StrEnum):
    ALL = "all"
    ANY = "any"
    NONE = "none"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


FIELDS = ("title", "summary", "content")


@dataclass(frozen=True)
class Term:
    """A word or phrase. `words` are folded; `text` is what the author wrote.

    A word in `prefixes` (by position) matches any word that starts with it ("invit*").
    """

    text: str
    words: tuple[str, ...]
    mode: Mode = Mode.INFLECT
    prefixes: frozenset[int] = frozenset()


@dataclass(frozen=True)
class EntityRef:
    entity_id: str


@dataclass(frozen=True)
class Regex:
    pattern: str


@dataclass(frozen=True)
class Within:
    """Proximity: every hit of the group in one sentence, or within `words` words."""

    sentence: bool = False
    words: int = 0


Leaf = Term | EntityRef | Regex


@dataclass(frozen=True)
class Group:
    op: Op
    children: tuple[Node, ...]
    within: Within | None = None
    # Only hits in these fields count inside the group (None: the rule's fields).
    fields: frozenset[str] | None = None


Node = Leaf | Group


@dataclass(frozen=True)
class Entity:
    id: str
    name: str
    aliases: tuple[Term, ...]
    not_contexts: tuple[Term, ...] = ()
    # Words that refer back to the entity once it is named ("the group", "движение").
    refs: tuple[Term, ...] = ()


@dataclass(frozen=True)
class Seed:
    """A known state from before installation, so the first article is compared with history."""

    jurisdiction: str
    state: str
    date: dt.date
    source: str = ""


@dataclass(frozen=True)
class StatusSpec:
    """How a rule extracts legal-status assertions about `subject` in `jurisdictions`."""

    subject: str
    jurisdictions: tuple[str, ...]
    states: dict[str, tuple[Term, ...]]
    negation: tuple[Term, ...]
    modality: tuple[Term, ...]
    # Cues that negate a trigger they follow: verb-final languages negate the verb or the
    # copula after its object ("... террористік ұйым деп танымайды", "... tashkilot emas").
    negation_after: tuple[Term, ...] = ()
    # Modal cues after a trigger: verb-final languages put "is considering" last
    # ("... tan olish masalasini ko'rib chiqmoqda", "... тизмесинен чыгарууну карап жатат").
    modality_after: tuple[Term, ...] = ()
    # What a negated trigger asserts instead ("will not lift the ban" restates `banned`).
    negated: dict[str, str] = field(default_factory=dict)
    seeds: tuple[Seed, ...] = ()
    # States a stronger state already holds: after a recognition, "lifted the ban" restates
    # it, and is no change of state (state -> the states it implies).
    implies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Entities whose own states a sentence may name beside the subject's ("Russia lifted
    # its ban on the Taliban, while Hamas remains banned"): a trigger they are the subject
    # of asserts nothing about `subject`.
    others: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleHead:
    """What alerts and routing read of a rule: its name, not its condition, so it is cheap
    to send between processes with every status assertion a worker finds."""

    id: str
    title: str
    severity: Severity
    tags: tuple[str, ...]
    notify: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    condition: Group
    severity: Severity = Severity.MEDIUM
    fields: tuple[str, ...] = FIELDS
    notify: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    description: str = ""
    status: StatusSpec | None = None
    source: str = ""

    @property
    def head(self) -> RuleHead:
        return RuleHead(self.id, self.title, self.severity, self.tags, self.notify)


@dataclass(frozen=True)
class RuleBook:
    """Everything loaded from a set of rule files."""

    entities: dict[str, Entity]
    rules: tuple[Rule, ...]

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)
