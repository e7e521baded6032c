"""Shared test helpers, and the check that the suite leaves no process, thread, container or
listening port behind."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable
from dataclasses import replace

import pytest

from harness.config import EmulatorConfig
from harness.leftovers import Baseline, leftovers
from harness.package import zip_files

build_zip = zip_files
_BASELINE = pytest.StashKey[Baseline]()


@pytest.fixture(scope="session")
def make_zip() -> Callable[[dict[str, str]], bytes]:
    """``make_zip({"app.py": source})`` -> zip bytes for create_function."""
    return build_zip


def pytest_sessionstart(session: pytest.Session) -> None:
    """What runs and listens before any test: not the harness's."""
    session.config.stash[_BASELINE] = Baseline.now()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After every fixture is torn down: nothing the harness started may still run or listen
    (processes, harness threads, containers, TCP ports of this process or of a leftover child)."""
    left = leftovers(session.config.stash.get(_BASELINE, Baseline()))
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "harness left these running after the suite:\n  " + "\n  ".join(left)
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def harness_config(tmp_path_factory: pytest.TempPathFactory) -> EmulatorConfig:
    """The session emulator's: new environments fork from a template of their function version
    (its init runs once) and answer at once, since most tests do not examine cold starts; those
    that do make an emulator of their own (tests/emulator/support.py ``own_emulator``)."""
    config = EmulatorConfig.from_env().with_overrides(
        port=0, host="127.0.0.1", state_dir=tmp_path_factory.mktemp("harness-state"))
    if "HARNESS_COLD_STARTS" in os.environ:  # asked for: e.g. the whole suite in real mode
        return config
    return config.with_overrides(lambda_=replace(config.lambda_, cold_starts="template",
                                                 hold_init=False))


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
        config.setdefault("Role", iam_role())  # a role without policies: it may call nothing
        lambda_client.create_function(
            FunctionName=name, Runtime=runtime, Handler=handler,
            Code={"ZipFile": make_zip(files or {"app.py": TRIVIAL})}, **config)
        created.append(name)
        return name

    yield create
    for name in created:
        lambda_client.delete_function(FunctionName=name)
