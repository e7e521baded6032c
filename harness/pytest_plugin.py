"""pytest fixtures that hand a test a running emulator and the deployed example stack, and the
collection as tests of the scenario files a project names (the ``harness_scenarios`` ini option,
``--harness-scenarios``; nothing without them).

Registered through the ``pytest11`` entry point, so installing the package is enough:

    def test_predict(harness_stack, harness_http, harness_reset):
        status, body = harness_http.post_json(harness_stack.invoke_url, {...})

Session fixtures start the expensive things once (emulator, package, stack); ``harness_reset``
only clears state, and can be called again inside each hypothesis example.
"""

from __future__ import annotations

import glob
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.clock_client import ClockClient
from harness.config import EmulatorConfig
from harness.deploy import Stack, StackSpec, Target, deploy
from harness.emulator import Emulator
from harness.errors import HarnessError, UsageError
from harness.package import FUNCTION_SRC, Package
from harness.scenario.http_client import HttpHelper
from harness.scenario.model import TemplateSource
from harness.scenario.session import ScenarioSession, empty_bucket
from harness.scenario.template_stack import TemplateStack, deploy_template_source
from harness.targets import DEFAULT_TARGET, TARGETS, Endpoint, check_target, unmet_requirement

__all__ = ["HttpHelper", "InvocationRecorder", "StackReset"]

_TRUE = {"1", "true", "yes", "on"}
_MARKERS = {
    "requires_docker": "the test needs a Docker engine; skipped when none answers",
    "requires_aws": "the test needs AWS credentials; skipped when there are none",
}


# -- options and markers -----------------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "serverless ML harness")
    group.addoption("--harness-target", choices=TARGETS, default=None,
                    help=f"where the fixtures run: {', '.join(TARGETS)} (default "
                         f"$HARNESS_TARGET, else {DEFAULT_TARGET})")
    group.addoption("--harness-endpoint", default=None,
                    help="use an emulator already running at this URL instead of starting one "
                         "(default $HARNESS_ENDPOINT_URL)")
    group.addoption("--harness-ci", action="store_true", default=None,
                    help="derandomise scenario property runs that give no seed (default on "
                         "when $CI is true)")
    group.addoption("--harness-scenarios", action="append", default=[], metavar="PATH",
                    help="collect the .yaml/.yml files at PATH (a file, a directory or a glob, "
                         "relative to the current directory) as scenario tests; repeatable, "
                         "added to the harness_scenarios ini option")
    group.addoption("--harness-template", default=None, metavar="PATH",
                    help="the SAM or CloudFormation template `harness_template_stack` deploys "
                         "(default: the harness_template ini option)")
    group.addoption("--harness-template-parameter", action="append", default=[],
                    metavar="KEY=VALUE", help="a parameter of that template (repeatable; "
                                              "added to the harness_template_parameters ini "
                                              "option)")
    parser.addini("harness_template", default="",
                  help="template (relative to the ini file) that `harness_template_stack` "
                       "deploys once per session")
    parser.addini("harness_template_parameters", type="linelist", default=[],
                  help="KEY=VALUE parameters of harness_template, one a line")
    parser.addini("harness_scenarios", type="paths", default=[],
                  help="files, directories or globs (relative to the ini file) whose .yaml/.yml "
                       "files are scenario tests; without it or --harness-scenarios no YAML "
                       "file is collected")


def pytest_configure(config: pytest.Config) -> None:
    for name, doc in _MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {doc}")
    try:
        check_target(_target(config))
    except UsageError as error:
        raise pytest.UsageError(f"--harness-target: {error.message}") from None
    config.stash[_SCENARIO_ROOTS] = scenario_roots(config)
    config.stash[_TEMPLATE] = template_source(config)


def _target(config: pytest.Config) -> str:
    return str(config.getoption("--harness-target") or os.environ.get("HARNESS_TARGET")
               or DEFAULT_TARGET)


