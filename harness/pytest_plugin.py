"""pytest fixtures that hand a test a running emulator and the deployed example stack.

Registered through the ``pytest11`` entry point, so installing the package is enough:

    def test_predict(harness_stack, harness_http):
        status, body = harness_http.post_json(harness_stack.invoke_url, {...})
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.config import EmulatorConfig
from harness.deploy import Stack, StackSpec, Target, deploy
from harness.emulator import Emulator


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "serverless ML harness")
    group.addoption("--harness-endpoint", default=None,
                    help="use an emulator already running at this URL instead of starting one")


@pytest.fixture(scope="session")
def harness_config(tmp_path_factory: pytest.TempPathFactory) -> EmulatorConfig:
    """The embedded emulator's configuration; override this fixture to change it."""
    return EmulatorConfig.from_env().with_overrides(
        port=0, host="127.0.0.1", state_dir=tmp_path_factory.mktemp("harness-state"))


@pytest.fixture(scope="session")
def harness_emulator(harness_config: EmulatorConfig) -> Iterator[Emulator]:
    """One embedded emulator for the whole session."""
    with Emulator(harness_config) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def harness_endpoint(request: pytest.FixtureRequest) -> str:
    """The endpoint URL every AWS client of the test should use."""
    given = request.config.getoption("--harness-endpoint")
    if given:
        return str(given).rstrip("/")
    return str(request.getfixturevalue("harness_emulator").url)


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


@pytest.fixture(scope="session")
def harness_stack_spec() -> StackSpec:
    """What ``harness_stack`` deploys; override to change memory, timeout or the bucket."""
    return StackSpec()


@pytest.fixture(scope="session")
def harness_build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("harness-build")


@pytest.fixture(scope="session")
def harness_stack(harness_endpoint: str, harness_stack_spec: StackSpec,
                  harness_build_dir: Path) -> Stack:
    """The example stack, deployed once per session."""
    from harness.package import build_package

    return deploy(Target(endpoint_url=harness_endpoint), harness_stack_spec,
                  build_package(harness_build_dir))


class HttpHelper:
    """Small HTTP client for the API: returns (status, headers, body) and never raises on 4xx."""

    def request(self, method: str, url: str, body: bytes | None = None,
                headers: dict[str, str] | None = None,
                timeout: float = 60.0) -> tuple[int, dict[str, str], bytes]:
        import urllib.error
        import urllib.request

        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers.items()), error.read()

    def post_json(self, url: str, payload: Any, timeout: float = 60.0) -> tuple[int, Any]:
        status, _headers, body = self.request(
            "POST", url, json.dumps(payload).encode(), {"Content-Type": "application/json"},
            timeout)
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body


@pytest.fixture(scope="session")
def harness_http() -> HttpHelper:
    return HttpHelper()
