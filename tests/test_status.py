"""Legal-status extraction and the ledger, against the analyst's timelines in
tests/fixtures/status/*.jsonl, and end to end through `newsmon run --once`.

Agreement is set equality of (jurisdiction, state) per item between what the item asserts
(`status` in the fixture) and what the extraction finds.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, jsonl, recent, rss, write_config

from monitor.dryrun import InputItem, match_records
from rules import RuleSet, load
from rules.ledger import PROPOSED, Assertion, Entry, Ledger, event_time, settle
from rules.status import extract

RULE = "taliban-legal-status"
FILES = ("kazakhstan", "russia", "kyrgyzstan", "mixed")
# Reached: 49 of 52 items. The three left (see the report in the commit message) need a
# match-rule term (mx-st-011), a Russia alias for the Duma (ru-st-008) and an agent inside a
# nominalised trigger, "признания Россией правительства" (kg-st-011).
MIN_AGREEMENT = 47 / 52


@cache
def ruleset() -> RuleSet:
    return RuleSet(load())


def fixture(name: str) -> list[dict[str, Any]]:
    path = FIXTURES / "status" / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def items(rows: list[dict[str, Any]]) -> list[InputItem]:
    return [
        InputItem(id=r["id"], title=r["title"], summary=r["summary"], published=r["published"])
        for r in rows
    ]


@cache
def replay(name: str) -> dict[str, list[dict[str, Any]]]:
    """The file through `match_records` with a fresh ledger: item id -> its assertions."""
    out: dict[str, list[dict[str, Any]]] = {}
    for record in match_records(items(fixture(name)), ruleset()):
        if record["rule"] == RULE:
            out[record["item_id"]] = record.get("statuses", [])
    return out


def changes(name: str) -> list[tuple[str, str, str | None, str]]:
    return [
        (iid, a["jurisdiction"], a["previous"], a["state"])
        for iid, found in replay(name).items()
        for a in found
        if a["changed"]
    ]


def ledger_after(name: str) -> Ledger:
    ledger = Ledger()
    for iid, found in replay(name).items():
        for a in found:
            when = dt.datetime.fromisoformat(a["when"])
            ledger.add(a["subject"], a["jurisdiction"], Entry(when, a["state"], iid))
    return ledger


def pairs(found: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(a["jurisdiction"], a["state"]) for a in found}


def disagreements(name: str) -> list[str]:
    got = replay(name)
    out = []
    for row in fixture(name):
        expected = pairs(row["status"])
        found = pairs(got.get(row["id"], []))
        if expected != found:
            out.append(f"{row['id']}: expected {sorted(expected)}, got {sorted(found)}")
    return out


def test_an_undated_item_is_dated_now_and_its_sentences_by_their_own_dates():
    # A dry run of a .jsonl line without `published`: the delisting it reports happened in
    # December 2023, the item itself is today's news (never 1970).
    item = InputItem(
        id="undated",
        title="Kazakhstan removes the Taliban from its list of banned organisations",
        summary="Kazakhstan removed the Taliban from its list of terrorist organisations in "
        "December 2023, the foreign ministry said.",
    )
    (record,) = [r for r in match_records([item], ruleset()) if r["rule"] == RULE]
    whens = {a["evidence"][0]["field"]: a["when"][:10] for a in record["statuses"]}
    today = dt.datetime.now(dt.UTC).date()
    assert whens["summary"] == "2023-12-01"
    assert dt.date.fromisoformat(whens["title"]) in (today, today - dt.timedelta(days=1))


# -- the timelines -------------------------------------------------------------------------


def test_kazakhstan_timeline_changes_once():
    kz = [c for c in changes("kazakhstan") if c[1] == "kazakhstan"]
    # The December 2023 removal is the one change; the August 2023 "will not change its
    # status" restates the ban, and the later articles restate the removal.
    assert kz == [("kz-st-005", "kazakhstan", "banned", "delisted")]
    assert ("kazakhstan", "banned") in pairs(replay("kazakhstan")["kz-st-004"])
    # The seed story recalls the whole history and the bans in the other CSTO states,
    # without changing anything.
    story = replay("kazakhstan")["kz-st-006"]
    assert pairs(story) == {
        ("kazakhstan", "banned"),
        ("kazakhstan", "delisted"),
        ("kyrgyzstan", "banned"),
        ("russia", "banned"),
        ("tajikistan", "banned"),
    }
    assert not any(a["changed"] for a in story)
    assert {a["when"][:7] for a in story if a["jurisdiction"] == "kazakhstan"} == {
        "2005-01",
        "2023-08",
        "2023-12",
    }
    assert ledger_after("kazakhstan").current("taliban", "kazakhstan") == "delisted"


def test_kazakhstan_non_recognition_and_embassy_assert_nothing():
    got = replay("kazakhstan")
    for iid in ("kz-st-002", "kz-st-003", "kz-st-009"):
        assert not got.get(iid), iid
    # "no plans to follow Russia in recognising": Russia's recognition, not Kazakhstan's.
    assert pairs(got["kz-st-010"]) == {("kazakhstan", "delisted"), ("russia", "recognized")}


def test_russia_timeline():
    assert [(c[0], c[2], c[3]) for c in changes("russia")] == [
        ("ru-st-011", "banned", "delisted"),  # the April 2025 suspension
        ("ru-st-013", "delisted", "recognized"),  # July 2025
    ]
    got = replay("russia")
    proposed = [iid for iid, found in got.items() if ("russia", PROPOSED) in pairs(found)]
    assert {"ru-st-004", "ru-st-005", "ru-st-009", "ru-st-010"} <= set(proposed)
    for iid in proposed:
        assert not any(a["changed"] for a in got[iid])
    assert ledger_after("russia").current("taliban", "russia") == "recognized"


@pytest.mark.parametrize(
    ("item_id", "expected"),
    [
        ("ru-st-002", {("russia", "banned")}),  # признал террористическими: a designation
        ("ru-st-003", {("russia", "banned")}),  # не торопится с признанием; остаётся в списке
        ("ru-st-005", {("russia", PROPOSED)}),  # может быть исключено
        ("ru-st-006", {("russia", "banned")}),  # решения пока не принято; остаётся под запретом
        ("ru-st-009", {("russia", PROPOSED)}),  # закон откроет путь к исключению
        ("ru-st-011", {("russia", "delisted")}),  # приостановил запрет
        ("ru-st-014", {("russia", "recognized")}),  # признала Исламский Эмират
        ("ru-st-015", {("russia", "recognized")}),
    ],
)
def test_russian_language_items(item_id, expected):
    assert pairs(replay("russia")[item_id]) == expected


def test_russia_dated_background_lands_in_the_past():
    # "lifting a terrorist designation in place since 2003": the ban is 2003 history.
    found = replay("russia")["ru-st-012"]
    assert [(a["state"], a["when"][:4]) for a in found] == [
        ("banned", "2003"),
        ("delisted", "2025"),
    ]
    # "suspended the ban on the group in April", said in July: April of the same year.
    recalled = [a for a in replay("russia")["ru-st-013"] if a["state"] == "delisted"]
    assert [a["when"][:7] for a in recalled] == ["2025-04"]


def test_kyrgyzstan_timeline():
    assert [(c[0], c[1], c[2], c[3]) for c in changes("kyrgyzstan")] == [
        ("kg-st-006", "kyrgyzstan", "banned", "delisted")
    ]
    got = replay("kyrgyzstan")
    assert pairs(got["kg-st-001"]) == {("kyrgyzstan", "banned")}  # recognised ... as terrorist
    assert pairs(got["kg-st-005"]) == {("kyrgyzstan", PROPOSED)}
    assert not got.get("kg-st-003")
    # Moscow's view of Bishkek's decision: two jurisdictions, each its own state.
    assert pairs(got["kg-st-010"]) == {("kyrgyzstan", "delisted"), ("russia", "banned")}
    # "вопрос признания ... пока не стоит" is not a recognition by Kyrgyzstan.
    assert ("kyrgyzstan", "recognized") not in pairs(got.get("kg-st-011", []))
    assert ledger_after("kyrgyzstan").current("taliban", "kyrgyzstan") == "delisted"


def test_mixed_negation_modality_and_near_misses():
    got = replay("mixed")
    # Negation: refusing to recognise, "did not amount to recognition", "stops short of".
    for iid in ("mx-st-002", "mx-st-003", "mx-st-005", "mx-st-015"):
        assert not got.get(iid), iid
    # Other groups, and a deferral.
    for iid in ("mx-st-001", "mx-st-008", "mx-st-009", "mx-st-012"):
        assert not got.get(iid), iid
    assert pairs(got["mx-st-004"]) == {("kazakhstan", PROPOSED)}
    assert pairs(got["mx-st-006"]) == {("kazakhstan", "delisted"), ("russia", PROPOSED)}
    # Jurisdiction: the state whose status is meant, not every state named.
    assert pairs(got["mx-st-007"]) == {("kyrgyzstan", "delisted"), ("tajikistan", "banned")}
    assert pairs(got["mx-st-010"]) == {("russia", "delisted")}
    assert pairs(got["mx-st-013"]) == {("russia", "recognized")}
    assert pairs(got["mx-st-014"]) == {("tajikistan", "banned")}
    # The UN as Reuters and AP spell it ("U.N. sanctions").
    assert pairs(got["mx-st-025"]) == {("un", "banned")}
    assert pairs(got["mx-st-026"]) == {("un", "banned"), ("un", PROPOSED)}


def test_mixed_out_of_order_article_does_not_bring_back_the_ban():
    found = replay("mixed")["mx-st-016"]
    assert pairs(found) == {("kazakhstan", "banned")}
    assert not any(a["changed"] for a in found)
    assert ledger_after("mixed").current("taliban", "kazakhstan") == "delisted"


def test_agreement_over_all_timelines():
    total = sum(len(fixture(n)) for n in FILES)
    wrong = [d for n in FILES for d in disagreements(n)]
    rate = (total - len(wrong)) / total
    assert rate >= MIN_AGREEMENT, f"agreement {rate:.0%}:\n" + "\n".join(wrong)


# -- the ledger ----------------------------------------------------------------------------


def _assert(state: str, jurisdiction: str = "kazakhstan", target: str | None = None) -> Assertion:
    return Assertion("taliban", jurisdiction, state, target or state, ())


def _at(year: int, month: int = 1) -> dt.datetime:
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def test_ledger_first_assertion_establishes_without_a_change():
    ledger = Ledger()
    assert ledger.record(_assert("banned"), _at(2005), "a") is None
    assert ledger.current("taliban", "kazakhstan") == "banned"
    change = ledger.record(_assert("delisted"), _at(2023, 12), "b")
    assert change is not None and (change.previous, change.state) == ("banned", "delisted")


def test_ledger_proposed_never_changes_state():
    ledger = Ledger()
    ledger.record(_assert("banned"), _at(2005), "a")
    assert ledger.record(_assert(PROPOSED, target="delisted"), _at(2023, 11), "b") is None
    assert ledger.current("taliban", "kazakhstan") == "banned"
    # A first assertion that is only proposed establishes nothing either.
    assert ledger.record(_assert(PROPOSED, "russia", "delisted"), _at(2024), "c") is None
    assert ledger.current("taliban", "russia") is None


def test_ledger_orders_by_event_time_not_arrival():
    ledger = Ledger()
    ledger.record(_assert("banned"), _at(2005), "a")
    ledger.record(_assert("delisted"), _at(2023, 12), "b")
    # A 2005 article fetched late lands in history: no change, the state stays delisted.
    assert ledger.record(_assert("banned"), _at(2005, 3), "late") is None
    assert ledger.current("taliban", "kazakhstan") == "delisted"
    assert ledger.current("taliban", "kazakhstan", at=_at(2010)) == "banned"
    rows = ledger.history("taliban")["kazakhstan"]
    assert [e.item_id for e in rows] == ["a", "late", "b"]


def _implying(state: str, jurisdiction: str = "russia") -> Assertion:
    return Assertion("taliban", jurisdiction, state, state, (), implies=IMPLIES)


IMPLIES = (("recognized", ("delisted",)),)


def test_ledger_an_implied_state_restates_the_stronger_one():
    ledger = Ledger()
    ledger.record(_implying("banned"), _at(2003), "a")
    change = ledger.record(_implying("recognized"), _at(2025, 7), "b")
    assert change is not None and (change.previous, change.state) == ("banned", "recognized")
    # "Moscow lifted its ban" after the recognition: what recognition already holds.
    assert ledger.record(_implying("delisted"), _at(2025, 9), "c") is None
    assert ledger.current("taliban", "russia") == "recognized"
    # A ban after the recognition is a change; the stronger state does not shield it.
    change = ledger.record(_implying("banned"), _at(2026, 1), "d")
    assert change is not None and (change.previous, change.state) == ("recognized", "banned")
    # Without `implies`, the same restatement flips the state.
    plain = Ledger()
    plain.record(_assert("recognized", "russia"), _at(2025, 7), "b")
    change = plain.record(_assert("delisted", "russia"), _at(2025, 9), "c")
    assert change is not None and change.state == "delisted"


def test_stored_ledger_and_status_view_keep_the_stronger_state(tmp_path: Path):
    from monitor.ledgerview import ledger_view
    from storage import Store

    store = Store(tmp_path / "s.db")
    rows = [
        ("2003-02-14T00:00:00.000000Z", "banned"),
        ("2025-07-03T00:00:00.000000Z", "recognized"),
        ("2025-09-01T00:00:00.000000Z", "delisted"),
        ("2025-10-01T00:00:00.000000Z", "proposed"),
        ("2025-11-01T00:00:00.000000Z", "delisted"),
    ]
    store.add_seeds(
        [
            {
                "subject": "taliban",
                "jurisdiction": "russia",
                "state": state,
                "target": state,
                "event_at": at,
                "recorded_at": at,
                "source": f"s{k}",
                "seed_key": f"k{k}",
            }
            for k, (at, state) in enumerate(rows)
        ]  # fmt: skip
    )
    implies = dict(IMPLIES)

    def current(weak: set[str]) -> str | None:
        return settle([r["state"] for r in store.status_tail("taliban", "russia", weak)], implies)

    assert current(set()) == "delisted"  # without `implies`: the latest assertion
    tail = store.status_tail("taliban", "russia", {"delisted"})
    assert [r["source"] for r in tail] == ["s1", "s4"]  # the recognition, the last restatement
    assert current({"delisted"}) == "recognized"
    (view,) = ledger_view("taliban", store.status_entries("taliban"), implies)
    assert (view["state"], view["since"][:10]) == ("recognized", "2025-07-03")
    assert ledger_view("taliban", store.status_entries("taliban"))[0]["state"] == "delisted"
    # A ban after the recognition is the current state again.
    store.add_seeds(
        [
            {
                "subject": "taliban",
                "jurisdiction": "russia",
                "state": "banned",
                "target": "banned",
                "event_at": "2026-01-01T00:00:00.000000Z",
                "recorded_at": "2026-01-01T00:00:00.000000Z",
                "source": "s9",
                "seed_key": "k9",
            }
        ]  # fmt: skip
    )
    assert current({"delisted"}) == "banned"
    store.close()


def test_event_time_uses_a_named_date_or_month_before_publication():
    published = dt.datetime(2025, 7, 3, tzinfo=dt.UTC)
    dated = Assertion("taliban", "russia", "banned", "banned", (), dt.date(2003, 1, 1))
    assert event_time(dated, published) == _at(2003)
    april = Assertion("taliban", "russia", "delisted", "delisted", (), None, 4)
    assert event_time(april, published) == _at(2025, 4)
    december = Assertion("taliban", "kazakhstan", "delisted", "delisted", (), None, 12)
    assert event_time(december, dt.datetime(2024, 5, 29, tzinfo=dt.UTC)) == _at(2023, 12)
    # The item's own month is the item's date.
    assert event_time(Assertion("t", "r", "s", "s", (), None, 7), published) == published


def test_a_month_without_a_year_before_a_dated_winner_takes_its_year():
    """ "lifted its ban in December 2023, eight months after a court upheld it in April": the
    April is 2023's, not the latest April before publication (which would be a false change)."""
    rule = ruleset().book.rule(RULE)
    item = InputItem(
        id="x",
        title="Kazakhstan lifted its ban on the Taliban in December 2023, eight months after a "
        "court upheld the ban in April",
        summary="",
        published="2026-11-20T00:00:00+00:00",
    )
    found = {(a.state, a.dated, a.month) for a in extract(ruleset().prepare(item), rule)}
    assert found == {
        ("delisted", dt.date(2023, 12, 1), None),
        ("banned", dt.date(2023, 4, 1), None),
    }


