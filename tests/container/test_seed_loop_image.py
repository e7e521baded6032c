"""The seed loop end to end through the function's container image, on the host network."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest

from harness.container.engine import ENV_LABEL, FUNCTION_LABEL, OWNER_LABEL, owner_label
from harness.deploy import Stack, StackSpec, Target, deploy
from harness.emulator import Emulator
from harness.features import encode_features
from harness.package import Package, build_package
from tests.container.conftest import containers_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Package:
    return build_package(tmp_path_factory.mktemp("image-build"))


@pytest.fixture(scope="module")
def image_stack(container_emulator: Emulator, function_image: str, package: Package) -> Stack:
    # Names of its own: moto's state is the process's, and the session's example stack (the
    # zip) may live in this process too (a test worker runs several modules).
    spec = StackSpec(image_uri=function_image, memory_mb=384, bucket="harness-ml-image-data",
                     function_name="harness-predict-image", api_name="harness-predict-image-api")
    return deploy(Target(endpoint_url=container_emulator.url), spec, package)


def _post(url: str, payload: dict) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _upload(aws, stack: Stack, package: Package, key: str) -> np.ndarray:
    features = np.load(package.holdout_features, allow_pickle=False)
    aws("s3", stack.region).upload_fileobj(io.BytesIO(encode_features(features, "npy")),
                                           stack.bucket, key)
    return features


def test_upload_list_post_predict_through_the_image(aws, image_stack: Stack, package: Package):
    key = "validation/image_features.npy"
    features = _upload(aws, image_stack, package, key)
    listed = aws("s3", image_stack.region).list_objects_v2(Bucket=image_stack.bucket)
    assert key in [obj["Key"] for obj in listed["Contents"]]
    status, body = _post(image_stack.invoke_url, {"bucket": image_stack.bucket, "key": key})
    assert status == 200, body
    labels = np.load(package.holdout_labels, allow_pickle=False)
    assert len(body["predictions"]) == len(features)
    assert float(np.mean(np.asarray(body["predictions"]) == labels)) >= 0.8


def test_cold_then_warm_in_the_same_container(aws, image_stack: Stack, package: Package,
                                              docker_client):
    key = "validation/warm.npy"
    _upload(aws, image_stack, package, key)
    lam = aws("lambda", image_stack.region)
    event = {"httpMethod": "POST", "path": "/predict", "resource": "/predict",
             "body": json.dumps({"bucket": image_stack.bucket, "key": key})}
    reports = []
    for _ in range(2):
        result = lam.invoke(FunctionName=image_stack.function_name, LogType="Tail",
                            Payload=json.dumps(event).encode())
        assert "FunctionError" not in result, result["Payload"].read()
        assert json.loads(result["Payload"].read())["statusCode"] == 200
        tail = base64.b64decode(result["LogResult"]).decode()
        reports.append(next(line for line in tail.splitlines() if line.startswith("REPORT")))
        assert '"status": 200' in tail  # the function's own log line, inside its invocation
    assert "Init Duration" not in reports[1]
    mine = containers_of(docker_client, {OWNER_LABEL: owner_label(),
                                         FUNCTION_LABEL: image_stack.function_name})
    assert len(mine) == 1, "one warm container serves sequential invocations"


def test_container_gets_memory_limit_host_network_and_labels(aws, image_stack: Stack,
                                                            docker_client):
    mine = containers_of(docker_client, {OWNER_LABEL: owner_label(),
                                         FUNCTION_LABEL: image_stack.function_name})
    if not mine:
        aws("lambda", image_stack.region).invoke(FunctionName=image_stack.function_name,
                                                 Payload=b"{}")
        mine = containers_of(docker_client, {OWNER_LABEL: owner_label(),
                                             FUNCTION_LABEL: image_stack.function_name})
    info = docker_client.api.inspect_container(mine[0]["Id"])
    assert info["HostConfig"]["Memory"] == 384 * 1024 * 1024
    assert info["HostConfig"]["MemorySwap"] == 384 * 1024 * 1024
    assert info["HostConfig"]["NetworkMode"] == "host"
    assert info["Config"]["Labels"][ENV_LABEL]
    env = dict(item.split("=", 1) for item in info["Config"]["Env"])
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert env["LAMBDA_TASK_ROOT"] == "/var/task"  # the image's, not a host path
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "384"


def test_report_shows_container_memory(aws, image_stack: Stack):
    result = aws("lambda", image_stack.region).invoke(
        FunctionName=image_stack.function_name, LogType="Tail", Payload=b"{}")
    report = next(line for line in base64.b64decode(result["LogResult"]).decode().splitlines()
                  if line.startswith("REPORT"))
    used = int(report.split("Max Memory Used: ")[1].split(" MB")[0])
    assert 20 < used <= 384


def test_containers_are_removed_when_the_emulator_stops(tmp_path: Path, function_image: str,
                                                         package: Package, docker_client):
    from harness.config import EmulatorConfig

    config = EmulatorConfig().with_overrides(port=0, state_dir=tmp_path / "state")
    with Emulator(config) as emulator:
        spec = StackSpec(image_uri=function_image, function_name="short-lived", bucket="short")
        stack = deploy(Target(endpoint_url=emulator.url), spec, package)
        import boto3

        lam = boto3.client("lambda", region_name=stack.region, endpoint_url=emulator.url,
                           aws_access_key_id="t", aws_secret_access_key="t")
        assert lam.invoke(FunctionName="short-lived", Payload=b"{}")["StatusCode"] == 200
        running = containers_of(docker_client, {OWNER_LABEL: owner_label(),
                                                FUNCTION_LABEL: "short-lived"})
        assert len(running) == 1
    ids = {c["Id"] for c in docker_client.api.containers(all=True)}
    assert running[0]["Id"] not in ids
