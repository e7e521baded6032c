"""EventBridge through the session emulator with plain boto3: rules on the default and custom
buses match events and run real functions (asynchronous invokes), with Input, InputPath and
InputTransformer applied as the function sees them; SQS targets keep working; AWS's checks."""

from __future__ import annotations

import json
import logging
import re

import pytest
from botocore.exceptions import ClientError

from tests.triggers.events_support import Rules, all_delivered, grant_events, seen_events


@pytest.fixture(scope="module")
def events(harness_client):
    return harness_client("events")


@pytest.fixture(scope="module")
def logs(harness_client):
    return harness_client("logs")


@pytest.fixture
def rules(events, lambda_client) -> Rules:
    made = Rules(events, lambda_client)
    yield made
    made.remove_all()


def function_arn(lambda_client, name: str) -> str:
    return lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]


def test_a_rule_the_function_does_not_allow_runs_nothing_until_it_does(
        lambda_client, harness_emulator, create_function, events, logs, rules,
        caplog: pytest.LogCaptureFixture) -> None:
    name = create_function()
    arn = rules.put(f"ungranted-{name}", EventPattern=json.dumps({"source": [f"test.{name}"]}))
    rules.target(f"ungranted-{name}", {"Id": "fn", "Arn": function_arn(lambda_client, name)},
                 grant=False)
    entry = {"Source": f"test.{name}", "DetailType": "Order", "Detail": "{}"}
    with caplog.at_level(logging.WARNING, logger="harness.triggers"):
        assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0
        assert all_delivered(harness_emulator)
    assert seen_events(logs, name) == []
    refusal = next(r.getMessage() for r in caplog.records if "events.amazonaws.com" in
                   r.getMessage())
    assert f"--principal events.amazonaws.com --source-arn {arn}" in refusal
    grant_events(lambda_client, name, arn)
    events.put_events(Entries=[entry])
    assert all_delivered(harness_emulator)
    assert len(seen_events(logs, name)) == 1


def test_pattern_matches_one_event_and_not_the_other(
        lambda_client, harness_emulator, create_function, events, logs, rules) -> None:
    name = create_function()
    source = f"test.{name}"
    rules.put(f"big-orders-{name}", EventPattern=json.dumps({
        "source": [source],
        "detail": {"amount": [{"numeric": [">", 100]}], "items": {"sku": [{"prefix": "A-"}]}},
    }))
    rules.target(f"big-orders-{name}", {"Id": "fn", "Arn": function_arn(lambda_client, name)})
    big = {"amount": 150, "items": [{"sku": "B-2"}, {"sku": "A-1"}]}
    small = {"amount": 5, "items": [{"sku": "A-1"}]}
    answer = events.put_events(Entries=[
        {"Source": source, "DetailType": "Order", "Detail": json.dumps(big),
         "Resources": ["arn:aws:s3:::orders"]},
        {"Source": source, "DetailType": "Order", "Detail": json.dumps(small)},
    ])
    assert answer["FailedEntryCount"] == 0
    assert all_delivered(harness_emulator)
    seen = seen_events(logs, name)
    assert len(seen) == 1, seen  # the function ran once, with the matching event
    event = seen[0]
    assert event["id"] == answer["Entries"][0]["EventId"]
    assert event["detail"] == big
    assert {k: event[k] for k in ("version", "detail-type", "source", "account", "region",
                                  "resources")} == {
        "version": "0", "detail-type": "Order", "source": source, "account": "123456789012",
        "region": "us-east-1", "resources": ["arn:aws:s3:::orders"]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])


def test_input_settings_as_the_function_sees_them(
        lambda_client, harness_emulator, create_function, events, logs, rules) -> None:
    name = create_function()
    arn, rule, source = function_arn(lambda_client, name), f"inputs-{name}", f"test.{name}"
    rules.put(rule, EventPattern=json.dumps({"source": [source]}))
    paths = {"id": "$.detail.order.id", "sku": "$.detail.order.items[0].sku"}
    rules.target(
        rule,
        {"Id": "constant", "Arn": arn, "Input": '{"constant": true}'},
        {"Id": "path", "Arn": arn, "InputPath": "$.detail.order"},
        {"Id": "json", "Arn": arn, "InputTransformer": {"InputPathsMap": paths, "InputTemplate":
            '{"order": <id>, "first": <sku>, "text": "order <id> by <aws.events.rule-name>", '
            '"event": <aws.events.event.json>}'}},
        {"Id": "text", "Arn": arn, "InputTransformer": {"InputPathsMap": paths,
                                                        "InputTemplate": '"order <id> placed"'}},
    )
    detail = {"order": {"id": 7, "items": [{"sku": "A-1"}, {"sku": "C-3"}]}}
    answer = events.put_events(Entries=[{"Source": source, "DetailType": "Order",
                                         "Detail": json.dumps(detail)}])
    assert all_delivered(harness_emulator)
    seen = seen_events(logs, name)
    assert len(seen) == 4, seen
    assert {"constant": True} in seen
    assert detail["order"] in seen
    assert "order 7 placed" in seen  # a text template reaches the function as a JSON string
    transformed = next(e for e in seen if isinstance(e, dict) and "first" in e)
    assert {k: transformed[k] for k in ("order", "first", "text")} == {
        "order": 7, "first": "A-1", "text": f"order 7 by {rule}"}
    assert transformed["event"]["id"] == answer["Entries"][0]["EventId"]
    assert transformed["event"]["detail"] == detail


