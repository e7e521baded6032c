"""SNS to Lambda with plain boto3 through the session emulator: SNS's record (the real
subscription ARN, the published MessageId, attributes and time) reaches a subscribed function,
and a filter policy lets through only the messages it matches."""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import SnsModel

from harness.aws_state.sns_subscriptions import SnsDelivery
from harness.triggers.sns import string_to_sign
from tests.triggers.recorder import RECORDING, Recorder

_topics = itertools.count()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with Recorder() as found:
        yield found


@pytest.fixture
def sns(harness_client: Callable[..., Any]) -> Any:
    return harness_client("sns")


@pytest.fixture
def function_arn(create_function: Callable[..., str], lambda_client: Any,
                 recorder: Recorder) -> str:
    name = create_function({"app.py": RECORDING}, Environment=recorder.environment())
    return str(lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"])


def grant_sns(lambda_client: Any, function_arn: str, topic: str) -> None:
    """Lets the topic invoke the function: the resource-based policy SNS needs."""
    lambda_client.add_permission(FunctionName=function_arn, StatementId=topic.rsplit(":", 1)[-1],
                                 Action="lambda:InvokeFunction", Principal="sns.amazonaws.com",
                                 SourceArn=topic)


def subscribed(sns: Any, lambda_client: Any, function_arn: str, grant: bool = True,
               **attributes: str) -> tuple[str, str]:
    """(topic ARN, subscription ARN) of a new topic with the function subscribed and, with
    ``grant``, allowed to invoke it, as the console's subscribe does."""
    topic = sns.create_topic(Name=f"trigger-topic-{next(_topics)}")["TopicArn"]
    if grant:
        grant_sns(lambda_client, function_arn, topic)
    subscription = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn,
                                 Attributes=attributes, ReturnSubscriptionArn=True)
    return topic, subscription["SubscriptionArn"]


def drained(harness_emulator: Any, recorder: Recorder) -> list[dict[str, Any]]:
    """Invocations beyond those already read, once every accepted Event invocation has ended:
    SNS hands the function its message inside Publish, so an earlier message is accepted by
    then, or never."""
    assert harness_emulator.lambdas.wait_for_events(timeout=60)
    return recorder.pending()


def test_publish_delivers_snss_record_to_the_subscribed_function(
        sns: Any, lambda_client: Any, function_arn: str, recorder: Recorder,
        harness_emulator: Any) -> None:
    topic, subscription = subscribed(sns, lambda_client, function_arn)
    before = time.time()
    published = sns.publish(TopicArn=topic, Message="retrain please", Subject="models",
                            MessageAttributes={
                                "kind": {"DataType": "String", "StringValue": "retrain"},
                                "rows": {"DataType": "Number", "StringValue": "150"}})

    event = recorder.next()["event"]
    SnsModel.model_validate(event)  # what aws-lambda-powertools' parser accepts
    (record,) = event["Records"]
    assert (record["EventSource"], record["EventVersion"]) == ("aws:sns", "1.0")
    assert record["EventSubscriptionArn"] == subscription
    message = record["Sns"]
    assert {k: message[k] for k in ("Type", "MessageId", "TopicArn", "Subject", "Message")} == {
        "Type": "Notification", "MessageId": published["MessageId"], "TopicArn": topic,
        "Subject": "models", "Message": "retrain please"}
    assert message["MessageAttributes"] == {"kind": {"Type": "String", "Value": "retrain"},
                                            "rows": {"Type": "Number", "Value": "150"}}
    sent = datetime.fromisoformat(message["Timestamp"].replace("Z", "+00:00")).timestamp()
    assert sent >= before - 1  # the publish time, not moto's 1970 placeholder
    assert message["SignatureVersion"] == "1" and message["Signature"]
    assert message["SigningCertUrl"].startswith("https://sns.us-east-1.amazonaws.com/")
    assert message["UnsubscribeUrl"].endswith(f"SubscriptionArn={subscription}")
    assert drained(harness_emulator, recorder) == []


def test_attribute_filter_policy_lets_only_matching_messages_through(
        sns: Any, lambda_client: Any, function_arn: str, recorder: Recorder,
        harness_emulator: Any) -> None:
    policy = {"kind": ["retrain"], "rows": [{"numeric": [">", 100]}]}
    topic, _ = subscribed(sns, lambda_client, function_arn, FilterPolicy=json.dumps(policy))

    def publish(message: str, kind: str, rows: str) -> None:
        sns.publish(TopicArn=topic, Message=message, MessageAttributes={
            "kind": {"DataType": "String", "StringValue": kind},
            "rows": {"DataType": "Number", "StringValue": rows}})

    publish("wrong kind", "predict", "500")
    publish("too few rows", "retrain", "10")
    sns.publish(TopicArn=topic, Message="no attributes at all")
    publish("matches", "retrain", "150")

    first = recorder.next()["event"]["Records"][0]["Sns"]
    assert first["Message"] == "matches" and first["Subject"] is None
    assert drained(harness_emulator, recorder) == []  # the three before it never ran it


def test_message_body_filter_policy_scope(
        sns: Any, lambda_client: Any, function_arn: str, recorder: Recorder,
        harness_emulator: Any) -> None:
    topic, _ = subscribed(sns, lambda_client, function_arn, FilterPolicyScope="MessageBody",
                          FilterPolicy=json.dumps({"job": {"kind": ["retrain"]}}))
    sns.publish(TopicArn=topic, Message=json.dumps({"job": {"kind": "predict"}}))
    sns.publish(TopicArn=topic, Message="not even json")
    sns.publish(TopicArn=topic, Message=json.dumps({"job": {"kind": "retrain", "rows": 3}}))

    record = recorder.next()["event"]["Records"][0]
    assert json.loads(record["Sns"]["Message"]) == {"job": {"kind": "retrain", "rows": 3}}
    assert drained(harness_emulator, recorder) == []


def test_a_topic_the_function_does_not_allow_delivers_nothing_until_it_does(
        sns: Any, lambda_client: Any, function_arn: str, recorder: Recorder,
        harness_emulator: Any, caplog: pytest.LogCaptureFixture) -> None:
    topic, _ = subscribed(sns, lambda_client, function_arn, grant=False)
    with caplog.at_level(logging.WARNING, logger="harness.triggers"):
        sns.publish(TopicArn=topic, Message="refused")
        assert drained(harness_emulator, recorder) == []
    refusal = next(r.getMessage() for r in caplog.records if "sns.amazonaws.com" in r.getMessage())
    assert "may not invoke function" in refusal
    assert (f"aws lambda add-permission --function-name {function_arn.rsplit(':', 1)[-1]}"
            in refusal) and f"--source-arn {topic}" in refusal
    grant_sns(lambda_client, function_arn, topic)  # read at each delivery, as on AWS
    sns.publish(TopicArn=topic, Message="allowed")
    assert recorder.next()["event"]["Records"][0]["Sns"]["Message"] == "allowed"


def test_the_string_to_sign_has_the_subject_only_when_there_is_one() -> None:
    delivery = SnsDelivery(subscription_arn="arn:aws:sns:us-east-1:1:t:s", function_arn="f",
                           topic_arn="arn:aws:sns:us-east-1:1:t", message_id="m",
                           message="hi", subject=None)
    assert string_to_sign(delivery, "T") == (
        "Message\nhi\nMessageId\nm\nTimestamp\nT\nTopicArn\narn:aws:sns:us-east-1:1:t\n"
        "Type\nNotification\n")
    titled = string_to_sign(replace(delivery, subject="s"), "T")
    assert "MessageId\nm\nSubject\ns\nTimestamp\n" in titled
