"""S3 event notifications with plain boto3 through the session emulator: S3's record reaches the
function (an asynchronous invoke), queues and topics; filters, every object-created and
object-removed kind, versioning, and S3's checks of a configuration."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import botocore.exceptions
import pytest
from aws_lambda_powertools.utilities.parser.models import S3Model

from harness.aws_state.s3_destinations import lets_s3_invoke, overlap_error
from harness.triggers.s3 import Sequencer, encode_key
from tests.triggers.recorder import RECORDING, Recorder

_buckets = itertools.count()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with Recorder() as found:
        yield found


@pytest.fixture
def s3(harness_client: Callable[..., Any]) -> Any:
    return harness_client("s3")


@pytest.fixture
def s3_function(create_function: Callable[..., str], lambda_client: Any,
                recorder: Recorder) -> str:
    """A recording function S3 may invoke; its ARN."""
    name = create_function({"app.py": RECORDING}, Environment=recorder.environment())
    lambda_client.add_permission(FunctionName=name, StatementId="s3", Principal="s3.amazonaws.com",
                                 Action="lambda:InvokeFunction")
    return str(lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"])


def new_bucket(s3: Any, versioned: bool = False) -> str:
    name = f"trigger-bucket-{time.time_ns() % 10**9}-{next(_buckets)}"
    s3.create_bucket(Bucket=name)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def notify_function(s3: Any, bucket: str, function_arn: str, *, prefix: str | None = None,
                    events: tuple[str, ...] = ("s3:ObjectCreated:*", "s3:ObjectRemoved:*")) -> None:
    config: dict[str, Any] = {"Id": "to-function", "LambdaFunctionArn": function_arn,
                              "Events": list(events)}
    if prefix is not None:
        config["Filter"] = {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": [config]})


def drained(harness_emulator: Any, recorder: Recorder) -> list[dict[str, Any]]:
    """Invocations reported beyond those already read, once every Event invocation accepted so
    far has ended. S3 decides whether an event is delivered inside the request that caused it,
    so an event of an earlier request is accepted by then, or never."""
    assert harness_emulator.lambdas.wait_for_events(timeout=60)
    return recorder.pending()


def records(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [record for report in reports for record in report["event"]["Records"]]


def test_put_delivers_s3s_record_and_the_prefix_filter_holds(
        s3: Any, s3_function: str, recorder: Recorder, harness_emulator: Any) -> None:
    bucket = new_bucket(s3)
    notify_function(s3, bucket, s3_function, prefix="incoming/")
    s3.put_object(Bucket=bucket, Key="elsewhere/skip.csv", Body=b"no")
    put = s3.put_object(Bucket=bucket, Key="incoming/red flower=1.csv", Body=b"a,b\n1,2\n")

    event = recorder.next()["event"]
    S3Model.model_validate(event)  # what aws-lambda-powertools' parser accepts
    (record,) = event["Records"]
    assert {k: record[k] for k in ("eventVersion", "eventSource", "awsRegion", "eventName")} == {
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventName": "ObjectCreated:Put"}
    assert record["userIdentity"]["principalId"].startswith("AWS:")
    assert record["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    assert set(record["responseElements"]) == {"x-amz-request-id", "x-amz-id-2"}
    s3_part = record["s3"]
    assert (s3_part["s3SchemaVersion"], s3_part["configurationId"]) == ("1.0", "to-function")
    assert s3_part["bucket"]["name"] == bucket
    assert s3_part["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert s3_part["bucket"]["ownerIdentity"]["principalId"]
    obj = s3_part["object"]
    assert obj["key"] == "incoming/red+flower%3D1.csv"  # URL-encoded, a space as "+"
    assert (obj["size"], obj["eTag"]) == (8, put["ETag"].strip('"'))
    assert "versionId" not in obj  # the bucket is not versioned
    int(obj["sequencer"], 16)
    assert drained(harness_emulator, recorder) == []  # elsewhere/skip.csv triggered nothing


def test_copy_multipart_and_deletes_each_send_their_one_event(
        s3: Any, s3_function: str, recorder: Recorder, harness_emulator: Any) -> None:
    bucket = new_bucket(s3)
    notify_function(s3, bucket, s3_function)
    s3.put_object(Bucket=bucket, Key="a", Body=b"first")
    s3.copy_object(Bucket=bucket, Key="b", CopySource={"Bucket": bucket, "Key": "a"})
    upload = s3.create_multipart_upload(Bucket=bucket, Key="c")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="c", UploadId=upload, PartNumber=1, Body=b"p" * 10)
    s3.complete_multipart_upload(Bucket=bucket, Key="c", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    s3.delete_object(Bucket=bucket, Key="a")
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b"}, {"Key": "c"}]})

    found = records(recorder.take(6) + drained(harness_emulator, recorder))
    S3Model.model_validate({"Records": found})
    assert sorted((r["eventName"], r["s3"]["object"]["key"]) for r in found) == [
        ("ObjectCreated:CompleteMultipartUpload", "c"), ("ObjectCreated:Copy", "b"),
        ("ObjectCreated:Put", "a"), ("ObjectRemoved:Delete", "a"),
        ("ObjectRemoved:Delete", "b"), ("ObjectRemoved:Delete", "c")]
    for record in found:
        obj = record["s3"]["object"]
        if record["eventName"].startswith("ObjectRemoved"):
            assert "size" not in obj and "eTag" not in obj  # as S3 sends removals
        else:
            assert obj["size"] == {"a": 5, "b": 5, "c": 10}[obj["key"]]
    by_key = {(r["eventName"].split(":")[0], r["s3"]["object"]["key"]):
              r["s3"]["object"]["sequencer"] for r in found}
    for key in "abc":  # a later event on a key has a larger sequencer
        assert int(by_key["ObjectRemoved", key], 16) > int(by_key["ObjectCreated", key], 16)


def test_versioned_bucket_reports_versions_and_delete_markers(
        s3: Any, s3_function: str, recorder: Recorder, harness_emulator: Any) -> None:
    bucket = new_bucket(s3, versioned=True)
    notify_function(s3, bucket, s3_function)
    first = s3.put_object(Bucket=bucket, Key="model.bin", Body=b"v1")["VersionId"]
    (put,) = records([recorder.next()])
    assert (put["eventName"], put["s3"]["object"]["versionId"]) == ("ObjectCreated:Put", first)

    marker = s3.delete_object(Bucket=bucket, Key="model.bin")["VersionId"]
    (removed,) = records([recorder.next()])
    assert removed["eventName"] == "ObjectRemoved:DeleteMarkerCreated"
    assert removed["s3"]["object"]["versionId"] == marker

    s3.delete_object(Bucket=bucket, Key="model.bin", VersionId=first)
    (gone,) = records([recorder.next()])
    assert (gone["eventName"], gone["s3"]["object"]["versionId"]) == (
        "ObjectRemoved:Delete", first)
    S3Model.model_validate({"Records": [put, removed, gone]})
    assert drained(harness_emulator, recorder) == []


def _receive_one(sqs: Any, queue_url: str) -> dict[str, Any]:
    """The queue's next message body (long polls until the deadline), deleted."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages")
        if messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
            return json.loads(messages[0]["Body"])  # type: ignore[no-any-return]
    raise AssertionError(f"no message in {queue_url} within 30 s")


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, arn["Attributes"]["QueueArn"]


