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
