"""What the parse tree of a rule's regex tells: the literals a match needs (the test must never
say no where the regex matches) and whether it can backtrack for exponential time."""

from __future__ import annotations

import re
from types import SimpleNamespace

from hypothesis import example, given, settings
from hypothesis import strategies as st

import rules
from rules.match import Prepared
from rules.model import RuleBook
from rules.retree import has, needs, nested_repeat, plain_case
from rules.text import Field, fold


def test_needs_finds_the_literals_a_match_holds() -> None:
    assert needs(r"\bthis week\s*:") == (("this week",),)
    # a lookahead's text is in the text too; an optional group's is not
    assert needs(r"(?=designat)(?<!taliban )\bdesignat\w*(?:ion)?") == (("designat",),)
    # alternatives: one of them, whichever branch matched
    assert needs(r"\b(?:taliban|emirate)\s+ban") == (("emirate", "taliban"), ("ban",))
    # a repeat that may match nothing requires nothing; one that must match, its body
    assert needs(r"(?:abcd)*xyz") == (("xyz",),)
    assert needs(r"(?:abcd)+x") == (("abcd",),)
    # the most selective first, and common words last
    assert needs(r"the\s+gateway\s+opened") == (("gateway",), ("opened",), ("the",))


def test_needs_gives_nothing_it_cannot_vouch_for() -> None:
    assert needs(r"\w+,\s*\w+") is None  # no literal at all
    assert needs(r"(?:ab|cd)") is None  # too short to be worth a test
    assert needs(r"(?:taliban|\w+)") is None  # a branch with no literal
    assert needs(r"(?!taliban)\w+") is None  # a negative lookahead requires nothing
    assert needs("(unclosed") is None


def test_literals_are_spelled_as_folded_text_holds_them() -> None:
    # IGNORECASE: "TALIBAN" matches "taliban"; the micro sign and final sigma are one class
    # with μ and σ, the forms folding keeps.
    assert needs("TALIBAN") == (("taliban",),)
    assert needs("µικρός") == (("μικρόσ",),)
    for pattern in ["TALIBAN", "µικρός", "ΚΑΖΑΧΣΤΑΝ", "Sıkı denetim"]:
        for text in ["taliban", "μικρός", "μικροσ", "καζαχστάν", "sıkı denetim", "siki denetim"]:
            t = fold(text)
            if plain_case(t) and re.search(pattern, t, re.IGNORECASE):
                requirements = needs(pattern)
                assert requirements is None or has(t, requirements), (pattern, text)


def test_plain_case() -> None:
    assert plain_case("the taliban, кабул")
    assert not plain_case("The Taliban")  # upper case: "T" also matches "t"
    assert not plain_case("sıkı")  # dotless ı matches a pattern's "i"
    assert not plain_case("ᲀ")  # a Cyrillic variant re matches as "в"
    assert plain_case(fold("Sıkı Denetim")) == ("ı" not in fold("Sıkı Denetim"))


# Patterns built from pieces the shipped rules use, and texts from their words.
_WORDS = ["taliban", "ban", "ban on", "kabul", "astana", "ı", "i", "s", "ſ", "k", "μ", "σ"]
_PIECES = st.sampled_from(
    [
        r"\b",
        r"\s+",
        r"\w*",
        r"\W?",
        r"(?:the\s+)?",
        r"(?=ban)",
        r"(?<!the )",
        r"(?!\s+on)",
        r"[.!?]",
        "taliban",
        "ban",
        "kabul",
        "TALIBAN",
        "sıkı",
        "on",
        "(?:ban|kabul)",
        "(?:taliban|emirate|\\w+stan)",
        "(?:on|against){1,2}",
        "(?:ab)+",
        "(?-i:Kabul)",
        "μσ",
    ]
)
_TEXT = st.lists(
    st.sampled_from([*_WORDS, " ", ", ", ". ", "the ", "TALIBAN", "emirate", "ab", "Kabul"]),
    max_size=14,
).map("".join)


@settings(max_examples=600, deadline=None)
@given(st.lists(_PIECES, min_size=1, max_size=6).map("".join), _TEXT)
@example(r"\bsıkı", "siki")
@example("TALIBAN", "taliban")
@example("(?-i:Kabul)", "kabul")
def test_the_test_never_says_no_where_the_regex_matches(pattern: str, text: str) -> None:
    requirements = needs(pattern)
    if requirements is None:
        return
    for t in {text, fold(text), text.lower()}:
        if plain_case(t) and re.search(pattern, t, re.IGNORECASE):
            assert has(t, requirements), (pattern, t, requirements)


def _book(tmp_path, pattern: str) -> RuleBook:  # type: ignore[no-untyped-def]
    path = tmp_path / "r.yaml"
    path.write_text(
        f"rules:\n  - id: rx\n    title: rx\n    all:\n      - 're:{pattern}'\n", encoding="utf-8"
    )
    return rules.load([path])


def test_matcher_skips_the_pass_and_finds_the_same(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rs = rules.RuleSet(_book(tmp_path, r"\bban\s+on\s+(?:the\s+)?taliban\b"))
    atom = next(iter(rs.compiled.regexes))
    assert rs.compiled.regex_needs[atom]  # the rule's regex has literals to test

    def hits(text: str, literals: bool) -> list[tuple[str, int, int]]:
        saved = dict(rs.compiled.regex_needs)
        if not literals:
            rs.compiled.regex_needs.clear()
        try:
            return Prepared(rs.compiled, {"title": Field("title", text)}).regex_hits(atom)
        finally:
            rs.compiled.regex_needs.update(saved)

    texts = [
        "Russia lifts the ban on the Taliban",
        "The BAN ON TALIBAN stays",
        "Sıkı ban on taliban",  # dotless ı: not plain case, the regex runs
        "Kabul bans nothing",
        "ban on talibans",
    ]
    for text in texts:
        assert hits(text, True) == hits(text, False), text
    assert hits("Russia lifts the ban on the Taliban", True)
    item = SimpleNamespace(title="Russia lifts the ban on the Taliban", summary="", content="")
    assert [m.rule.id for m in rs.match(item)] == ["rx"]


def test_nested_repeats_that_backtrack_are_found() -> None:
    exponential = [
        r"(a+)+$",
        r"(?:\w+\s?)*x",
        r"(?:\w+\s+)+!",  # refused too: `\w++` says the same and cannot backtrack
        r"((a+)){17,}",
        r"(?>(a+)+b)",  # inside an atomic group, judged on its own
        r"(?=(a+)+b)",
        r"x|(?:(?:\w+)*)+y",
    ]
    polynomial = [
        r"(?:\w+\W+){0,3}border",  # bounded: at most n^3 ways
        r"(?>a+)+b",
        r"a++b",
        r"(?:a|b)+",
        r"(a{1,5}){1,5}",
        r"(?:\w+,\s*)+",  # each turn needs its own comma
        r"(?:x(?:ab)*)+",
    ]
    assert [p for p in exponential if not nested_repeat(p)] == []
    assert [p for p in polynomial if nested_repeat(p)] == []
    assert not nested_repeat("(unclosed")  # not compiling is reported on its own