# -- end to end ----------------------------------------------------------------------------


def test_run_once_sends_status_changed_and_status_shows_the_ledger(tmp_path: Path, server, cli):
    """Against the shipped seeds (Kazakhstan delisted 2023-12-29, Kyrgyzstan 2024-09-02;
    Russia recognized 2025-07-03; Tajikistan banned): a Kazakhstan delisting article restates
    the seeded state, a Tajik removal changes it, and a Russian one restates what Russia's
    recognition implies (the spec's `implies`): no change."""
    feed = [
        {
            "guid": "ru-1",
            "title": "Moscow lifted its ban on the Taliban, the Kremlin reminded reporters",
            "description": "The Kremlin spokesman spoke about relations with Kabul.",
            "pubDate": recent(3),
        },
        {
            "guid": "kz-1",
            "title": "Kazakhstan confirms Taliban no longer on its list of banned organisations",
            "description": "Kazakhstan's foreign ministry confirmed that the government had "
            "removed the Taliban from the list of prohibited organisations.",
            "pubDate": recent(2),
        },
        {
            "guid": "tj-1",
            "title": "Tajikistan removes the Taliban from its list of banned organisations",
            "description": "Tajikistan's Supreme Court has removed the Taliban from the list "
            "of terrorist organisations, the prosecutor general's office said.",
            "pubDate": recent(1),
        },
    ]
    url = server.feed("/feed.xml", rss(feed))
    config = write_config(
        tmp_path / "c.yaml",
        feeds=[{"url": url}],
        poll={"backfill": "36500d"},
        destinations=[
            {"name": "hook", "type": "webhook", "url": server.url + "/hook", "rules": [RULE]}
        ],
    )
    result = cli("run", "--once", config=config)
    assert result.exit_code == 0, result.output
    events = [json.loads(p.body) for p in server.posts("/hook")]
    changed = [e for e in events if e["type"] == "status.changed"]
    assert [(e["subject"], e["jurisdiction"], e["from"], e["to"]) for e in changed] == [
        ("taliban", "tajikistan", "banned", "delisted")
    ]
    assert changed[0]["rule"]["id"] == RULE and changed[0]["evidence"]
    assert {e["item"]["title"] for e in events if e["type"] == "match.created"} == {
        f["title"] for f in feed
    }

    view = {
        v["jurisdiction"]: v
        for v in jsonl(cli("status", "taliban", "--json", config=config).output)
    }
    assert view["tajikistan"]["state"] == "delisted"
    assert [h["state"] for h in view["tajikistan"]["history"]] == ["banned", "delisted"]
    assert view["kazakhstan"]["state"] == "delisted"
    assert [h["state"] for h in view["kazakhstan"]["history"]] == ["banned", "delisted", "delisted"]
    assert view["russia"]["state"] == "recognized"
    assert [h["state"] for h in view["russia"]["history"]] == [
        "banned",
        "delisted",
        "recognized",
        "delisted",
    ]
    assert view["kyrgyzstan"]["state"] == "delisted"


