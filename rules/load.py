"""Load and validate rule files into a RuleBook, listing every problem with file, rule, line.

Reads rule files; no other I/O. Nothing is half-loaded: any problem raises RuleFileError.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rules.errors import Problem, RuleFileError
from rules.gcpause import collector_paused
from rules.model import (
    FIELDS,
    Entity,
    EntityRef,
    Group,
    Mode,
    Node,
    Op,
    Regex,
    Rule,
    RuleBook,
    Seed,
    Severity,
    StatusSpec,
    Term,
    Within,
)
from rules.retree import nested_repeat
from rules.text import is_unspaced, words_of

_ID = r"^[a-z0-9][a-z0-9_.-]*$"
_INNER_STAR = re.compile(r"\*(?=\w)")
_WITHIN = re.compile(r"^\s*(?:(sentence)|(\d+)\s+words?)\s*$")
DEFAULT_NEGATION = (
    "not", "no", "never", "n't", "won't", "wouldn't", "refuse", "refusing", "reject",
    "decline", "deny", "without", "не", "нет", "отказ*", "никогда", "nicht", "kein*",
    "ne", "pas", "jamais", "no", "nunca",
)  # fmt: skip
# Verb-final languages say "is not" after what they deny ("terör örgütü değil").
DEFAULT_NEGATION_AFTER = ("değil", "emas", "эмас", "емес", "эмес", "нест", "نیست", "نہیں")
DEFAULT_MODALITY = (
    "plan", "plans to", "planning", "propose", "proposal", "recommend", "consider*",
    "may", "might", "could", "would", "intend*", "draft", "bill", "seek*", "mull*",
    "weigh*", "expected to", "asked the court", "petition*", "possible", "possibly",
    "планир*", "предлож*", "рекомендова*", "рассматрива*", "может", "могут", "намерен*",
    "законопроект*", "рассмотр*", "prüf*", "erwäg*", "envisag*", "envisage",
)  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntitySchema(_Strict):
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    aliases: list[str] = Field(min_length=1)
    not_: list[str] = Field(default_factory=list, alias="not")
    refs: list[str] = Field(default_factory=list)

    @field_validator("aliases", "not_", "refs")
    @classmethod
    def _no_blank(cls, v: list[str]) -> list[str]:
        if any(not words_of(a) for a in v):
            raise ValueError("aliases, contexts and references must contain letters or digits")
        return v


class SeedSchema(_Strict):
    jurisdiction: str
    state: str
    date: dt.date
    source: str = ""


class StatusSchema(_Strict):
    subject: str
    jurisdictions: list[str] = Field(min_length=1)
    states: dict[str, list[str]] = Field(min_length=1)
    negation: list[str] | None = None
    modality: list[str] | None = None
    negation_after: list[str] | None = None
    modality_after: list[str] = Field(default_factory=list)
    negated: dict[str, str] = Field(default_factory=dict)
    seed: list[SeedSchema] = Field(default_factory=list)
    implies: dict[str, list[str]] = Field(default_factory=dict)
    others: list[str] = Field(default_factory=list)


FieldName = Literal["title", "summary", "content"]


def _all_fields() -> list[FieldName]:
    return ["title", "summary", "content"]


class RuleSchema(_Strict):
    id: str = Field(pattern=_ID)
    title: str = Field(min_length=1)
    description: str = ""
    severity: Severity = Severity.MEDIUM
    fields: list[FieldName] = Field(default_factory=_all_fields, min_length=1)
    within: str | None = None
    all: list[Any] = Field(default_factory=list)
    any: list[Any] = Field(default_factory=list)
    none: list[Any] = Field(default_factory=list)
    notify: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    status: StatusSchema | None = None


class RuleFileSchema(_Strict):
    entities: list[EntitySchema] = Field(default_factory=list)
    rules: list[RuleSchema] = Field(default_factory=list)


# --- YAML with line numbers -------------------------------------------------------------


class _LineDict(dict[str, Any]):
    line: int = 0
    key_lines: dict[str, int]


class _LineList(list[Any]):
    line: int = 0
    item_lines: list[int]


def _to_python(node: yaml.Node) -> Any:
    """Build Python values from a composed YAML node, keeping line numbers (1-based)."""
    if isinstance(node, yaml.MappingNode):
        d = _LineDict()
        d.line = node.start_mark.line + 1
        d.key_lines = {}
        for k, v in node.value:
            key = _to_python(k)
            d[str(key)] = _to_python(v)
            d.key_lines[str(key)] = k.start_mark.line + 1
        return d
    if isinstance(node, yaml.SequenceNode):
        seq = _LineList(_to_python(v) for v in node.value)
        seq.line = node.start_mark.line + 1
        seq.item_lines = [v.start_mark.line + 1 for v in node.value]
        return seq
    return _scalar(node)


_SCALARS = yaml.SafeLoader("")
# libyaml's parser when PyYAML was built with it: the same nodes and marks, 10x faster on
# rule files of thousands of rules.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _scalar(node: yaml.Node) -> Any:
    """A scalar with the SafeLoader's tag resolution (dates, ints, bools)."""
    try:
        return _SCALARS.construct_object(node, deep=True)
    finally:
        _SCALARS.constructed_objects = {}


