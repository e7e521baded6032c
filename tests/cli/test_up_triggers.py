"""Issue 13's "done when" (its second bullet) through `harness up`: one `harness up` in a
subprocess, plain boto3 clients against its URL, functions running for real. S3, SQS (partial
batch failures and the DLQ), EventBridge, SNS, an async OnFailure destination, a function URL,
a recursive SQS loop and an hourly schedule, each observed from outside the process: datagrams
from the functions, queues, CloudWatch Logs and metrics, the harness's stderr."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import psutil
import pytest
from aws_lambda_powertools.utilities.parser.models import S3Model, SnsModel
from botocore.config import Config

from harness.clock_client import ClockClient
from harness.package import zip_files
from tests.cli.up_process import Running, running_up
from tests.conftest import LOCAL_RUNTIME, TRIVIAL
from tests.emulator.support import raw_request
from tests.triggers.events_support import Rules, seen_events
from tests.triggers.recorder import RECORDING, Recorder
from tests.triggers.sqs_support import (
    CONSUMER,
    LOOPER,
    assert_loop_stopped,
    assert_partial_failures,
    logged,
    make_queue,
    queue_empty,
    starts,
    unique,
    wait_for,
)

REGION = "us-east-1"  # the region of the records the assertions name
ACCOUNT = "123456789012"
# Echoes the payload 2.0 event a function URL hands it.
URL_ECHO = '''
import json
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"event": event, "arn": context.invoked_function_arn})}
'''


@dataclass
class Up:
    """The running `harness up`: its URL, boto3 clients, its clock and its stderr."""

    running: Running
    stderr: Path
    role: str = ""

    def client(self, service: str) -> Any:
        # one attempt: what a call answers is to be seen, not retried away
        return boto3.client(service, endpoint_url=self.running.url, region_name=REGION,
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=Config(retries={"total_max_attempts": 1}, read_timeout=120))

    @property
    def clock(self) -> ClockClient:
        return ClockClient(self.running.url)

    def function(self, source: str, role: str | None = None, **config: Any) -> tuple[str, str]:
        """A new function running ``source`` as app.py: (name, ARN)."""
        name = unique("up-fn")
        made = self.client("lambda").create_function(
            FunctionName=name, Runtime=LOCAL_RUNTIME, Handler="app.handler",
            Role=role or self.role, Code={"ZipFile": zip_files({"app.py": source})}, **config)
        return name, str(made["FunctionArn"])


def _role(iam: Any, name: str, *statements: dict[str, Any]) -> str:
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))
    return str(arn)


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    """One `harness up` for the module; at the end it and every process it started are gone."""
    root = tmp_path_factory.mktemp("up-triggers")
    env = dict(os.environ, HARNESS_STATE_DIR=str(root / "state"), AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION=REGION, PYTHONUNBUFFERED="1")
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_ENDPOINT_URL", None)
    with (root / "stderr.log").open("w") as stderr, running_up(env, stderr) as running:
        harness = Up(running, root / "stderr.log")
        harness.role = _role(harness.client("iam"), "up-triggers")
        yield harness
        children = running.children()
    assert running.process.poll() is not None
    _gone, alive = psutil.wait_procs(children, timeout=30)  # a stop takes milliseconds
    assert alive == [], alive


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with Recorder() as found:
        yield found


def metric_sum(up: Up, metric: str, function: str) -> float:
    """The function's ``AWS/Lambda`` metric summed over the last day of the harness's clock
    (which these tests advance), as CloudWatch answers it."""
    now = datetime.fromtimestamp(up.clock.now(), UTC)
    points = up.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda", MetricName=metric,
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=now - timedelta(days=1), EndTime=now + timedelta(hours=1), Period=3600,
        Statistics=["Sum"])["Datapoints"]
    return float(sum(p["Sum"] for p in points))


def test_s3_record_validates_against_powertools_s3model_and_the_prefix_filter_holds(
        up: Up, recorder: Recorder) -> None:
    s3, lam = up.client("s3"), up.client("lambda")
    name, arn = up.function(RECORDING, Environment=recorder.environment())
    lam.add_permission(FunctionName=name, StatementId="s3", Principal="s3.amazonaws.com",
                       Action="lambda:InvokeFunction")
    bucket = unique("up-bucket")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{
            "Id": "to-function", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}}}]})
    s3.put_object(Bucket=bucket, Key="elsewhere/skip.csv", Body=b"no")
    put = s3.put_object(Bucket=bucket, Key="incoming/red flower=1.csv", Body=b"a,b\n1,2\n")

    event = recorder.next()["event"]
    S3Model.model_validate(event)  # aws-lambda-powertools' own parser model
    (record,) = event["Records"]
    assert {k: record[k] for k in ("eventVersion", "eventSource", "awsRegion", "eventName")} == {
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
        "eventName": "ObjectCreated:Put"}
    assert record["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    assert record["s3"]["configurationId"] == "to-function"
    assert record["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    obj = record["s3"]["object"]
    assert obj["key"] == "incoming/red+flower%3D1.csv"  # URL-encoded, a space as "+"
    assert (obj["size"], obj["eTag"]) == (8, put["ETag"].strip('"'))
    # S3 hands an event to Lambda inside the PutObject that caused it: both puts have answered,
    # and Lambda's queue received one event, so elsewhere/skip.csv invoked nothing.
    assert metric_sum(up, "AsyncEventsReceived", name) == 1
    wait_for(lambda: metric_sum(up, "Invocations", name) == 1, "the invocation's metric")
    assert recorder.pending() == []


def test_sqs_partial_batch_failures_reach_the_dlq_and_the_rest_is_processed_once_in_batches(
        up: Up) -> None:
    sqs, logs = up.client("sqs"), up.client("logs")
    name, _ = up.function(CONSUMER, Timeout=3)
    dlq_url, dlq_arn = make_queue(sqs, unique("up-partial-dlq"))
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    url, arn = make_queue(sqs, unique("up-partial"), VisibilityTimeout="3",
                          RedrivePolicy=redrive)
    good = [f"good-{i}" for i in range(17)]
    bad = [f"bad-{i}" for i in range(3)]
    for body in good + bad:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    up.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName=name, BatchSize=4,
        FunctionResponseTypes=["ReportBatchItemFailures"])

    assert_partial_failures(sqs, logs, name, (url, dlq_url), good, bad)
    sizes = [len(batch["records"]) for batch in logged(logs, name, "BATCH")]
    assert max(sizes) > 1, sizes  # batches: more than one record at a time


def test_eventbridge_pattern_matches_one_event_and_not_the_other(up: Up) -> None:
    events, logs = up.client("events"), up.client("logs")
    name, arn = up.function(TRIVIAL)
    rules = Rules(events, up.client("lambda"))
    source = f"test.{name}"
    rules.put(f"big-orders-{name}", EventPattern=json.dumps({
        "source": [source],
        "detail": {"amount": [{"numeric": [">", 100]}], "items": {"sku": [{"prefix": "A-"}]}},
    }))
    rules.target(f"big-orders-{name}", {"Id": "fn", "Arn": arn})
    big = {"amount": 150, "items": [{"sku": "B-2"}, {"sku": "A-1"}]}
    small = {"amount": 5, "items": [{"sku": "A-1"}]}
    answer = events.put_events(Entries=[
        {"Source": source, "DetailType": "Order", "Detail": json.dumps(big)},
        {"Source": source, "DetailType": "Order", "Detail": json.dumps(small)}])
    assert answer["FailedEntryCount"] == 0

    # PutEvents matches and hands the matches to Lambda before it answers: one was received.
    assert metric_sum(up, "AsyncEventsReceived", name) == 1
    (event,) = wait_for(lambda: seen_events(logs, name), "the matching event to run")
    assert event["id"] == answer["Entries"][0]["EventId"] and event["detail"] == big
    assert {k: event[k] for k in ("version", "detail-type", "source", "account", "region")} == {
        "version": "0", "detail-type": "Order", "source": source, "account": ACCOUNT,
        "region": REGION}
    rules.remove_all()


def test_sns_publish_runs_the_subscribed_function(up: Up, recorder: Recorder) -> None:
    sns, lam = up.client("sns"), up.client("lambda")
    name, arn = up.function(RECORDING, Environment=recorder.environment())
    topic = sns.create_topic(Name=unique("up-topic"))["TopicArn"]
    lam.add_permission(FunctionName=name, StatementId="sns", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com", SourceArn=topic)
    subscription = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn,
                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
    published = sns.publish(TopicArn=topic, Message="retrain please", Subject="models")

    event = recorder.next()["event"]
    SnsModel.model_validate(event)  # aws-lambda-powertools' own parser model
    (record,) = event["Records"]
    assert (record["EventSource"], record["EventSubscriptionArn"]) == ("aws:sns", subscription)
    assert {k: record["Sns"][k] for k in ("Type", "MessageId", "TopicArn", "Subject",
                                          "Message")} == {
        "Type": "Notification", "MessageId": published["MessageId"], "TopicArn": topic,
        "Subject": "models", "Message": "retrain please"}
    assert metric_sum(up, "AsyncEventsReceived", name) == 1  # one delivery, within Publish


def _advance_until_received(up: Up, sqs: Any, url: str) -> dict[str, Any]:
    """Advance the harness's clock two minutes at a time (AWS's retries wait one, then two)
    until the queue has a message; returns it. An advance before a failure has been counted
    only moves time: the event's six hours of age leave room for many."""
    found: list[dict[str, Any]] = []

    def received() -> bool:
        up.clock.advance(120)
        found.extend(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []))
        return bool(found)

    wait_for(received, f"a message in {url}")
    return found[0]


