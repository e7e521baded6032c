"""The leftover check (the suite's and the soak's) sees processes reparented away from it."""

from __future__ import annotations

import os
import subprocess

import psutil

from harness.leftovers import ENV_MARKER, Baseline, env_marker, marked_processes, scan


def test_a_functions_process_reparented_away_is_a_leftover_until_it_ends():
    baseline = Baseline.now()
    env = dict(os.environ, **{ENV_MARKER: env_marker("leftover-test")})
    # The shell exits at once: its `sleep` is an orphan, no descendant of this process, as a
    # function's child is once the harness was killed.
    started = subprocess.run(["sh", "-c", "sleep 300 >/dev/null 2>&1 & echo $!"], env=env,
                             capture_output=True, text=True, timeout=30, check=True)
    orphan = psutil.Process(int(started.stdout))
    try:
        assert orphan not in psutil.Process().children(recursive=True)
        assert orphan.pid in marked_processes()
        assert any(line.startswith(f"process {orphan.pid}: sleep") for line in scan(baseline))
    finally:
        orphan.kill()
        orphan.wait(timeout=30)
    assert orphan.pid not in marked_processes()
    assert not any(line.startswith(f"process {orphan.pid}:") for line in scan(baseline))


def test_another_harness_processes_are_not_this_ones():
    env = dict(os.environ, **{ENV_MARKER: "another-owner/env"})
    with subprocess.Popen(["sleep", "300"], env=env) as other:
        try:
            assert other.pid not in marked_processes()
            assert other.pid in marked_processes("another-owner")
        finally:
            other.kill()