def test_two_sources_disagreeing_within_a_week_are_flagged(tmp_path, server, cli):
    from conftest import rss as rss_doc
    from conftest import write_config as config_file

    items = [
        {"guid": "keep",
         "title": "Tajikistan keeps the Taliban on its list of banned organizations",
         "description": "Dushanbe said the ban on the Taliban stays in force.",
         "pubDate": "Mon, 02 Jun 2025 09:00:00 +0000"},
        {"guid": "drop",
         "title": "Tajikistan removes the Taliban from its list of banned organizations",
         "description": "Tajikistan removed the Taliban from the list of prohibited organizations.",
         "pubDate": "Wed, 04 Jun 2025 09:00:00 +0000"},
    ]  # fmt: skip
    url = server.feed("/tj.xml", rss_doc(items))
    config = config_file(
        tmp_path / "c.yaml",
        feeds=[{"url": url}],
        poll={"backfill": "36500d"},
        destinations=[{"name": "hook", "type": "webhook", "url": server.url + "/hook",
                       "rules": ["taliban-legal-status"], "events": ["status.changed"]}],
    )  # fmt: skip
    assert cli("run", "--once", config=config).exit_code == 0
    events = [json.loads(p.body) for p in server.posts("/hook")]
    changes = [e for e in events if e["jurisdiction"] == "tajikistan"]
    assert [(e["from"], e["to"]) for e in changes] == [("banned", "delisted")]
    assert changes[0]["conflict"] is True


