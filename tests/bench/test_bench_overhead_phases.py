"""bench/bench_overhead_phases.py, run for real (tiny): every phase of a warm request through
execute-api is timed, for both functions, and the phases leave the emulator as it was."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.bench_overhead_phases import PHASES, phases

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_overhead_phases.py"


def test_phases_add_up_to_the_round_trip():
    marks = {"gateway_in": 1.0, "invoke_in": 1.5, "handed": 1.6, "response": 2.6,
             "invoke_out": 2.7, "gateway_out": 2.9}
    timed = phases(0.5, 3.0, marks)
    assert len(timed) == len(PHASES)
    assert sum(timed) == pytest.approx(2500.0) and timed[3] == pytest.approx(1000.0)


def test_every_phase_is_measured_for_both_functions():
    done = subprocess.run([sys.executable, str(BENCH), "--requests", "5"], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {line.split("|")[1].strip(): [float(c) for c in line.split("|")[2:-1]]
            for line in done.stdout.splitlines()
            if line.startswith("| ") and line.split("|")[1].strip() in PHASES}
    assert set(rows) == set(PHASES), done.stdout
    assert all(len(cells) == 2 and all(c > 0 for c in cells) for cells in rows.values())
    # The ML function's work (its S3 read and prediction) is in its phase, not the harness's.
    assert rows["function"][1] > rows["function"][0]
    overheads = re.findall(r"harness overhead \(all but the function\) p50 (\d+\.\d+) ms",
                           done.stdout)
    assert len(overheads) == 2 and all(float(o) > 0 for o in overheads)


def test_a_bad_count_is_refused_in_one_line():
    done = subprocess.run([sys.executable, str(BENCH), "--requests", "0"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "--requests must be at least 1" in done.stderr
