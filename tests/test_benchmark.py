"""The benchmark runs to the end and prints every figure (its numbers are for people, not asserts)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_quick_benchmark_prints_all_five_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = re.findall(r"^([1-5])\. .* = \d+(?:\.\d+)?x?", done.stdout, re.M)
    assert figures == ["1", "2", "3", "4", "5"], done.stdout
    assert re.search(r"^5\. peak memory, .*; large / small = \d+\.\d\d$", done.stdout, re.M), done.stdout
    assert re.search(r"^1\. requests made / minimum: (\d+) / \1 = 1\.00$", done.stdout, re.M), done.stdout
