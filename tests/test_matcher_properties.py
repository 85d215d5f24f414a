"""Properties of the matcher, checked on random rules and texts (hypothesis).

(a) the indexed matcher agrees with the naive regex-per-rule reference (benchmarks/naive.py);
(b) matching does not depend on case or Unicode normal form;
(c) adding a `none` term never adds matches;
(d) evidence offsets point at the evidence text in the field's display text.
"""

from __future__ import annotations

import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.naive import NaiveMatcher  # noqa: E402
from rules import RuleSet  # noqa: E402
from rules.load import parse_term  # noqa: E402
from rules.model import (  # noqa: E402
    FIELDS,
    Entity,
    EntityRef,
    Group,
    Node,
    Op,
    Regex,
    Rule,
    RuleBook,
    StatusSpec,
    Term,
    Within,
)
from rules.text import UNSPACED_RE, WORD_RE, Field, fold, html_to_text, words_of  # noqa: E402

SETTINGS = settings(
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Item:
    title: str = ""
    summary: str = ""
    content: str = ""


# Words for texts: inflected forms, accents, Cyrillic, CJK, and words that nearly match.
TEXT_WORDS = [
    "alpha", "Alpha", "beta", "gamma", "invite", "invited", "invitation", "invites", "trade",
    "mission", "missions", "the", "ban", "lifted", "lift", "banned", "José", "Jos", "Bogotá",
    "bogota", "Казахстан", "Казахстане", "талибы", "талибов", "Taliban", "Pakistani",
    "Tehreek", "e", "said", "aid", "diplomatic", "diplomat", "塔利班", "政权", "Zürich",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", ", ", ". ", "! ", "? ", " - ", " — ", "\n", "; ", "'"]

TERMS = [
    "alpha", "beta", "gamma", "invite", "=invite", "trade mission", "mission*", "lift* the ban",
    "the ban", "Bogotá", "jos", "Казахстан", "талибы", "diplomat*", "aid", "=José",
    "塔利班", "塔利班 政权", "e", "beta gamma", "alpha alpha", "талибы Казахстан",
    "Казахстан талибов said", "invite талибы", "said invite trade", "the trade mission",
]  # fmt: skip
REGEXES = ["al+pha", r"\bban\b", "inv[a-z]+", "т[а-я]+ов"]

ENTITIES = {
    "taliban": Entity(
        "taliban",
        "Taliban",
        aliases=(parse_term("Taliban"), parse_term("талибы"), parse_term("塔利班")),
        not_contexts=(parse_term("Pakistani Taliban"), parse_term("Tehreek-e-Taliban")),
    ),
    "place": Entity("place", "Place", aliases=(parse_term("Bogotá"), parse_term("Zürich"))),
}


def text_strategy(words: list[str] = TEXT_WORDS) -> st.SearchStrategy[str]:
    token = st.tuples(st.sampled_from(words), st.sampled_from(SEPARATORS))
    return st.lists(token, max_size=30).map(lambda ts: "".join(w + s for w, s in ts).strip())


leaf: st.SearchStrategy[Node] = st.one_of(
    st.sampled_from(TERMS).map(parse_term),
    st.sampled_from(sorted(ENTITIES)).map(EntityRef),
    st.sampled_from(REGEXES).map(Regex),
)
within = st.one_of(
    st.none(),
    st.just(Within(sentence=True)),
    st.integers(0, 6).map(lambda n: Within(words=n)),
)


def _group(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.builds(
        Group,
        st.sampled_from(list(Op)),
        st.lists(children, min_size=1, max_size=3).map(tuple),
        within,
    )


condition = st.recursive(leaf, _group, max_leaves=6)


@st.composite
def rule_books(draw: st.DrawFn) -> RuleBook:
    rules = []
    for i in range(draw(st.integers(1, 4))):
        positive = Group(
            draw(st.sampled_from([Op.ALL, Op.ANY])),
            tuple(draw(st.lists(condition, min_size=1, max_size=3))),
            draw(within),
        )
        parts: list[Node] = [positive]
        if draw(st.booleans()):
            parts.append(Group(Op.NONE, tuple(draw(st.lists(leaf, min_size=1, max_size=2)))))
        fields = tuple(draw(st.sets(st.sampled_from(FIELDS), min_size=1)))
        rules.append(
            Rule(id=f"r{i}", title="t", condition=Group(Op.ALL, tuple(parts)), fields=fields)
        )
    return RuleBook(entities=dict(ENTITIES), rules=tuple(rules))


@st.composite
def items(draw: st.DrawFn, words: list[str] = TEXT_WORDS) -> Item:
    text = text_strategy(words)
    content = draw(text)
    if draw(st.booleans()):
        content = "<p>" + content.replace("\n", "</p><p>") + "</p>"
    return Item(draw(text), draw(text), content)


def ids(rs: RuleSet, item: Item) -> list[str]:
    return [m.rule.id for m in rs.match(item)]


@SETTINGS
@given(rule_books(), st.lists(items(), min_size=1, max_size=4))
def test_index_agrees_with_naive_reference(book, its):
    rs, naive = RuleSet(book), NaiveMatcher(book)
    for item in its:
        assert ids(rs, item) == naive.match_ids(item), item


def test_reference_reads_content_that_repeats_the_summary():
    """A case the property test found: content equal to the summary is a field of its own
    for a rule that reads content and not summary, in both matchers."""
    rule = Rule(
        id="r",
        title="r",
        condition=Group(Op.ANY, (parse_term("alpha"),)),
        fields=("title", "content"),
    )
    book = RuleBook(entities=dict(ENTITIES), rules=(rule,))
    item = Item(title="", summary="alpha", content="alpha")
    assert ids(RuleSet(book), item) == NaiveMatcher(book).match_ids(item) == ["r"]


def _status_book(terms: list[Node], as_leaves: bool) -> RuleBook:
    """A rule whose status spec triggers on `terms`: read only by status extraction (lazy
    terms, their own automaton) or, with `as_leaves`, also rule leaves (the single pass)."""
    spec = StatusSpec(
        subject="taliban",
        jurisdictions=("place",),
        states={"banned": tuple(t for t in terms if isinstance(t, Term))},
        negation=(),
        modality=(),
    )
    leaves = tuple(terms) if as_leaves else (EntityRef("taliban"),)
    rule = Rule(id="s", title="t", condition=Group(Op.ANY, leaves), status=spec)
    return RuleBook(entities=dict(ENTITIES), rules=(rule,))


@SETTINGS
@given(
    st.lists(st.sampled_from(TERMS).map(parse_term), min_size=1, max_size=8),
    st.lists(items(), min_size=1, max_size=4),
)
def test_status_only_terms_are_found_where_rule_terms_are(terms, its):
    lazy, eager = RuleSet(_status_book(terms, False)), RuleSet(_status_book(terms, True))
    spec_terms = tuple(t for t in terms if isinstance(t, Term))
    assert lazy.compiled.lazy and not eager.compiled.lazy
    for item in its:
        p_lazy, p_eager = lazy.prepare(item), eager.prepare(item)
        got = p_lazy.terms_hits(spec_terms, FIELDS)
        assert got == p_eager.terms_hits(spec_terms, FIELDS), item
        assert got == [p_lazy.leaf_hits(t, FIELDS) for t in spec_terms]


# Case and normal form: an alphabet where upper() and the normal forms fold back to the same
# words (no ß/ı/İ, whose upper or lower case is another letter sequence).
INVARIANT_WORDS = [w for w in TEXT_WORDS if w not in ("José",)] + ["Éire", "São", "naïve"]


@SETTINGS
@given(rule_books(), items(INVARIANT_WORDS))
def test_case_and_normal_form_do_not_matter(book, item):
    rs = RuleSet(book)
    expected = ids(rs, item)

    def variant(f):  # type: ignore[no-untyped-def]
        return Item(*(f(getattr(item, name)) for name in FIELDS))

    assert ids(rs, variant(str.upper)) == expected
    for form in ("NFD", "NFC", "NFKC", "NFKD"):
        assert ids(rs, variant(lambda s, form=form: unicodedata.normalize(form, s))) == expected


@SETTINGS
@given(rule_books(), st.lists(leaf, min_size=1, max_size=2), st.lists(items(), max_size=4))
def test_adding_a_none_term_never_adds_matches(book, extra, its):
    stricter = RuleBook(
        book.entities,
        tuple(
            Rule(
                r.id,
                r.title,
                Group(Op.ALL, (*r.condition.children, Group(Op.NONE, tuple(extra)))),
                fields=r.fields,
            )
            for r in book.rules
        ),
    )
    loose, strict = RuleSet(book), RuleSet(stricter)
    for item in its:
        assert set(ids(strict, item)) <= set(ids(loose, item))


@SETTINGS
@given(rule_books(), st.lists(items(), min_size=1, max_size=4))
def test_evidence_offsets_point_at_the_evidence_text(book, its):
    rs = RuleSet(book)
    for item in its:
        for m in rs.match(item):
            for ev in m.evidence:
                text = html_to_text(getattr(item, ev.field))
                assert text[ev.start : ev.end] == ev.text
                assert ev.text and ev.text in ev.snippet.strip("…")
                if ev.kind != "regex":
                    assert words_of(ev.text), ev  # a term or alias hit covers whole words


# Any characters, weighted towards the ones folding treats specially.
_TRICKY = st.text(
    st.one_of(
        # ﯹ folds to letters that fold again (ى), so is folded after them
        st.sampled_from(list("aZ _9,.'-\n\tÉéßẞİıКкйЙёЁӘәҚ«»—’…\u00a0漢ไΣσςﬁⅫ١\u0301\u200bﯹىŉ")),
        st.characters(codec="utf-8"),
    ),
    max_size=40,
)


@SETTINGS
@given(_TRICKY)
@example("ﯹ ﯺ ﯻ ﰃ ﰉ ﰏ ى ŉʼ")  # ligatures folding to ى, which folds again
def test_words_and_their_offsets_agree_with_the_folded_text(text):
    # The fast paths (C splits, folding only the runs that change) must give exactly the
    # words and word offsets a regex over fold(text) gives.
    f = Field("content", text)
    expected = WORD_RE.findall(fold(text))
    assert f.words == expected
    assert f.joined == (" " + " ".join(expected) + " ").encode("utf-8", "surrogatepass")
    assert f.spans == [m.span() for m in WORD_RE.finditer(f.folded)]
    assert f.has_unspaced == bool(UNSPACED_RE.search(fold(text)))