def _line_of(raw: Any, loc: Iterable[Any]) -> int | None:
    """The line of the deepest YAML value on the path `loc`."""
    line = getattr(raw, "line", None)
    cur = raw
    for part in loc:
        if isinstance(cur, _LineDict) and str(part) in cur:
            line = cur.key_lines.get(str(part), line)
            cur = cur[str(part)]
        elif isinstance(cur, _LineList) and isinstance(part, int) and part < len(cur):
            line = cur.item_lines[part]
            cur = cur[part]
        else:
            break
        line = getattr(cur, "line", line)
    return line


def _locate(raw: Any, loc: tuple[Any, ...]) -> tuple[str | None, str | None, str]:
    """(rule or entity id, field path, kind) for a location in a rule file."""
    field = ".".join(str(p) for p in loc[2:]) or ".".join(map(str, loc)) or None
    kind = "entity" if loc and loc[0] == "entities" else "rule"
    if len(loc) >= 2 and loc[0] in ("rules", "entities") and isinstance(loc[1], int):
        try:
            item = raw[loc[0]][loc[1]]
        except (KeyError, IndexError, TypeError):
            return None, field, kind
        ident = str(item.get("id")) if isinstance(item, dict) and "id" in item else None
        return ident, field, kind
    return None, field, kind


# --- conversion ---------------------------------------------------------------------------


# Rule sets repeat their terms (the same "visit*" in hundreds of rules): each distinct text
# is parsed once and the rules share the one immutable Term, which compiles once too
# (`Compiled.program` remembers leaves by identity).
@lru_cache(maxsize=1 << 16)
def parse_term(text: str) -> Term:
    """Term syntax: `=exact words`, `prefix*` on any word, or plain words that inflect."""
    mode = Mode.INFLECT
    body = text.strip()
    if body.startswith("="):
        mode, body = Mode.EXACT, body[1:]
    words: list[str] = []
    prefixes = set()
    for chunk in body.split():
        parts = words_of(chunk)
        if chunk.endswith("*") and parts:
            prefixes.add(len(words) + len(parts) - 1)
        words.extend(parts)
    return Term(text=text, words=tuple(words), mode=mode, prefixes=frozenset(prefixes))


_entity_ref = lru_cache(maxsize=1 << 16)(EntityRef)


