"""A load report counts SnapStart restores as cold starts, says how many there were and their
Restore Duration, and bills them (restores, Billed Restore Duration, the version's cache)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.load.cost import SNAPSTART_RESTORE_ITEM, cost_report
from harness.load.harness_side import HarnessSide
from harness.load.report import cost_rows, harness_rows, lambda_usage
from tests.emulator.support import own_emulator
from tests.lambda_.snapstart_support import (
    invoke,
    published_snap_function,
    restore_in_new_environments,
)

approx = pytest.approx


def test_restores_are_cold_starts_counted_apart_with_their_restore_duration(
        tmp_path: Path) -> None:
    n, memory_mb = 3, 256
    with own_emulator(tmp_path) as emu:
        lam = emu.client("lambda")
        name = f"snap-load-{tmp_path.name[-8:]}".replace("_", "-")
        version = published_snap_function(emu, name, memory_mb)
        assert emu.emulator.lambdas is not None
        side = HarnessSide(emu.emulator.lambdas, name).start()
        started = time.time()
        try:
            restored = restore_in_new_environments(lam, name, version, n, tmp_path / "in-flight")
            _, latest, _ = invoke(lam, name)  # $LATEST: an ordinary cold start
            _, warm, _ = invoke(lam, name, version)  # a restored environment, warm now
        finally:
            side.stop()
        lam.delete_function(FunctionName=name)
    summary = side.summary(started)

    restores = sorted(report.restore_duration_ms for _, report, _ in restored)
    assert latest.init_duration_ms is not None and warm.restore_duration_ms is None
    assert summary["invocations"] == n + 2
    assert summary["cold_starts"] == n + 1  # the restores and $LATEST's init
    assert summary["restores"] == n
    # nearest rank; the REPORT line shows 2 decimals of it
    assert summary["restore_duration_ms"]["p50"] == approx(restores[n // 2], abs=0.006)
    assert summary["init_duration_ms"]["count"] == 1
    assert sum(1 for c in summary["cold_start_list"] if c["restore_ms"] is not None) == n
    assert summary["restore_gb"] == approx(n * memory_mb / 1024)
    assert summary["snapstart_versions"] == [{"version": version, "memory_mb": memory_mb}]
    text = dict(harness_rows(summary))["invocations"]
    assert f"cold starts {n + 1} " in text
    assert (f"of which {n} SnapStart restores (Restore Duration p50 "
            f"{summary['restore_duration_ms']['p50']:,.2f} ms)") in text

    # The cost section: restores and their Billed Restore Duration are cold (once a month),
    # the version's cache is kept the whole window (and every window of the month).
    window_s = 60.0
    steady, cold = lambda_usage(summary, window_s)
    billed_restore_ms = sum(report.billed_restore_duration_ms or 0 for _, report, _ in restored)
    assert cold.gb_seconds == approx(summary["init_gb_seconds"])
    # (the REPORT line rounds the Init Duration to 0.01 ms: 1.25e-6 GB-s at most)
    assert summary["init_gb_seconds"] == approx(
        (latest.init_duration_ms + billed_restore_ms) / 1000 * memory_mb / 1024, abs=2e-6)
    assert cold.snapstart_restore_gb == approx(n * memory_mb / 1024)
    assert steady.snapstart_cache_gb_seconds == approx(window_s * memory_mb / 1024)
    report = cost_report(steady, window_s, cold=cold).to_dict()
    items = {item["name"]: item for item in report["run_bill"]["items"]}
    assert items[SNAPSTART_RESTORE_ITEM]["quantity"] == approx(n * memory_mb / 1024)
    rows = dict(cost_rows({**report, "lambda_basis": "REPORT lines"}))
    assert rows["cost (SnapStart)"].endswith("(no free tier)")
