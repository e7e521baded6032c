"""Asynchronous invocation as AWS runs it, with plain boto3 through the session's emulator:
retries on the harness's clock, the event's age, throttles, destinations, the dead-letter queue
and the event invoke config API's checks."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import LOCAL_RUNTIME, TRIVIAL
from tests.triggers.sqs_support import starts

RECEIVE_DEADLINE_S = 60  # generous: a destination is written right after the last run


@pytest.fixture
def async_events(harness_target: Any) -> Any:
    """The emulator's asynchronous queue, to wait until nothing runs nor is due (a test that
    says "no retry yet" must know the retry had its chance)."""
    if harness_target.emulator is None or harness_target.emulator.triggers is None:
        pytest.skip("waiting for the queue to settle needs the embedded emulator")
    return harness_target.emulator.triggers.async_events


@pytest.fixture
def queue(harness_client) -> Callable[[str], tuple[str, str]]:
    """Makes an SQS queue: (url, arn); deleted after the test."""
    sqs = harness_client("sqs")
    made: list[str] = []

    def make(label: str) -> tuple[str, str]:
        url = sqs.create_queue(QueueName=f"{label}-{time.monotonic_ns()}")["QueueUrl"]
        made.append(url)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return url, arn["Attributes"]["QueueArn"]

    yield make
    for url in made:
        sqs.delete_queue(QueueUrl=url)


def receive(sqs: Any, url: str, deadline_s: float = RECEIVE_DEADLINE_S) -> dict[str, Any]:
    """The next message of the queue, polled until the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        found = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1,
                                    MessageAttributeNames=["All"]).get("Messages", [])
        if found:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=found[0]["ReceiptHandle"])
            return dict(found[0])
    raise AssertionError(f"no message reached {url} within {deadline_s} s")


def is_empty(sqs: Any, url: str) -> bool:
    return not sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages")


def function_arn(lam: Any, name: str) -> str:
    return str(lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"])


def raising(why: str) -> bytes:
    return json.dumps({"action": "raise", "why": why}).encode()


def test_a_failing_event_is_retried_on_the_clock_then_its_record_goes_to_on_failure(
        harness_client, create_function, queue, async_events, harness_clock) -> None:
    lam, sqs, logs = harness_client("lambda"), harness_client("sqs"), harness_client("logs")
    name = create_function({"app.py": TRIVIAL})
    url, arn = queue("on-failure")
    lam.put_function_event_invoke_config(FunctionName=name,
                                         DestinationConfig={"OnFailure": {"Destination": arn}})
    payload = raising("retried")
    assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=payload)[
        "StatusCode"] == 202
    assert async_events.wait_until_settled(timeout=60)
    assert len(starts(logs, name)) == 1
    # Each retry waits its minute(s) of harness time after the failure, and runs only once the
    # clock gets there. (Real time passes too, between the failure and these lines: the
    # bounds leave it 5 s.)
    for waited, runs in ((60, 2), (120, 3)):
        [pending] = async_events.pending()
        assert waited - 5 < pending.due - harness_clock.now() <= waited
        harness_clock.advance(waited - 5)
        assert async_events.wait_until_settled(timeout=60)
        assert len(starts(logs, name)) == runs - 1
        assert is_empty(sqs, url)
        harness_clock.advance(5)
        assert async_events.wait_until_settled(timeout=60)
        assert len(starts(logs, name)) == runs
    record = json.loads(receive(sqs, url)["Body"])
    request_ids = starts(logs, name)
    assert len(set(request_ids)) == 1  # every run of an event has its request id
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record.pop("timestamp"))
    assert record["responsePayload"].pop("stackTrace")
    assert record == {
        "version": "1.0",
        "requestContext": {"requestId": request_ids[0],
                           "functionArn": f"{function_arn(lam, name)}:$LATEST",
                           "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": json.loads(payload),
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                            "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "boom: retried", "errorType": "ValueError",
                            "requestId": request_ids[0]},
    }
    harness_clock.advance(3600)  # an ended event never runs again
    assert async_events.wait_until_settled(timeout=60)
    assert len(starts(logs, name)) == 3


