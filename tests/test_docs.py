"""The README documents every CLI command, config key and rule-file field, and its worked
example is true."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import click
import pytest
import yaml
from pydantic import BaseModel

from monitor.cli import main
from monitor.config import Config
from rules import RuleSet, load

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "newsmon") -> list[str]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, path))
        else:
            out.append(path)
    return out


def _config_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted keys of nested sections; `feeds[].url` style keys of list entries."""
    keys = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        keys.append(key)
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys.extend(_config_keys(ann, f"{key}."))
        elif args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
            keys.extend(_config_keys(args[0], f"{key}[]."))
    return keys


def _documented(key: str) -> bool:
    if "[]." in key:
        # List entries are described in their parent's row: `url`, `secret`, ...
        parent, leaf = key.split("[].")
        row = next((line for line in README.splitlines() if line.startswith(f"| `{parent}`")), "")
        return f"`{leaf}`" in row
    return f"`{key}`" in README


@pytest.mark.parametrize("command", _commands(main))
def test_every_cli_command_is_documented(command):
    assert f"`{command}" in README, f"README does not document `{command}`"


@pytest.mark.parametrize("key", _config_keys(Config))
def test_every_config_key_is_documented(key):
    assert _documented(key), f"README does not document config key `{key}`"


def test_every_command_option_is_documented():
    """Each option of each command appears in the README's command table."""

    def walk(group: click.Group, prefix: str) -> None:
        for name, cmd in group.commands.items():
            if isinstance(cmd, click.Group):
                walk(cmd, f"{prefix} {name}")
                continue
            for p in cmd.params:
                if isinstance(p, click.Option):
                    flag = max(p.opts, key=len)
                    assert flag in README, f"{prefix} {name}: option {flag} undocumented"

    walk(main, "newsmon")


def test_readme_starts_with_the_two_commands():
    head = README[:1200]
    assert "make run" in head and "make test" in head


def test_worked_rule_example_is_true(tmp_path):
    block = re.search(r"A worked example:\n\n```yaml\n(.*?)```", README, re.S)
    assert block, "worked example not found"
    path = tmp_path / "example.yaml"
    path.write_text(block.group(1))
    rules = RuleSet(load([path], destinations={"team"}))
    hit = rules.match(
        SimpleNamespace(
            title="",
            summary="Kazakhstan has invited representatives of the Taliban movement to take "
            "part in the forum",
            content="",
        )
    )
    assert [m.rule.id for m in hit] == ["kz-taliban-invitation"]
    texts = {(e.kind, e.value, e.text) for e in hit[0].evidence}
    assert {
        ("entity", "kazakhstan", "Kazakhstan"),
        ("term", "invite", "invited"),
        ("entity", "taliban", "Taliban"),
        ("term", "forum", "forum"),
    } <= texts
    miss = SimpleNamespace(title="", summary="the Pakistani Taliban visited Astana", content="")
    assert rules.match(miss) == []
    text = "Taliban officials arrived in Almaty. Kazakhstan has invited the movement to the forum"
    (m,) = rules.match(SimpleNamespace(title="", summary=text, content=""))
    assert ("entity", "taliban", "the movement") in {(e.kind, e.value, e.text) for e in m.evidence}


def test_status_example_is_valid_yaml():
    block = re.search(r"### Status rules.*?```yaml\n(.*?)```", README, re.S)
    assert block
    data = yaml.safe_load(block.group(1))
    assert set(data["status"]) >= {"subject", "jurisdictions", "states", "negated", "seed"}


def _rule_file_fields() -> list[str]:
    from rules.load import EntitySchema, RuleFileSchema, RuleSchema, SeedSchema, StatusSchema

    names = {
        # As written in a file: the alias where there is one (`not`, a Python keyword).
        f"{model.__name__.removesuffix('Schema').lower()}.{field.alias or name}"
        for model in (RuleFileSchema, EntitySchema, RuleSchema, StatusSchema, SeedSchema)
        for name, field in model.model_fields.items()
    }
    # Condition groups are plain mappings, not models: their keys are the rule language.
    names |= {f"group.{k}" for k in ("all", "any", "none", "within", "fields")}
    return sorted(names)


@pytest.mark.parametrize("field", _rule_file_fields())
def test_every_rule_file_field_is_documented(field):
    name = field.split(".", 1)[1]
    assert f"`{name}" in README, f"README does not document rule-file field `{field}`"
