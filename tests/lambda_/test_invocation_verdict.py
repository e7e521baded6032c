"""An invocation's verdict is set once: a response racing the timeout or a crash never overwrites
the verdict the environment acted on, and whoever lost is told so."""

from __future__ import annotations

import http.client
import json
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from harness.lambda_.environment import ExecutionEnvironment, error_payload
from harness.lambda_.invocation import Invocation, RuntimeError_
from harness.lambda_.spec import FunctionSpec

SPEC = FunctionSpec(
    name="racer", arn="arn:aws:lambda:us-east-1:123456789012:function:racer",
    version="$LATEST", handler="app.handler", runtime="python3.11", memory_mb=128,
    timeout_s=3.0, environment=(), code_sha256="x", package_type="Zip", image_uri=None,
    account_id="123456789012", region="us-east-1")
BODY = b'{"answer": 42}'
TIMEOUT = RuntimeError_("Sandbox.Timedout", error_payload("Sandbox.Timedout", "timed out"))
CRASH = RuntimeError_("Runtime.ExitError", error_payload("Runtime.ExitError", "signal: killed"))


def _invocation(timeout_s: float = 3.0) -> Invocation:
    return Invocation(request_id="r-1", payload=b"{}", function_arn=SPEC.arn, timeout_s=timeout_s)


@pytest.fixture
def eager_thread_switches() -> Iterator[None]:
    """Switch threads every microsecond, not every 5 ms: a check-then-set without a lock is
    then interrupted between its check and its set often enough to be seen."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@pytest.mark.parametrize("contenders", [2, 8])
def test_of_many_concurrent_verdicts_exactly_one_wins_and_is_the_one_stored(
        contenders, eager_thread_switches):
    for _ in range(300):
        invocation = _invocation()
        barrier = threading.Barrier(contenders)
        results: dict[int, bool] = {}

        def contend(index: int, invocation: Invocation = invocation,
                    barrier: threading.Barrier = barrier,
                    results: dict[int, bool] = results) -> None:
            barrier.wait()
            if index % 2:
                results[index] = invocation.fail(TIMEOUT if index % 4 == 1 else CRASH)
            else:
                results[index] = invocation.succeed(b"%d" % index)

        threads = [threading.Thread(target=contend, args=(i,)) for i in range(contenders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [index for index, won in results.items() if won]
        assert len(winners) == 1, results
        winner = winners[0]
        if winner % 2:
            assert invocation.response is None
            assert invocation.error is (TIMEOUT if winner % 4 == 1 else CRASH)
        else:
            assert (invocation.response, invocation.error) == (b"%d" % winner, None)
        assert invocation.done


class ScriptedRuntime:
    """A stand-in for the runtime client that speaks the real Runtime API over HTTP: it takes
    one invocation, waits for its cue, posts ``BODY`` as the response and records the answer.
    Its death reaches the environment as a real runtime's does: through ``on_exit``."""

    def __init__(self, runtime_api: str, on_exit: Callable[[int], None],
                 cue: Callable[[dict[str, str]], None]) -> None:
        self._base = "/2018-06-01/runtime"
        host, _, rest = runtime_api.partition(":")
        port, _, prefix = rest.partition("/")
        self._host, self._port, self._prefix = host, int(port), f"/{prefix}" if prefix else ""
        self._on_exit = on_exit
        self._cue = cue
        self._exit_lock = threading.Lock()
        self.killed = False
        self.status: int | None = None
        """What the Runtime API answered the response."""
        self.answer: dict[str, str] = {}
        self._thread = threading.Thread(target=self._run, name="scripted-runtime")
        self._thread.start()

    def _call(self, method: str, path: str, body: bytes | None = None
              ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self._host, self._port, timeout=30)
        try:
            connection.request(method, self._prefix + self._base + path, body=body)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def _run(self) -> None:
        status, headers, _body = self._call("GET", "/invocation/next")
        if status != 200:
            return
        self._cue(headers)
        request_id = headers["Lambda-Runtime-Aws-Request-Id"]
        self.status, _, raw = self._call("POST", f"/invocation/{request_id}/response", BODY)
        self.answer = json.loads(raw) if raw else {}

    def join(self) -> None:
        self._thread.join(timeout=30)
        assert not self._thread.is_alive()

    def take_output(self) -> str:
        return ""

    def peak_memory_mb(self) -> int:
        return 0

    def kill(self) -> None:
        with self._exit_lock:
            if self.killed:
                return
            self.killed = True
        self._on_exit(-9)


