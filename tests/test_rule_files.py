"""Loading rule files: every problem is reported with its file, rule and field or line, and a
file with problems never half-loads."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import rules
from rules import Problem, RuleFileError

GOOD = """\
entities:
  - id: kz
    name: Kazakhstan
    aliases: [Kazakhstan, Astana]
rules:
  - id: good
    title: Good rule
    all: ["@kz"]
    any: [visit]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(paths: list[Path], **kwargs: object) -> list[Problem]:
    with pytest.raises(RuleFileError) as info:
        rules.load(paths, **kwargs)  # type: ignore[arg-type]
    assert str(info.value)  # every problem is rendered into the message
    return info.value.problems


def only(paths: list[Path], **kwargs: object) -> Problem:
    (p,) = problems(paths, **kwargs)
    return p


def test_good_file_loads(tmp_path):
    book = rules.load([write(tmp_path, "good.yaml", GOOD)])
    assert [r.id for r in book.rules] == ["good"] and set(book.entities) == {"kz"}


def test_malformed_yaml_reports_the_line(tmp_path):
    path = write(
        tmp_path,
        "bad.yaml",
        """\
        rules:
          - id: r1
            title: [unclosed
            any: [x]
        """,
    )
    p = only([path])
    assert p.file == str(path) and "not valid YAML" in p.message
    assert p.line in (3, 4)
    assert f"{path}:{p.line}" in str(p)


def test_unknown_field_names_rule_field_and_line(tmp_path):
    path = write(
        tmp_path,
        "r.yaml",
        """\
        rules:
          - id: r1
            title: One
            colour: red
            any: [alpha]
        """,
    )
    p = only([path])
    assert (p.file, p.rule_id, p.field, p.line) == (str(path), "r1", "colour", 4)


def test_empty_alias_list(tmp_path):
    path = write(
        tmp_path,
        "e.yaml",
        """\
        entities:
          - id: kz
            name: Kazakhstan
            aliases: []
        """,
    )
    p = only([path])
    assert (p.rule_id, p.field, p.line) == ("kz", "aliases", 4)


def test_alias_without_letters(tmp_path):
    path = write(
        tmp_path,
        "e.yaml",
        """\
        entities:
          - id: kz
            name: Kazakhstan
            aliases: ["--"]
        """,
    )
    p = only([path])
    assert p.rule_id == "kz" and p.field is not None and p.field.startswith("aliases")


@pytest.mark.parametrize("field", ["not", "refs"])
def test_a_regex_where_only_words_go_is_refused(tmp_path, field):
    # An entity's `not` contexts, references and aliases are words and phrases: "re:..."
    # would load as the words "re", "taliban"... and never do what it says.
    path = write(
        tmp_path,
        "e.yaml",
        f"""\
        entities:
          - id: tb
            name: Taliban
            aliases: [Taliban]
            {field}: [Pakistani Taliban, "re:from taliban, pakistan"]
        """,
    )
    p = only([path])
    assert (p.rule_id, p.field) == ("tb", f"{field}.1")
    assert "regex is not allowed here" in p.message


def test_regex_that_does_not_compile(tmp_path):
    path = write(
        tmp_path,
        "r.yaml",
        """\
        rules:
          - id: r1
            title: One
            any:
              - alpha
              - "re:(unclosed"
        """,
    )
    p = only([path])
    assert (p.rule_id, p.field, p.line) == ("r1", "any.1", 6)
    assert "regex does not compile" in p.message


def test_regex_that_can_backtrack_for_exponential_time_is_refused(tmp_path):
    path = write(
        tmp_path,
        "r.yaml",
        """\
        rules:
          - id: r1
            title: One
            any:
              - alpha
              - 're:(\\w+\\s?)+!'
        """,
    )
    p = only([path])
    assert (p.rule_id, p.field, p.line) == ("r1", "any.1", 6)
    assert "exponential time" in p.message
    # the same intent, written so that each piece of text is matched one way only
    for safe in [r"(?:\w++\s?)+!", r"(?:\w+\s?){0,16}!", r"(?:\w+,\s*)+!", r"(?>\w+\s?)+!"]:
        ok = write(
            tmp_path, "ok.yaml", f"rules:\n  - id: r1\n    title: One\n    all: ['re:{safe}']\n"
        )
        assert rules.load([ok]).rule("r1")


