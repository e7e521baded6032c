"""Shared test helpers, and the check that the suite leaves no process or thread behind."""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Callable

import psutil
import pytest

from harness.package import zip_files

# Threads the harness names; any of them alive after the session is a leak.
_HARNESS_THREAD_PREFIXES = ("runtime-api-", "runtime-output-", "emulator-http", "lambda-reaper",
                            "lambda-housekeeping", "lambda-logs",
                            "lambda-event", "apigw-integration")


build_zip = zip_files


@pytest.fixture(scope="session")
def make_zip() -> Callable[[dict[str, str]], bytes]:
    """``make_zip({"app.py": source})`` -> zip bytes for create_function."""
    return build_zip


def leftovers() -> list[str]:
    found = [f"process {p.pid}: {' '.join(p.cmdline()[:4])}"
             for p in psutil.Process().children(recursive=True) if p.is_running()
             and p.status() != psutil.STATUS_ZOMBIE]
    found += [f"thread {t.name}" for t in threading.enumerate()
              if t.name.startswith(_HARNESS_THREAD_PREFIXES)]
    return found + _leftover_containers()


def _leftover_containers() -> list[str]:
    """Containers this test process started and did not remove (only if it started any)."""
    import sys

    if "harness.lambda_.container" not in sys.modules:
        return []
    from harness.container.engine import OWNER_LABEL, EngineUnavailable, connect, owner_label

    try:
        client = connect(timeout_s=10)
    except EngineUnavailable:
        return []
    try:
        mine = {"label": f"{OWNER_LABEL}={owner_label()}"}
        found = client.api.containers(all=True, filters=mine)
        return [f"container {c['Names'][0].lstrip('/')} ({c['Image']})" for c in found]
    finally:
        client.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After every fixture is torn down: nothing the harness started may still run."""
    import time

    deadline = time.monotonic() + 5
    left = leftovers()
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = leftovers()
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "harness left these running after the suite:\n  " + "\n  ".join(left)
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# -- functions in the session emulator, for tests of the Lambda data plane ---------------------
ROLE = "arn:aws:iam::123456789012:role/test-role"
_names = itertools.count()
# The Runtime matching the interpreter that runs functions, so no version warning is logged.
LOCAL_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"

TRIVIAL = '''
import os, time, json
print("init of", os.environ["AWS_LAMBDA_FUNCTION_NAME"])
def handler(event, context):
    print("event", json.dumps(event))
    action = event.get("action") if isinstance(event, dict) else None
    if action == "raise":
        raise ValueError("boom: " + str(event.get("why")))
    if action == "exit":
        os._exit(int(event.get("code", 3)))
    if action == "sleep":
        time.sleep(float(event["seconds"]))
    if action == "unserialisable":
        return {"x": object()}
    if action == "big":
        return "x" * int(event["size"])
    return {"echo": event, "request_id": context.aws_request_id,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "function": context.function_name, "memory": context.memory_limit_in_mb,
            "endpoint": os.environ.get("AWS_ENDPOINT_URL"), "pid": os.getpid()}
'''


@pytest.fixture(scope="session")
def lambda_client(harness_client):
    from botocore.config import Config

    # No client-side retries: the tests look at what one call answers (throttles included).
    return harness_client("lambda", config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture(scope="session")
def iam_role(harness_client) -> Callable[[], str]:
    """The role functions are created with; calling it (re)creates the role when missing, as a
    test that resets moto's process-wide state (tests/lambda_fn) takes it away."""
    iam = harness_client("iam")

    def ensure() -> str:
        try:
            iam.create_role(RoleName="test-role", AssumeRolePolicyDocument="{}")
        except iam.exceptions.EntityAlreadyExistsException:
            pass
        return ROLE

    ensure()
    return ensure


@pytest.fixture
def create_function(lambda_client, iam_role, make_zip) -> Callable[..., str]:
    """Create a function from source files; returns its (unique) name."""
    created: list[str] = []

    def create(files: dict[str, str] | None = None, handler: str = "app.handler",
               runtime: str = LOCAL_RUNTIME, **config) -> str:
        name = f"fn-{next(_names)}"
        lambda_client.create_function(
            FunctionName=name, Runtime=runtime, Role=iam_role(), Handler=handler,
            Code={"ZipFile": make_zip(files or {"app.py": TRIVIAL})}, **config)
        created.append(name)
        return name

    yield create
    for name in created:
        lambda_client.delete_function(FunctionName=name)