class _Converter:
    """Turns validated schemas into model values, collecting semantic problems."""

    def __init__(self, file: str, raw: Any) -> None:
        self.file = file
        self.raw = raw
        self.problems: list[Problem] = []

    def problem(self, msg: str, loc: tuple[Any, ...]) -> None:
        ident, field, kind = _locate(self.raw, loc)
        self.problems.append(Problem(self.file, msg, ident, field, _line_of(self.raw, loc), kind))

    def node(self, value: Any, loc: tuple[Any, ...]) -> Node | None:
        if isinstance(value, str):
            if value.startswith("@"):
                return _entity_ref(value[1:])
            if value.startswith("re:"):
                try:
                    re.compile(value[3:])
                except re.error as e:
                    self.problem(f"regex does not compile: {e}", loc)
                    return None
                if nested_repeat(value[3:]):
                    self.problem(
                        "regex can take exponential time on text that almost matches: a "
                        "repeat inside a repeat, as in (\\w+\\s?)+; bound one to {0,16}, "
                        "make the inner one possessive (\\w++) or give each turn a literal",
                        loc,
                    )
                    return None
                return Regex(value[3:])
            return self.term(value, loc)
        if isinstance(value, dict):
            ops = [k for k in value if k in ("all", "any", "none")]
            extra = set(value) - {"all", "any", "none", "within", "fields"}
            if len(ops) != 1 or extra:
                self.problem(
                    "a group is {all|any|none: [...]} with optional within and fields", loc
                )
                return None
            op = ops[0]
            within = self.within(value.get("within"), (*loc, "within"))
            group = self.group(Op(op), value[op], (*loc, op), within)
            if "fields" in value:
                fields = self.group_fields(value["fields"], (*loc, "fields"))
                group = Group(group.op, group.children, group.within, fields)
            return group
        self.problem(f"expected a term or a group, got {type(value).__name__}", loc)
        return None

    def group(self, op: Op, items: Any, loc: tuple[Any, ...], within: Within | None) -> Group:
        if not isinstance(items, list) or not items:
            self.problem(f"{op} needs a non-empty list", loc)
            return Group(op, (), within)
        children = [self.node(v, (*loc, i)) for i, v in enumerate(items)]
        return Group(op, tuple(c for c in children if c is not None), within)

    def group_fields(self, value: Any, loc: tuple[Any, ...]) -> frozenset[str] | None:
        if isinstance(value, str):
            value = [value]
        if (
            not isinstance(value, list)
            or not value
            or any(not isinstance(v, str) or v not in FIELDS for v in value)
        ):
            self.problem(f"fields must be a list of {', '.join(FIELDS)}, got {value!r}", loc)
            return None
        return frozenset(value)

    def within(self, value: Any, loc: tuple[Any, ...]) -> Within | None:
        if value is None:
            return None
        m = _WITHIN.match(str(value))
        if not m:
            self.problem(f"within must be 'sentence' or 'N words', got {value!r}", loc)
            return None
        return Within(sentence=True) if m.group(1) else Within(words=int(m.group(2)))

    def term(self, value: str, loc: tuple[Any, ...]) -> Term | None:
        if _INNER_STAR.search(value):
            self.problem(f"term {value!r}: `*` may only end a word (invit*)", loc)
            return None
        t = parse_term(value)
        if not t.words:
            self.problem(f"term {value!r} has no letters or digits", loc)
            return None
        return t

    def terms(self, values: Iterable[str], loc: tuple[Any, ...]) -> tuple[Term, ...]:
        """Aliases, `not` contexts and status terms: words and phrases only."""
        out = []
        for i, v in enumerate(values):
            if v.startswith("re:"):
                # It would load as the words "re" and the pattern's letters, silently.
                self.problem(
                    f"{v!r}: a regex is not allowed here (only words and phrases; "
                    "regexes go in rule conditions)",
                    (*loc, i),
                )
                continue
            t = self.term(v, (*loc, i))
            if t is not None:
                out.append(t)
        return tuple(out)