def test_event_invoke_fails_into_its_on_failure_queue_with_aws_record(up: Up) -> None:
    lam, sqs, logs = up.client("lambda"), up.client("sqs"), up.client("logs")
    name, arn = up.function(TRIVIAL)
    url, queue_arn = make_queue(sqs, unique("up-on-failure"))
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    payload = {"action": "raise", "why": "retried"}
    assert lam.invoke(FunctionName=name, InvocationType="Event",
                      Payload=json.dumps(payload).encode())["StatusCode"] == 202

    record = json.loads(_advance_until_received(up, sqs, url)["Body"])
    request_ids = starts(logs, name)
    assert len(request_ids) == 3 and len(set(request_ids)) == 1  # one event, run three times
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record.pop("timestamp"))
    assert record["responsePayload"].pop("stackTrace")
    assert record == {
        "version": "1.0",
        "requestContext": {"requestId": request_ids[0], "functionArn": f"{arn}:$LATEST",
                           "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                            "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "boom: retried", "errorType": "ValueError",
                            "requestId": request_ids[0]},
    }


def test_function_url_answers_with_payload_2_0(up: Up) -> None:
    lam = up.client("lambda")
    name, _ = up.function(URL_ECHO)
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    lam.add_permission(FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="NONE")
    lam.add_permission(FunctionName=name, StatementId="invoke", Action="lambda:InvokeFunction",
                       Principal="*", InvokedViaFunctionUrl=True)
    port = urlsplit(up.running.url).port
    url_id = urlsplit(url).netloc.split(".")[0]
    assert url == f"http://{url_id}.lambda-url.{REGION}.localhost.localstack.cloud:{port}/"

    # *.localhost.localstack.cloud may not resolve offline: 127.0.0.1 with the URL's Host.
    status, _headers, body = raw_request(
        f"http://127.0.0.1:{port}/items/42?a=1&a=2&b=x", "POST",
        [("Host", urlsplit(url).netloc), ("Content-Type", "application/json"),
         ("User-Agent", "up-test/1")], b'{"x": 1}')
    assert status == 200, body
    answer = json.loads(body)
    event = answer["event"]
    assert (event["version"], event["routeKey"], event["rawPath"], event["rawQueryString"]) == (
        "2.0", "$default", "/items/42", "a=1&a=2&b=x")
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert (event["body"], event["isBase64Encoded"]) == ('{"x": 1}', False)
    assert "pathParameters" not in event and "stageVariables" not in event
    context = event["requestContext"]
    assert (context["routeKey"], context["stage"], context["apiId"]) == (
        "$default", "$default", url_id)
    assert context["domainName"] == urlsplit(url).hostname
    assert context["http"] == {"method": "POST", "path": "/items/42", "protocol": "HTTP/1.1",
                               "sourceIp": "127.0.0.1", "userAgent": "up-test/1"}
    assert answer["arn"].endswith(f":function:{name}")


