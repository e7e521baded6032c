"""SNS's envelope for an SQS subscriber (raw delivery off): signed as AWS signs it, with one
certificate between messages, through the embedded emulator and plain boto3."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from harness.aws_state.sns_signing import signing_certificate, string_to_sign


def test_string_to_sign_is_aws_order_with_the_subject_only_when_there_is_one() -> None:
    fields = {"Type": "Notification", "MessageId": "m", "TopicArn": "arn", "Message": "hi",
              "Timestamp": "t"}
    assert string_to_sign(fields) == (
        "Message\nhi\nMessageId\nm\nTimestamp\nt\nTopicArn\narn\nType\nNotification\n")
    assert string_to_sign({**fields, "Subject": "s"}).startswith(
        "Message\nhi\nMessageId\nm\nSubject\ns\nTimestamp\n")


def _receive(sqs: Any, queue_url: str, count: int) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while len(bodies) < count:  # long polls: each returns as soon as a message is there
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                     WaitTimeSeconds=5)
        assert answer.get("Messages"), "the published messages never reached the queue"
        bodies += [json.loads(m["Body"]) for m in answer["Messages"]]
    return bodies


def test_each_message_is_signed_with_the_subscriptions_one_certificate(
        harness_client: Any) -> None:
    sns, sqs = harness_client("sns"), harness_client("sqs")
    topic = sns.create_topic(Name="signing-topic")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="signing-queue")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)[
        "SubscriptionArn"]
    ids = [sns.publish(TopicArn=topic, Message="first", Subject="greeting")["MessageId"],
           sns.publish(TopicArn=topic, Message="second")["MessageId"]]

    envelopes = sorted(_receive(sqs, queue_url, 2), key=lambda e: ids.index(e["MessageId"]))

    assert [e["Message"] for e in envelopes] == ["first", "second"]
    assert envelopes[0]["Subject"] == "greeting" and "Subject" not in envelopes[1]
    assert envelopes[0]["SigningCertURL"] == envelopes[1]["SigningCertURL"]
    pem = signing_certificate(envelopes[0]["SigningCertURL"])
    assert pem is not None
    key = x509.load_pem_x509_certificate(pem).public_key()
    for envelope in envelopes:
        assert (envelope["Type"], envelope["TopicArn"], envelope["SignatureVersion"]) == (
            "Notification", topic, "2")
        assert envelope["UnsubscribeURL"] == (
            "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
            f"&SubscriptionArn={subscription}")
        key.verify(base64.b64decode(envelope["Signature"]),  # raises if it does not verify
                   string_to_sign(envelope).encode(), padding.PKCS1v15(), hashes.SHA256())
    tampered = dict(envelopes[0], Subject="other")
    try:
        key.verify(base64.b64decode(tampered["Signature"]), string_to_sign(tampered).encode(),
                   padding.PKCS1v15(), hashes.SHA256())
    except Exception as error:  # noqa: BLE001 - cryptography's InvalidSignature
        assert type(error).__name__ == "InvalidSignature"
    else:
        raise AssertionError("a changed Subject still verified: the Subject is not signed")
    sns.delete_topic(TopicArn=topic)
    sqs.delete_queue(QueueUrl=queue_url)
