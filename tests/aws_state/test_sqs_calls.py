"""SQS SendMessage/ReceiveMessage/DeleteMessage answered from moto's backend
(harness.aws_state.sqs_calls): the same bytes on the wire as moto's own server path, the queue
semantics kept (tests/aws_state/test_sqs_semantics.py runs through this path too), IAM still
applied, anything unsure left to moto.

Two emulators serve the one moto state of the process: the session's (fast calls on) and one
with ``sqs_fast_calls=False``. Each request boto3 sends is replayed as raw HTTP, to both, on
two queues filled alike; the answers must be equal but for the per-request ids."""

from __future__ import annotations

import http.client
import io
import json
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.aws_state import sqs_calls
from harness.config import IamConfig
from harness.emulator import Emulator
from tests.aws_state import fast_paths
from tests.emulator.support import own_emulator
from tests.triggers.sqs_support import unique

Sent = tuple[str, str, dict[str, str], bytes]
# Per-message and per-request values that differ between the two queues' answers.
_IDS = re.compile(rb'("(?:MessageId|ReceiptHandle|SentTimestamp|ApproximateFirstReceiveTimestamp'
                  rb'|SequenceNumber)": ")[^"]*(")')
_TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.fixture(scope="module")
def moto_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator whose every SQS request goes through moto's server app."""
    with fast_paths.moto_path(tmp_path_factory.mktemp("sqs-moto-path"),
                              sqs_fast_calls=False) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def sqs(harness_emulator: Emulator) -> Any:
    assert harness_emulator.config.sqs_fast_calls
    return fast_paths.client("sqs", harness_emulator.url)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operations this module's renderer wrote an answer for (it runs only for answers
    the fast path gives)."""
    seen: list[str] = []
    render = sqs_calls.render

    def counted(operation: str, result: dict[str, Any]) -> str:
        seen.append(operation)
        return render(operation, result)
    monkeypatch.setattr(sqs_calls, "render", counted)
    return seen


def sent_by(client: Any, call: Callable[[], Any]) -> Sent:
    """The request boto3 sends for ``call`` (method, URL, headers, body)."""
    seen: list[Sent] = []

    def record(request: Any, **_: Any) -> None:
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        seen.append((request.method, request.url, {
            k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()},
            body))
    client.meta.events.register("before-send.sqs", record)
    try:
        call()
    except ClientError:
        pass
    finally:
        client.meta.events.unregister("before-send.sqs", record)
    return seen[-1]


def replay(sent: Sent, base_url: str, body: bytes | None = None,
           headers: dict[str, str] | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
    """``sent`` sent again as raw HTTP to ``base_url``: status, headers, body."""
    method, url, sent_headers, sent_body = sent
    parts, target = urlsplit(base_url), urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, target.path or "/", body=sent_body if body is None else body,
                           headers={**sent_headers, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def comparable(answer: tuple[int, list[tuple[str, str]], bytes]) -> tuple[Any, ...]:
    status, headers, body = answer
    return (status, [(k, "" if k == "x-amzn-requestid" else v) for k, v in headers],
            _IDS.sub(rb"\1\2", body))


def twin_queues(sqs: Any, prefix: str, fifo: bool = False,
                **attributes: str) -> tuple[str, str]:
    name = unique(prefix)
    if fifo:
        attributes["FifoQueue"] = "true"
    made = [sqs.create_queue(QueueName=f"{name}-{side}" + (".fifo" if fifo else ""),
                             Attributes=attributes)["QueueUrl"] for side in ("fast", "moto")]
    return made[0], made[1]


def both(sqs: Any, fast_url: str, moto_url: str, harness_emulator: Emulator,
         moto_path: Emulator, operation: str, **params: Any) -> tuple[Any, Any]:
    """The request boto3 sends for ``operation`` (on a queue of its own, which takes the side
    effect), replayed to each emulator with its twin queue named: (fast answer, moto answer),
    comparable."""
    capture = sqs.create_queue(QueueName="sqs-calls-capture" + (
        ".fifo" if fast_url.endswith(".fifo") else ""), Attributes={"FifoQueue": "true"}
        if fast_url.endswith(".fifo") else {})["QueueUrl"]
    sent = sent_by(sqs, lambda: getattr(sqs, operation)(QueueUrl=capture, **params))
    answers = []
    for url, emulator in ((fast_url, harness_emulator), (moto_url, moto_path)):
        body = json.dumps({**json.loads(sent[3]), "QueueUrl": url}).encode()
        answers.append(comparable(replay(sent, emulator.url, body,
                                         {"Content-Length": str(len(body))})))
    return answers[0], answers[1]


SENDS: list[dict[str, Any]] = [
    {"MessageBody": "plain"},
    {"MessageBody": 'unicode é ✓ "quoted" </tag> \\ \t'},
    {"MessageBody": "delayed", "DelaySeconds": 0},
    {"MessageBody": "attributes", "MessageAttributes": {
        "s": {"DataType": "String", "StringValue": "v"},
        "n": {"DataType": "Number", "StringValue": "12.5"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
        "custom": {"DataType": "String.label", "StringValue": "x"}}},
    {"MessageBody": "traced", "MessageSystemAttributes": {
        "AWSTraceHeader": {"DataType": "String", "StringValue": _TRACE}}},
]


def test_sends_receives_and_deletes_are_answered_as_moto_answers_them(
        sqs, harness_emulator, moto_path, served):
    fast_url, moto_url = twin_queues(sqs, "sqs-calls")
    for params in SENDS:
        fast, slow = both(sqs, fast_url, moto_url, harness_emulator, moto_path, "send_message",
                          **params)
        assert fast == slow, params
    receives = [
        {"MaxNumberOfMessages": 2, "VisibilityTimeout": 0},
        {"MaxNumberOfMessages": 10, "AttributeNames": ["All"], "VisibilityTimeout": 0},
        {"MaxNumberOfMessages": 10, "MessageSystemAttributeNames": ["SenderId", "AWSTraceHeader",
                                                                     "SequenceNumber"],
         "MessageAttributeNames": ["All"], "VisibilityTimeout": 0},
        {"MaxNumberOfMessages": 10, "MessageAttributeNames": ["s", "b"], "VisibilityTimeout": 0},
        {"MaxNumberOfMessages": 10, "AttributeNames": ["ApproximateReceiveCount"],
         "VisibilityTimeout": 0},
    ]
    for params in receives:
        fast, slow = both(sqs, fast_url, moto_url, harness_emulator, moto_path,
                          "receive_message", **params)
        assert fast == slow, params
    empty_fast, empty_moto = twin_queues(sqs, "sqs-calls-empty")
    fast, slow = both(sqs, empty_fast, empty_moto, harness_emulator, moto_path,
                      "receive_message", MaxNumberOfMessages=10)
    assert fast == slow and fast[2] == b"{}"
    # Each request twice through this emulator: boto3's own (on the capture queue) and the replay.
    assert served.count("SendMessage") == 2 * len(SENDS)
    assert served.count("ReceiveMessage") == 2 * (len(receives) + 1)
    # Each side takes its own messages, then deletes them: the same answers.
    handles = {}
    for url, emulator in ((fast_url, harness_emulator), (moto_url, moto_path)):
        client = fast_paths.client("sqs", emulator.url)
        handles[url] = [m["ReceiptHandle"] for m in client.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])]
        assert len(handles[url]) == len(SENDS)
    sent = sent_by(sqs, lambda: sqs.delete_message(QueueUrl=fast_url, ReceiptHandle="x"))
    served.clear()
    for fast_handle, moto_handle in zip(handles[fast_url], handles[moto_url], strict=True):
        answers = []
        for url, handle, emulator in ((fast_url, fast_handle, harness_emulator),
                                      (moto_url, moto_handle, moto_path)):
            body = json.dumps({"QueueUrl": url, "ReceiptHandle": handle}).encode()
            answers.append(comparable(replay(sent, emulator.url, body,
                                             {"Content-Length": str(len(body))})))
        assert answers[0] == answers[1]
    assert served == ["DeleteMessage"] * len(SENDS)
    for url in (fast_url, moto_url):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "0"
        assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_fifo_sends_and_receives_match_moto(sqs, harness_emulator, moto_path, served):
    fast_url, moto_url = twin_queues(sqs, "sqs-calls-fifo", fifo=True)
    for n in range(3):
        fast, slow = both(sqs, fast_url, moto_url, harness_emulator, moto_path, "send_message",
                          MessageBody=f"m{n}", MessageGroupId="g",
                          MessageDeduplicationId=f"d{n}")
        assert fast == slow
    fast, slow = both(sqs, fast_url, moto_url, harness_emulator, moto_path, "receive_message",
                      MaxNumberOfMessages=10, AttributeNames=["All"])
    assert fast == slow
    assert [m["Body"] for m in json.loads(fast[2])["Messages"]] == ["m0", "m1", "m2"]
    assert served.count("SendMessage") == 6 and served.count("ReceiveMessage") == 2


@pytest.mark.parametrize("operation, params, code", [
    ("receive_message", {"MaxNumberOfMessages": 11}, "InvalidParameterValue"),
    ("receive_message", {"MaxNumberOfMessages": 0}, "InvalidParameterValue"),
    ("receive_message", {"WaitTimeSeconds": 21}, "InvalidParameterValue"),
    ("receive_message", {"VisibilityTimeout": 43201}, "InvalidParameterValue"),
    ("delete_message", {"ReceiptHandle": "not-a-handle"}, "ReceiptHandleIsInvalid"),
    ("send_message", {"MessageBody": "x", "DelaySeconds": 901}, "InvalidParameterValue"),
    ("send_message", {"MessageBody": "x", "MessageAttributes": {
        "bad name!": {"DataType": "String", "StringValue": "v"}}}, "InvalidParameterValue"),
])
def test_refusals_are_moto_s(sqs, harness_emulator, moto_path, served, operation, params, code):
    fast_url, moto_url = twin_queues(sqs, "sqs-calls-refused")
    fast, slow = both(sqs, fast_url, moto_url, harness_emulator, moto_path, operation, **params)
    assert fast == slow
    assert fast[0] == 400 and code.encode() in fast[2], fast
    assert served == []
    with pytest.raises(ClientError) as error:
        getattr(sqs, operation)(QueueUrl=fast_url, **params)
    assert error.value.response["Error"]["Code"] in (code, f"AWS.SimpleQueueService.{code}")


def test_a_missing_queue_and_the_query_protocol_are_moto_s(sqs, harness_emulator, served):
    with pytest.raises(ClientError) as error:
        sqs.receive_message(QueueUrl=f"{harness_emulator.url}/123456789012/no-such-queue")
    assert "NonExistentQueue" in error.value.response["Error"]["Code"]
    url, _ = twin_queues(sqs, "sqs-calls-query")
    connection = http.client.HTTPConnection("127.0.0.1", urlsplit(harness_emulator.url).port)
    form = f"Action=SendMessage&QueueUrl={url}&MessageBody=by-query&Version=2012-11-05"
    connection.request("POST", "/", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261205/us-east-1/sqs/aws4_request, "
                         "SignedHeaders=host, Signature=0"})
    response = connection.getresponse()
    assert response.status == 200 and b"<SendMessageResponse" in response.read()
    assert served == []
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["by-query"]
    assert served == ["ReceiveMessage"]


def test_the_senders_trace_header_is_kept_and_a_long_poll_wakes(sqs, served):
    url, _ = twin_queues(sqs, "sqs-calls-trace")
    answered: list[Any] = []
    polling = threading.Thread(target=lambda: answered.append(sqs.receive_message(
        QueueUrl=url, WaitTimeSeconds=20, AttributeNames=["AWSTraceHeader"])))
    polling.start()
    sender = _with_trace_header(sqs)
    sender.send_message(QueueUrl=url, MessageBody="traced")
    polling.join(timeout=15)  # a long poll that missed the send would wait its whole 20 s
    assert not polling.is_alive()
    message = answered[0]["Messages"][0]
    assert message["Body"] == "traced"
    assert message["Attributes"]["AWSTraceHeader"] == _TRACE
    assert served.count("SendMessage") == 1 and served.count("ReceiveMessage") == 1


def _with_trace_header(sqs: Any) -> Any:
    client = fast_paths.client("sqs", sqs.meta.endpoint_url)

    def add(request: Any, **_: Any) -> None:
        request.headers["X-Amzn-Trace-Id"] = _TRACE
    client.meta.events.register("before-sign.sqs.SendMessage", add)
    return client


def test_iam_decides_a_checked_caller_s_calls(tmp_path, served):
    with own_emulator(tmp_path, iam=IamConfig(mode="all")) as own:
        admin, iam = own.client("sqs"), own.client("iam")
        url = admin.create_queue(QueueName="sqs-calls-iam")["QueueUrl"]
        arn = admin.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        iam.create_user(UserName="sqs-calls-user")
        key = iam.create_access_key(UserName="sqs-calls-user")["AccessKey"]
        user = fast_paths.client("sqs", own.url, key["AccessKeyId"], key["SecretAccessKey"])
        for call in (lambda: user.send_message(QueueUrl=url, MessageBody="x"),
                     lambda: user.receive_message(QueueUrl=url)):
            with pytest.raises(ClientError) as error:
                call()
            assert error.value.response["Error"]["Code"] == "AccessDenied"
        iam.put_user_policy(UserName="sqs-calls-user", PolicyName="send", PolicyDocument=(
            json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn}]})))
        assert served == []  # refused callers are moto's to answer, in SQS's shape
        user.send_message(QueueUrl=url, MessageBody="allowed")
        assert served == ["SendMessage"]
        with pytest.raises(ClientError) as error:
            user.receive_message(QueueUrl=url)
        assert "sqs:ReceiveMessage" in error.value.response["Error"]["Message"]
        assert [m["Body"] for m in admin.receive_message(QueueUrl=url)["Messages"]] == [
            "allowed"]


# -- the renderer against moto's own serializer ------------------------------------------------
_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
_attributes = st.dictionaries(st.sampled_from(sqs_calls.SYSTEM_ATTRIBUTES),
                              st.one_of(_text, st.integers(0, 10**13)), max_size=8)
_message = st.fixed_dictionaries(
    {"MessageId": _text, "ReceiptHandle": _text, "MD5OfBody": _text, "Body": _text},
    optional={"Attributes": _attributes})


@settings(max_examples=300, deadline=None)
@given(st.lists(_message, max_size=4))
def test_receive_bodies_are_moto_serializer_s(messages):
    result = {"Messages": messages} if messages else {}
    assert sqs_calls.render("ReceiveMessage", result) == sqs_calls.moto_serialized(
        "ReceiveMessage", result)


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({"MD5OfMessageBody": _text, "MessageId": _text}, optional={
    "MD5OfMessageAttributes": _text, "SequenceNumber": st.one_of(_text, st.integers(0))}))
def test_send_bodies_are_moto_serializer_s(result):
    assert sqs_calls.render("SendMessage", result) == sqs_calls.moto_serialized(
        "SendMessage", result)


def test_delete_body_is_moto_serializer_s():
    assert sqs_calls.render("DeleteMessage", {}) == sqs_calls.moto_serialized(
        "DeleteMessage", {}) == "{}"


@pytest.mark.parametrize("url, name", [
    ("http://127.0.0.1:4566/123456789012/q", "q"), ("https://sqs.x.amazonaws.com/1/a.fifo",
                                                    "a.fifo"),
    ("q-by-name", "q-by-name"), ("http://host/", None), ("", None), (None, None), (3, None)])
def test_queue_names_are_read_as_moto_reads_them(url, name):
    assert sqs_calls.queue_name(url) == name


def test_requests_it_does_not_answer_are_left_whole_for_moto():
    body = json.dumps({"QueueUrl": "sqs-calls-no-such-queue"}).encode()
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "CONTENT_TYPE": sqs_calls.CONTENT_TYPE,
               "HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage", "CONTENT_LENGTH": str(len(body)),
               "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=t/20261205/us-east-1/sqs/"
                                     "aws4_request, SignedHeaders=host, Signature=0",
               "HTTP_HOST": "127.0.0.1:1"}
    for change in ({"HTTP_X_AMZ_TARGET": "AmazonSQS.GetQueueAttributes"},
                   {"CONTENT_TYPE": "application/x-www-form-urlencoded"},
                   {"HTTP_CONTENT_ENCODING": "gzip"}, {"PATH_INFO": "/123456789012/q"},
                   {"HTTP_HOST": "sqs.eu-west-1.queue.amazonaws.com"},
                   {"HTTP_USER_AGENT": "aws-cli region/eu-west-1"},
                   {"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=t/20261205/us-east-1/s3/"
                                          "aws4_request"}):
        assert sqs_calls.sqs_call({**environ, **change}) is None, change
    stream = io.BytesIO(body)
    call = sqs_calls.sqs_call({**environ, "wsgi.input": stream})
    assert call is not None and call.body == body and call.region == "us-east-1"
    # A region moto does not know, a queue that is not there: moto's to answer, body intact.
    for authorization in (environ["HTTP_AUTHORIZATION"].replace("us-east-1", "nowhere-1"),
                          environ["HTTP_AUTHORIZATION"]):
        unknown = {**environ, "HTTP_AUTHORIZATION": authorization,
                   "wsgi.input": io.BytesIO(body)}
        assert sqs_calls.answer(unknown) is None
        assert unknown["wsgi.input"].read() == body


def test_request_ids_are_moto_shaped_and_follow_moto_s_seed():
    from moto.moto_api._internal import mock_random

    from harness.aws_state.moto_server import request_id

    state = mock_random.getstate()
    try:
        mock_random.seed(16)
        first = [request_id() for _ in range(3)]
        mock_random.seed(16)
        assert [request_id() for _ in range(3)] == first  # moto's seed makes them repeat
    finally:
        mock_random.setstate(state)
    assert len(set(first)) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9]{52}", made) for made in first)