def _stderr_line(up: Up, needle: str) -> str:
    lines = up.stderr.read_text().splitlines()
    return next((line for line in lines if needle in line), "")


def test_recursive_sqs_loop_is_stopped_after_16_invocations(up: Up) -> None:
    sqs, logs = up.client("sqs"), up.client("logs")
    sender = _role(up.client("iam"), unique("up-sender"), {
        "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"})
    dlq_url, dlq_arn = make_queue(sqs, unique("up-loop-dlq"))
    url, arn = make_queue(sqs, unique("up-loop"), RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}))
    name, _ = up.function(LOOPER, role=sender, Timeout=3,
                          Environment={"Variables": {"QUEUE_URL": url}})
    up.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName=name,
                                                    BatchSize=1)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"hops": 0}))

    assert_loop_stopped(sqs, logs, name, dlq_url)
    assert queue_empty(sqs, url)
    assert wait_for(lambda: metric_sum(up, "RecursiveInvocationsDropped", name),
                    "the RecursiveInvocationsDropped metric") == 1.0
    line = wait_for(lambda: _stderr_line(up, f"invocation(s) of {name} from"), "the log line")
    assert "recursive loop detected" in line and "stopped after 16 invocations" in line


def test_hourly_schedule_fires_when_the_clock_is_advanced_an_hour(up: Up) -> None:
    events, logs = up.client("events"), up.client("logs")
    name, arn = up.function(TRIVIAL)
    rules = Rules(events, up.client("lambda"))
    rule_arn = rules.put(f"hourly-{name}", ScheduleExpression="rate(1 hour)")
    rules.target(f"hourly-{name}", {"Id": "fn", "Arn": arn})
    created = up.clock.now()

    started = time.monotonic()
    up.clock.advance(3600)
    (event,) = wait_for(lambda: seen_events(logs, name), "the hour's occurrence to run")
    fired_after = time.monotonic() - started
    print(f"rate(1 hour) fired {fired_after:.3f} s of wall time after the clock moved an hour")
    # The clock was advanced, not waited for: an hour of real waiting would be 3600 s. The
    # bound is loose on purpose (a cold start on this shared 2-core machine has taken seconds).
    assert fired_after < 60, fired_after
    assert {k: event[k] for k in ("detail-type", "source", "resources", "detail")} == {
        "detail-type": "Scheduled Event", "source": "aws.events", "resources": [rule_arn],
        "detail": {}}
    occurred = datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(occurred.timestamp() - (created + 3600)) <= 2  # the occurrence's own time
    assert metric_sum(up, "AsyncEventsReceived", name) == 1  # once, not once per minute
    rules.remove_all()
