"""Starts the load generator process (`harness.load.engine`), follows it, and stops it cleanly.

The generator runs in its own session, so a terminal's Ctrl-C reaches only ``harness load``,
which then sends the generator SIGTERM: it stops sending, lets requests in flight finish and
still writes its result. A second Ctrl-C kills it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.load.engine import command
from harness.load.plan import RunPlan

ProgressCallback = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class GeneratorOutcome:
    result: dict[str, Any]
    """The engine's result file: merged statistics, start and end, why it stopped."""
    interrupted: bool
    log_path: Path


def run_generator(plan: RunPlan, workdir: Path, on_progress: ProgressCallback,
                  grace_s: float | None = None) -> GeneratorOutcome:
    """Run the plan to the end (or to Ctrl-C) and return what the generator measured."""
    workdir.mkdir(parents=True, exist_ok=True)
    plan_path, result_path = workdir / "plan.json", workdir / "generator-result.json"
    log_path = workdir / "generator.log"
    plan.write(plan_path)
    result_path.unlink(missing_ok=True)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command("--plan", str(plan_path), "--result", str(result_path), "--watch-parent"),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
            start_new_session=True)
    reader = threading.Thread(target=_read_lines, args=(proc, on_progress),
                              name="load-generator-reader", daemon=True)
    reader.start()
    interrupted = False
    try:
        try:
            proc.wait()
        except KeyboardInterrupt:
            interrupted = True
            _stop(proc, grace_s if grace_s is not None else plan.timeout_s + 20)
    finally:
        if proc.poll() is None:  # an error of ours: never leave it behind
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
    if not result_path.is_file():
        raise HarnessError(f"the load generator stopped without a result (exit {proc.returncode});"
                           f" its log: {log_path}\n{_tail(log_path)}")
    return GeneratorOutcome(json.loads(result_path.read_text()), interrupted, log_path)


def _stop(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except KeyboardInterrupt:  # a second Ctrl-C: no more waiting
        proc.kill()
        proc.wait()
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _read_lines(proc: subprocess.Popen[bytes], on_progress: ProgressCallback) -> None:
    assert proc.stdout is not None
    for raw in proc.stdout:
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict):
            on_progress(line)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
