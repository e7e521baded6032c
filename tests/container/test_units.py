"""The container tier's pure parts, without a Docker engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.config import EmulatorConfig, LambdaConfig
from harness.container.engine import EngineUnavailable, owner_is_gone, owner_label
from harness.container.images import BaseImageSpec, _check_model_matches, requirement_pins
from harness.container.rootfs import RootfsSpec
from harness.errors import AwsError, UsageError
from harness.lambda_.container import (
    ContainerLauncher,
    ContainerRuntime,
    container_environment,
    exit_code_of,
)
from harness.lambda_.executors import ExecutorSelector
from harness.lambda_.spec import FunctionSpec


def _spec(**changes) -> FunctionSpec:
    base = dict(name="fn", arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
                version="$LATEST", handler="", runtime=None, memory_mb=256, timeout_s=3.0,
                environment=(), code_sha256="x", package_type="Image",
                image_uri="harness/ml-fn:latest", account_id="123456789012", region="us-east-1")
    base.update(changes)
    return FunctionSpec(**base)


def test_container_environment_leaves_out_the_hosts_paths():
    env = container_environment(_spec(), "127.0.0.1:9999", "e1", "http://127.0.0.1:4566")
    for key in ("PATH", "HOME", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "PYTHONPATH",
                "_HANDLER"):
        assert key not in env
    assert env["AWS_LAMBDA_RUNTIME_API"] == "127.0.0.1:9999"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"


def test_container_environment_keeps_the_functions_own_variables():
    spec = _spec(environment=(("PYTHONPATH", "/opt/extra"), ("MODE", "x")), handler="app.h")
    env = container_environment(spec, "127.0.0.1:1", "e1", "http://x")
    assert env["PYTHONPATH"] == "/opt/extra" and env["MODE"] == "x" and env["_HANDLER"] == "app.h"


@pytest.mark.parametrize(("status", "code"), [(0, 0), (1, 1), (137, -9), (143, -15), (255, 255)])
def test_docker_signal_exit_statuses_become_negative_signals(status, code):
    assert exit_code_of(status) == code


class _FakeApi:
    def __init__(self, chunks: list[tuple[float, bytes]]) -> None:
        self._chunks = chunks
        self.removed = threading.Event()

    def attach(self, *_args, **_kwargs):
        def stream():
            for delay, chunk in self._chunks:
                time.sleep(delay)
                yield chunk
            self.removed.wait(5)
        return stream()

    def start(self, _id): ...

    def wait(self, _id, timeout=None):
        return {"StatusCode": 137}

    def inspect_container(self, _id):
        return {"State": {"OOMKilled": True}}

    def stats(self, _id, **_kwargs):
        return {"memory_stats": {"max_usage": 50 * 1024 * 1024}}

    def remove_container(self, _id, force=False):
        self.removed.set()


class _FakeClient:
    def __init__(self, api: _FakeApi) -> None:
        self.api = api


def test_output_written_just_before_the_response_stays_with_its_invocation():
    exits: list[int] = []
    api = _FakeApi([(0.0, b"first\n"), (0.005, b"late line\n")])
    runtime = ContainerRuntime(_FakeClient(api), "c" * 64, exits.append, settle_s=0.05)
    runtime.start()
    assert runtime.take_output() == "first\nlate line\n"
    assert runtime.peak_memory_mb() == 50
    runtime.kill()
    assert exits == [-9] and runtime.out_of_memory


def test_no_engine_is_an_aws_error_that_names_the_problem():
    def unreachable():
        raise EngineUnavailable("no Docker engine is reachable at unix:///nope (refused)")

    launcher = ContainerLauncher(lambda: "http://x", connect_engine=unreachable)
    with pytest.raises(AwsError) as caught:
        launcher.launch(_spec(), "127.0.0.1:1", "e1", lambda _code: None)
    assert "no Docker engine is reachable" in caught.value.message
    assert caught.value.code == "ServiceException"


def test_invoke_of_an_image_function_without_an_engine_fails_clearly(monkeypatch, tmp_path):
    import boto3
    from botocore.exceptions import ClientError

    from harness.emulator import Emulator

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    with Emulator(EmulatorConfig().with_overrides(port=0, state_dir=tmp_path)) as emulator:
        lam = boto3.client("lambda", region_name="us-east-1", endpoint_url=emulator.url,
                           aws_access_key_id="t", aws_secret_access_key="t")
        boto3.client("iam", region_name="us-east-1", endpoint_url=emulator.url,
                     aws_access_key_id="t", aws_secret_access_key="t").create_role(
            RoleName="r", AssumeRolePolicyDocument="{}")
        lam.create_function(FunctionName="img", Role="arn:aws:iam::123456789012:role/r",
                            PackageType="Image", Code={"ImageUri": "harness/ml-fn:latest"})
        with pytest.raises(ClientError) as caught:
            lam.invoke(FunctionName="img", Payload=b"{}")
    message = caught.value.response["Error"]["Message"]
    assert "no Docker engine is reachable" in message and "no-docker.sock" in message


def test_selector_sends_zip_to_processes_and_images_to_containers():
    selector = ExecutorSelector(lambda: "http://x", LambdaConfig())
    assert not selector.uses_container(_spec(package_type="Zip"))
    assert selector.uses_container(_spec())
    everything = ExecutorSelector(lambda: "http://x", LambdaConfig(zip_executor="container"))
    assert everything.uses_container(_spec(package_type="Zip"))


def test_zip_executor_setting_is_checked():
    config = EmulatorConfig.from_env({"HARNESS_ZIP_EXECUTOR": "container",
                                      "HARNESS_ZIP_IMAGE": "img:1"})
    assert config.lambda_.zip_executor == "container" and config.lambda_.zip_image == "img:1"
    with pytest.raises(UsageError, match="HARNESS_ZIP_EXECUTOR"):
        EmulatorConfig.from_env({"HARNESS_ZIP_EXECUTOR": "vm"})


def test_owner_labels_tell_a_dead_harness_from_a_live_one():
    assert not owner_is_gone(owner_label())
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout.strip()
    namespace = owner_label().split(":")[0]
    assert owner_is_gone(f"{namespace}:{finished}:1.00")
    assert not owner_is_gone(f"other-namespace:{finished}:1.00"), "cannot tell: left alone"
    assert not owner_is_gone(f"{namespace}:{os.getpid()}:{owner_label().split(':')[2]}")


def test_requirement_pins_and_model_version_check(tmp_path: Path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pinned\nscikit-learn==1.9.1  # model\nnumpy>=2\n")
    assert requirement_pins(requirements) == {"scikit-learn": "1.9.1"}
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.json").write_text(json.dumps({"sklearn_version": "1.9.1"}))
    _check_model_matches(model, requirements)
    (model / "model.json").write_text(json.dumps({"sklearn_version": "1.5.0"}))
    with pytest.raises(UsageError, match="trained with scikit-learn 1.5.0"):
        _check_model_matches(model, requirements)


def test_the_shipped_requirements_pin_the_scikit_learn_the_harness_trains_with():
    import sklearn

    from harness.container.images import LAMBDA_FN

    assert requirement_pins(LAMBDA_FN / "requirements.txt")["scikit-learn"] == sklearn.__version__


def test_image_input_hashes_are_stable_and_follow_their_inputs():
    assert BaseImageSpec().inputs_hash() == BaseImageSpec().inputs_hash()
    assert BaseImageSpec(python_version="3.12").inputs_hash() != BaseImageSpec().inputs_hash()
    assert RootfsSpec().key != RootfsSpec(packages=("python3",)).key