def test_unknown_entity_reference(tmp_path):
    path = write(
        tmp_path,
        "r.yaml",
        """\
        rules:
          - id: r1
            title: One
            all: ["@nobody"]
        """,
    )
    p = only([path])
    assert (p.file, p.rule_id) == (str(path), "r1") and "@nobody" in p.message
    assert p.line == 2


def test_entity_defined_in_another_file_is_known(tmp_path):
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", 'rules: [{id: other, title: O, all: ["@kz"]}]\n')
    assert [r.id for r in rules.load([tmp_path]).rules] == ["good", "other"]


def test_unknown_destination(tmp_path):
    path = write(
        tmp_path,
        "r.yaml",
        """\
        rules:
          - id: r1
            title: One
            any: [alpha]
            notify: [ops, nowhere]
        """,
    )
    p = only([path], destinations={"ops"})
    assert (p.rule_id, p.field) == ("r1", "notify") and "nowhere" in p.message
    # Without a destination list (rules checked on their own) nothing is wrong.
    assert rules.load([path]).rules[0].notify == ("ops", "nowhere")


def test_duplicate_rule_id_across_files(tmp_path):
    write(tmp_path, "a.yaml", GOOD)
    second = write(tmp_path, "b.yaml", "rules: [{id: good, title: Again, any: [x]}]\n")
    p = only([tmp_path])
    assert (p.file, p.rule_id) == (str(second), "good") and "twice" in p.message


def test_every_problem_of_a_file_is_reported(tmp_path):
    path = write(
        tmp_path,
        "r.yaml",
        """\
        rules:
          - id: r1
            title: One
            any: ["re:(unclosed", "@nobody", "re:[z-a]"]
            notify: [nowhere]
          - id: r1
            title: Again
            any: [x]
          - id: r3
            title: Three
            within: "soon"
            any: [x]
        """,
    )
    found = problems([path], destinations={"ops"})
    summary = {(p.rule_id, p.field, p.message.split(":")[0]) for p in found}
    assert ("r1", "any.0", "regex does not compile") in summary
    assert ("r1", "any.2", "regex does not compile") in summary
    assert ("r3", "within", "within must be 'sentence' or 'N words', got 'soon'") in summary
    assert any("twice" in p.message and p.rule_id == "r1" for p in found)
    assert any("@nobody" in p.message for p in found)
    assert any("nowhere" in p.message for p in found)
    assert all(p.file == str(path) for p in found)


def test_every_schema_problem_of_a_file_is_reported(tmp_path):
    path = write(
        tmp_path,
        "r.yaml",
        """\
        entities:
          - id: kz
            name: Kazakhstan
            aliases: []
        rules:
          - id: r1
            title: One
            colour: red
            any: [alpha]
          - id: Bad Id
            title: Two
            any: [x]
        """,
    )
    found = problems([path])
    assert {(p.rule_id, p.field) for p in found} >= {("kz", "aliases"), ("r1", "colour")}
    assert any(p.line == 10 for p in found)  # the bad id


def test_nothing_half_loads(tmp_path):
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", 'rules: [{id: broken, title: B, any: ["re:("]}]\n')
    found = problems([tmp_path])
    assert [p.rule_id for p in found] == ["broken"]


def test_rule_without_terms(tmp_path):
    path = write(tmp_path, "r.yaml", "rules: [{id: r1, title: One, none: [x]}]\n")
    p = only([path])
    assert p.rule_id == "r1" and "needs `all` or `any`" in p.message


def test_problem_renders_file_line_rule_and_field():
    p = Problem("f.yaml", "bad", rule_id="r1", field="any.0", line=7)
    assert str(p) == "f.yaml:7: rule r1: any.0: bad"


@pytest.mark.parametrize(
    ("implies", "says"),
    [
        ("{recognized: [proposal]}", "unknown state 'proposal'"),  # not a declared state
        ("{recognized: [delisted], delisted: [banned]}", "chains"),  # one level only
    ],
)
def test_implies_problems(tmp_path, implies, says):
    path = write(
        tmp_path,
        "r.yaml",
        f"""\
        entities:
          - {{id: t, name: T, aliases: [Taliban]}}
          - {{id: kz, name: Kazakhstan, aliases: [Kazakhstan]}}
        rules:
          - id: r1
            title: One
            all: ["@t"]
            status:
              subject: t
              jurisdictions: [kz]
              states: {{banned: [banned], delisted: [delisted], recognized: [recognised]}}
              implies: {implies}
        """,
    )
    p = only([path])
    assert p.rule_id == "r1" and "implies" in p.message and says in p.message
