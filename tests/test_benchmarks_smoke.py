"""Smoke test of the benchmarks: they run on tiny sizes and print their ratio lines.

Not a timing assertion: the numbers are whatever this machine gives.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(script: str, *args: str, timeout: float = 60) -> str:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert proc.returncode == 0, f"{script} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.timeout(90)
def test_poll_benchmark_runs() -> None:
    out = _run("poll.py", "--quick", "--feeds", "20", "--no-reader")
    assert "newsmon" in out and "naive" in out
    for cycle in ("cold", "5% changed", "all 304"):
        assert f"newsmon      20 {cycle}" in out
    assert "ok 20, 304 0, failed 0" in out  # the cold cycle fetched every feed
    assert "ratio N=20 cold new items/s newsmon/naive:" in out
    assert "ratio N=20 cold new items/s newsmon/reader: not run" in out
    assert "target N=20 unchanged feeds >= 3,000/s:" in out


@pytest.mark.timeout(90)
def test_deliver_benchmark_runs() -> None:
    out = _run("deliver.py", "--quick", "--events", "20", "--naive-posts", "5")
    assert "ratio deliveries/s 1 destination: newsmon/naive" in out
    assert "ratio deliveries/s 4 destinations: newsmon/naive" in out
    assert " failed" in out
