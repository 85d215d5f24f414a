"""The daemon settles its heap once the rules are compiled (monitor.heap)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_compiled_rules_are_out_of_the_collectors_reach_and_young_collections_are_rare():
    # In a fresh interpreter: freezing would otherwise pin this test run's garbage.
    code = (
        "import gc; import rules; from monitor.heap import settle_heap\n"
        "rs = rules.RuleSet(rules.load())\n"
        "before = gc.get_freeze_count(); settle_heap()\n"
        "print(before, gc.get_freeze_count(), gc.get_threshold()[0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == "0"
    assert int(out[1]) > 10_000  # the compiled shipped rules, among others
    assert int(out[2]) >= 10_000  # young collections far apart: reference counting does most


def test_rules_built_in_a_settled_process_are_frozen_as_built_and_a_failed_load_is_not(tmp_path):
    # A reload in the daemon: what load and compile build is frozen on the way out, so no
    # young collection rescans it; the garbage of before is collected, not frozen with it
    # (unfreezing and collecting finds none); a load that fails freezes nothing (its
    # traceback's frames are cycles to collect).
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [\n", encoding="utf-8")
    code = (
        "import gc, sys; import rules; from monitor.heap import settle_heap\n"
        "settle_heap()\n"
        "class Cycle: pass\n"
        "c = Cycle(); c.me = c; del c\n"
        "base = gc.get_freeze_count()\n"
        "rs = rules.RuleSet(rules.load())\n"
        "built = gc.get_freeze_count() - base\n"
        "base = gc.get_freeze_count()\n"
        "try:\n"
        "    rules.load([sys.argv[1]])\n"
        "except rules.RuleError:\n"
        "    pass\n"
        "failed = gc.get_freeze_count() - base\n"
        "gc.unfreeze()\n"
        "print(built, failed, gc.collect())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert int(out[0]) > 10_000  # the book and the compiled rules
    assert out[1] == "0"
    assert out[2] == "0"  # the cycle of before was collected, not frozen with the rules
