"""The container tier's fixtures: they skip, with the reason, when no engine or image is there.

CI builds the images (`harness image build`) before the suite; on a machine without Docker these
tests skip and the rest of the suite runs as usual.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.config import EmulatorConfig, LambdaConfig
from harness.emulator import Emulator


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    from harness.container.engine import connect, engine_problem

    problem = engine_problem()
    if problem is not None:
        pytest.skip(f"container tier not tested: {problem}")
    client = connect()
    yield client
    client.close()


def _require_image(client: Any, tag: str) -> str:
    import docker.errors

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        pytest.skip(f"container tier not tested: image {tag} is not built "
                    "(run `harness image build`; .ci/run does)")
    return tag


@pytest.fixture(scope="session")
def base_image(docker_client: Any) -> str:
    from harness.container.images import BASE_TAG

    return _require_image(docker_client, BASE_TAG)


@pytest.fixture(scope="session")
def function_image(docker_client: Any, base_image: str) -> str:
    from harness.container.images import FUNCTION_TAG

    return _require_image(docker_client, FUNCTION_TAG)


@pytest.fixture(scope="module")
def container_emulator(tmp_path_factory: pytest.TempPathFactory,
                       base_image: str) -> Iterator[Emulator]:
    """An emulator whose zip functions run in containers of the base image, too."""
    config = EmulatorConfig().with_overrides(
        port=0, state_dir=tmp_path_factory.mktemp("container-state"),
        lambda_=LambdaConfig(zip_executor="container", zip_image=base_image))
    with Emulator(config) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def aws(container_emulator: Emulator) -> Any:
    """``aws("lambda")``: a boto3 client of the container emulator, without retries."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name="us-east-1")

    def client(service: str, region: str = "us-east-1") -> Any:
        return session.client(service, endpoint_url=container_emulator.url, region_name=region,
                              config=Config(retries={"max_attempts": 1}))

    iam = client("iam")
    try:
        iam.create_role(RoleName="container-role", AssumeRolePolicyDocument="{}")
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    return client


ROLE = "arn:aws:iam::123456789012:role/container-role"

_tier = {"seconds": 0.0, "passed": 0, "skipped": 0, "failed": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add up what the container tier costs, for the summary CI prints."""
    if not report.nodeid.startswith("tests/container/"):
        return
    _tier["seconds"] += report.duration
    if report.when == "call" or report.outcome != "passed":
        _tier[report.outcome] = _tier.get(report.outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if any(_tier[key] for key in ("passed", "skipped", "failed")):
        terminalreporter.write_line(
            f"container tier: {_tier['passed']} passed, {_tier['skipped']} skipped, "
            f"{_tier['failed']} failed in {_tier['seconds']:.1f} s (setup and teardown included)")


def containers_of(client: Any, labels: dict[str, str]) -> list[dict[str, Any]]:
    """Containers (running or not) carrying all of ``labels``."""
    filters = [f"{key}={value}" for key, value in labels.items()]
    return list(client.api.containers(all=True, filters={"label": filters}))
