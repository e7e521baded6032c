"""bench/bench_coldstarts.py runs for real (a fresh embedded emulator, the example ML function,
template mode) and prints a table of figures, one numeric row per burst."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "bench_coldstarts.py"


def _rows(stdout: str) -> list[list[str]]:
    """The table's data rows (Markdown: a header, a rule, then the rows), split into cells."""
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def test_template_bursts_print_numeric_rows(tmp_path: Path) -> None:
    out = tmp_path / "bursts.json"
    # A generous limit (two cold starts of the ML function take seconds): it only stops a hang.
    done = subprocess.run([sys.executable, str(BENCH), "--bursts", "1,2", "--modes", "template",
                           "--json", str(out)], capture_output=True, text=True, timeout=600,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr

    rows = _rows(done.stdout)
    assert [(row[0], row[1]) for row in rows] == [("template", "1"), ("template", "2")]
    for row in rows:
        n, envs, cold, errors = map(int, row[1:5])
        assert (envs, cold, errors) == (n, n, 0)  # N first requests: N new environments
        # wall, p50, p99, max, init, max/1 mode, then CPU/env, USS, PSS: numbers, all positive
        figures = [float(cell) for cell in row[5:11] + row[12:15]]
        assert all(value > 0 for value in figures), row
        assert row[11] == "-" and row[15] == "-"  # no real mode ran, no SnapStart publish
        assert row[16].endswith("%")  # the machine's busy share during the burst
    assert "NOT MEASURED" in done.stdout  # no burst of 16: the check is not claimed
    assert "sam local" in done.stdout and "FACTS.md" in done.stdout

    figures = json.loads(out.read_text())
    assert [(row["mode"], row["n"]) for row in figures["rows"]] == [("template", 1),
                                                                    ("template", 2)]
    assert figures["rows"][0]["vs_single"] == 1.0