def _endpoint_option(config: pytest.Config) -> str | None:
    given = config.getoption("--harness-endpoint") or os.environ.get("HARNESS_ENDPOINT_URL")
    return str(given).rstrip("/") if given else None


def ci_mode(config: pytest.Config) -> bool:
    flag = config.getoption("--harness-ci")
    return bool(flag) if flag is not None else \
        os.environ.get("CI", "").strip().lower() in _TRUE


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip, with the reason, tests whose Docker engine or AWS credentials are missing."""
    needs = [name for name in ("docker", "aws")
             if item.get_closest_marker(f"requires_{name}") is not None]
    reason = unmet_requirement(needs)
    if reason:
        pytest.skip(reason)


# -- scenario files as tests -------------------------------------------------------------------

_SCENARIO_SUFFIXES = (".yaml", ".yml")
_SCENARIO_ROOTS = pytest.StashKey[tuple[Path, ...]]()


def scenario_roots(config: pytest.Config) -> tuple[Path, ...]:
    """The files and directories the project names as scenarios, globs expanded: the
    ``harness_scenarios`` ini option (relative to the ini file) and every
    ``--harness-scenarios`` (relative to the current directory)."""
    here = config.invocation_params.dir
    named = [("harness_scenarios", Path(p)) for p in config.getini("harness_scenarios")]
    named += [("--harness-scenarios", here / p)
              for p in config.getoption("--harness-scenarios")]
    return tuple(root for where, path in named for root in _expand(where, path))


def _expand(where: str, path: Path) -> list[Path]:
    text = os.path.normpath(os.path.abspath(path))
    found = glob.glob(text, recursive=True) if any(c in text for c in "*?[") else \
        [text] if os.path.exists(text) else []
    if not found:
        # A path that names nothing is a typo; collecting nothing would hide it.
        raise pytest.UsageError(f"{where}: {path} matches no file or directory")
    return [Path(match) for match in found]


def is_scenario_file(path: Path, roots: Sequence[Path]) -> bool:
    """A .yaml/.yml file that is one of ``roots`` or lies under one of them."""
    if path.suffix not in _SCENARIO_SUFFIXES:
        return False
    where = Path(os.path.normpath(os.path.abspath(path)))
    return any(where == root or root in where.parents for root in roots)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    roots: tuple[Path, ...] = parent.config.stash.get(_SCENARIO_ROOTS, ())
    if is_scenario_file(file_path, roots):
        from harness.scenario.pytest_items import ScenarioFile

        return ScenarioFile.from_parent(parent, path=file_path)
    return None


# -- the user's template ------------------------------------------------------------------------

_TEMPLATE = pytest.StashKey["TemplateSource | None"]()


def template_source(config: pytest.Config) -> TemplateSource | None:
    """``--harness-template`` (relative to the current directory), else the ``harness_template``
    ini option (relative to the ini file), with their parameters; None when neither is given."""
    given = config.getoption("--harness-template")
    ini = str(config.getini("harness_template") or "")
    if given:
        path = config.invocation_params.dir / given
    elif ini:
        path = (config.inipath.parent if config.inipath else config.rootpath) / ini
    else:
        return None
    pairs = [*config.getini("harness_template_parameters"),
             *config.getoption("--harness-template-parameter")]
    parameters = {}
    for pair in pairs:
        key, sep, value = str(pair).partition("=")
        if not sep or not key:
            raise pytest.UsageError(f"--harness-template-parameter must be KEY=VALUE, "
                                    f"got {pair!r}")
        parameters[key] = value
    return TemplateSource(path=Path(os.path.normpath(os.path.abspath(path))),
                          parameters=tuple(sorted(parameters.items())))


# -- configuration fixtures (override them in a conftest.py) -----------------------------------

@pytest.fixture(scope="session")
def harness_config(tmp_path_factory: pytest.TempPathFactory) -> EmulatorConfig:
    """The embedded emulator's configuration; override this fixture to change it."""
    return EmulatorConfig.from_env().with_overrides(
        port=0, host="127.0.0.1", state_dir=tmp_path_factory.mktemp("harness-state"))