def test_no_retry_with_maximum_retry_attempts_zero(harness_client, create_function, queue,
                                                   async_events, harness_clock) -> None:
    lam, sqs, logs = harness_client("lambda"), harness_client("sqs"), harness_client("logs")
    name = create_function({"app.py": TRIVIAL})
    url, arn = queue("no-retry")
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": arn}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=raising("once"))
    record = json.loads(receive(sqs, url)["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    harness_clock.advance(600)
    assert async_events.wait_until_settled(timeout=60)
    assert len(starts(logs, name)) == 1


def test_a_successful_event_sends_its_record_to_on_success(harness_client, create_function,
                                                           queue) -> None:
    lam, sqs = harness_client("lambda"), harness_client("sqs")
    name = create_function({"app.py": TRIVIAL})
    url, arn = queue("on-success")
    lam.put_function_event_invoke_config(FunctionName=name,
                                         DestinationConfig={"OnSuccess": {"Destination": arn}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 7}')
    record = json.loads(receive(sqs, url)["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["functionArn"] == f"{function_arn(lam, name)}:$LATEST"
    assert record["requestPayload"] == {"n": 7}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"]["echo"] == {"n": 7}
    assert record["responsePayload"]["request_id"] == record["requestContext"]["requestId"]


def test_a_lambda_destination_gets_the_record_as_its_event(harness_client, create_function
                                                           ) -> None:
    lam, logs = harness_client("lambda"), harness_client("logs")
    target = create_function({"app.py": TRIVIAL})
    source = create_function({"app.py": TRIVIAL})
    lam.put_function_event_invoke_config(
        FunctionName=source, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": function_arn(lam, target)}})
    lam.invoke(FunctionName=source, InvocationType="Event", Payload=raising("to-lambda"))
    deadline, events = time.monotonic() + RECEIVE_DEADLINE_S, []
    while time.monotonic() < deadline and not events:
        try:
            found = logs.filter_log_events(logGroupName=f"/aws/lambda/{target}")["events"]
        except logs.exceptions.ResourceNotFoundException:
            found = []
        events = [json.loads(e["message"][len("event "):]) for e in found
                  if e["message"].startswith("event ")]
        time.sleep(0.1)
    assert events, "the destination function never ran"
    record = events[0]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["functionArn"] == f"{function_arn(lam, source)}:$LATEST"
    assert record["requestPayload"] == {"action": "raise", "why": "to-lambda"}
    assert record["responsePayload"]["errorMessage"] == "boom: to-lambda"


def test_an_event_whose_retry_would_come_too_late_is_given_up_at_once(
        harness_client, create_function, queue) -> None:
    # With MaximumEventAgeInSeconds 60, the first retry (a minute after the failure) would
    # come after the event's age: AWS gives up at once, without waiting, EventAgeExceeded.
    lam, sqs = harness_client("lambda"), harness_client("sqs")
    name = create_function({"app.py": TRIVIAL})
    url, arn = queue("too-late")
    lam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60,
                                         DestinationConfig={"OnFailure": {"Destination": arn}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=raising("late"))
    record = json.loads(receive(sqs, url)["Body"])
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"]["functionError"] == "Unhandled"


def test_a_throttled_event_ages_out_unrun_and_goes_to_its_dead_letter_queue(
        harness_client, create_function, queue, harness_faults, harness_clock,
        async_events) -> None:
    lam, sqs, logs = harness_client("lambda"), harness_client("sqs"), harness_client("logs")
    dlq_url, dlq_arn = queue("dlq")
    failure_url, failure_arn = queue("aged")
    name = create_function({"app.py": TRIVIAL}, DeadLetterConfig={"TargetArn": dlq_arn})
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumEventAgeInSeconds=120,
        DestinationConfig={"OnFailure": {"Destination": failure_arn}})
    harness_faults.add({"target": "lambda", "kind": "throttle", "function": name})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 1}')
    assert async_events.wait_until_settled(timeout=60)
    assert is_empty(sqs, failure_url)  # throttled, waiting: not given up before its age
    harness_clock.advance(120)
    record = json.loads(receive(sqs, failure_url)["Body"])
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in record and "responsePayload" not in record
    letter = receive(sqs, dlq_url)
    assert letter["Body"] == '{"n": 1}'
    assert {k: v["StringValue"] for k, v in letter["MessageAttributes"].items()} == {
        "RequestID": record["requestContext"]["requestId"], "ErrorCode": "429",
        "ErrorMessage": "Rate Exceeded."}
    assert starts(logs, name) == []


def test_throttles_do_not_use_up_the_retry_attempts(harness_client, create_function, queue,
                                                   harness_faults, harness_clock,
                                                   async_events) -> None:
    lam, sqs, logs = harness_client("lambda"), harness_client("sqs"), harness_client("logs")
    name = create_function({"app.py": TRIVIAL})
    url, arn = queue("throttled")
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": arn}})
    [rule] = harness_faults.add({"target": "lambda", "kind": "throttle", "function": name,
                                 "times": 3})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=raising("after-throttles"))
    # Backoff of 1, 2, then 4 s of harness time between the throttled tries.
    for _ in range(3):
        assert async_events.wait_until_settled(timeout=60)
        harness_clock.advance(4)
    record = json.loads(receive(sqs, url)["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responsePayload"]["errorMessage"] == "boom: after-throttles"
    assert [r["hits"] for r in harness_faults.report() if r["id"] == rule["id"]] == [3]
    assert len(starts(logs, name)) == 1


def test_reserved_concurrency_zero_sends_events_on_unrun(harness_client, create_function,
                                                         queue) -> None:
    # "When you set reserved concurrency to zero for an asynchronously invoked function, Lambda
    # begins sending new events to the configured dead-letter queue or the on-failure event
    # destination, without any retries."
    lam, sqs, logs = harness_client("lambda"), harness_client("sqs"), harness_client("logs")
    dlq_url, dlq_arn = queue("zero-dlq")
    url, arn = queue("zero")
    name = create_function({"app.py": TRIVIAL})
    lam.update_function_configuration(FunctionName=name, DeadLetterConfig={"TargetArn": dlq_arn})
    assert lam.get_function_configuration(FunctionName=name)["DeadLetterConfig"] == {
        "TargetArn": dlq_arn}
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    lam.put_function_event_invoke_config(FunctionName=name,
                                         DestinationConfig={"OnFailure": {"Destination": arn}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 2}')
    record = json.loads(receive(sqs, url)["Body"])
    assert record["requestContext"]["condition"] == "ZeroReservedConcurrency"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in record
    letter = receive(sqs, dlq_url)
    assert letter["Body"] == '{"n": 2}'
    assert set(letter["MessageAttributes"]) == {"RequestID", "ErrorMessage"}
    assert starts(logs, name) == []


def test_the_dead_letter_queue_gets_the_event_with_aws_attributes(harness_client,
                                                                  create_function,
                                                                  queue) -> None:
    lam, sqs, logs = harness_client("lambda"), harness_client("sqs"), harness_client("logs")
    dlq_url, dlq_arn = queue("dead-letters")
    name = create_function({"app.py": TRIVIAL}, DeadLetterConfig={"TargetArn": dlq_arn})
    assert lam.get_function_configuration(FunctionName=name)["DeadLetterConfig"] == {
        "TargetArn": dlq_arn}
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    payload = raising("x" * 2000)  # an error message over 1 KB is cut to 1 KB
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=payload)
    letter = receive(sqs, dlq_url)
    assert letter["Body"] == payload.decode()
    attributes = letter["MessageAttributes"]
    assert {k: v["DataType"] for k, v in attributes.items()} == {
        "RequestID": "String", "ErrorCode": "Number", "ErrorMessage": "String"}
    assert attributes["RequestID"]["StringValue"] == starts(logs, name)[0]
    assert attributes["ErrorCode"]["StringValue"] == "200"
    assert attributes["ErrorMessage"]["StringValue"] == ("boom: " + "x" * 2000)[:1024]


def test_sns_and_eventbridge_destinations(harness_client, create_function, queue) -> None:
    lam, sqs = harness_client("lambda"), harness_client("sqs")
    sns, events = harness_client("sns"), harness_client("events")
    topic_url, topic_queue = queue("via-sns")
    topic = sns.create_topic(Name=f"records-{time.monotonic_ns()}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=topic_queue)
    bus_url, bus_queue = queue("via-bus")
    bus = events.create_event_bus(Name=f"records-{time.monotonic_ns()}")["EventBusArn"]
    rule = f"results-{time.monotonic_ns()}"
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["lambda"]}))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": bus_queue}])
    name = create_function({"app.py": TRIVIAL})
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": topic},
                           "OnFailure": {"Destination": bus}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"ok": true}')
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=raising("bus"))
    notification = json.loads(receive(sqs, topic_url)["Body"])
    assert json.loads(notification["Message"])["requestContext"]["condition"] == "Success"
    envelope = json.loads(receive(sqs, bus_url)["Body"])
    assert envelope["source"] == "lambda"
    assert envelope["detail-type"] == "Lambda Function Invocation Result - Failure"
    assert envelope["detail"]["requestContext"]["condition"] == "RetriesExhausted"
    assert envelope["detail"]["requestPayload"] == {"action": "raise", "why": "bus"}
    events.remove_targets(Rule=rule, EventBusName=bus, Ids=["q"])
    events.delete_rule(Name=rule, EventBusName=bus)
    events.delete_event_bus(Name=bus.rsplit("/", 1)[1])
    sns.delete_topic(TopicArn=topic)


