"""The shipped story rules against the analyst's fixtures and the seed story."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from rules import RuleSet, load
from rules.status import extract

FIXTURES = Path(__file__).parent / "fixtures"
CASES_FILE = FIXTURES / "rules" / "cases.jsonl"
# A copy of /work/shared/story/seed-story.txt, kept with the tests so they run anywhere.
SEED_STORY = FIXTURES / "story" / "seed-story.txt"
SHIPPED_IDS = {"kz-afghanistan-engagement", "taliban-legal-status", "taliban-regional-relations"}


def _cases() -> list[dict]:
    with CASES_FILE.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


CASES = _cases()


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return RuleSet(load([]))


def test_fixture_file_is_complete() -> None:
    assert len(CASES) == 1207
    assert len({c["id"] for c in CASES}) == len(CASES)
    for c in CASES:
        assert set(c["expect"]) <= SHIPPED_IDS, c["id"]


def test_shipped_rule_ids(ruleset: RuleSet) -> None:
    assert {r.id for r in ruleset.rules} == SHIPPED_IDS


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(ruleset: RuleSet, case: dict) -> None:
    item = SimpleNamespace(
        title=case["title"], summary=case["summary"], content=case.get("content", "")
    )
    got = {m.rule.id for m in ruleset.match(item)} & SHIPPED_IDS
    assert got == set(case["expect"]), case.get("note", "")


STATUS_CASES = [c for c in CASES if "status" in c]


@pytest.mark.parametrize("case", STATUS_CASES, ids=[c["id"] for c in STATUS_CASES])
def test_case_status(ruleset: RuleSet, case: dict) -> None:
    """The (jurisdiction, state) pairs the legal-status rule extracts, where a case lists them:
    negated sentences assert nothing, affirmative ones their state."""
    item = SimpleNamespace(
        title=case["title"], summary=case["summary"], content=case.get("content", "")
    )
    p = ruleset.prepare(item)
    rule = ruleset.book.rule("taliban-legal-status")
    assert any(m.rule.id == rule.id for m in ruleset.match_prepared(p)), case["id"]
    got = {(a.jurisdiction, a.state) for a in extract(p, rule)}
    assert got == {tuple(x) for x in case["status"]}, case.get("note", "")


def test_seed_story_matches_with_evidence(ruleset: RuleSet) -> None:
    story = SEED_STORY.read_text(encoding="utf-8")
    item = SimpleNamespace(
        title="Kazakhstan invites Taliban trade minister to Astana International Forum",
        summary=story,
        content="",
    )
    matches = {m.rule.id: m for m in ruleset.match(item)}
    # Evidence offsets refer to each field's display text: the plain text with
    # whitespace collapsed.
    texts = {"title": item.title, "summary": " ".join(story.split())}
    for rule_id in ("kz-afghanistan-engagement", "taliban-legal-status"):
        assert rule_id in matches, f"{rule_id} did not match the seed story"
        evidence = matches[rule_id].evidence
        assert evidence, f"{rule_id} matched without evidence"
        for ev in evidence:
            assert ev.field in texts, ev
            assert ev.text.strip(), ev
            assert 0 <= ev.start < ev.end <= len(texts[ev.field]), ev
            assert texts[ev.field][ev.start : ev.end] == ev.text, ev
            assert ev.text in ev.snippet, ev
    # The legal-status evidence names the Taliban and a status term.
    kinds = {(ev.kind, ev.value) for ev in matches["taliban-legal-status"].evidence}
    assert ("entity", "taliban") in kinds
    assert any(kind == "term" for kind, _ in kinds)


# News with the rules' verbs and nouns (talks, visits, deals, borders, water, bans, lists)
# but none of their parties: Afghanistan, the Taliban, Kazakhstan.
_UNRELATED = [
    "Ministers held talks on trade and water; the visit ended with an agreement on border "
    "crossings, officials said after the meeting.",
    "Parliament voted to ban the group and add it to the list of terrorist organisations; "
    "the court upheld the designation.",
    "Министры провели переговоры о торговле, визит завершился подписанием соглашения.",
    "Die Regierung verbot die Organisation; das Gericht bestätigte das Verbot.",
    "Les deux pays ont signé un accord de coopération lors de la visite du ministre.",
    "Bakanlar sınır ve su konularında görüştü, ticaret anlaşması imzalandı.",
    "两国外长举行会谈，签署了合作协议。",
]


def test_no_shipped_rule_is_tried_on_news_without_its_parties(ruleset: RuleSet) -> None:
    # Every shipped rule is filed under words of its parties, so an item that names none of
    # them costs the index lookup and no evaluation. A branch with only a regex and common
    # words (a regex gives the index nothing to file it under) would make its rule a
    # candidate for every such item: correct, but paid on most news.
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.match import build_items, build_vocabulary

    generated = build_items(build_vocabulary(), 300)
    texts = [SimpleNamespace(title=t, summary="", content="") for t in _UNRELATED]
    for item in [*texts, *generated]:
        p = ruleset.prepare(item)
        tried = [ruleset.rules[i].id for i in ruleset.candidates(p)]
        assert tried == [], (item.title, tried)
