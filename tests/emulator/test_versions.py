"""The Invoke API with published versions, aliases and qualifiers as moto stores them, and the
retries of asynchronous (Event) invocations. Real functions through awslambdaric."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError

from tests.conftest import LOCAL_RUNTIME, build_zip
from tests.emulator.support import log_messages, own_emulator, unique

SOURCE = '''
import os
def handler(event, context):
    return {{"v": {v}, "env_version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
             "arn": context.invoked_function_arn, "pid": os.getpid()}}
'''


@dataclass(frozen=True)
class Versions:
    name: str
    arn: str


@pytest.fixture(scope="module")
def versions(harness_client, iam_role) -> Versions:
    """Version 1 runs v1 code, version 2 and $LATEST v2 code; alias "live" points at 1."""
    lam = harness_client("lambda")
    name = unique("versioned")
    arn = lam.create_function(
        FunctionName=name, Runtime=LOCAL_RUNTIME, Role=iam_role(), Handler="app.handler",
        Code={"ZipFile": build_zip({"app.py": SOURCE.format(v=1)})})["FunctionArn"]
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_code(FunctionName=name,
                             ZipFile=build_zip({"app.py": SOURCE.format(v=2)}))
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    yield Versions(name, arn)
    lam.delete_function(FunctionName=name)


def invoke(client, **kwargs):
    response = client.invoke(Payload=b"{}", LogType="Tail", **kwargs)
    response["Body"] = json.loads(response["Payload"].read())
    response["Log"] = base64.b64decode(response["LogResult"]).decode()
    return response


def start_line(log: str) -> str:
    return next(line for line in log.splitlines() if line.startswith("START "))


def test_unqualified_invoke_runs_latest(lambda_client, versions):
    response = invoke(lambda_client, FunctionName=versions.name)
    assert response["ExecutedVersion"] == "$LATEST"
    assert response["Body"]["v"] == 2
    assert response["Body"]["env_version"] == "$LATEST"
    assert response["Body"]["arn"] == versions.arn
    assert start_line(response["Log"]).endswith("Version: $LATEST")


def test_qualifier_runs_that_published_version(lambda_client, versions):
    response = invoke(lambda_client, FunctionName=versions.name, Qualifier="1")
    assert response["ExecutedVersion"] == "1"
    assert response["Body"]["v"] == 1
    assert response["Body"]["env_version"] == "1"
    assert response["Body"]["arn"] == versions.arn + ":1"
    assert start_line(response["Log"]).endswith("Version: 1")
    assert invoke(lambda_client, FunctionName=versions.name, Qualifier="2")["Body"]["v"] == 2


@pytest.mark.parametrize("how", ["qualifier", "name:alias", "arn:alias"])
def test_alias_runs_the_version_it_points_at(lambda_client, versions, how):
    target = {"qualifier": {"FunctionName": versions.name, "Qualifier": "live"},
              "name:alias": {"FunctionName": f"{versions.name}:live"},
              "arn:alias": {"FunctionName": f"{versions.arn}:live"}}[how]
    response = invoke(lambda_client, **target)
    assert response["ExecutedVersion"] == "1"
    assert response["Body"]["v"] == 1
    # The context reports the ARN the caller used, alias included.
    assert response["Body"]["arn"] == versions.arn + ":live"
    assert start_line(response["Log"]).endswith("Version: 1")


def test_versions_run_in_their_own_environments_and_aliases_share_theirs(lambda_client,
                                                                          versions):
    latest = invoke(lambda_client, FunctionName=versions.name)["Body"]["pid"]
    one = invoke(lambda_client, FunctionName=versions.name, Qualifier="1")["Body"]["pid"]
    alias = invoke(lambda_client, FunctionName=versions.name, Qualifier="live")["Body"]["pid"]
    assert latest != one
    assert alias == one


def test_unknown_version_is_resource_not_found(lambda_client, versions):
    with pytest.raises(ClientError) as info:
        lambda_client.invoke(FunctionName=versions.name, Qualifier="9", Payload=b"{}")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_reserved_concurrency_of_the_function_applies_to_its_versions(lambda_client, versions):
    lambda_client.put_function_concurrency(FunctionName=versions.name,
                                           ReservedConcurrentExecutions=0)
    try:
        with pytest.raises(ClientError) as info:
            lambda_client.invoke(FunctionName=versions.name, Qualifier="live", Payload=b"{}")
        assert info.value.response["Error"]["Code"] == "TooManyRequestsException"
    finally:
        lambda_client.delete_function_concurrency(FunctionName=versions.name)


FAILING = '''
def handler(event, context):
    print("attempt for", event["marker"])
    raise RuntimeError("always fails")
'''


def test_failed_event_invocation_is_tried_three_times(tmp_path):
    # AWS retries a failed asynchronous invocation twice, a minute and then two minutes later:
    # https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
    with own_emulator(tmp_path) as own:
        name = own.create_function({"app.py": FAILING})
        response = own.client("lambda").invoke(FunctionName=name, InvocationType="Event",
                                               Payload=b'{"marker": "m-1"}')
        assert response["StatusCode"] == 202
        lambdas, triggers = own.emulator.lambdas, own.emulator.triggers
        assert lambdas is not None and triggers is not None
        # The retries wait on the harness's clock: the event is not done until it moves.
        for minutes in (1, 2):
            assert triggers.async_events.wait_until_settled(timeout=60)
            assert not lambdas.wait_for_events(timeout=0)
            own.emulator.clock.advance(60 * minutes)
        # The retries end with the third failure: then the event is done, and was run 3 times.
        assert lambdas.wait_for_events(timeout=60)
        messages = log_messages(own.client("logs"), name)
        assert sum(m.startswith("START ") for m in messages) == 3
        assert sum("attempt for m-1" in m for m in messages) == 3
        assert sum(m.startswith("REPORT ") for m in messages) == 3