# -- the event invoke config API -----------------------------------------------------------------

def refusal(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response
    return (error["Error"]["Code"], error["Error"]["Message"],
            error["ResponseMetadata"]["HTTPStatusCode"])


def test_the_config_api_refuses_what_aws_refuses(harness_client, create_function, queue
                                                 ) -> None:
    lam = harness_client("lambda")
    unchecked = harness_client("lambda", config=Config(parameter_validation=False))
    name = create_function({"app.py": TRIVIAL})
    _url, arn = queue("checks")
    put = lam.put_function_event_invoke_config
    assert refusal(put, FunctionName=name, MaximumRetryAttempts=3) == (
        "ValidationException", "1 validation error detected: Value '3' at "
        "'maximumRetryAttempts' failed to satisfy constraint: Member must have value less "
        "than or equal to 2", 400)
    # Below the minimums botocore refuses before sending; AWS answers so to other clients.
    code, message, _status = refusal(unchecked.put_function_event_invoke_config,
                                     FunctionName=name, MaximumRetryAttempts=-1,
                                     MaximumEventAgeInSeconds=59)
    assert (code, message) == (
        "ValidationException", "2 validation errors detected: Value '-1' at "
        "'maximumRetryAttempts' failed to satisfy constraint: Member must have value greater "
        "than or equal to 0; Value '59' at 'maximumEventAgeInSeconds' failed to satisfy "
        "constraint: Member must have value greater than or equal to 60")
    assert refusal(put, FunctionName=name, MaximumEventAgeInSeconds=21601)[1].endswith(
        "Member must have value less than or equal to 21600")
    code, message, _status = refusal(put, FunctionName=name, DestinationConfig={
        "OnSuccess": {"Destination": "my-queue"}})
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value 'my-queue' at "
                              "'destinationConfig.onSuccess.destination' failed to satisfy "
                              "constraint: Member must satisfy regular expression pattern: ")
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/records"
    assert refusal(put, FunctionName=name, DestinationConfig={
        "OnSuccess": {"Destination": table}, "OnFailure": {"Destination": arn}}) == (
        "InvalidParameterValueException", "The provided destination config DestinationConfig("
        f"onSuccess=OnSuccess(destination={table}), onFailure=OnFailure(destination={arn})) is "
        "invalid.", 400)
    bucket = "arn:aws:s3:::records"  # S3 takes failures only
    assert refusal(put, FunctionName=name, DestinationConfig={
        "OnSuccess": {"Destination": bucket}})[0] == "InvalidParameterValueException"
    assert put(FunctionName=name, DestinationConfig={"OnFailure": {"Destination": bucket}})
    assert refusal(put, FunctionName=name, DestinationConfig={
        "OnFailure": {"Destination": function_arn(lam, name)}})[1] == (
        "You can't specify the function as a destination for itself.")
    assert refusal(unchecked.put_function_event_invoke_config, FunctionName=name) == (
        "InvalidParameterValueException",
        "You must specify at least one of error handling or destination setting.", 400)
    assert refusal(put, FunctionName="no-such-function", MaximumRetryAttempts=1) == (
        "ResourceNotFoundException", "The function doesn't exist.", 404)
    assert refusal(lam.create_function, FunctionName="dlq-checked", Runtime="python3.11",
                   Role="arn:aws:iam::123456789012:role/test-role", Handler="app.handler",
                   Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},
                   DeadLetterConfig={"TargetArn": table})[0] == "InvalidParameterValueException"