# -- cues after the trigger, and inside an unspaced clause ---------------------------------

_SPEC = """
entities:
  - {id: taliban, name: the Taliban, aliases: [Taliban, 塔利班]}
  - {id: kazakhstan, name: Kazakhstan, aliases: [Kazakhstan, 哈萨克斯坦]}
rules:
  - id: st
    title: status
    all: ["@taliban"]
    status:
      subject: taliban
      jurisdictions: [kazakhstan]
      states:
        banned: [terrorist organization, 列为恐怖组织]
        recognized: [recogni*, tan ol*, 承认塔利班]
      negated: {banned: none, recognized: none}
      negation: [not, 不, 并未]
      negation_after: [emas, olmay*]
"""


@cache
def _spec_rules(tmp: Path) -> RuleSet:
    path = tmp / "st.yaml"
    path.write_text(_SPEC, encoding="utf-8")
    return RuleSet(load([path]))


@pytest.fixture
def spec_rules(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    return _spec_rules(tmp_path_factory.getbasetemp())


def _states(rules: RuleSet, text: str) -> set[tuple[str, str]]:
    from types import SimpleNamespace

    from rules.status import extract

    p = rules.prepare(SimpleNamespace(title="", summary=text, content=""))
    return {(a.jurisdiction, a.state) for a in extract(p, rules.book.rule("st"))}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # within the window after the trigger
        ("Kazakhstan says the Taliban terrorist organization emas.", set()),
        ("Kazakhstan calls the Taliban a terrorist organization to this day emas.", set()),
        # beyond it: five words after the trigger
        (
            "Kazakhstan calls the Taliban a terrorist organization one two three four emas.",
            {("kazakhstan", "banned")},
        ),
        # another trigger between takes the cue
        (
            "Kazakhstan: Taliban terrorist organization then soon recognised emas.",
            {("kazakhstan", "banned")},
        ),
        # a comma or a conjunction ends the clause the cue negates
        (
            "Kazakhstan: the Taliban terrorist organization, others emas.",
            {("kazakhstan", "banned")},
        ),
        (
            "Kazakhstan: the Taliban terrorist organization and others emas.",
            {("kazakhstan", "banned")},
        ),
        # the cue in the sentence before does not reach
        (
            "Kazakhstan: the Taliban terrorist organization. Others emas.",
            {("kazakhstan", "banned")},
        ),
        # a prefix trigger that took the negation itself, and one that did not
        ("Kazakhstan Taliban tan olmaydi.", set()),
        ("Kazakhstan Taliban tan oldi.", {("kazakhstan", "recognized")}),
    ],
)
def test_negation_after_the_trigger(spec_rules: RuleSet, text: str, expected: set) -> None:
    assert _states(spec_rules, text) == expected