def _status(c: _Converter, s: StatusSchema, loc: tuple[Any, ...]) -> StatusSpec:
    states = {k: c.terms(v, (*loc, "states", k)) for k, v in s.states.items()}
    for k, target in s.negated.items():
        if k not in states or (target not in states and target != "none"):
            c.problem(f"negated maps unknown state {k!r} -> {target!r}", (*loc, "negated"))
    after_terms = s.negation_after if s.negation_after is not None else DEFAULT_NEGATION_AFTER
    after = c.terms(after_terms, (*loc, "negation_after"))
    for name, before, terms in (
        ("negation_after", "negation", after_terms),
        ("modality_after", "modality", s.modality_after),
    ):
        for i, text in enumerate(terms):
            if is_unspaced(text):
                # Such a script's clause is one word to the matcher: a cue inside it is
                # read before the trigger it applies to (`negation`, `modality`), never after.
                c.problem(
                    f"{name} term {text!r} is in a script written without spaces; "
                    f"list it under {before}",
                    (*loc, name, i),
                )
    for k, implied in s.implies.items():
        for state in (k, *implied):
            if state not in states:
                c.problem(f"implies names unknown state {state!r}", (*loc, "implies", k))
        if k in implied:
            c.problem(f"state {k!r} implies itself", (*loc, "implies", k))
        # One level only: the ledger reads a pair's state from its last stronger state and
        # what came after (Store.status_tail), which a chain of implications would defeat.
        for state in implied:
            if state in s.implies:
                c.problem(
                    f"implied state {state!r} implies others in turn; chains are not allowed",
                    (*loc, "implies", k),
                )
    for i, seed in enumerate(s.seed):
        if seed.state not in states:
            c.problem(f"seed state {seed.state!r} is not a declared state", (*loc, "seed", i))
    return StatusSpec(
        subject=s.subject,
        jurisdictions=tuple(s.jurisdictions),
        states=states,
        negation=c.terms(
            s.negation if s.negation is not None else DEFAULT_NEGATION, (*loc, "negation")
        ),
        modality=c.terms(
            s.modality if s.modality is not None else DEFAULT_MODALITY, (*loc, "modality")
        ),
        negation_after=after,
        modality_after=c.terms(s.modality_after, (*loc, "modality_after")),
        negated=dict(s.negated),
        seeds=tuple(Seed(x.jurisdiction, x.state, x.date, x.source) for x in s.seed),
        implies={k: tuple(v) for k, v in s.implies.items()},
        others=tuple(s.others),
    )


def _load_one(path: Path, text: str) -> tuple[list[Entity], list[Rule], list[Problem], Any]:
    file = str(path)
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return [], [], [Problem(file, f"not valid YAML: {e}", line=line)], None
    raw = _to_python(node) if node is not None else {}
    if not isinstance(raw, dict):
        return [], [], [Problem(file, "a rule file is a mapping with entities and rules")], raw
    try:
        schema = RuleFileSchema.model_validate(raw)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = tuple(err["loc"])
            ident, field, kind = _locate(raw, loc)
            problems.append(Problem(file, err["msg"], ident, field, _line_of(raw, loc), kind))
        return [], [], problems, raw
    c = _Converter(file, raw)
    entities = [
        Entity(
            id=e.id,
            name=e.name,
            aliases=c.terms(e.aliases, ("entities", i, "aliases")),
            not_contexts=c.terms(e.not_, ("entities", i, "not")),
            refs=c.terms(e.refs, ("entities", i, "refs")),
        )
        for i, e in enumerate(schema.entities)
    ]
    rules = []
    for i, r in enumerate(schema.rules):
        loc = ("rules", i)
        if not (r.all or r.any):
            c.problem("a rule needs `all` or `any` terms", loc)
        parts: list[Node] = []
        if r.all:
            parts.append(c.group(Op.ALL, r.all, (*loc, "all"), None))
        if r.any:
            parts.append(c.group(Op.ANY, r.any, (*loc, "any"), None))
        if r.none:
            parts.append(c.group(Op.NONE, r.none, (*loc, "none"), None))
        # `within` binds the positive part; `none` excludes on the whole item.
        within = c.within(r.within, (*loc, "within"))
        positive = Group(Op.ALL, tuple(p for p in parts if p.op != Op.NONE), within)  # type: ignore[union-attr]
        negative = tuple(p for p in parts if isinstance(p, Group) and p.op == Op.NONE)
        status = _status(c, r.status, (*loc, "status")) if r.status else None
        rules.append(
            Rule(
                id=r.id,
                title=r.title,
                description=r.description,
                severity=r.severity,
                fields=tuple(r.fields),
                condition=Group(Op.ALL, (positive, *negative)),
                notify=tuple(r.notify),
                tags=tuple(r.tags),
                status=status,
                source=file,
            )
        )
    return entities, rules, c.problems, raw