def test_configs_are_kept_per_qualifier_and_updated_in_place(harness_client, create_function,
                                                             queue) -> None:
    lam = harness_client("lambda")
    name = create_function({"app.py": TRIVIAL})
    _url, arn = queue("per-qualifier")
    fn_arn = function_arn(lam, name)
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    assert refusal(lam.get_function_event_invoke_config, FunctionName=name) == (
        "ResourceNotFoundException",
        f"The function {fn_arn}:$LATEST doesn't have an EventInvokeConfig", 404)
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    shown = lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": arn}})
    assert shown["FunctionArn"] == f"{fn_arn}:$LATEST"
    got = lam.get_function_event_invoke_config(FunctionName=name)
    assert got["MaximumRetryAttempts"] == 0  # the second Put replaced the first
    assert got["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {"Destination": arn}}
    updated = lam.update_function_event_invoke_config(FunctionName=name,
                                                      MaximumEventAgeInSeconds=300)
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"],
            updated["DestinationConfig"]["OnFailure"]) == (0, 300, {"Destination": arn})
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="live",
                                         MaximumEventAgeInSeconds=60)
    listed = lam.list_function_event_invoke_configs(FunctionName=name)
    assert sorted(c["FunctionArn"] for c in listed["FunctionEventInvokeConfigs"]) == [
        f"{fn_arn}:$LATEST", f"{fn_arn}:live"]
    assert lam.get_function_event_invoke_config(FunctionName=f"{name}:live")[
        "MaximumEventAgeInSeconds"] == 60
    lam.delete_function_event_invoke_config(FunctionName=name, Qualifier="live")
    assert [c["FunctionArn"] for c in lam.list_function_event_invoke_configs(
        FunctionName=name)["FunctionEventInvokeConfigs"]] == [f"{fn_arn}:$LATEST"]
    assert refusal(lam.put_function_event_invoke_config, FunctionName=name, Qualifier="nope",
                   MaximumRetryAttempts=1)[0] == "ResourceNotFoundException"


