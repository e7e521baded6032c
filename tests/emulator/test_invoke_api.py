"""The Lambda Invoke API over real HTTP, through boto3, against real runtime processes."""

from __future__ import annotations

import base64
import json
import time

import pytest
from botocore.exceptions import ClientError


def invoke(client, name, payload=None, **kwargs):
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode(),
                             **kwargs)
    response["Body"] = response["Payload"].read()
    return response


def test_invoke_runs_the_function_through_the_runtime_client(lambda_client, create_function,
                                                             harness_endpoint):
    name = create_function()
    response = invoke(lambda_client, name, {"hello": "world"})
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    body = json.loads(response["Body"])
    assert body["echo"] == {"hello": "world"}
    assert body["function"] == name
    assert body["memory"] == "128"
    assert body["endpoint"] == harness_endpoint
    assert 0 < body["remaining_ms"] <= 3000


def test_second_invocation_is_warm_and_reuses_the_process(lambda_client, create_function):
    name = create_function()
    first = json.loads(invoke(lambda_client, name)["Body"])
    second = json.loads(invoke(lambda_client, name)["Body"])
    assert first["pid"] == second["pid"]
    assert first["request_id"] != second["request_id"]


def test_tail_returns_start_end_report_and_the_functions_output(lambda_client, create_function):
    name = create_function()
    cold = invoke(lambda_client, name, {"n": 1}, LogType="Tail")
    log = base64.b64decode(cold["LogResult"]).decode()
    lines = log.splitlines()
    assert "init of " + name in lines[0]
    assert lines[1].startswith("START RequestId: ") and lines[1].endswith("Version: $LATEST")
    assert any(line.startswith('event {"n": 1}') for line in lines)
    assert lines[-2].startswith("END RequestId: ")
    assert lines[-1].startswith("REPORT RequestId: ") and "\tInit Duration: " in lines[-1]
    warm = base64.b64decode(invoke(lambda_client, name, LogType="Tail")["LogResult"]).decode()
    assert "Init Duration" not in warm


def test_handler_exception_has_aws_shape(lambda_client, create_function):
    name = create_function()
    response = invoke(lambda_client, name, {"action": "raise", "why": "bad"})
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Body"])
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "boom: bad"
    assert body["requestId"]
    assert isinstance(body["stackTrace"], list) and body["stackTrace"]


def test_unknown_function_is_resource_not_found(lambda_client):
    with pytest.raises(ClientError) as info:
        lambda_client.invoke(FunctionName="no-such-function", Payload=b"{}")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_payload_over_6_mb_is_request_entity_too_large(lambda_client, create_function):
    name = create_function()
    with pytest.raises(ClientError) as info:
        lambda_client.invoke(FunctionName=name, Payload=b'"' + b"x" * (6 * 1024 * 1024) + b'"')
    assert info.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_dry_run_returns_204_without_running(lambda_client, create_function, harness_client):
    name = create_function()
    response = lambda_client.invoke(FunctionName=name, InvocationType="DryRun",
                                    Payload=b'{"marker": "dry-run"}')
    assert response["StatusCode"] == 204
    assert response["Payload"].read() == b""
    # Nothing ran: the next invocation is the function's first (a cold start, its own START
    # line the only one), and the dry run's event never reached the handler.
    real = invoke(lambda_client, name, {"marker": "real"}, LogType="Tail")
    assert "\tInit Duration: " in base64.b64decode(real["LogResult"]).decode()
    logs = harness_client("logs")
    messages = [e["message"] for e in
                logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]]
    assert sum(m.startswith("START RequestId: ") for m in messages) == 1
    assert not any("dry-run" in m for m in messages)
    assert any('"marker": "real"' in m for m in messages)


def test_event_invocation_returns_202_and_runs_in_background(lambda_client, create_function,
                                                             harness_client):
    name = create_function()
    response = lambda_client.invoke(FunctionName=name, InvocationType="Event",
                                    Payload=b'{"marker": "async-1"}')
    assert response["StatusCode"] == 202
    logs = harness_client("logs")
    deadline = time.monotonic() + 20
    messages: list[str] = []
    while time.monotonic() < deadline:
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        except logs.exceptions.ResourceNotFoundException:
            events = []
        messages = [e["message"] for e in events]
        if any("async-1" in m for m in messages) and any(m.startswith("REPORT") for m in messages):
            break
        time.sleep(0.1)
    assert any('"marker": "async-1"' in m for m in messages)


def test_logs_reach_cloudwatch(lambda_client, create_function, harness_client):
    name = create_function()
    rid = json.loads(invoke(lambda_client, name, {"find": "me"})["Body"])["request_id"]
    logs = harness_client("logs")
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    messages = [e["message"] for e in events]
    assert f"START RequestId: {rid} Version: $LATEST" in messages
    assert f"END RequestId: {rid}" in messages
    assert any(m.startswith(f"REPORT RequestId: {rid}\tDuration: ") for m in messages)
    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    assert streams and "[$LATEST]" in streams[0]["logStreamName"]