def test_custom_bus_rules_see_only_their_bus_and_disabled_rules_nothing(
        lambda_client, harness_emulator, create_function, events, logs, rules) -> None:
    name = create_function()
    arn, source, bus = function_arn(lambda_client, name), f"test.{name}", f"bus-{name}"
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    try:
        pattern = json.dumps({"source": [source]})
        rules.put(f"on-bus-{name}", bus=bus, EventPattern=pattern)
        rules.target(f"on-bus-{name}", {"Id": "fn", "Arn": arn, "InputPath": "$.detail"},
                     bus=bus)
        rules.put(f"off-{name}", bus=bus, EventPattern=pattern, State="DISABLED")
        rules.target(f"off-{name}", {"Id": "fn", "Arn": arn, "Input": '{"from": "disabled"}'},
                     bus=bus)
        entry = {"Source": source, "DetailType": "Note"}
        answer = events.put_events(Entries=[
            {**entry, "Detail": '{"via": "name"}', "EventBusName": bus},
            {**entry, "Detail": '{"via": "arn"}', "EventBusName": bus_arn},
            {**entry, "Detail": '{"via": "default bus"}'},
            {**entry, "Detail": '{"via": "no such bus"}', "EventBusName": f"none-{name}"},
        ])
        # a bus that does not exist: AWS still answers with an EventId, and drops the event
        assert answer["FailedEntryCount"] == 0 and all("EventId" in e for e in answer["Entries"])
        assert all_delivered(harness_emulator)
        assert sorted(e["via"] for e in seen_events(logs, name)) == [
            "arn", "name"]
    finally:
        rules.remove_all()
        events.delete_event_bus(Name=bus)


def test_sqs_target_receives_the_transformed_event(
        harness_client, events, rules) -> None:
    sqs = harness_client("sqs")
    queue = sqs.create_queue(QueueName="eventbridge-target-q")["QueueUrl"]
    try:
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        rules.put("to-queue", EventPattern=json.dumps({"source": ["test.to-queue"]}))
        rules.target("to-queue", {"Id": "q", "Arn": queue_arn, "InputTransformer": {
            "InputPathsMap": {"n": "$.detail.n"}, "InputTemplate": '{"n": <n>, "ok": true}'}})
        events.put_events(Entries=[{"Source": "test.to-queue", "DetailType": "Count",
                                    "Detail": '{"n": 3}'}])
        got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5).get("Messages", [])
        assert [json.loads(m["Body"]) for m in got] == [{"n": 3, "ok": True}]
    finally:
        sqs.delete_queue(QueueUrl=queue)


def test_put_events_answers_aws_entry_errors(events) -> None:
    answer = events.put_events(Entries=[
        {"Source": "test.errors", "DetailType": "x", "Detail": "{}"},
        {"Source": "test.errors", "DetailType": "x", "Detail": "[1]"},
        {"Source": "aws.s3", "DetailType": "x", "Detail": "{}"},
        {"DetailType": "x", "Detail": "{}"},
    ])
    assert answer["FailedEntryCount"] == 3
    assert "EventId" in answer["Entries"][0]
    assert [e.get("ErrorCode") for e in answer["Entries"][1:]] == [
        "MalformedDetail", "NotAuthorizedForSourceException", "InvalidArgument"]
    assert answer["Entries"][3]["ErrorMessage"] == \
        "Parameter Source is not valid. Reason: Source is a required argument."
    with pytest.raises(ClientError) as eleven:
        events.put_events(Entries=[{"Source": "s", "DetailType": "x", "Detail": "{}"}] * 11)
    assert eleven.value.response["Error"]["Code"] == "ValidationException"
    assert "Member must have length less than or equal to 10" in str(eleven.value)
    with pytest.raises(ClientError) as too_big:
        events.put_events(Entries=[{"Source": "s", "DetailType": "x",
                                    "Detail": json.dumps({"x": "y" * 300_000})}])
    assert too_big.value.response["Error"]["Message"] == \
        "Total size of the entries in the request is over the limit."


def test_put_rule_and_put_targets_refuse_what_aws_refuses(events, rules) -> None:
    with pytest.raises(ClientError) as bad_pattern:
        events.put_rule(Name="bad-pattern", EventPattern=json.dumps(
            {"detail": {"n": [{"numeric": [">", 5, "<", 1]}]}}))
    assert bad_pattern.value.response["Error"] == {
        "Code": "InvalidEventPatternException",
        "Message": "Event pattern is not valid. Reason: Bottom must be less than top"}
    rules.put("checked-targets", EventPattern=json.dumps({"source": ["test.checked"]}))
    with pytest.raises(ClientError) as two_inputs:
        events.put_targets(Rule="checked-targets", Targets=[{
            "Id": "t", "Arn": "arn:aws:sqs:us-east-1:123456789012:q", "Input": "{}",
            "InputPath": "$.detail"}])
    assert two_inputs.value.response["Error"]["Message"] == \
        "Only one of Input, InputPath, or InputTransformer must be provided for target t."