def test_queues_and_topics_get_the_test_event_then_s3s_record(
        s3: Any, harness_client: Callable[..., Any]) -> None:
    sqs, sns = harness_client("sqs"), harness_client("sns")
    bucket = new_bucket(s3)
    direct_url, direct_arn = _queue(sqs, f"{bucket}-direct")
    fanout_url, fanout_arn = _queue(sqs, f"{bucket}-fanout")
    topic = sns.create_topic(Name=f"{bucket}-topic")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=fanout_arn)
    def under(prefix: str) -> dict[str, Any]:  # S3 refuses two configurations for one event
        return {"Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"Id": "q", "QueueArn": direct_arn, **under("direct/")}],
        "TopicConfigurations": [{"Id": "t", "TopicArn": topic, **under("fanout/")}]})

    test_event = _receive_one(sqs, direct_url)
    assert {k: test_event[k] for k in ("Service", "Event", "Bucket")} == {
        "Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": bucket}
    assert test_event["Time"].endswith("Z") and test_event["RequestId"] and test_event["HostId"]
    envelope = _receive_one(sqs, fanout_url)
    assert envelope["Subject"] == "Amazon S3 Notification"
    assert json.loads(envelope["Message"])["Event"] == "s3:TestEvent"

    s3.put_object(Bucket=bucket, Key="direct/x y.json", Body=b"{}")
    s3.put_object(Bucket=bucket, Key="fanout/z.json", Body=b"{}")
    direct = _receive_one(sqs, direct_url)  # the message body is the record itself
    S3Model.model_validate(direct)
    assert direct["Records"][0]["s3"]["configurationId"] == "q"
    assert direct["Records"][0]["s3"]["object"]["key"] == "direct/x+y.json"
    envelope = _receive_one(sqs, fanout_url)  # through SNS: the record is the message
    assert (envelope["Subject"], envelope["TopicArn"]) == ("Amazon S3 Notification", topic)
    via_topic = json.loads(envelope["Message"])
    S3Model.model_validate(via_topic)
    assert via_topic["Records"][0]["s3"]["configurationId"] == "t"
    assert via_topic["Records"][0]["s3"]["object"]["key"] == "fanout/z.json"