class ScriptedLauncher:
    def __init__(self, cue: Callable[[dict[str, str]], None]) -> None:
        self._cue = cue
        self.runtime: ScriptedRuntime | None = None

    def launch(self, spec: FunctionSpec, runtime_api: str, env_id: str,
               on_exit: Callable[[int], None]) -> ScriptedRuntime:
        self.runtime = ScriptedRuntime(runtime_api, on_exit, self._cue)
        return self.runtime


@contextmanager
def started(launcher: ScriptedLauncher) -> Iterator[ExecutionEnvironment]:
    env = ExecutionEnvironment(SPEC, launcher, "env-race")
    try:
        assert env.start() is None
        yield env
    finally:
        if launcher.runtime is not None:
            launcher.runtime.join()  # its response is answered before the Runtime API closes
        env.stop()


def _agrees(record, invocation: Invocation) -> None:  # type: ignore[no-untyped-def]
    """What invoke() returned is the stored verdict."""
    error = invocation.error
    assert record.error_type == (error.error_type if error is not None else None)
    assert record.payload == (invocation.response if error is None else error.payload)


def test_a_response_racing_a_crash_one_verdict_and_everyone_agrees():
    """The runtime posts its response while its exit (the crash path) fails the invocation,
    both released by one barrier: whichever wins, invoke's record, the stored verdict and the
    Runtime API's answer to the runtime agree."""
    outcomes = {"response": 0, "crash": 0}
    for _ in range(60):
        barrier = threading.Barrier(2)
        launcher = ScriptedLauncher(lambda _headers, barrier=barrier: barrier.wait())
        with started(launcher) as env:
            runtime = launcher.runtime
            assert runtime is not None

            def crash(barrier: threading.Barrier = barrier,
                      runtime: ScriptedRuntime = runtime) -> None:
                barrier.wait()
                # The response needs an HTTP round trip (~1 ms) that the exit does not: a
                # random head start of up to 2 ms lets either arrive first.
                time.sleep(random.uniform(0, 0.002))
                runtime.kill()

            crasher = threading.Thread(target=crash)
            crasher.start()
            invocation = _invocation()
            record = env.invoke(invocation)
            crasher.join()
            runtime.join()
            _agrees(record, invocation)
            if record.error_type is None:
                outcomes["response"] += 1
                assert (runtime.status, record.payload) == (202, BODY)
            else:
                outcomes["crash"] += 1
                assert record.error_type == "Runtime.ExitError"
                assert runtime.status == 400, runtime.answer  # refused: the verdict was set
    assert sum(outcomes.values()) == 60, outcomes


def test_a_response_at_the_deadline_either_wins_or_is_refused_as_timed_out():
    """The runtime answers right at its deadline, racing the timeout path: a response the
    Runtime API accepted is the verdict (no timeout line, the environment is kept), and one that
    lost is refused with 410 InvokeTimeout, as AWS's emulator answers."""
    def at_deadline(headers: dict[str, str]) -> None:
        deadline = int(headers["Lambda-Runtime-Deadline-Ms"]) / 1000
        time.sleep(max(0.0, deadline - time.time()))

    outcomes: dict[str, int] = {}
    for _ in range(40):
        launcher = ScriptedLauncher(at_deadline)
        with started(launcher) as env:
            runtime = launcher.runtime
            assert runtime is not None
            invocation = _invocation(timeout_s=0.02)
            record = env.invoke(invocation)
            runtime.join()
            _agrees(record, invocation)
            if record.error_type is None:
                assert runtime.status == 202 and record.payload == BODY
                assert "Task timed out" not in record.output
                assert not runtime.killed  # a response in time keeps the environment
            else:
                assert record.error_type == "Sandbox.Timedout"
                assert "Task timed out after 0.02 seconds" in record.output
                assert runtime.killed
                # after the verdict (410) or after the invocation was cleared (400)
                assert runtime.status in (400, 410), runtime.answer
                if runtime.status == 410:
                    assert runtime.answer["errorType"] == "InvokeTimeout"
            outcome = "response" if record.error_type is None else f"timeout-{runtime.status}"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert sum(outcomes.values()) == 40, outcomes
