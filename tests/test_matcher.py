"""The matcher on small, explicit examples: boundaries, inflection, phrases, proximity,
entity contexts, groups, regexes, unspaced scripts, HTML, exact terms and evidence."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import weakref
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

import rules
from rules import RuleSet, load
from rules.status import extract
from rules.text import html_to_text

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Item:
    title: str = ""
    summary: str = ""
    content: str = ""


def ruleset(tmp_path: Path, text: str) -> RuleSet:
    (tmp_path / "rules.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return RuleSet(rules.load([tmp_path]))


def one_rule(tmp_path: Path, body: dict[str, object], entities: list[object] = ()) -> RuleSet:  # type: ignore[assignment]
    doc = {"entities": list(entities), "rules": [{"id": "r", "title": "t", **body}]}
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return RuleSet(rules.load([tmp_path]))


def matches(rs: RuleSet, text: str, field: str = "summary") -> list[str]:
    return [m.rule.id for m in rs.match(Item(**{field: text}))]


def term(tmp_path: Path, t: str) -> RuleSet:
    return one_rule(tmp_path, {"any": [t]})


# -- word boundaries and folding -------------------------------------------------------------


def test_word_boundary_prefix_of_word_does_not_match(tmp_path):
    rs = term(tmp_path, "=Jos")
    assert matches(rs, "José Martí spoke") == []
    assert matches(rs, "Jos spoke") == ["r"]


def test_accent_folding_both_ways(tmp_path):
    assert matches(term(tmp_path, "bogota"), "Talks in Bogotá ended.") == ["r"]


def test_accented_pattern_matches_plain_text(tmp_path):
    assert matches(term(tmp_path, "Bogotá"), "talks in BOGOTA ended") == ["r"]


def test_word_inside_longer_word_does_not_match(tmp_path):
    rs = term(tmp_path, "aid")
    assert matches(rs, "he said so") == []
    assert matches(rs, "more aid arrived") == ["r"]


# -- inflection ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["They invited him", "an invitation came", "invites"])
def test_english_inflection(tmp_path, text):
    assert matches(term(tmp_path, "invite"), text) == ["r"]


@pytest.mark.parametrize(
    ("word", "text"),
    [
        ("agree", "agreeing to talks"),
        ("agree", "they agreed"),
        ("guarantee", "guaranteeing"),
        ("agree", "the agreement"),
    ],
)
def test_english_inflection_of_words_ending_in_ee(tmp_path, word, text):
    assert matches(term(tmp_path, word), text) == ["r"]


def test_russian_locative(tmp_path):
    assert matches(term(tmp_path, "Казахстан"), "Переговоры в Казахстане начались") == ["r"]


def test_russian_genitive_plural(tmp_path):
    assert matches(term(tmp_path, "талибы"), "представители талибов прибыли") == ["r"]


def test_exact_term_does_not_inflect(tmp_path):
    rs = term(tmp_path, "=invite")
    assert matches(rs, "They invited him") == []
    assert matches(rs, "An invite") == ["r"]


# -- prefixes and phrases --------------------------------------------------------------------


def test_prefix_term(tmp_path):
    rs = term(tmp_path, "diplomat*")
    assert matches(rs, "Diplomatic talks") == ["r"]
    assert matches(rs, "a diplomat") == ["r"]
    assert matches(rs, "the diplomas") == []


def test_prefix_inside_phrase(tmp_path):
    rs = term(tmp_path, "lift* the ban")
    assert matches(rs, "Officials lifted the ban today") == ["r"]
    assert matches(rs, "Officials lifted a ban today") == []


@pytest.mark.parametrize(
    "text",
    ["a trade mission", "trade-mission", "Trade\nMission", "trade,  mission", "TRADE — MISSION"],
)
def test_phrase_across_punctuation_and_whitespace(tmp_path, text):
    assert matches(term(tmp_path, "trade mission"), text) == ["r"]


def test_phrase_words_must_be_adjacent(tmp_path):
    assert matches(term(tmp_path, "trade mission"), "trade and a mission") == []


def test_phrase_across_html_line_breaks(tmp_path):
    rs = term(tmp_path, "trade mission")
    assert [m.rule.id for m in rs.match(Item(content="<p>trade</p>\n<p>mission</p>"))] == ["r"]


# -- proximity -------------------------------------------------------------------------------


def test_within_sentence(tmp_path):
    rs = one_rule(tmp_path, {"within": "sentence", "all": ["Kazakhstan", "Taliban"]})
    assert matches(rs, "Kazakhstan met the Taliban. Rain fell.") == ["r"]
    assert matches(rs, "Kazakhstan spoke. The Taliban listened.") == []


def test_group_fields(tmp_path):
    """A group with `fields` counts only hits in those fields; it composes with within."""
    rs = one_rule(
        tmp_path,
        {
            "any": [
                {"all": ["Kazakhstan", "Taliban"], "fields": ["title"]},
                {"all": ["Kazakhstan", "Taliban"], "within": "sentence", "fields": "content"},
            ]
        },
    )
    assert [m.rule.id for m in rs.match(Item(title="Kazakhstan and the Taliban"))] == ["r"]
    assert [m.rule.id for m in rs.match(Item(title="Kazakhstan", summary="Taliban"))] == []
    assert [m.rule.id for m in rs.match(Item(summary="Kazakhstan and the Taliban"))] == []
    assert matches(rs, "Kazakhstan hosts the Taliban. Rain.", "content") == ["r"]
    assert matches(rs, "Kazakhstan grows. The Taliban talk.", "content") == []


def test_group_fields_must_name_fields(tmp_path):
    with pytest.raises(rules.RuleFileError, match="fields must be"):
        one_rule(tmp_path, {"any": [{"all": ["a"], "fields": ["body"]}]})


def test_an_html_block_ends_a_sentence_and_a_source_line_break_does_not(tmp_path):
    rs = one_rule(tmp_path, {"within": "sentence", "all": ["Kazakhstan", "Taliban"]})
    # A heading, a "Read also" link or a list item has no full stop: its block ends it.
    for html in (
        "<h2>Kazakhstan harvest</h2><p>The Taliban said on Monday</p>",
        "<p>Read also: Taliban extend ban</p><p>Kazakhstan grain exports hit a record</p>",
        "<ul><li>Kazakhstan: record harvest</li><li>Taliban: new decree</li></ul>",
        "Kazakhstan harvest<br/>Taliban decree",
    ):
        assert html_to_text(html).count("\n") == 1, html
        assert rs.match(Item(content=html)) == [], html
    # Line breaks in the HTML source are spaces: the sentence goes on.
    wrapped = "<p>Kazakhstan invited\nthe Taliban\r\nto Astana</p>\n<p>Next.</p>"
    assert html_to_text(wrapped) == "Kazakhstan invited the Taliban to Astana\nNext."
    assert [m.rule.id for m in rs.match(Item(content=wrapped))] == ["r"]
    # Evidence offsets index the stored text, its line breaks included; snippets are a line.
    text = "<p>Report</p><p>Kazakhstan and the Taliban</p>"
    (m,) = rs.match(Item(content=text))
    stored = html_to_text(text)
    assert [stored[e.start : e.end] for e in m.evidence] == ["Kazakhstan", "Taliban"]
    assert all("\n" not in e.snippet for e in m.evidence)


def test_a_blank_line_ends_a_plain_text_paragraph_and_a_single_line_break_does_not(tmp_path):
    rs = one_rule(tmp_path, {"within": "sentence", "all": ["Kazakhstan", "Taliban"]})
    split = "Kazakhstan harvest news\n\nThe Taliban said on Monday"
    assert html_to_text(split) == "Kazakhstan harvest news\nThe Taliban said on Monday"
    assert rs.match(Item(summary=split)) == []
    wrapped = "Kazakhstan invited\r\nthe Taliban to Astana"
    assert html_to_text(wrapped) == "Kazakhstan invited the Taliban to Astana"
    assert [m.rule.id for m in rs.match(Item(summary=wrapped))] == ["r"]


def test_within_sentence_in_urdu_and_chinese(tmp_path):
    rs = one_rule(tmp_path, {"within": "sentence", "all": ["قازقستان", "طالبان"]})
    assert matches(rs, "قازقستان نے طالبان کو دعوت دی۔ بارش ہوئی۔") == ["r"]
    assert matches(rs, "قازقستان نے بیان دیا۔ طالبان نے سنا۔") == []
    cjk = one_rule(tmp_path, {"within": "sentence", "all": ["哈萨克斯坦", "塔利班"]})
    assert matches(cjk, "哈萨克斯坦邀请塔利班。天气很好。") == ["r"]
    assert matches(cjk, "哈萨克斯坦发表声明。塔利班表示欢迎。") == []


def test_within_words(tmp_path):
    rs = one_rule(tmp_path, {"within": "3 words", "all": ["alpha", "omega"]})
    assert matches(rs, "alpha one two omega") == ["r"]
    assert matches(rs, "omega one two alpha") == ["r"]
    assert matches(rs, "alpha one two three omega") == []


def test_within_words_counts_a_phrase_end(tmp_path):
    rs = one_rule(tmp_path, {"within": "2 words", "all": ["alpha", "beta gamma"]})
    assert matches(rs, "alpha beta gamma") == ["r"]
    assert matches(rs, "alpha x beta gamma") == []


def test_none_applies_to_the_whole_item_not_the_window(tmp_path):
    rs = one_rule(tmp_path, {"within": "sentence", "all": ["alpha", "beta"], "none": ["gamma"]})
    assert matches(rs, "alpha beta. Later, gamma.") == []
    assert matches(rs, "alpha beta. Later, delta.") == ["r"]


def test_nested_within_group(tmp_path):
    rs = one_rule(
        tmp_path,
        {"all": ["report", {"all": ["alpha", "beta"], "within": "1 words"}]},
    )
    assert matches(rs, "report: alpha beta") == ["r"]
    assert matches(rs, "report: alpha x beta") == []


def test_none_group_with_within_means_not_together(tmp_path):
    rs = one_rule(
        tmp_path,
        {"all": ["report", {"none": [{"all": ["alpha", "beta"]}], "within": "sentence"}]},
    )
    assert matches(rs, "report.") == ["r"]
    assert matches(rs, "report. alpha. beta.") == ["r"]
    assert matches(rs, "report. alpha beta.") == []
    assert matches(rs, "report. alpha beta. alpha.") == []


# -- entities and groups ---------------------------------------------------------------------

TALIBAN = {
    "id": "taliban",
    "name": "Taliban",
    "aliases": ["Taliban", "Islamic Emirate"],
    "not": ["Pakistani Taliban", "Tehreek-e-Taliban"],
}


def test_entity_not_context_excludes_only_overlapping_hits(tmp_path):
    rs = one_rule(tmp_path, {"all": ["@taliban"]}, [TALIBAN])
    assert matches(rs, "The Pakistani Taliban claimed it") == []
    assert matches(rs, "Tehreek-e-Taliban claimed it") == []
    assert matches(rs, "The Pakistani Taliban and the Taliban met") == ["r"]
    assert matches(rs, "The Islamic Emirate said") == ["r"]


def test_nested_groups(tmp_path):
    rs = one_rule(
        tmp_path,
        {"all": [{"any": ["alpha", {"all": ["beta", "gamma"]}]}, {"none": ["delta"]}]},
    )
    assert matches(rs, "alpha") == ["r"]
    assert matches(rs, "beta gamma") == ["r"]
    assert matches(rs, "beta") == []
    assert matches(rs, "alpha delta") == []


def test_fields_restrict_a_rule(tmp_path):
    rs = one_rule(tmp_path, {"all": ["alpha"], "fields": ["title"]})
    assert [m.rule.id for m in rs.match(Item(title="alpha"))] == ["r"]
    assert [m.rule.id for m in rs.match(Item(summary="alpha"))] == []


# -- regexes, unspaced scripts, HTML ---------------------------------------------------------


def test_regex_term(tmp_path):
    rs = term(tmp_path, r"re:resolution \d{4}")
    assert matches(rs, "Resolution 1988 applies") == ["r"]
    assert matches(rs, "Resolution X applies") == []


def test_regex_in_a_field_without_words_does_not_crash(tmp_path):
    rs = term(tmp_path, r"re:!!!")
    assert [m.rule.id for m in rs.match(Item(title="!!!", summary="no"))] == []


def test_cjk_alias_is_a_substring(tmp_path):
    rs = one_rule(
        tmp_path, {"all": ["@taliban"]}, [{"id": "taliban", "name": "T", "aliases": ["塔利班"]}]
    )
    (m,) = rs.match(Item(summary="阿富汗塔利班政权代表团访问"))
    assert m.evidence[0].text == "阿富汗塔利班政权代表团访问"  # the whole unspaced run
    assert matches(rs, "阿富汗政府") == []


def test_thai_alias_is_found_without_cjk_in_the_text(tmp_path):
    rs = term(tmp_path, "ตาลีบัน")
    assert matches(rs, "กลุ่มตาลีบันประกาศ") == ["r"]


def test_indic_vowel_signs_are_part_of_the_word(tmp_path):
    # Devanagari vowel signs (ा ि ू) are marks, not letters to `\w`: they must not split a
    # word, or "रूस" (Russia) would read as "र स" and match "रास", and a word window
    # would count each syllable as a word.
    rs = term(tmp_path, "रूस")
    assert matches(rs, "रूस ने तालिबान सरकार को मान्यता दी") == ["r"]
    assert matches(rs, "रास लीला") == []
    assert matches(term(tmp_path, "तालिबान"), "तालिबानी नेता") == []
    (m,) = term(tmp_path, "मान्यता").match(Item(summary="रूस ने मान्यता दी"))
    assert m.evidence[0].text == "मान्यता"


def test_html_is_stripped_and_script_ignored(tmp_path):
    rs = term(tmp_path, "taliban")
    assert [m.rule.id for m in rs.match(Item(content="<p>The <b>Taliban</b> said</p>"))] == ["r"]
    hidden = "<p>News</p><script>var x = 'taliban';</script><style>.taliban{}</style>"
    assert [m.rule.id for m in rs.match(Item(content=hidden))] == []


def test_inline_tags_do_not_split_words_and_blocks_do(tmp_path):
    rs = term(tmp_path, "taliban")
    assert [m.rule.id for m in rs.match(Item(content="<p>The Tali<b>ban</b> said</p>"))] == ["r"]
    phrase = term(tmp_path, "astana kabul")
    for html in ("<p>Astana</p><p>Kabul</p>", "Astana<br>Kabul", "<li>Astana</li><li>Kabul</li>"):
        assert html_to_text(html) == "Astana\nKabul"  # a line each
        assert [m.rule.id for m in phrase.match(Item(content=html))] == ["r"]  # two words
    assert [m.rule.id for m in rs.match(Item(content="<p>Tali</p><p>ban</p>"))] == []


def test_arabic_and_persian_letter_forms_match_each_other(tmp_path):
    # Persian ی ک, Arabic ي ك, alef maksura and ta marbuta are written interchangeably.
    assert matches(term(tmp_path, "کابل"), "وصل وفد إلى كابل") == ["r"]
    assert matches(term(tmp_path, "افغانستان"), "ﺍﻓﻐﺎﻧﺴﺘﺎﻥ") == ["r"]  # presentation forms
    assert matches(term(tmp_path, "منظمة"), "منظمه") == ["r"]
    assert matches(term(tmp_path, "موسی"), "موسى") == ["r"]


def test_a_zero_width_non_joiner_does_not_split_a_word(tmp_path):
    rs = term(tmp_path, "طالبان\u200cها")
    assert matches(rs, "طالبانها گفتند") == ["r"]
    assert matches(rs, "طالبان\u200cها گفتند") == ["r"]
    assert matches(rs, "طالبان گفتند") == []


def test_html_entities_are_decoded(tmp_path):
    assert [m.rule.id for m in term(tmp_path, "bogota").match(Item(content="Bogot&aacute;"))] == [
        "r"
    ]


# -- evidence --------------------------------------------------------------------------------


def test_evidence_offsets_point_into_display_text(tmp_path):
    rs = term(tmp_path, "strasse")
    (m,) = rs.match(Item(summary="Die Große Straße in Zürich"))
    (ev,) = m.evidence
    assert ev.text == "Straße" and "Die Große Straße in Zürich"[ev.start : ev.end] == "Straße"


def test_evidence_label_of_a_span_found_twice_is_the_first_term(tmp_path):
    # Both terms match "cooperation"; the label must not depend on hash order.
    rs = one_rule(tmp_path, {"any": ["cooperation", "cooperate"]})
    assert [e.value for e in rs.match(Item(summary="cooperation"))[0].evidence] == ["cooperation"]


def test_evidence_is_only_what_made_the_rule_match(tmp_path):
    # The first branch fails (alpha without beta or delta); alpha is no reason for the match.
    rs = one_rule(tmp_path, {"any": [{"all": ["alpha", {"any": ["beta", "delta"]}]}, "gamma"]})
    (m,) = rs.match(Item(summary="alpha and gamma"))
    assert [e.value for e in m.evidence] == ["gamma"]
    # ... and when both branches hold, both are the reason
    (m,) = rs.match(Item(summary="alpha, delta and gamma"))
    assert [e.value for e in m.evidence] == ["alpha", "delta", "gamma"]
    # a window that fails leaves nothing either
    rs = one_rule(
        tmp_path,
        {"any": [{"all": ["alpha", {"any": ["beta", "delta"]}], "within": "sentence"}, "gamma"]},
    )
    (m,) = rs.match(Item(summary="Alpha here. Delta there, and gamma."))
    assert [e.value for e in m.evidence] == ["gamma"]


def test_a_full_stop_after_an_initial_or_abbreviation_ends_no_sentence(tmp_path):
    rs = one_rule(tmp_path, {"within": "sentence", "all": ["pakistan", "taliban"]})
    assert matches(rs, "Pakistan's Lt. Gen. Munir held talks with the Taliban.") == ["r"]
    assert matches(rs, "Pakistan and the U.N. Security Council met the Taliban.") == ["r"]
    assert matches(rs, "Pakistan e.g. the Taliban") == ["r"]
    # a sentence opener after an initial, a word or an "etc." do end one
    assert matches(rs, "Pakistan is wary of the U.S. The Taliban disagree.") == []
    assert matches(rs, "Pakistan said no. The Taliban disagree.") == []
    assert matches(rs, "Pakistan, India etc. Taliban officials met in Doha.") == []


def test_evidence_is_the_same_in_every_process(tmp_path):
    (tmp_path / "r.yaml").write_text(
        yaml.safe_dump({"rules": [{"id": "r", "title": "t", "any": ["cooperate", "cooperation"]}]})
    )
    code = textwrap.dedent(
        f"""
        import rules
        from dataclasses import dataclass
        @dataclass
        class I:
            title: str = ""
            summary: str = "cooperation and more cooperation"
            content: str = ""
        rs = rules.RuleSet(rules.load([{str(tmp_path)!r}]))
        print([e.value for e in rs.match(I())[0].evidence])
        """
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={"PYTHONHASHSEED": str(seed), "PATH": ""},
            check=True,
        ).stdout
        for seed in (1, 2, 3)
    }
    assert len(outs) == 1


def test_shipped_story_rules_match_the_seed_story():
    rs = RuleSet(rules.load([]))
    item = Item(
        title="Kazakhstan invites Taliban to Astana International Forum",
        summary="Kazakhstan has invited representatives of the Taliban movement to the forum.",
    )
    assert "kz-afghanistan-engagement" in [m.rule.id for m in rs.match(item)]


def test_benchmark_smoke(capsys):
    sys.path.insert(0, str(ROOT))
    from benchmarks.match import main

    assert main(["--quick", "--sizes", "10,100", "--items", "20", "--naive-items", "3"]) == 0
    out = capsys.readouterr().out
    assert "newsmon it/s" in out and "\n   100 " in out


def test_plain_text_items_are_matched_as_they_are(tmp_path):
    # Parsed and stored items are already plain text: "&amp;" and "<b>" there are what the
    # feed's text/plain field said, so nothing is unescaped or stripped, and evidence
    # offsets index the text as stored.
    rs = term(tmp_path, "taliban")
    text = "Tom &amp; <b>Jerry</b> meet the Taliban"
    [m] = rs.match(Item(summary=text), html=False)
    ev = m.evidence[0]
    assert text[ev.start : ev.end] == "Taliban"
    [m] = rs.match(Item(summary=text))  # HTML by default: offsets into the rendered text
    assert html_to_text(text)[m.evidence[0].start : m.evidence[0].end] == "Taliban"
    assert m.evidence[0].start != ev.start
    assert matches(term(tmp_path, "b"), "<b>x</b>") == []
    assert [m.rule.id for m in term(tmp_path, "b").match(Item(summary="<b>x"), html=False)] == ["r"]


def test_a_used_rule_set_is_freed_by_reference_counting_alone():
    # Long-lived processes move the rule set out of the cyclic collector's reach
    # (monitor.heap.settle_heap); a rule set replaced by a reload must then free itself
    # without it: no reference cycles, also after matching and status extraction.
    story = SimpleNamespace(
        title="Kazakhstan removes the Taliban from its list of banned organisations",
        summary="Astana said the Taliban were no longer banned in Kazakhstan.",
        content="",
    )
    gc.disable()
    try:
        rs = RuleSet(load([]))
        p = rs.prepare(story)
        found = [a for m in rs.match_prepared(p) for a in extract(p, m.rule)]
        assert found  # status extraction ran, with its memos
        compiled = weakref.ref(rs.compiled)
        del rs, p
        assert compiled() is None
    finally:
        gc.enable()


def test_content_that_repeats_the_summary_is_still_read_as_content(tmp_path):
    # Feeds often send the same text as summary and content: it is prepared once, but a
    # rule or group reading `content` (not `summary`) still sees it.
    rs = one_rule(tmp_path, {"any": ["alpha"], "fields": ["title", "content"]})
    assert [m.rule.id for m in rs.match(Item(summary="ALPHA beta", content="ALPHA beta"))] == ["r"]
    only_summary = one_rule(tmp_path, {"any": ["alpha"], "fields": ["summary"]})
    got = only_summary.match(Item(summary="alpha", content="alpha"))
    assert [e.field for m in got for e in m.evidence] == ["summary"]
    # A rule reading both shows the repeated text's evidence once, under the summary.
    both = one_rule(tmp_path, {"any": ["alpha"]})
    got = both.match(Item(summary="alpha and alpha", content="alpha and alpha"))
    shown = [(e.field, e.start) for m in got for e in m.evidence]
    assert shown == [("summary", 0), ("summary", 10)]


def test_traditional_chinese_matches_terms_written_in_simplified(tmp_path):
    # Taiwan and Hong Kong text ("塔利班代表團", "神學士") folds to simplified characters,
    # so a term written in simplified Chinese matches it, and the reverse.
    rules = one_rule(tmp_path, {"any": ["塔利班代表团"]})
    assert rules.match(Item(title="塔利班代表團抵達阿斯塔納"))
    assert rules.match(Item(title="塔利班代表团抵达阿斯塔纳"))
    assert not rules.match(Item(title="塔利班发言人表示"))
    traditional = one_rule(tmp_path, {"any": ["神學士"]})
    assert traditional.match(Item(title="阿富汗神学士政权"))


def test_an_alias_that_starts_a_longer_alias_reports_the_longer_span(tmp_path):
    # "Baplaidri" finds the entity wherever it occurs; "Baplaidri Group" (inflected, so
    # keyed on its first word and checked) only makes the hit longer, in the evidence.
    entity = {"id": "b", "name": "Baplaidri", "aliases": ["Baplaidri", "Baplaidri Group"]}
    rs = one_rule(tmp_path, {"all": ["@b"]}, [entity])
    (m,) = rs.match(Item(summary="The Baplaidri Groups met. Baplaidri alone later."))
    assert sorted(e.text for e in m.evidence) == ["Baplaidri", "Baplaidri", "Baplaidri Groups"]


_TALIBAN = {
    "id": "tb",
    "name": "Taliban",
    "aliases": ["Taliban"],
    "not": ["Pakistani Taliban", "the group of"],
    "refs": ["the group", "движение"],
}
_HAMAS = {"id": "hamas", "name": "Hamas", "aliases": ["Hamas"], "refs": ["the group"]}


def test_a_reference_is_the_entity_named_before_it(tmp_path):
    # The title names the Taliban, the summary's sentence only "the group": one sentence
    # holds the entity (by reference) and the act.
    rs = one_rule(tmp_path, {"all": ["@tb", "=ban"], "within": "sentence"}, [_TALIBAN, _HAMAS])
    item = Item(
        title="Taliban welcome Moscow court ruling",
        summary="Russia's Supreme Court suspended the ban on the group on Thursday.",
    )
    (m,) = rs.match(item)
    assert [(e.field, e.text) for e in m.evidence] == [("summary", "ban"), ("summary", "the group")]
    assert {e.value for e in m.evidence} == {"=ban", "tb"}
    # Russian, inflected: "движения" refers back to «Талибан»... once the entity is named.
    rs = one_rule(tmp_path, {"all": ["@tb", "запрет"], "within": "sentence"}, [_TALIBAN])
    assert matches(rs, "Taliban ответили. Суд приостановил запрет движения.") == ["r"]
    # Not before it is named, nor when another entity with references was named since,
    # nor when the last naming was one of the entity's `not` contexts.
    rs = one_rule(tmp_path, {"all": ["@tb", "=ban"], "within": "sentence"}, [_TALIBAN, _HAMAS])
    assert matches(rs, "The ban on the group stays. The Taliban said nothing.") == []
    assert matches(rs, "Taliban envoys met Hamas. The ban on the group stays.") == []
    assert (
        matches(
            rs,
            "Taliban officials spoke. The Pakistani Taliban attacked. The ban on the group stays.",
        )
        == []
    )
    # ... nor possessive: the movement's rival is someone else.
    assert matches(rs, "Taliban officials spoke. The group's rival remains under a ban.") == []
    # ... nor inside one of the entity's `not` contexts; and such a context names no one
    # (the reference after it is still the Taliban's).
    assert matches(rs, "Taliban envoys spoke. The group of investors faces a ban.") == []
    text = "Taliban envoys spoke. The group of investors left. The ban on the group stays."
    (m,) = rs.match(Item(summary=text))
    assert [e.text for e in m.evidence] == ["ban", "the group"]
    assert m.evidence[1].start == text.rindex("the group")
    # ... nor part of another entity's naming, nor followed by one in apposition.
    alpha = {"id": "alpha", "name": "Alpha", "aliases": ["group Alpha"], "refs": ["the group"]}
    rs = one_rule(tmp_path, {"all": ["@tb", "=ban"], "within": "sentence"}, [_TALIBAN, alpha])
    assert matches(rs, "Taliban envoys spoke. A ban hit the group Alpha.") == []
    rs = one_rule(tmp_path, {"all": ["@tb", "=ban"], "within": "sentence"}, [_TALIBAN, _HAMAS])
    assert matches(rs, "Taliban envoys spoke. The ban on the group «Hamas» stays.") == []
    assert matches(rs, "Taliban envoys spoke. The ban on the group stays.") == ["r"]
    # ... and without a naming of the entity at all, a reference is nothing.
    assert matches(rs, "The ban on the group stays.") == []


def test_a_rule_program_is_made_when_the_rule_is_first_a_candidate(tmp_path):
    # Compiling 10,000 rules makes no programs: most rules are never a candidate.
    rs = ruleset(
        tmp_path,
        """\
        rules:
          - {id: a, title: a, any: [alpha]}
          - {id: b, title: b, any: [beta]}
        """,
    )
    programs = rs.compiled.programs
    assert programs == [None, None]
    assert matches(rs, "alpha") == ["a"]
    assert programs[0] is not None and programs[1] is None
    rs.compiled.make_programs()  # what the workers' fork server does, once for all
    assert None not in programs
    assert matches(rs, "beta") == ["b"]
