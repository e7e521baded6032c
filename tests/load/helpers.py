"""Runs the real ``harness load`` command in a subprocess and watches for leftover processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[2]


@dataclass
class LoadRun:
    returncode: int
    stdout: str
    stderr: str
    out_dir: Path
    seen_pids: set[int] = field(default_factory=set)
    """Every process that ran under the command while it ran."""

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.out_dir / "report.json").read_text())

    def leftovers(self) -> list[str]:
        return still_running(self.seen_pids)


def still_running(pids: set[int]) -> list[str]:
    """Those of ``pids`` that still run (zombies aside), each with its command line."""
    left = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{pid}: {' '.join(proc.cmdline()[:6])}")
        except psutil.NoSuchProcess:
            continue
    return left


def watch_children(proc: subprocess.Popen[str], seen: set[int], done: threading.Event) -> None:
    """Add every descendant of ``proc`` to ``seen`` until ``done`` is set or ``proc`` ends."""
    while not done.is_set():
        try:
            seen.update(child.pid for child in psutil.Process(proc.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            return
        done.wait(0.2)


def run_load(args: list[str], env: dict[str, str], out_dir: Path, timeout: float = 240.0,
             interrupt_after: float | None = None,
             interrupt_with: signal.Signals = signal.SIGINT) -> LoadRun:
    """``harness load ARGS --out OUT_DIR``; with ``interrupt_after``, ``interrupt_with`` (SIGINT
    by default) that many seconds after the run is on."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli.main", "load", *args, "--out", str(out_dir),
         "--no-progress"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    seen: set[int] = set()
    done = threading.Event()
    watcher = threading.Thread(target=watch_children, args=(proc, seen, done), daemon=True)
    watcher.start()
    try:
        if interrupt_after is not None:
            _wait_for_requests(out_dir, proc, timeout)
            time.sleep(interrupt_after)
            proc.send_signal(interrupt_with)
        stdout, stderr = proc.communicate(timeout=timeout)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    finally:
        done.set()
        watcher.join()
    return LoadRun(proc.returncode, stdout, stderr, out_dir, seen)


def _wait_for_requests(out_dir: Path, proc: subprocess.Popen[str], timeout: float) -> None:
    """Until the generator has started (its plan is written), or the command ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if (out_dir / "plan.json").exists():
            return
        time.sleep(0.1)
    raise AssertionError("the load generator never started")


def write_scenario(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    path.write_text(text)
    return path
