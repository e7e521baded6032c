"""Ctrl-C and SIGTERM sent for real to `harness run`: every child stops, and the JUnit and JSON
reports are still written, with what got done and the interruption marked."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import psutil
import pytest

from harness.deploy import StackSpec
from tests.cli.up_process import harness_cmd
from tests.load.helpers import still_running, watch_children

pytestmark = pytest.mark.slow

# The invoke starts a runtime process; the long wait is where a signal lands "during a step".
SLOW = """\
scenario: slow
steps:
  - invoke: {event: {}}
  - wait: {seconds: 120}
  - wait: {seconds: 1}
"""
NEVER_REACHED = """\
scenario: never reached
steps:
  - wait: {seconds: 1}
"""
PROPERTY = """\
scenario: payloads
property:
  examples: 5000
  seed: 3
"""


@dataclass
class RunCommand:
    """`harness run` in a subprocess: its stderr line by line, every process it started."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    stderr: list[str] = field(default_factory=list)
    seen_pids: set[int] = field(default_factory=set)
    done: threading.Event = field(default_factory=threading.Event)
    reader: threading.Thread | None = None

    def start_threads(self) -> None:
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        threading.Thread(target=watch_children, args=(self.process, self.seen_pids, self.done),
                         daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 120) -> None:
        """Until a stderr line contains ``text``: the point to interrupt at."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, "".join(self.stderr)
                continue
            self.stderr.append(line)
            if text in line:
                return
        raise AssertionError(f"never saw {text!r}:\n{''.join(self.stderr)}")

    def stop(self, signum: signal.Signals) -> int:
        """Send ``signum``, wait for the exit, then read stderr to its end (EOF)."""
        self.process.send_signal(signum)
        code = self.process.wait(timeout=60)
        self.done.set()
        assert self.reader is not None
        self.reader.join(timeout=30)  # EOF once every process holding the pipe is gone
        assert not self.reader.is_alive(), "stderr never reached its end: something holds it"
        while not self.lines.empty():
            self.stderr.append(self.lines.get())
        return code


@pytest.fixture
def start_run(cli_env: dict[str, str], tmp_path: Path):
    started: list[RunCommand] = []

    def start(*files: str) -> RunCommand:
        command = harness_cmd("run", *files, "--junit", str(tmp_path / "out" / "junit.xml"),
                              "--json", str(tmp_path / "out" / "results.json"))
        with (tmp_path / "stdout.txt").open("w") as stdout:
            process = subprocess.Popen(command, env=cli_env, stdout=stdout,
                                       stderr=subprocess.PIPE, text=True)
        run = RunCommand(process)
        run.start_threads()
        started.append(run)
        return run

    yield start
    for run in started:
        run.done.set()
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()


def _scenarios(tmp_path: Path, *texts: str) -> list[str]:
    paths = []
    for index, text in enumerate(texts):
        path = tmp_path / f"scenario{index}.yaml"
        path.write_text(text)
        paths.append(str(path))
    return paths


def _reports(tmp_path: Path) -> tuple[ET.Element, dict]:
    junit = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    return junit, json.loads((tmp_path / "out" / "results.json").read_text())


def _wait_for_invocations(endpoint: str, count: int, timeout: float = 120) -> None:
    """Until the emulator at ``endpoint`` logged ``count`` REPORT lines of any function."""
    logs = boto3.session.Session().client(
        "logs", region_name=StackSpec().region, endpoint_url=endpoint,
        aws_access_key_id="test", aws_secret_access_key="test")
    deadline = time.monotonic() + timeout
    reports = 0
    while time.monotonic() < deadline:
        reports = 0
        for group in logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]:
            events = logs.filter_log_events(logGroupName=group["logGroupName"])["events"]
            reports += sum(e["message"].startswith("REPORT ") for e in events)
        if reports >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{reports} invocation(s) after {timeout} s, waited for {count}")


def _assert_nothing_left(run: RunCommand) -> None:
    deadline = time.monotonic() + 10
    while still_running(run.seen_pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert still_running(run.seen_pids) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_during_a_step_keeps_the_steps_done_and_marks_the_step(
        start_run, tmp_path: Path, signum: signal.Signals) -> None:
    run = start_run(*_scenarios(tmp_path, SLOW, NEVER_REACHED))
    run.wait_for("[2/3] wait: waiting 120 s")  # printed once the step is the running one
    runtimes = [p for p in psutil.Process(run.process.pid).children(recursive=True)
                if "awslambdaric" in " ".join(p.cmdline())]
    assert runtimes, "the invoke should have left a warm runtime process"
    assert run.stop(signum) == 130, "".join(run.stderr)
    why = f"interrupted by {signum.name}"
    assert f"harness run: {why}" in "".join(run.stderr)

    junit, results = _reports(tmp_path)
    assert results["passed"] is False and results["interrupted"] == why
    slow, never = results["scenarios"]
    assert slow["interrupted"] == why
    assert [s["outcome"] for s in slow["steps"]] == ["passed", "interrupted", "skipped"]
    assert slow["steps"][2]["summary"] == f"not run: {why}"
    assert never["skipped"] == f"not run: {why}"
    cases = junit.findall("testsuite")[0].findall("testcase")
    error = cases[1].find("error")
    assert error is not None and error.get("type") == "interrupted"
    assert error.get("message") == why
    assert cases[0].find("error") is None and cases[2].find("skipped") is not None
    summary = (tmp_path / "stdout.txt").read_text()
    assert "INTERRUPTED" in summary and "1 interrupted" in summary
    _assert_nothing_left(run)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_during_the_deploy_reports_the_scenario_interrupted(
        start_run, tmp_path: Path, signum: signal.Signals) -> None:
    run = start_run(*_scenarios(tmp_path, SLOW))
    run.wait_for("deploying stack")
    assert run.stop(signum) == 130, "".join(run.stderr)
    why = f"interrupted by {signum.name}"

    junit, results = _reports(tmp_path)
    (slow,) = results["scenarios"]
    assert slow["interrupted"] == why
    assert slow["error"] == f"{why} while deploying the stack"
    assert [s["outcome"] for s in slow["steps"]] == ["skipped"] * 3
    setup = junit.find("testsuite/testcase[@name='setup']/error")
    assert setup is not None and setup.get("type") == "interrupted"
    _assert_nothing_left(run)


def test_ctrl_c_during_a_property_run_is_not_lost(start_run, tmp_path: Path) -> None:
    """hypothesis collects garbage before every example, and a KeyboardInterrupt raised in its
    gc callback is swallowed: the harness must raise it again."""
    run = start_run(*_scenarios(tmp_path, PROPERTY))
    run.wait_for("==> embedded endpoint ")
    endpoint = run.stderr[-1].split("==> embedded endpoint ", 1)[1].split(",")[0].strip()
    run.wait_for("property: up to")
    # Past the known-good request (a cold start), well into the search: generated inputs have
    # reached the function.
    _wait_for_invocations(endpoint, 3)
    assert run.stop(signal.SIGINT) == 130, "".join(run.stderr)
    _junit, results = _reports(tmp_path)
    assert results["scenarios"][0]["property"]["error"] == "interrupted by SIGINT"
    assert "Exception ignored" not in "".join(run.stderr)
    _assert_nothing_left(run)