SAM_TEMPLATE = f"""
Transform: AWS::Serverless-2016-10-31
Resources:
  Failures:
    Type: AWS::SQS::Queue
  DeadLetters:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: {LOCAL_RUNTIME}
      Handler: index.handler
      InlineCode: |
        def handler(event, context):
            raise RuntimeError("from the template")
      DeadLetterQueue: {{Type: SQS, TargetArn: !GetAtt DeadLetters.Arn}}
      EventInvokeConfig:
        MaximumRetryAttempts: 0
        DestinationConfig:
          OnFailure: {{Type: SQS, Destination: !GetAtt Failures.Arn}}
"""


def test_a_sam_functions_destinations_and_dead_letter_queue(harness_client) -> None:
    # SAM's EventInvokeConfig becomes AWS::Lambda::EventInvokeConfig, which moto lacks.
    cfn, lam, sqs = (harness_client(s) for s in ("cloudformation", "lambda", "sqs"))
    name = f"async-sam-{time.monotonic_ns()}"
    cfn.create_stack(StackName=name, TemplateBody=SAM_TEMPLATE, Capabilities=["CAPABILITY_IAM"])
    try:
        assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == \
            "CREATE_COMPLETE"
        physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in
                    cfn.describe_stack_resources(StackName=name)["StackResources"]}
        config = lam.get_function_event_invoke_config(FunctionName=physical["Fn"])
        assert config["MaximumRetryAttempts"] == 0
        lam.invoke(FunctionName=physical["Fn"], InvocationType="Event", Payload=b'{"n": 3}')
        record = json.loads(receive(sqs, physical["Failures"])["Body"])
        assert record["responsePayload"]["errorMessage"] == "from the template"
        assert receive(sqs, physical["DeadLetters"])["Body"] == '{"n": 3}'
    finally:
        cfn.delete_stack(StackName=name)
    assert refusal(lam.get_function_event_invoke_config, FunctionName=physical["Fn"])[0] == \
        "ResourceNotFoundException"
