"""bench/bench_peers.py, run for real (tiny): the harness and moto's server side by side."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_peers.py"
OPERATIONS = ("S3 PutObject 2 KiB", "S3 GetObject 2 KiB", "S3 ListObjectsV2 (10 keys)",
              "SQS SendMessage (depth 10)", "SQS ReceiveMessage (depth 10)",
              "SQS DeleteMessage (depth 10)", "SNS Publish (no subscriptions)",
              "SNS Publish (1 SQS subscription)")
FIGURES = re.compile(r"^\d+\.\d\d / \d+\.\d\d$")


def listening(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=2).close()
        return True
    except OSError:
        return False


def table_rows(stdout: str) -> dict[str, list[str]]:
    """The printed table's rows: operation -> its other cells."""
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0] != "operation":
            rows[cells[0]] = cells[1:]
    return rows


def test_every_operation_has_figures_for_the_harness_and_moto(tmp_path: Path) -> None:
    figures = tmp_path / "peers.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--calls", "5", "--depths", "10", "--warmup", "2",
         "--targets", "harness,moto", "--json", str(figures)],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    head = next(line for line in done.stdout.splitlines() if line.startswith("| operation"))
    assert "harness p50 / p99 ms" in head and "moto p50 / p99 ms" in head
    rows = table_rows(done.stdout)
    assert set(rows) == set(OPERATIONS), done.stdout
    for operation, (harness, moto, share, client) in rows.items():
        assert FIGURES.match(harness) and FIGURES.match(moto), (operation, harness, moto)
        assert float(share) > 0, (operation, share)
        # boto3's own CPU is part of every call's time: never more than both p50s.
        assert 0 < float(client) <= max(float(harness.split()[0]), float(moto.split()[0]))
    written = json.loads(figures.read_text())
    assert all(0 < r["client_cpu_p50_ms"] <= r["p50_ms"] for r in written["rows"])
    assert {(r["operation"], r["target"], r["calls"], r["errors"]) for r in written["rows"]} == {
        (op, target, 5, 0) for op in OPERATIONS for target in ("harness", "moto")}
    assert not written["notes"], written["notes"]  # S3 bodies, queue depths, SNS delivery
    for name, url in written["targets"].items():
        assert not listening(url), f"{name} still listens at {url} after the run"


def test_only_the_services_asked_for_are_measured(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--calls", "3", "--warmup", "1", "--only", "s3",
         "--targets", "harness"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert set(table_rows(done.stdout)) == {op for op in OPERATIONS if op.startswith("S3 ")}
    refused = subprocess.run([sys.executable, str(BENCH), "--only", "s3,dynamodb"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "--only: unknown dynamodb" in refused.stderr


def test_ctrl_c_stops_every_server_it_started(tmp_path: Path) -> None:
    bench = subprocess.Popen(
        [sys.executable, str(BENCH), "--calls", "5", "--depths", "10", "--warmup", "2",
         "--targets", "harness,moto"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True)
    try:
        assert bench.stderr is not None
        for line in bench.stderr:  # the servers are up once the first one is being set up
            if "setting up" in line:
                break
        servers = psutil.Process(bench.pid).children()
        assert len(servers) == 2, servers
        bench.send_signal(signal.SIGINT)
        assert bench.wait(timeout=60) == 130
        gone, alive = psutil.wait_procs(servers, timeout=10)
        assert not alive, alive
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait()