@pytest.fixture(scope="session")
def harness_function_dir() -> Path:
    """The function's source directory (the example function unless overridden)."""
    return FUNCTION_SRC


@pytest.fixture(scope="session")
def harness_memory_mb() -> int:
    """Memory size of the deployed function, in MB."""
    return 512


@pytest.fixture(scope="session")
def harness_timeout_s() -> int:
    """Timeout of the deployed function, in seconds."""
    return 30


@pytest.fixture(scope="session")
def harness_stack_spec(harness_memory_mb: int, harness_timeout_s: int) -> StackSpec:
    """What ``harness_stack`` deploys; override to change the bucket, region or anything else."""
    return StackSpec(memory_mb=harness_memory_mb, timeout_s=harness_timeout_s)


@pytest.fixture(scope="session")
def harness_build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("harness-build")


# -- the endpoint ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def harness_emulator(harness_config: EmulatorConfig) -> Iterator[Emulator]:
    """One embedded emulator for the whole session."""
    with Emulator(harness_config) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def harness_target(request: pytest.FixtureRequest) -> Endpoint:
    """The target the session runs against: a given endpoint, else the embedded emulator."""
    kind = _target(request.config)
    given = _endpoint_option(request.config)
    if given:
        return Endpoint(kind, given)
    emulator = request.getfixturevalue("harness_emulator")
    return Endpoint(kind, emulator.url, emulator)


@pytest.fixture(scope="session")
def harness_endpoint(harness_target: Endpoint) -> str:
    """The endpoint URL every AWS client of the test should use."""
    return harness_target.url


@pytest.fixture(scope="session")
def harness_client(harness_endpoint: str) -> Callable[..., Any]:
    """Factory: ``harness_client("s3", region_name="eu-west-2")`` bound to the endpoint."""
    import boto3

    def make(service: str, region_name: str = "us-east-1", **kwargs: Any) -> Any:
        kwargs.setdefault("aws_access_key_id", "test")
        kwargs.setdefault("aws_secret_access_key", "test")
        return boto3.session.Session().client(service, region_name=region_name,
                                              endpoint_url=harness_endpoint, **kwargs)

    return make


# -- the deployed stack ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def harness_package(harness_build_dir: Path, harness_function_dir: Path) -> Package:
    """The function's zip package (the model trained once per session)."""
    from harness.package import build_package

    return build_package(harness_build_dir, harness_function_dir)


@pytest.fixture(scope="session")
def harness_stack(harness_endpoint: str, harness_stack_spec: StackSpec,
                  harness_package: Package) -> Stack:
    """The example stack (``lambda_fn/template.yaml``, a CloudFormation stack), deployed once
    per session: ``invoke_url``, ``bucket``, ``function_name``, ``api_id``, ``region``,
    ``stage``, ``stack_name``."""
    return deploy(Target(endpoint_url=harness_endpoint), harness_stack_spec, harness_package)


@pytest.fixture(scope="session")
def harness_template_region() -> str:
    """The region ``harness_template_stack`` deploys to; override to change it."""
    return StackSpec().region


@pytest.fixture(scope="session")
def harness_template_stack(request: pytest.FixtureRequest, harness_endpoint: str,
                           harness_template_region: str) -> TemplateStack:
    """The template of ``--harness-template`` (or the ``harness_template`` ini option),
    deployed once per session: ``name``, ``outputs``, ``physical_ids`` (logical id -> physical
    id), ``resources`` (logical id -> (type, physical id)), ``function(logical_id)``. The
    per-test reset leaves it alone."""
    source = request.config.stash.get(_TEMPLATE, None)
    if source is None:
        pytest.fail("harness_template_stack needs a template: --harness-template PATH or the "
                    "harness_template ini option", pytrace=False)
    try:
        return deploy_template_source(Target(endpoint_url=harness_endpoint), source,
                                      harness_template_region)
    except HarnessError as error:
        pytest.fail(f"harness_template_stack: {error.message}", pytrace=False)


