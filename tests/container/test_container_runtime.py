"""Environments in containers: limits, failures, clean-up, and the stand-alone entrypoint."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import pytest

from harness.container.engine import OWNER_LABEL, owner_label
from harness.lambda_.container import ContainerLauncher, remove_stale_containers
from tests.container.conftest import ROLE

HOG = '''
def handler(event, context):
    blocks = []
    for _ in range(int(event["mb"])):
        blocks.append(bytearray(1024 * 1024))
    return len(blocks)
'''
ECHO = '''
import os
def handler(event, context):
    print("echo", event)
    if event.get("exit"):
        os._exit(int(event["exit"]))
    return {"task_root": os.environ["LAMBDA_TASK_ROOT"], "cwd": os.getcwd(),
            "memory": context.memory_limit_in_mb}
'''


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def _create(aws, name: str, source: str, **config) -> str:
    aws("lambda").create_function(FunctionName=name, Role=ROLE, Runtime="python3.11",
                                  Handler="app.handler", Code={"ZipFile": _zip(source)}, **config)
    return name


def _invoke(aws, name: str, event: dict) -> tuple[dict, object]:
    result = aws("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return result, json.loads(result["Payload"].read())


def test_zip_function_runs_in_the_configured_image(aws):
    name = _create(aws, "zip-in-container", ECHO, MemorySize=256)
    result, body = _invoke(aws, name, {"hello": 1})
    assert "FunctionError" not in result, body
    assert body == {"task_root": "/var/task", "cwd": "/var/task", "memory": "256"}


def test_memory_limit_kills_with_runtime_out_of_memory(aws):
    name = _create(aws, "memory-hog", HOG, MemorySize=128)
    result, body = _invoke(aws, name, {"mb": 400})
    assert result["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory"
    assert "Runtime exited with error: signal: killed" in body["errorMessage"]
    result, body = _invoke(aws, name, {"mb": 10})  # a fresh environment serves the next one
    assert "FunctionError" not in result and body == 10


def test_exit_in_handler_is_runtime_exit_error(aws):
    name = _create(aws, "exiter", ECHO)
    result, body = _invoke(aws, name, {"exit": 3})
    assert body["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in body["errorMessage"]


def test_missing_image_is_a_clear_error(aws):
    lam = aws("lambda")
    lam.create_function(FunctionName="no-image", Role=ROLE, PackageType="Image",
                        Code={"ImageUri": "harness/no-such-image:latest"})
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName="no-image", Payload=b"{}")
    message = caught.value.response["Error"]["Message"]
    assert "harness/no-such-image:latest" in message and "harness image build" in message


def test_stale_containers_of_a_dead_harness_are_removed(docker_client, base_image):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    namespace = owner_label().split(":")[0]
    stale = docker_client.api.create_container(
        base_image, entrypoint=["sleep"], command=["300"],
        labels={OWNER_LABEL: f"{namespace}:{dead.stdout.strip()}:1.00"},
        host_config=docker_client.api.create_host_config(network_mode="host"))
    docker_client.api.start(stale["Id"])
    ours = docker_client.api.create_container(
        base_image, entrypoint=["sleep"], command=["300"], labels={OWNER_LABEL: owner_label()},
        host_config=docker_client.api.create_host_config(network_mode="host"))
    try:
        removed = remove_stale_containers(docker_client)
        ids = {c["Id"] for c in docker_client.api.containers(all=True)}
        assert stale["Id"] not in ids and removed
        assert ours["Id"] in ids, "a live harness's containers are left alone"
    finally:
        docker_client.api.remove_container(ours["Id"], force=True)
        if stale["Id"] in {c["Id"] for c in docker_client.api.containers(all=True)}:
            docker_client.api.remove_container(stale["Id"], force=True)


def test_launcher_removes_stale_containers_at_first_use(docker_client, base_image):
    stale = docker_client.api.create_container(
        base_image, entrypoint=["true"], labels={OWNER_LABEL: f"{owner_label().split(':')[0]}:1:0"})
    launcher = ContainerLauncher(lambda: "http://127.0.0.1:1")
    try:
        launcher.engine()
    finally:
        launcher.close()
    assert stale["Id"] not in {c["Id"] for c in docker_client.api.containers(all=True)}


def test_image_runs_stand_alone_under_the_rie(docker_client, function_image):
    """Without AWS_LAMBDA_RUNTIME_API the entrypoint starts the RIE, as AWS's base image does.

    The engine here has no bridge network, so the RIE is called from inside its container.
    """
    created = docker_client.api.create_container(
        function_image, labels={OWNER_LABEL: owner_label()},
        host_config=docker_client.api.create_host_config(network_mode="none"))
    docker_client.api.start(created["Id"])
    try:
        script = ("import json, time, urllib.request\n"
                  "url = 'http://127.0.0.1:8080/2015-03-31/functions/function/invocations'\n"
                  "for _ in range(100):\n"
                  "    try:\n"
                  "        print(urllib.request.urlopen(url, b'{}').read().decode()); break\n"
                  "    except OSError:\n"
                  "        time.sleep(0.1)\n")
        run = docker_client.api.exec_create(created["Id"], ["python3", "-c", script])
        output = docker_client.api.exec_start(run["Id"]).decode()
        assert json.loads(output)["statusCode"] == 400  # the handler answered: no bucket given
    finally:
        docker_client.api.remove_container(created["Id"], force=True)