def test_negation_after_inside_a_trigger_word_only_when_it_is_a_prefix() -> None:
    from rules.status import _cue_after
    from rules.text import Field

    f = Field("summary", "Astana tan olmaydi")
    trig = ("summary", 1, 2)  # "tan ol*" matched "tan olmaydi"
    cue = ("summary", 1, 2)  # "tan olmay*"
    assert _cue_after(f, trig, [cue], [trig], 3, open_ended=True) == cue
    assert _cue_after(f, trig, [cue], [trig], 3, open_ended=False) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("哈萨克斯坦承认塔利班政权。", {("kazakhstan", "recognized")}),
        ("哈萨克斯坦不承认塔利班政权。", set()),
        # a few characters between: the object moved before the verb
        ("哈萨克斯坦并未将塔利班列为恐怖组织。", set()),
        ("哈萨克斯坦将塔利班列为恐怖组织。", {("kazakhstan", "banned")}),
        # a word starting with the cue that does not negate, a conjunction between, or
        # the cue in another clause
        ("哈萨克斯坦不仅承认塔利班政权。", {("kazakhstan", "recognized")}),
        ("哈萨克斯坦不干涉内政并承认塔利班政权。", {("kazakhstan", "recognized")}),
        ("哈萨克斯坦表示不，承认塔利班政权。", {("kazakhstan", "recognized")}),
    ],
)
def test_negation_inside_an_unspaced_clause(spec_rules: RuleSet, text: str, expected: set) -> None:
    assert _states(spec_rules, text) == expected


def test_negation_after_rejects_unspaced_terms(tmp_path: Path) -> None:
    from rules.errors import RuleFileError

    path = tmp_path / "bad.yaml"
    path.write_text(_SPEC.replace("[emas, olmay*]", "[emas, 不]"), encoding="utf-8")
    with pytest.raises(RuleFileError) as err:
        load([path])
    assert "negation_after" in str(err.value)
    path.write_text(_SPEC.replace("[emas, olmay*]", "[emas, 'a*b']"), encoding="utf-8")
    with pytest.raises(RuleFileError) as err:
        load([path])
    assert "status.negation_after.1" in str(err.value)


def test_default_negation_after_reads_postposed_copulas(tmp_path: Path) -> None:
    # A rule that lists no cues of its own gets the defaults: "is not" after the trigger in
    # verb-final languages, and no "değil" before a later trigger.
    path = tmp_path / "st.yaml"
    spec = _SPEC.replace("      negation: [not, 不, 并未]\n", "").replace(
        "      negation_after: [emas, olmay*]\n", ""
    )
    path.write_text(spec, encoding="utf-8")
    rules = RuleSet(load([path]))
    assert _states(rules, "Kazakhstan: the Taliban terrorist organization emas.") == set()
    assert _states(rules, "Kazakhstan: the Taliban terrorist organization değil.") == set()
    assert _states(rules, "Kazakhstan: the Taliban is a terrorist organization.") == {
        ("kazakhstan", "banned")
    }


def test_ledger_history_never_raises_a_change():
    """Back-dated assertions land in history, also where `implies` makes them shift how
    later ones read: no alert for an article about the past."""
    ledger = Ledger()
    ledger.record(_implying("banned", "kazakhstan"), _at(2005, 3), "a")
    ledger.record(_implying("delisted", "kazakhstan"), _at(2023, 12), "b")
    assert ledger.record(_implying("recognized", "kazakhstan"), _at(2004), "c") is None
    assert ledger.current("taliban", "kazakhstan") == "delisted"
    russia = Ledger()
    for state, when in (
        ("banned", _at(2003)),
        ("delisted", _at(2025, 4)),
        ("recognized", _at(2025, 7)),
        ("delisted", _at(2025, 11)),
    ):
        russia.record(_implying(state), when, state)
    assert russia.current("taliban", "russia") == "recognized"
    # A ban dated October, read in December: history, though it breaks the chain.
    assert russia.record(_implying("banned"), _at(2025, 10), "late") is None
    assert russia.current("taliban", "russia") == "delisted"


@pytest.mark.parametrize("seed", range(3))
def test_stored_ledger_decides_as_the_whole_history_would(tmp_path: Path, seed: int):
    """The database path (`ledger_for`: a few rows per pair) decides every assertion as a
    Ledger holding the pair's whole history, ties in event time included."""
    import random
    from types import SimpleNamespace

    from monitor.statuses import ledger_for
    from storage import Store, parse_ts

    rnd = random.Random(seed)
    store = Store(tmp_path / "s.db")
    states = ["banned", "delisted", "recognized", PROPOSED]
    days = [_at(2025, m) for m in range(1, 7)]
    published = _at(2030)
    for t in range(150):
        j = f"j{t}"
        rows = []
        for k in range(rnd.randint(1, 5)):
            state, at = rnd.choice(states), rnd.choice(days).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            rows.append(
                {"subject": "taliban", "jurisdiction": j, "state": state, "target": state,
                 "event_at": at, "recorded_at": at, "source": "", "seed_key": f"{j}:{k}"}
            )  # fmt: skip
        for r in rows:
            store.add_seeds([r])  # one by one: ids in list order
        state = rnd.choice(states)
        a = Assertion("taliban", j, state, state, (), rnd.choice(days).date(), None, IMPLIES)
        db = ledger_for(store, [SimpleNamespace(assertion=a)])
        whole = Ledger(implies={"taliban": dict(IMPLIES)})
        for e in store.status_entries("taliban", j):
            whole.add("taliban", j, Entry(parse_ts(e["event_at"]), e["state"], None))
        assert db.current("taliban", j) == whole.current("taliban", j), rows
        got, want = db.record(a, published, "i"), whole.record(a, published, "i")
        assert (got and (got.previous, got.state)) == (want and (want.previous, want.state)), (
            rows,
            a,
        )
    store.close()


