"""Template mode (``cold_starts = "template"``) through an emulator of its own, with plain boto3:
a burst of cold starts runs the init once, each environment is a fork that reports the
template's Init Duration, and its first answer is held back by it."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from harness.config import EmulatorConfig, LambdaConfig
from harness.errors import UsageError
from harness.lambda_.logs import parse_report_line
from tests.emulator.support import OwnEmulator, own_emulator
from tests.lambda_.rendezvous import with_rendezvous

# Each init appends a line to INIT_LOG (how many inits ran) and burns INIT_WORK of CPU. With
# {"wait_for": DIR, "count": N} the handler waits until N invocations are in flight at once,
# so that N environments exist together.
APP = '''
import os, threading, time
from rendezvous import wait_for_others
with open(os.environ["INIT_LOG"], "a") as log:
    log.write(f"{os.getpid()}\\n")
WORK = sum(i * i for i in range(int(os.environ.get("INIT_WORK", "300000"))))
time.sleep(float(os.environ.get("INIT_SLEEP", "0")))
if os.environ.get("INIT_THREAD"):
    threading.Thread(target=threading.Event().wait, daemon=True).start()
if os.environ.get("INIT_FAIL"):
    raise RuntimeError("the init failed on purpose")
print("init done in", os.getpid())

def handler(event, context):
    wait_for_others(event)
    return {"pid": os.getpid(), "tmp": os.environ.get("TMPDIR"),
            "stream": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
            "key": os.environ["AWS_ACCESS_KEY_ID"], "version": os.environ.get("CODE", "1")}
'''
BURST = 6


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[OwnEmulator]:
    with own_emulator(tmp_path, lambda_=LambdaConfig(cold_starts="template")) as own:
        yield own


def _function(emu: OwnEmulator, tmp_path: Path, **environment: str) -> tuple[str, Path]:
    init_log = tmp_path / f"inits-{len(emu.created)}.txt"
    name = emu.create_function(with_rendezvous(APP), Timeout=60, Environment={"Variables": {
        "INIT_LOG": str(init_log), **environment}})
    return name, init_log


def _invoke(emu: OwnEmulator, name: str, payload: dict | None = None) -> tuple[dict, str, float]:
    started = time.perf_counter()
    response = emu.client("lambda").invoke(FunctionName=name, LogType="Tail",
                                           Payload=json.dumps(payload or {}).encode())
    took = time.perf_counter() - started
    return json.loads(response["Payload"].read()), base64.b64decode(
        response["LogResult"]).decode(), took


def _report(tail: str):  # type: ignore[no-untyped-def]
    return [r for r in map(parse_report_line, tail.splitlines()) if r is not None][-1]


def _burst(emu: OwnEmulator, name: str, tmp_path: Path, count: int = BURST):  # type: ignore[no-untyped-def]
    rendezvous = tmp_path / f"rendezvous-{name}"
    rendezvous.mkdir()
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: _invoke(emu, name, {"wait_for": str(rendezvous),
                                                           "count": count}), range(count)))


def test_a_burst_runs_the_init_once_and_each_environment_is_a_fork(
        emu: OwnEmulator, tmp_path: Path) -> None:
    name, init_log = _function(emu, tmp_path)
    results = _burst(emu, name, tmp_path)
    bodies = [body for body, _, _ in results]
    assert len({b["pid"] for b in bodies}) == BURST  # six environments, at once
    assert len({b["tmp"] for b in bodies}) == BURST  # each with its own TMPDIR ...
    assert len({b["stream"] for b in bodies}) == BURST  # ... and log stream
    assert len(init_log.read_text().splitlines()) == 1  # but one init, in the template
    reports = [_report(tail) for _, tail, _ in results]
    inits = {r.init_duration_ms for r in reports}
    assert len(inits) == 1 and None not in inits  # every one a cold start: the template's init
    assert all(r.restore_duration_ms is None for r in reports)
    assert all("init done in" in tail for _, tail, _ in results)  # each log has the init's output


def test_a_cold_start_is_held_back_by_the_init_duration_and_a_warm_one_is_not(
        emu: OwnEmulator, tmp_path: Path) -> None:
    name, _ = _function(emu, tmp_path, INIT_WORK="3000000")
    first = _invoke(emu, name)
    burst = _burst(emu, name, tmp_path, 3)  # one warm environment, two new forks
    init_s = _report(first[1]).init_duration_ms / 1000
    cold = [took for _, tail, took in burst if _report(tail).init_duration_ms is not None]
    assert len(cold) == 2
    assert all(took >= init_s for took in cold)  # a client sees AWS's cold start latency


def test_without_holding_back_a_fork_answers_at_once(tmp_path: Path) -> None:
    config = LambdaConfig(cold_starts="template", hold_init=False)
    with own_emulator(tmp_path, lambda_=config) as emu:
        name, init_log = _function(emu, tmp_path, INIT_WORK="3000000")
        init_s = _report(_invoke(emu, name)[1]).init_duration_ms / 1000
        results = _burst(emu, name, tmp_path, 3)
        forks = [took for _, tail, took in results if _report(tail).init_duration_ms is not None]
        assert len(forks) == 2 and len(init_log.read_text().splitlines()) == 1
        # The forks still report the template's init; they answered without waiting it out
        # (their wait for each other is milliseconds; an init of 3e6 squares is far longer).
        assert min(forks) < init_s


def test_an_init_error_is_the_function_error_and_the_next_cold_start_tries_again(
        emu: OwnEmulator, tmp_path: Path) -> None:
    name, init_log = _function(emu, tmp_path, INIT_FAIL="1")
    for attempt in (1, 2):
        response = emu.client("lambda").invoke(FunctionName=name, LogType="Tail")
        body = json.loads(response["Payload"].read())
        assert response["FunctionError"] == "Unhandled"
        assert body["errorType"] == "RuntimeError"
        assert "the init failed on purpose" in body["errorMessage"]
        assert len(init_log.read_text().splitlines()) == attempt


def test_an_init_that_leaves_a_thread_running_cold_starts_for_real(
        emu: OwnEmulator, tmp_path: Path) -> None:
    name, init_log = _function(emu, tmp_path, INIT_THREAD="1")
    results = _burst(emu, name, tmp_path, 2)
    assert all("pid" in body for body, _, _ in results), results
    assert len({body["pid"] for body, _, _ in results}) == 2
    # the template's init, then a real one in each environment: forks would lack the thread
    assert len(init_log.read_text().splitlines()) == 3
    logs = emu.client("logs")
    group = f"/aws/lambda/{name}"
    deadline = time.monotonic() + 30
    found: list[str] = []
    while not found and time.monotonic() < deadline:
        emu.emulator.lambdas.flush_logs()
        events = logs.filter_log_events(logGroupName=group)["events"]
        found = [e["message"] for e in events if "run for real" in e["message"]]
    assert found and "left 1 thread(s) running" in found[0]


def test_new_code_makes_a_new_template(emu: OwnEmulator, tmp_path: Path) -> None:
    name, init_log = _function(emu, tmp_path)
    assert _invoke(emu, name)[0]["version"] == "1"
    emu.client("lambda").update_function_configuration(FunctionName=name, Environment={
        "Variables": {"INIT_LOG": str(init_log), "CODE": "2"}})
    assert _invoke(emu, name)[0]["version"] == "2"
    assert len(init_log.read_text().splitlines()) == 2


def test_stopping_the_emulator_leaves_no_template_or_fork(tmp_path: Path) -> None:
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    threads_before = set(threading.enumerate())  # the session emulator's environments' too
    with own_emulator(tmp_path, lambda_=LambdaConfig(cold_starts="template")) as emu:
        name, _ = _function(emu, tmp_path)
        bodies = [body for body, _, _ in _burst(emu, name, tmp_path, 2)]
        started = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
        assert {b["pid"] for b in bodies} <= {p.pid for p in started}
    _gone, alive = psutil.wait_procs(started, timeout=30)  # a stop takes milliseconds
    assert alive == []
    assert not any(Path(b["tmp"]).exists() for b in bodies)
    assert not [t for t in set(threading.enumerate()) - threads_before
                if t.name.startswith("runtime-output") and t.is_alive()]


def test_the_mode_is_read_from_the_environment_and_checked() -> None:
    assert EmulatorConfig.from_env({"HARNESS_COLD_STARTS": "template"}).lambda_.cold_starts \
        == "template"
    assert EmulatorConfig.from_env({}).lambda_.cold_starts == "real"
    with pytest.raises(UsageError, match="HARNESS_COLD_STARTS"):
        EmulatorConfig.from_env({"HARNESS_COLD_STARTS": "warm"})


def test_the_keep_alive_lets_the_template_go_with_its_last_environment(tmp_path: Path) -> None:
    config = LambdaConfig(cold_starts="template", keep_alive_s=0.3)
    with own_emulator(tmp_path, lambda_=config) as emu:
        name, init_log = _function(emu, tmp_path)
        before = {p.pid for p in psutil.Process().children(recursive=True)}
        first = _invoke(emu, name)[0]
        made = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
        assert first["pid"] in {p.pid for p in made}  # the fork, and the template above it
        _gone, alive = psutil.wait_procs(made, timeout=30)  # reaped after 0.3 s idle
        assert alive == []
        assert emu.emulator.lambdas.environments() == 0
        second = _invoke(emu, name)[0]  # a new template: the init runs again
        assert second["pid"] != first["pid"]
        assert len(init_log.read_text().splitlines()) == 2


def test_stopping_the_emulator_cuts_a_templates_init_short(tmp_path: Path) -> None:
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    answers: list[object] = []
    with own_emulator(tmp_path, lambda_=LambdaConfig(cold_starts="template")) as emu:
        name, init_log = _function(emu, tmp_path, INIT_SLEEP="600")
        caller = threading.Thread(target=lambda: answers.append(_call_or_error(emu, name)))
        caller.start()
        deadline = time.monotonic() + 60  # the template's init starts within seconds
        while not (init_log.exists() and init_log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert init_log.read_text(), "the template's init never started"
        started = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
        stopping = time.monotonic()
    stopped_in = time.monotonic() - stopping
    caller.join(60)
    assert not caller.is_alive() and answers
    # The stop cut the ten-minute init short (generous bound: a stop takes well under a second).
    assert stopped_in < 60
    _gone, alive = psutil.wait_procs(started, timeout=30)
    assert alive == []


def _call_or_error(emu: OwnEmulator, name: str) -> object:
    try:
        return emu.client("lambda").invoke(FunctionName=name)
    except Exception as error:  # noqa: BLE001 - the emulator is stopping: any answer will do
        return error
