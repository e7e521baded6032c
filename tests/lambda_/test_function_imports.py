"""A function imports what its package gives it, as on Lambda, not what the harness has."""

from __future__ import annotations

import base64
import importlib.metadata
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest
from botocore.exceptions import ClientError

from harness.config import EmulatorConfig, LambdaConfig
from harness.emulator import Emulator
from harness.package import zip_files
from tests.conftest import ROLE

NUMPY = importlib.metadata.version("numpy")

IMPORTS = '''
import importlib, sys
for name in {modules!r}:
    importlib.import_module(name)
def handler(event, context):
    return {{name: getattr(sys.modules[name], "__file__", None) for name in {modules!r}}} | {{
        "executable": sys.executable}}
'''


def app(*modules: str) -> str:
    return IMPORTS.format(modules=list(modules))


def invoke(client, name):
    response = client.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    return response, json.loads(response["Payload"].read()), log.splitlines()


def test_a_package_the_zip_does_not_bring_is_runtime_import_module_error(lambda_client,
                                                                         create_function):
    name = create_function({"app.py": app("sklearn")})
    response, body, _ = invoke(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'app': No module named 'sklearn'"


def test_the_harnesss_own_packages_are_not_visible(lambda_client, create_function):
    name = create_function({"app.py": app("moto")})
    _, body, _ = invoke(lambda_client, name)
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'moto'" in body["errorMessage"]


def test_the_runtime_provides_boto3_as_lambda_does(lambda_client, create_function):
    name = create_function({"app.py": app("boto3", "awslambdaric")})
    response, body, _ = invoke(lambda_client, name)
    assert "FunctionError" not in response, body
    assert f"{os.sep}runtime{os.sep}" in body["boto3"]


def test_a_requirement_in_requirements_txt_can_be_imported(lambda_client, create_function):
    name = create_function({"app.py": app("numpy"), "requirements.txt": f"numpy=={NUMPY}\n"})
    response, body, log = invoke(lambda_client, name)
    assert "FunctionError" not in response, body
    assert f"{os.sep}deps{os.sep}" in body["numpy"]


def test_functions_with_the_same_requirements_share_one_build(lambda_client, create_function):
    requirements = f"joblib=={importlib.metadata.version('joblib')}\n"
    first = create_function({"app.py": app("joblib"), "requirements.txt": requirements})
    second = create_function({"app.py": app("joblib") + "\n# another package",
                              "requirements.txt": requirements})
    _, one, first_log = invoke(lambda_client, first)
    _, two, second_log = invoke(lambda_client, second)
    assert one["joblib"] == two["joblib"]
    assert any("requirements.txt linked from" in line for line in first_log)
    assert not any("requirements.txt" in line for line in second_log)


def test_a_runtime_other_than_the_interpreters_is_said_in_the_log(lambda_client,
                                                                  create_function):
    name = create_function(runtime="python3.9")
    response, _, log = invoke(lambda_client, name)
    assert "FunctionError" not in response
    here = ".".join(map(str, sys.version_info[:3]))
    assert log[0].startswith(f"harness: function runtime python3.9 runs on python {here} here")
    assert log.index(log[0]) < next(i for i, line in enumerate(log) if line.startswith("START"))
    _, _, warm = invoke(lambda_client, name)
    assert not any(line.startswith("harness:") for line in warm)


def test_a_matching_runtime_logs_no_version_line(lambda_client, create_function):
    _, _, log = invoke(lambda_client, create_function())
    assert not any(line.startswith("harness:") for line in log)


# -- a configured interpreter ------------------------------------------------------------------


@contextmanager
def _emulator_client(python: str, state_dir, name: str) -> Iterator:
    """A second emulator whose functions run on ``python`` (moto's state is the process's)."""
    config = EmulatorConfig(port=0, state_dir=state_dir, lambda_=LambdaConfig(python=python))
    with Emulator(config) as emulator:
        session = boto3.session.Session(aws_access_key_id="t", aws_secret_access_key="t",
                                        region_name="us-east-1")
        iam = session.client("iam", endpoint_url=emulator.url)
        try:
            iam.create_role(RoleName="test-role", AssumeRolePolicyDocument="{}")
        except iam.exceptions.EntityAlreadyExistsException:
            pass
        client = session.client("lambda", endpoint_url=emulator.url)
        client.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE,
                               Handler="app.handler",
                               Code={"ZipFile": zip_files({"app.py": app()})})
        try:
            yield client
        finally:
            client.delete_function(FunctionName=name)


@pytest.fixture
def other_python() -> str:
    """Another path to this interpreter's environment (its venv's ``python3``)."""
    for name in ("python3", "python"):
        path = os.path.join(os.path.dirname(sys.executable), name)
        if os.path.exists(path) and path != sys.executable:
            return path
    pytest.skip("no second path to this interpreter")


def test_the_configured_interpreter_runs_the_function(other_python, tmp_path):
    with _emulator_client(other_python, tmp_path / "state", "configured-python") as client:
        response, body, _ = invoke(client, "configured-python")
        assert "FunctionError" not in response, body
        assert body["executable"] == other_python


def test_an_interpreter_without_the_runtime_client_is_a_clear_error(tmp_path):
    import subprocess

    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    with _emulator_client(str(venv / "bin" / "python"), tmp_path / "state",
                          "bare-python") as client:
        with pytest.raises(ClientError) as info:
            client.invoke(FunctionName="bare-python", Payload=b"{}")
        assert info.value.response["Error"]["Code"] == "ServiceException"
        assert "has no awslambdaric" in info.value.response["Error"]["Message"]