def _refusal(s3: Any, bucket: str, config: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        s3.put_bucket_notification_configuration(Bucket=bucket,
                                                 NotificationConfiguration=config)
    return caught.value.response["Error"]  # type: ignore[no-any-return]


def test_configuration_is_checked_as_s3_checks_it(
        s3: Any, create_function: Callable[..., str], lambda_client: Any,
        harness_client: Callable[..., Any]) -> None:
    bucket = new_bucket(s3)
    name = create_function()
    arn = lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    created = ["s3:ObjectCreated:*"]
    error = _refusal(s3, bucket, {"LambdaFunctionConfigurations": [
        {"LambdaFunctionArn": arn, "Events": created}]})
    assert error == {
        "Code": "InvalidArgument",
        "Message": "Unable to validate the following destination configurations",
        "ArgumentName": f"{arn}, null",
        "ArgumentValue": f"Not authorized to invoke function [{arn}]"}

    error = _refusal(s3, bucket, {"LambdaFunctionConfigurations": [
        {"LambdaFunctionArn": f"{arn}-gone", "Events": created}]})
    assert error["ArgumentValue"] == "The destination Lambda does not exist"
    missing_queue = "arn:aws:sqs:us-east-1:123456789012:no-such-queue"
    error = _refusal(s3, bucket, {"QueueConfigurations": [
        {"QueueArn": missing_queue, "Events": created}]})
    assert (error["ArgumentName"], error["ArgumentValue"]) == (
        missing_queue, "The destination queue does not exist")

    # The bucket's own ARN in the permission's condition is what S3 needs.
    lambda_client.add_permission(FunctionName=name, StatementId="other-bucket",
                                 Principal="s3.amazonaws.com", Action="lambda:InvokeFunction",
                                 SourceArn="arn:aws:s3:::some-other-bucket")
    assert _refusal(s3, bucket, {"LambdaFunctionConfigurations": [
        {"LambdaFunctionArn": arn, "Events": created}]})["ArgumentValue"].startswith(
        "Not authorized")
    lambda_client.add_permission(FunctionName=name, StatementId="this-bucket",
                                 Principal="s3.amazonaws.com", Action="lambda:InvokeFunction",
                                 SourceArn=f"arn:aws:s3:::{bucket}")
    prefixed = {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:Put"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}}
    error = _refusal(s3, bucket, {"LambdaFunctionConfigurations": [
        {"LambdaFunctionArn": arn, "Events": created}, prefixed]})
    assert error["Message"].startswith("Configuration is ambiguously defined")
    error = _refusal(s3, bucket, {"LambdaFunctionConfigurations": [
        {"LambdaFunctionArn": arn, "Events": created},
        {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:Copy"]}]})
    assert error["Message"] == ("Configurations overlap. Configurations on the same bucket "
                                "cannot share a common event type.")
    assert s3.get_bucket_notification_configuration(Bucket=bucket).get(
        "LambdaFunctionConfigurations") is None  # nothing refused was stored

    elsewhere = {**prefixed, "Filter": {"Key": {"FilterRules": [
        {"Name": "prefix", "Value": "out/"}]}}}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [prefixed, elsewhere]})  # disjoint prefixes: accepted
    stored = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert len(stored["LambdaFunctionConfigurations"]) == 2


# -- the formats and rules, without a server -----------------------------------------------------

def test_keys_are_form_encoded_with_their_slashes_kept() -> None:
    assert encode_key("in put/red flower=1+2.csv") == "in+put/red+flower%3D1%2B2.csv"
    assert encode_key("données/é.txt") == "donn%C3%A9es/%C3%A9.txt"


def test_sequencers_are_hex_of_one_width_and_increase() -> None:
    sequencer = Sequencer()
    found = [sequencer.next() for _ in range(1000)]
    assert len({len(s) for s in found}) == 1
    assert [int(s, 16) for s in found] == sorted({int(s, 16) for s in found})


def _entry(events: list[str], prefix: str = "", suffix: str = "") -> dict[str, Any]:
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v]
    entry: dict[str, Any] = {"Queue": "arn:aws:sqs:us-east-1:1:q", "Event": events}
    if rules:
        entry["Filter"] = {"S3Key": {"FilterRule": rules}}
    return entry


@pytest.mark.parametrize(("first", "second", "refused"), [
    (_entry(["s3:ObjectCreated:*"], "a/"), _entry(["s3:ObjectCreated:Put"], "a/b/"), True),
    (_entry(["s3:ObjectCreated:*"], "a/"), _entry(["s3:ObjectCreated:Put"], "b/"), False),
    (_entry(["s3:ObjectCreated:*"], suffix=".jpg"), _entry(["s3:ObjectCreated:*"],
                                                           suffix=".png"), False),
    (_entry(["s3:ObjectCreated:*"], "a/", ".jpg"), _entry(["s3:ObjectCreated:*"],
                                                          suffix="big.jpg"), True),
    (_entry(["s3:ObjectCreated:Put"]), _entry(["s3:ObjectRemoved:*"]), False),
    (_entry(["s3:ObjectCreated:Put"]), _entry(["s3:ObjectCreated:Copy"]), False),
])
def test_overlapping_configurations_are_those_one_event_could_fire_twice(
        first: dict[str, Any], second: dict[str, Any], refused: bool) -> None:
    error = overlap_error({"QueueConfiguration": [first, second]})
    assert (error is not None) == refused


def test_a_function_policy_lets_s3_invoke_only_for_its_bucket_and_account() -> None:
    def statement(**condition: dict[str, str]) -> list[dict[str, Any]]:
        return [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                 "Principal": {"Service": "s3.amazonaws.com"}, "Condition": condition}]

    bucket, account = "arn:aws:s3:::uploads", "123456789012"
    assert lets_s3_invoke(statement(), bucket, account)
    assert lets_s3_invoke(statement(ArnLike={"AWS:SourceArn": "arn:aws:s3:::up*"}), bucket,
                          account)
    assert not lets_s3_invoke(statement(ArnLike={"AWS:SourceArn": "arn:aws:s3:::other"}),
                              bucket, account)
    assert not lets_s3_invoke(statement(StringEquals={"AWS:SourceAccount": "999999999999"}),
                              bucket, account)
    assert not lets_s3_invoke([{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                "Principal": {"Service": "sns.amazonaws.com"}}], bucket, account)