SHIPPED = "shipped"  # names the packaged story rules in a list of rule paths


def rule_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders to their *.yaml / *.yml files, sorted; keep files as given; the word
    `shipped` stands for the packaged story rules."""
    out: list[Path] = []
    for given in paths:
        if str(given) == SHIPPED:
            out.extend(shipped_paths())
            continue
        p = Path(given)
        if p.is_dir():
            out.extend(sorted(x for x in p.rglob("*") if x.suffix in (".yaml", ".yml")))
        else:
            out.append(p)
    return out


def shipped_paths() -> list[Path]:
    """The story rule files shipped inside the package."""
    root = resources.files("rules") / "shipped"
    return sorted(Path(str(p)) for p in root.iterdir() if p.name.endswith((".yaml", ".yml")))


def load(paths: Iterable[str | Path] = (), destinations: set[str] | None = None) -> RuleBook:
    """Load rule files (the shipped ones when `paths` is empty) or raise RuleFileError."""
    with collector_paused():
        return _load(paths, destinations)


def _load(paths: Iterable[str | Path], destinations: set[str] | None) -> RuleBook:
    files = rule_files(paths) or shipped_paths()
    problems: list[Problem] = []
    entities: dict[str, Entity] = {}
    rules: list[Rule] = []
    rule_ids: set[str] = set()
    raws: dict[str, Any] = {}
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            problems.append(Problem(str(path), f"cannot read: {e}"))
            continue
        ents, rls, probs, raw = _load_one(path, text)
        raws[str(path)] = raw
        problems.extend(probs)
        for ent in ents:
            if ent.id in entities:
                problems.append(Problem(str(path), f"entity {ent.id!r} declared twice"))
            entities[ent.id] = ent
        for r in rls:
            if r.id in rule_ids:
                problems.append(Problem(str(path), "rule id declared twice", rule_id=r.id))
            rule_ids.add(r.id)
            rules.append(r)
    problems.extend(_check_references(entities, rules, destinations, raws))
    if problems:
        raise RuleFileError(problems)
    return RuleBook(entities=entities, rules=tuple(rules))


def _walk(node: Node) -> Iterable[Node]:
    yield node
    if isinstance(node, Group):
        for c in node.children:
            yield from _walk(c)


def _check_references(
    entities: dict[str, Entity],
    rules: list[Rule],
    destinations: set[str] | None,
    raws: dict[str, Any],
) -> list[Problem]:
    problems = []

    def line(rule: Rule) -> int | None:
        raw = raws.get(rule.source)
        if not isinstance(raw, dict):
            return None
        for i, r in enumerate(raw.get("rules") or []):
            if isinstance(r, dict) and r.get("id") == rule.id:
                return _line_of(raw, ("rules", i))
        return None

    for rule in rules:
        refs = {n.entity_id for n in _walk(rule.condition) if isinstance(n, EntityRef)}
        if rule.status:
            refs |= {rule.status.subject, *rule.status.jurisdictions, *rule.status.others}
            refs |= {s.jurisdiction for s in rule.status.seeds}
        for ref in sorted(refs - set(entities)):
            problems.append(
                Problem(rule.source, f"unknown entity @{ref}", rule.id, None, line(rule))
            )
        if destinations is not None:
            for dest in rule.notify:
                if dest not in destinations:
                    problems.append(
                        Problem(
                            rule.source,
                            f"unknown destination {dest!r}",
                            rule.id,
                            "notify",
                            line(rule),
                        )
                    )
    return problems