def _shipped_states(text: str) -> set[tuple[str, str]]:
    from types import SimpleNamespace

    rules = ruleset()
    p = rules.prepare(SimpleNamespace(title="", summary=text, content=""))
    return {(a.jurisdiction, a.state) for a in extract(p, rules.book.rule(RULE))}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the negation is part of the modal cue: judged after the fact, no new act
        (
            "Kazakhstan should never have lifted the ban on the Taliban.",
            {("kazakhstan", "proposed")},
        ),
        (
            "Kyrgyzstan should not have removed the Taliban from the list.",
            {("kyrgyzstan", "proposed")},
        ),
        # a negation of its own still negates
        ("Kazakhstan did not remove the Taliban from the list.", {("kazakhstan", "banned")}),
    ],
)
def test_a_negation_inside_a_modal_cue_does_not_negate(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a name as the passive subject of a removal is what is removed
        ("China was removed from the list of the Taliban's top investors.", set()),
        ("Uzbek firm delisted from the Taliban's list of contractors, Kazakhstan said.", set()),
        ("Китай исключён из списка крупнейших инвесторов, сообщили талибы.", set()),
        ("La Chine a été retirée de la liste des investisseurs, selon les talibans.", set()),
        ("China fue retirada de la lista de inversores, según los talibanes.", set()),
        ("China wurde von der Liste der Investoren gestrichen, so die Taliban.", set()),
        ("Los talibanes fueron retirados de la lista por Rusia.", {("russia", "delisted")}),
        (
            "Die Taliban wurden von Kasachstan von der Liste gestrichen.",
            {("kazakhstan", "delisted")},
        ),
        # the Taliban removed, by or from a state
        (
            "The Taliban were removed from Kazakhstan's list of banned organisations.",
            {("kazakhstan", "delisted")},
        ),
        ("Kazakhstan has removed the Taliban from its list.", {("kazakhstan", "delisted")}),
        # without an auxiliary, the Taliban named after the list are the object
        (
            "Kazakhstan removed from its list of banned organisations the Taliban movement.",
            {("kazakhstan", "delisted")},
        ),
    ],
)
def test_a_name_removed_from_a_list_is_not_the_remover(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # after a removal, the predicate is what is removed
        (
            "Kazakhstan delisted the Taliban as a banned organisation in December 2023.",
            {("kazakhstan", "delisted")},
        ),
        (
            "Kazakhstan lifted the Taliban's status as a banned organisation.",
            {("kazakhstan", "delisted")},
        ),
        # after a designation, the predicate says it
        (
            "Kazakhstan recognised the Taliban as a terrorist organisation in 2005.",
            {("kazakhstan", "banned")},
        ),
    ],
)
def test_a_designation_after_a_removal_is_what_is_removed(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the ban's object is named and is something else
        ("A Moscow court upheld the ban on Meta, and a Taliban delegation arrived.", set()),
        (
            "Tajikistan maintained the ban on Group 24 opposition movement, "
            "Taliban officials noted.",
            set(),
        ),
        # the Taliban, the movement, their activities
        ("Russia lifted the ban on the Taliban in April.", {("russia", "delisted")}),
        ("Russia suspended the ban on the activities of the Taliban.", {("russia", "delisted")}),
        (
            "Tajikistan maintained the ban on the movement, Taliban officials noted.",
            {("tajikistan", "banned")},
        ),
        ("Россия сняла запрет на «Талибан».", {("russia", "delisted")}),
    ],
)
def test_a_ban_on_something_else_is_not_theirs(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a semicolon ends the cue's clause
        (
            "Kazakhstan plans to expand trade; it removed the Taliban from its list in 2023.",
            {("kazakhstan", "delisted")},
        ),
        ("Kazakhstan plans to remove the Taliban from its list.", {("kazakhstan", "proposed")}),
        # the ban on "them" is on the Taliban
        ("The Taliban said Russia had lifted the ban on them.", {("russia", "delisted")}),
    ],
)
def test_a_cue_does_not_cross_a_semicolon(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a request or a suit that a court granted is the act
        (
            "Russia's Supreme Court granted the prosecutor general's request to suspend the ban"
            " on the Taliban.",
            {("russia", "delisted")},
        ),
        (
            "Верховный суд РФ удовлетворил ходатайство Генпрокуратуры о приостановлении запрета"
            " деятельности «Талибана».",
            {("russia", "delisted")},
        ),
        # a court acting on a suit ("по иску X приостановил") did the act; a suit about it
        # ("по иску о приостановлении") is still one
        (
            "Верховный суд России по иску Генпрокуратуры приостановил запрет деятельности"
            " «Талибана».",
            {("russia", "delisted")},
        ),
        (
            "Верховный суд по административному иску Генпрокуратуры приостановил запрет"
            " «Талибана» в России.",
            {("russia", "delisted")},
        ),
        (
            "Верховный суд России назначил заседание по иску Генпрокуратуры о приостановлении"
            " запрета деятельности «Талибана».",
            {("russia", "proposed")},
        ),
        # one not (yet) granted is still a request
        (
            "Russia's prosecutor general filed a request to suspend the ban on the Taliban.",
            {("russia", "proposed")},
        ),
        (
            "Генпрокуратура РФ подала иск о приостановлении запрета деятельности «Талибана».",
            {("russia", "proposed")},
        ),
    ],
)
def test_a_granted_request_is_the_act(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a headline infinitive is a plan; after a decision or a first, the act
        ("Turkmenistan to take Taliban off its banned list.", {("turkmenistan", "proposed")}),
        ("Kazakhstan to formally recognise the Taliban government.", {("kazakhstan", "proposed")}),
        (
            "Uzbekistan's parliament voted on Tuesday to remove the Taliban from its list.",
            {("uzbekistan", "delisted")},
        ),
        (
            "Russia became the first country to officially recognise the Taliban government.",
            {("russia", "recognized")},
        ),
        # a preposition's "to" and a perfect infinitive are not plans
        (
            "According to the decree, Kyrgyzstan removed the Taliban from its banned list.",
            {("kyrgyzstan", "delisted")},
        ),
        # a future is no cue in a question or a condition
        ("Will Uzbekistan be the next to recognise the Taliban government?", set()),
        ("Uzbekistan will recognise the Taliban government only if Kabul agrees.", set()),
    ],
)
def test_a_headline_infinitive_is_a_plan(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the model named in "follow X's example and ..." is not the one that acts
        (
            "Tajikistan will follow Kyrgyzstan's example and recognise the Taliban.",
            {("tajikistan", "proposed")},
        ),
        # ... but "follow X and Y in <trigger>" says both did it
        (
            "Turkmenistan will follow Kazakhstan and Kyrgyzstan in removing the Taliban from"
            " its list.",
            {("turkmenistan", "proposed"), ("kazakhstan", "delisted"), ("kyrgyzstan", "delisted")},
        ),
    ],
)
def test_a_model_to_follow_is_not_the_actor(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # one modal cue governs a verb-final removal: its list phrase and its verb
        (
            "ترکمنستان قصد دارد طالبان را از فهرست سازمان‌های ممنوعه حذف کند",
            {("turkmenistan", "proposed")},
        ),
        # a cue inside a relative clause is that clause's own
        (
            "Kasachstan, das den Handel ausbauen will, hat die Taliban von der Liste gestrichen.",
            {("kazakhstan", "delisted")},
        ),
        # "In <country> wurden die Taliban ... gestrichen": the country is the place
        (
            "In Tadschikistan wurden die Taliban von der Liste verbotener Organisationen"
            " gestrichen.",
            {("tajikistan", "delisted")},
        ),
    ],
)
def test_modal_cues_in_their_clause_and_predicate(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the subject cited as an example of a banned class
        ("Kazakhstan warns students about banned groups like ISIS and the Taliban.", set()),
        ("Қазақстан Талибан сияқты тыйым салынған ұйымдар туралы ескертті.", set()),
        ("Милиция Бишкека предупредила о запрещённых организациях, в том числе «Талибане».", set()),
        # a standing label in a parenthesis after the name, undated
        ("The Taliban (banned in Russia) sent envoys to Kazan.", set()),
        # a ban said to be over, or dated only "years ago"
        ("Kazakhstan hosts envoys of the Taliban, formerly banned in the country.", set()),
        ("Kazakhstan's Supreme Court outlawed the Taliban 20 years ago.", set()),
        # still the act: a removal, a comparison, a dated aside, a clause "等" does not end
        (
            "Kyrgyzstan removed groups, including the Taliban, from its list of banned groups.",
            {("kyrgyzstan", "delisted")},
        ),
        (
            "Kazakhstan's court recognised the Taliban as a terrorist organisation, like Russia.",
            {("kazakhstan", "banned")},
        ),
        ("The Taliban (banned in Russia until 2025) opened an office.", {("russia", "banned")}),
        ("Taliban (pictured) to remain banned in Tajikistan.", {("tajikistan", "banned")}),
        ("Kyrgyzstan once again bans the Taliban.", {("kyrgyzstan", "banned")}),
        ("吉尔吉斯斯坦将塔利班等组织列为恐怖组织", {("kyrgyzstan", "banned")}),
    ],
)
def test_a_ban_cited_as_background_asserts_nothing(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a Romance future on the trigger's own verb is a plan, as a future cue before it is
        ("Turkmenistán reconocerá al gobierno talibán.", {("turkmenistan", "proposed")}),
        (
            "Le Kazakhstan retirera les talibans de sa liste des organisations interdites.",
            {("kazakhstan", "proposed")},
        ),
        # ... and the past is the act
        (
            "Le Kazakhstan a retiré les talibans de sa liste des organisations interdites.",
            {("kazakhstan", "delisted")},
        ),
    ],
)
def test_a_future_ending_on_the_trigger_is_a_plan(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a new or updated list "without" the group: removed from it
        (
            "Tajikistan publishes a new list of banned organisations without the Taliban.",
            {("tajikistan", "delisted")},
        ),
        # any other list "without" them says nothing of their status
        ("Kazakhstan publishes list of banned organisations without the Taliban.", set()),
    ],
)
def test_a_list_without_the_group_is_no_ban(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


def test_the_one_who_joins_is_the_actor() -> None:
    text = "Uzbekistan joins Kazakhstan in removing the Taliban from its list of banned groups."
    assert ("uzbekistan", "delisted") in _shipped_states(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the compared name is a foil when the trigger's subject is named
        (
            "Turkmenistan, unlike Kyrgyzstan, keeps the Taliban on its list of banned groups.",
            {("turkmenistan", "banned")},
        ),
        (
            "In contrast to Kyrgyzstan, Turkmenistan keeps the Taliban on its banned list.",
            {("turkmenistan", "banned")},
        ),
        # ... but a foil with its own trigger and no other subject holds it
        (
            "Unlike Kyrgyzstan, which delisted the Taliban, Turkmenistan keeps the ban.",
            {("kyrgyzstan", "delisted"), ("turkmenistan", "banned")},
        ),
        # ... as does a relative clause the foil opens after the subject is named
        (
            "Tajikistan, unlike Russia, which removed the Taliban from its banned list in"
            " April, still considers them a terrorist organisation.",
            {("russia", "delisted"), ("tajikistan", "banned")},
        ),
        (
            "Таджикистан, в отличие от России, которая исключила талибов из списка"
            " запрещённых организаций, сохраняет запрет.",
            {("russia", "delisted"), ("tajikistan", "banned")},
        ),
    ],
)
def test_a_contrasted_name_is_a_foil(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a preposed negation governs the predicate's later triggers beyond its reach
        (
            "Uzbekistan denied claims that it had removed the Taliban from its terrorist list.",
            set(),  # a denial asserts nothing: not the removal, nor a ban it does not state
        ),
        # Persian, Tajik and Kyrgyz "and" join agents listed before their verb
        (
            "ترکمنستان و ازبکستان طالبان را از فهرست سازمان‌های ممنوعه حذف کردند",
            {("turkmenistan", "delisted"), ("uzbekistan", "delisted")},
        ),
        (
            "Туркманистон ва Ӯзбекистон Толибонро аз рӯйхат хориҷ карданд",
            {("turkmenistan", "delisted"), ("uzbekistan", "delisted")},
        ),
        # Arabic writes "and" on the next name
        (
            "تركمانستان وأوزبكستان أزالتا طالبان من قائمة المنظمات الإرهابية",
            {("turkmenistan", "delisted"), ("uzbekistan", "delisted")},
        ),
    ],
)
def test_a_shared_negation_and_listed_agents(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Kazakhstan dismissed as baseless reports that it had removed the Taliban from its list.",
        "Kyrgyzstan denied it had lifted the ban on the Taliban.",
        "Казахстан назвал ложными сообщения об исключении «Талибана» из списка запрещённых.",
        "Kazakistan, Taliban'ı terör listesinden çıkardığı haberlerini yalanladı.",
    ],
)
def test_a_denial_of_a_report_asserts_nothing(text: str) -> None:
    assert _shipped_states(text) == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kazakistan Taliban yönetimini tanıyabilir", {("kazakhstan", "proposed")}),
        (
            "Kırgızistan Taliban'ı yasaklı örgütler listesinden çıkarabilir",
            {("kyrgyzstan", "proposed")},
        ),
    ],
)
def test_the_turkish_modal_abilir_is_a_proposal(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # the denial well before the act, with the report's noun between
        "Uzbek diplomats rejected local media reports saying Tashkent had quietly taken the"
        " Taliban off its list of terrorist organisations.",
        "МИД Киргизии опроверг появившиеся в ряде СМИ сведения и публикации, будто Бишкек"
        " снял запрет на деятельность «Талибана».",
        "Представитель МИД Таджикистана назвал не соответствующей действительности"
        " информацию о том, что Душанбе исключил «Талибан» из перечня.",
        # the denial after the act: verb-final, or "... are false"
        "گزارش‌ها درباره حذف طالبان از فهرست سازمان‌های تروریستی ازبکستان را رد کرد",
        "نفت الخارجية الطاجيكية الأنباء التي تحدثت عن شطب طالبان من قائمة المنظمات المحظورة",
    ],
)
def test_a_report_denied_far_from_the_act_asserts_nothing(text: str) -> None:
    assert _shipped_states(text) == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a report with no denial is the act
        (
            "Local media reported that Uzbekistan had removed the Taliban from its list.",
            {("uzbekistan", "delisted")},
        ),
        # a participle after the act is not a denial of the report
        (
            "Reports say Uzbekistan removed the Taliban from its list of banned organisations,"
            " dismissing Western concerns.",
            {("uzbekistan", "delisted")},
        ),
        # Chinese lists joined by 与, 及, 以及 and 、; the names outside stay out
        (
            "乌兹别克斯坦与吉尔吉斯斯坦将塔利班从禁止组织名单中删除",
            {("uzbekistan", "delisted"), ("kyrgyzstan", "delisted")},
        ),
        (
            "塔吉克斯坦、乌兹别克斯坦及吉尔吉斯斯坦已把塔利班移出恐怖组织名单",
            {("tajikistan", "delisted"), ("uzbekistan", "delisted"), ("kyrgyzstan", "delisted")},
        ),
        (
            "吉尔吉斯斯坦将塔利班移出恐怖组织名单，俄罗斯与塔吉克斯坦尚未跟进",
            {("kyrgyzstan", "delisted")},
        ),
        # an article after the conjunction still lists the agents
        (
            "Le Tadjikistan et l'Ouzbékistan retirent les talibans de leur liste",
            {("tajikistan", "delisted"), ("uzbekistan", "delisted")},
        ),
    ],
)
def test_listed_agents_across_scripts(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Tajikistan still considers the Taliban a terrorist organisation",
            {("tajikistan", "banned")},
        ),
        (
            "Dushanbe considers the movement, the Taliban, as a terrorist group",
            {("tajikistan", "banned")},
        ),
        (
            "Tajikistan is considering removing the Taliban from its terrorist list",
            {("tajikistan", "proposed")},
        ),
        ("Tajikistan will consider whether to delist the Taliban", {("tajikistan", "proposed")}),
    ],
)
def test_considering_them_a_terrorist_group_is_a_state_and_weighing_a_step_a_proposal(
    text: str, expected: set
) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a list the Taliban were never put on: neither a ban nor a removal
        ("Kyrgyzstan has never put the Taliban on its list of banned organisations", set()),
        ("Түрікменстан Талибанды ешқашан тыйым салынған ұйымдар тізіміне енгізбеген", set()),
        # ... while one they are no longer on is a removal
        (
            "Kazakhstan no longer keeps the Taliban on its list of banned organisations",
            {("kazakhstan", "delisted")},
        ),
    ],
)
def test_never_listed_is_neither_banned_nor_delisted(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Prosecutors asked the Supreme Court of Tajikistan in Dushanbe to lift the ban on"
            " the Taliban",
            {("tajikistan", "proposed")},
        ),
        (
            "The court in Bishkek granted the prosecutor's request and lifted the ban on the"
            " Taliban",
            {("kyrgyzstan", "delisted")},
        ),
    ],
)
def test_a_request_governs_its_infinitive(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Россия считает талибов союзником в борьбе с террористическими организациями", set()),
        (
            "Суд в России признал террористической организацией «Джамаат», воюющий с талибами",
            set(),
        ),
        (
            "Суд в России признал террористической организацией «Талибан»",
            {("russia", "banned")},
        ),
        (
            "Душанбе считает талибов террористической группировкой",
            {("tajikistan", "banned")},
        ),
    ],
)
def test_a_designation_fought_or_of_another_named_group_is_not_theirs(
    text: str, expected: set
) -> None:
    assert _shipped_states(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("اعترفت روسيا بحكومة طالبان", {("russia", "recognized")}),
        ("ولم تعترف أوزبكستان رسميا بحكومة طالبان", set()),
        ("اعترفت روسيا بمقتل عناصر من طالبان", set()),
        ("哈萨克斯坦不排除承认塔利班政府的可能性", {("kazakhstan", "proposed")}),
    ],
)
def test_verb_first_recognition_and_a_possibility(text: str, expected: set) -> None:
    assert _shipped_states(text) == expected
