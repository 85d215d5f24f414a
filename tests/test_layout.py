"""Architecture rules that keep the code base honest, checked on the source (AST)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("monitor", "rules", "storage")


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("rules", {"monitor", "storage"}), ("storage", {"monitor", "rules"})],
)
def test_dependency_direction(package, forbidden):
    for path in (ROOT / package).rglob("*.py"):
        bad = {_top(n) for n in _imports(path)} & forbidden
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


# Each third-party library lives in exactly one module (DESIGN.md §1).
OWNERS = {
    "apscheduler": "monitor/daemon.py",
    "feedparser": "monitor/parse.py",
    "sqlite_utils": "storage/",
    "click": "monitor/cli/",
    "standardwebhooks": "monitor/signing.py",
    "ahocorasick_rs": "rules/compile.py",
    "selectolax": "rules/text.py",
}


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_each_library_has_one_home(library):
    users = [
        str(p.relative_to(ROOT)) for p in _modules() if any(_top(n) == library for n in _imports(p))
    ]
    owner = OWNERS[library]
    assert users, f"{library} is not used where expected ({owner})"
    for user in users:
        assert user.startswith(owner), f"{library} imported in {user}"


def test_feedparser_only_gets_bytes():
    """feedparser.parse opens paths and URLs given as str (RELIABILITY.md §0.3): every call
    must pass an io.BytesIO built from bytes."""
    tree = ast.parse((ROOT / "monitor/parse.py").read_text(encoding="utf-8"))
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "parse"
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id == "feedparser"
    ]
    assert calls, "feedparser.parse is not called where expected"
    for call in calls:
        arg = call.args[0]
        assert isinstance(arg, ast.Call) and ast.unparse(arg.func) == "io.BytesIO", ast.unparse(
            call
        )


def test_every_module_opens_with_a_docstring():
    for path in _modules():
        if path.name in ("__main__.py",):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{path.relative_to(ROOT)} has no module docstring"


def test_error_trees_are_rooted():
    from monitor.errors import ConfigError, FetchError, MonitorError
    from rules.errors import RuleError, RuleFileError
    from storage.errors import DatabaseOpenError, StorageError

    assert issubclass(ConfigError, MonitorError) and issubclass(ConfigError, ValueError)
    assert issubclass(FetchError, MonitorError)
    assert issubclass(RuleFileError, RuleError)
    assert issubclass(DatabaseOpenError, StorageError)