def test_crash_fails_that_invocation_and_the_next_one_succeeds(lambda_client, create_function):
    name = create_function()
    invoke(lambda_client, name)
    crashed = invoke(lambda_client, name, {"action": "exit", "code": 7})
    assert crashed["FunctionError"] == "Unhandled"
    body = json.loads(crashed["Body"])
    assert body["errorType"] == "Runtime.ExitError"
    assert "exit status 7" in body["errorMessage"]
    after = invoke(lambda_client, name)
    assert "FunctionError" not in after


def test_timeout_kills_the_environment_and_reports_task_timed_out(lambda_client, create_function):
    name = create_function(Timeout=1)
    response = invoke(lambda_client, name, {"action": "sleep", "seconds": 5})
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Body"])
    assert body["errorType"] == "Sandbox.Timedout"
    assert body["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert "FunctionError" not in invoke(lambda_client, name)


def test_import_error_is_runtime_import_module_error(lambda_client, create_function):
    name = create_function(
        {"app.py": "import no_such_module_here\ndef handler(e, c):\n  return 1\n"})
    response = invoke(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Body"])
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "no_such_module_here" in body["errorMessage"]
    assert body["requestId"] == ""  # init errors come before any request, as on Lambda


def test_missing_handler_function_is_handler_not_found(lambda_client, create_function):
    name = create_function({"app.py": "x = 1\n"})
    body = json.loads(invoke(lambda_client, name)["Body"])
    assert body["errorType"] == "Runtime.HandlerNotFound"


def test_syntax_error_is_user_code_syntax_error(lambda_client, create_function):
    name = create_function({"app.py": "def handler(e, c)\n  return 1\n"})
    body = json.loads(invoke(lambda_client, name)["Body"])
    assert body["errorType"] == "Runtime.UserCodeSyntaxError"


def test_exception_at_import_keeps_its_own_type(lambda_client, create_function):
    name = create_function({"app.py": "raise KeyError('config missing')\n"})
    body = json.loads(invoke(lambda_client, name)["Body"])
    assert body["errorType"] == "KeyError"
    assert "config missing" in body["errorMessage"]


def test_unserialisable_result_is_marshal_error(lambda_client, create_function):
    name = create_function()
    body = json.loads(invoke(lambda_client, name, {"action": "unserialisable"})["Body"])
    assert body["errorType"] == "Runtime.MarshalError"


def test_code_update_retires_the_old_environment(lambda_client, create_function, make_zip):
    name = create_function()
    before = json.loads(invoke(lambda_client, name)["Body"])
    lambda_client.update_function_code(
        FunctionName=name,
        ZipFile=make_zip({"app.py": "import os\ndef handler(e, c):\n"
                                    "  return {'v': 2, 'pid': os.getpid()}\n"}))
    after = json.loads(invoke(lambda_client, name)["Body"])
    assert after["v"] == 2
    assert after["pid"] != before["pid"]


def test_reserved_concurrency_zero_throttles(lambda_client, create_function):
    name = create_function()
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as info:
        lambda_client.invoke(FunctionName=name, Payload=b"{}")
    assert info.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


CLIENT_CONTEXT = '''
def handler(event, context):
    return {"custom": context.client_context.custom if context.client_context else None}
'''


def test_client_context_reaches_the_function_decoded(lambda_client, create_function):
    # Lambda hands the runtime the JSON, not the base64 the caller sent (else the runtime client
    # fails every invocation with Runtime.LambdaContextUnmarshalError).
    name = create_function({"app.py": CLIENT_CONTEXT})
    context = base64.b64encode(json.dumps({"custom": {"tenant": "é€"}}).encode()).decode()
    response = invoke(lambda_client, name, ClientContext=context)
    assert "FunctionError" not in response
    assert json.loads(response["Body"]) == {"custom": {"tenant": "é€"}}


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"ClientContext": "not base64!"}, "InvalidRequestContentException"),
    ({"ClientContext": base64.b64encode(b"[1]").decode()}, "InvalidRequestContentException"),
    ({"Payload": b"{not json"}, "InvalidRequestContentException"),
    ({"FunctionName": "123456789012:function:x:y:z"}, "ValidationException"),
])
def test_invoke_refuses_what_aws_refuses(lambda_client, create_function, kwargs, code):
    name = create_function()
    with pytest.raises(ClientError) as caught:
        lambda_client.invoke(**{"FunctionName": name, "Payload": b"{}", **kwargs})
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_partial_arn_names_the_function(lambda_client, create_function):
    name = create_function()
    response = invoke(lambda_client, f"123456789012:function:{name}:$LATEST")
    assert response["StatusCode"] == 200 and "FunctionError" not in response