@pytest.fixture
def harness_faults(harness_endpoint: str) -> Iterator[Any]:
    """Fault injection for one test: ``harness_faults.add({"target": "s3", "kind": "error",
    "error": "SlowDown"})``; every rule is cleared when the test ends."""
    from harness.faults.client import FaultClient

    client = FaultClient(harness_endpoint)
    yield client
    client.clear()


@pytest.fixture
def harness_clock(harness_endpoint: str) -> ClockClient:
    """The emulator's clock: ``harness_clock.advance(60)`` makes a minute pass for retries,
    event ages and schedules, at once (``now()``, ``offset``). Works against ``harness up``."""
    return ClockClient(harness_endpoint)


@pytest.fixture(scope="session")
def harness_http() -> HttpHelper:
    """HTTP helper for the API: ``request(...)`` and ``post_json(url, payload)``."""
    return HttpHelper()


# -- cheap per-test state ------------------------------------------------------------------------

class InvocationRecorder:
    """Every invocation the embedded emulator ran since the last reset: (function, record)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[tuple[str, Any]] = []

    def __call__(self, spec: Any, record: Any) -> None:
        with self._lock:
            self._records.append((spec.name, record))

    def records(self, function_name: str | None = None) -> list[Any]:
        """The InvokeRecords (``.report``, ``.log_lines``, ``.cold``), oldest first."""
        with self._lock:
            return [record for name, record in self._records
                    if function_name is None or name == function_name]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


@pytest.fixture(scope="session")
def harness_recorder(harness_target: Endpoint) -> InvocationRecorder:
    recorder = InvocationRecorder()
    if harness_target.emulator is not None and harness_target.emulator.lambdas is not None:
        harness_target.emulator.lambdas.add_listener(recorder)
    return recorder


class StackReset:
    """Clears what tests leave behind in a deployed stack, keeping the stack itself (and its
    warm environments): the bucket's objects, the function's logs, the recorded invocations."""

    def __init__(self, stack: Stack, client: Callable[..., Any],
                 recorder: InvocationRecorder) -> None:
        self._stack = stack
        self._s3 = client("s3", region_name=stack.region)
        self._logs = client("logs", region_name=stack.region)
        self._recorder = recorder

    def __call__(self) -> None:
        empty_bucket(self._s3, self._stack.bucket)
        try:
            self._logs.delete_log_group(logGroupName=f"/aws/lambda/{self._stack.function_name}")
        except self._logs.exceptions.ResourceNotFoundException:
            pass
        self._recorder.clear()


@pytest.fixture(scope="session")
def harness_stack_reset(harness_stack: Stack, harness_client: Callable[..., Any],
                        harness_recorder: InvocationRecorder) -> StackReset:
    """The reset as a session-scoped callable, for hypothesis tests: call it at the start of
    each example (hypothesis does not re-run function-scoped fixtures per example, and warns
    about them)."""
    return StackReset(harness_stack, harness_client, harness_recorder)


@pytest.fixture
def harness_reset(harness_stack_reset: StackReset) -> StackReset:
    """Resets the stack's state before the test (and returns the reset, to call again)."""
    harness_stack_reset()
    return harness_stack_reset


@pytest.fixture
def harness_invocations(harness_target: Endpoint, harness_recorder: InvocationRecorder,
                        harness_reset: StackReset) -> InvocationRecorder:
    """The invocations this test caused (embedded emulator only), with REPORT figures."""
    if harness_target.emulator is None:
        pytest.skip("invocation records need the embedded emulator (not --harness-endpoint)")
    return harness_recorder


# -- what scenario files run on ------------------------------------------------------------------

@pytest.fixture(scope="session")
def harness_scenario_session(harness_endpoint: str,
                             harness_build_dir: Path) -> ScenarioSession:
    """Deploys and caches the stacks scenario files ask for, on the session's endpoint."""
    return ScenarioSession(harness_endpoint, harness_build_dir)
