"""SQS SendMessage, ReceiveMessage and DeleteMessage in the JSON protocol (what boto3 and the
AWS CLI speak) answered from moto's SQS backend without moto's server app: moto's own request
parser, the same backend calls its ``SQSResponse`` makes (so the queue index, the trace header
and every queue semantic stay as they are), and moto's answer byte for byte. A request this
module is not sure about (the query protocol, another operation, an unknown parameter, a
value moto refuses, a queue that does not exist, a caller IAM denies, moto in a non-default
setup...) gets None, and moto answers it as before, errors included: nothing is changed
before the backend call, and a backend call that refuses changes nothing either.

Through moto's app a ReceiveMessage cost the emulator ~2.3-2.9 ms of CPU, two thirds of it
Flask, moto's host dispatch, its action routing and its generic response serializer.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from typing import Any

from moto import settings as moto_settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import ServiceException
from moto.core.parse import PROTOCOL_PARSERS
from moto.core.responses import ActionResult, BaseResponse, get_service_model
from moto.core.serialize import XFormedAttributePicker, get_serializer_class
from moto.iam.models import mark_account_as_visited
from moto.sqs.constants import DEFAULT_RECEIVED_MESSAGES, MAXIMUM_VISIBILITY_TIMEOUT
from moto.sqs.models import Message, sqs_backends
from moto.sqs.responses import SQSResponse
from moto.sqs.utils import validate_message_attributes
from werkzeug.datastructures import Headers, MultiDict

from harness.aws_state import iam_auth, sqs_queues
from harness.aws_state.backends import existing
from harness.aws_state.moto_server import CORS_HEADERS, caller_account, moto_plain, request_id

CONTENT_TYPE = "application/x-amz-json-1.0"
OPERATIONS = ("SendMessage", "ReceiveMessage", "DeleteMessage")
_TARGETS = {f"AmazonSQS.{name}": name for name in OPERATIONS}
_SIGNED_FOR_SQS = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/sqs/aws4_request")
MAX_BODY = 1024 * 1024
"""Larger requests (a message is at most 256 KiB) are moto's to refuse."""
# The parameters each operation reads (moto's SQSResponse reads these and no others).
_PARAMETERS = {
    "SendMessage": frozenset({"QueueUrl", "MessageBody", "DelaySeconds", "MessageGroupId",
                              "MessageDeduplicationId", "MessageAttributes",
                              "MessageSystemAttributes"}),
    "ReceiveMessage": frozenset({"QueueUrl", "AttributeNames", "MessageSystemAttributeNames",
                                 "MessageAttributeNames", "MaxNumberOfMessages",
                                 "WaitTimeSeconds", "VisibilityTimeout"}),
    "DeleteMessage": frozenset({"QueueUrl", "ReceiptHandle"}),
}
# ReceiveMessage's system attributes, in the order moto's SQSResponse writes them.
SYSTEM_ATTRIBUTES = ("SenderId", "SentTimestamp", "ApproximateReceiveCount",
                     "ApproximateFirstReceiveTimestamp", "MessageDeduplicationId",
                     "MessageGroupId", "AWSTraceHeader", "SequenceNumber")


@dataclass(frozen=True)
class SqsCall:
    """One JSON-protocol SQS request, as moto's server would read it."""

    operation: str
    body: bytes
    authorization: str
    region: str
    """As moto's ``BaseResponse.get_region_from_url`` decides it."""
    account: str | None
    """x-moto-account-id, when the caller names its account."""
    trace_header: str | None
    """X-Amzn-Trace-Id: SendMessage keeps it as the message's AWSTraceHeader."""
    source_ip: str
    user_agent: str | None
    security_token: str | None


def answer(environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """(status line, headers, body) of a SendMessage, ReceiveMessage or DeleteMessage, exactly
    as moto's server answers it; None when moto must answer (the body is left readable)."""
    call = sqs_call(environ)
    if call is None:
        return None
    environ["wsgi.input"] = io.BytesIO(call.body)  # moto may still read it
    if not moto_plain():
        return None
    params = _parsed(call)
    if params is None or not set(params) <= _PARAMETERS[call.operation]:
        return None
    account, access_key = caller_account(call.authorization, call.account)
    try:
        backend = existing(sqs_backends, account, call.region)
    except KeyError:
        return None  # a region moto does not know: its own answer
    name = queue_name(params.get("QueueUrl"))
    if name is None or (queue := backend.queues.get(name)) is None:
        return None  # moto's QueueDoesNotExist
    checked = iam_auth.allows_call(call.authorization, f"sqs:{call.operation}",
                                   queue.queue_arn, account, call.source_ip, call.user_agent,
                                   call.security_token)
    if checked is False:
        return None  # moto's path asks again, and answers AccessDenied in SQS's shape
    try:
        result = _OPERATION_CALLS[call.operation](backend, queue, name, params, call)
    except (ServiceException, ValueError, TypeError, KeyError):
        return None  # refused before anything changed: moto refuses it again, in its words
    if result is None:
        return None
    if checked is None:
        ActionAuthenticatorMixin.request_count += 1  # as moto's own check counts
    mark_account_as_visited(account_id=account, access_key=access_key, service="sqs",
                            region=call.region)
    body = render(call.operation, result).encode()
    headers = [("server", "amazon.com"), ("Content-Type", CONTENT_TYPE), ("status", "200"),
               ("x-amzn-requestid", request_id()), *CORS_HEADERS,
               ("Content-Length", str(len(body)))]
    return "200 OK", headers, body


def sqs_call(environ: dict[str, Any]) -> SqsCall | None:
    """The call a request is, when it is plainly one this module answers (pure but for
    reading the body, which it keeps in the call)."""
    operation = _TARGETS.get(environ.get("HTTP_X_AMZ_TARGET", ""))
    if operation is None or environ.get("REQUEST_METHOD") != "POST":
        return None
    if environ.get("CONTENT_TYPE") != CONTENT_TYPE or environ.get("PATH_INFO") != "/" \
            or environ.get("QUERY_STRING") or environ.get("HTTP_CONTENT_ENCODING"):
        return None
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    signed = _SIGNED_FOR_SQS.search(authorization)
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if signed is None or not 0 < length <= MAX_BODY:
        return None
    user_agent = environ.get("HTTP_USER_AGENT")
    if SQSResponse.region_regex.search(f"http://{environ.get('HTTP_HOST', '')}/") \
            or BaseResponse.region_from_useragent_regex.search(user_agent or ""):
        return None  # moto takes the region from the host or the user agent: moto answers
    body = environ["wsgi.input"].read(length)
    return SqsCall(operation, bytes(body), authorization, signed.group(1),
                   environ.get("HTTP_X_MOTO_ACCOUNT_ID"), environ.get("HTTP_X_AMZN_TRACE_ID"),
                   environ.get("REMOTE_ADDR") or "127.0.0.1", user_agent,
                   environ.get("HTTP_X_AMZ_SECURITY_TOKEN"))


def queue_name(queue_url: Any) -> str | None:
    """The queue a QueueUrl names, as moto's ``SQSResponse._get_queue_name`` reads it (pure):
    the URL's last segment, or the parameter itself when it is a name."""
    if not isinstance(queue_url, str) or not queue_url:
        return None
    if queue_url.startswith(("http://", "https://")):
        return queue_url.split("/")[-1] or None
    return queue_url


def _parsed(call: SqsCall) -> dict[str, Any] | None:
    """The parameters as moto's JSON parser reads them (types and blobs as botocore's shape
    says); None when the body is not a JSON object."""
    if not call.body.lstrip().startswith(b"{"):
        return None
    try:
        parser = PROTOCOL_PARSERS["json"](_operation_model(call.operation), map_type=dict)
        parsed = parser.parse({"method": "POST", "values": MultiDict(), "headers": Headers(),
                               "body": call.body.decode(), "url_path": "/",
                               "url_params": {}})
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None
    return dict(parsed) if isinstance(parsed, dict) else None


def _send(backend: Any, queue: Any, name: str, params: dict[str, Any],
          call: SqsCall) -> dict[str, Any] | None:
    """moto's ``SQSResponse.send_message``: validated, then sent with the caller's trace
    header kept as the message's AWSTraceHeader."""
    body = params.get("MessageBody")
    attributes = params.get("MessageAttributes", {})
    system = params.get("MessageSystemAttributes")
    if not isinstance(body, str) or not isinstance(attributes, dict) \
            or not isinstance(system, (dict, type(None))):
        return None
    validate_message_attributes(attributes)
    validate_message_attributes(system or {})
    with sqs_queues.sender_trace_header(call.trace_header):
        message = backend.send_message(
            name, body, message_attributes=attributes,
            delay_seconds=params.get("DelaySeconds"),
            deduplication_id=params.get("MessageDeduplicationId"),
            group_id=params.get("MessageGroupId"), system_attributes=system)
    result = {"MD5OfMessageBody": message.body_md5, "MessageId": message.id}
    if len(message.message_attributes) > 0:
        result["MD5OfMessageAttributes"] = message.attribute_md5
    if queue.fifo_queue and message.sequence_number:
        result["SequenceNumber"] = message.sequence_number
    return result


def _receive(backend: Any, queue: Any, name: str, params: dict[str, Any],
             call: SqsCall) -> dict[str, Any] | None:
    """moto's ``SQSResponse.receive_message``, for values moto accepts (others: None)."""
    names = params.get("AttributeNames", [])
    system_names = params.get("MessageSystemAttributeNames", [])
    attribute_names = params.get("MessageAttributeNames", [])
    count = params.get("MaxNumberOfMessages", DEFAULT_RECEIVED_MESSAGES)
    wait = params.get("WaitTimeSeconds", queue.receive_message_wait_time_seconds)
    visibility = params.get("VisibilityTimeout", queue.visibility_timeout)
    if not all(isinstance(v, list) and all(isinstance(n, str) for n in v)
               for v in (names, system_names, attribute_names)):
        return None
    if not _integer(count, 1, 10) or not _integer(wait, 0, 20) \
            or not _integer(visibility, None, MAXIMUM_VISIBILITY_TIMEOUT):
        return None
    messages = backend.receive_message(name, int(count), int(wait), int(visibility),
                                       attribute_names)
    wanted = set(names) | set(system_names)
    included = [n for n in SYSTEM_ATTRIBUTES if "All" in wanted or n in wanted]
    replies = [_reply(message, included) for message in messages]
    return {"Messages": replies} if replies else {}


def _delete(backend: Any, queue: Any, name: str, params: dict[str, Any],
            call: SqsCall) -> dict[str, Any] | None:
    handle = params.get("ReceiptHandle")
    if not isinstance(handle, str):
        return None
    backend.delete_message(name, handle)
    return {}


_OPERATION_CALLS = {"SendMessage": _send, "ReceiveMessage": _receive, "DeleteMessage": _delete}


def _integer(value: Any, low: int | None, high: int) -> bool:
    """``value`` is what moto reads as an integer within [low, high] (its int() of it)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        if not value.strip().lstrip("-").isdigit():
            return False
        value = int(value)
    return isinstance(value, int) and (low is None or value >= low) and value <= high


def _reply(message: Message, included: list[str]) -> dict[str, Any]:
    """One received message as moto's ``SQSResponse.receive_message`` writes it (pure)."""
    reply: dict[str, Any] = {"MessageId": message.id, "ReceiptHandle": message.receipt_handle,
                             "MD5OfBody": message.body_md5, "Body": message.body}
    if len(message.message_attributes):
        reply["MessageAttributes"] = message.message_attributes
        reply["MD5OfMessageAttributes"] = message.attribute_md5
    attributes: dict[str, Any] = {}
    for name in included:
        if name == "SenderId":
            attributes[name] = message.sender_id
        elif name == "SentTimestamp":
            attributes[name] = str(message.sent_timestamp)
        elif name == "ApproximateReceiveCount":
            attributes[name] = str(message.approximate_receive_count)
        elif name == "ApproximateFirstReceiveTimestamp":
            attributes[name] = str(message.approximate_first_receive_timestamp)
        elif name == "MessageDeduplicationId" and message.deduplication_id is not None:
            attributes[name] = message.deduplication_id
        elif name == "MessageGroupId" and message.group_id is not None:
            attributes[name] = message.group_id
        elif name == "AWSTraceHeader" and message.system_attributes \
                and message.system_attributes.get(name):
            attributes[name] = message.system_attributes[name].get("StringValue")
        elif name == "SequenceNumber" and message.sequence_number is not None:
            attributes[name] = message.sequence_number
    if included:
        reply["Attributes"] = attributes
    return reply


# -- the answer's body ----------------------------------------------------------------------------
_MESSAGE_ORDER = ("MessageId", "ReceiptHandle", "MD5OfBody", "Body", "Attributes",
                  "MD5OfMessageAttributes")
_SEND_ORDER = ("MD5OfMessageBody", "MD5OfMessageAttributes", "MD5OfMessageSystemAttributes",
               "MessageId", "SequenceNumber")


def render(operation: str, result: dict[str, Any]) -> str:
    """The JSON body moto's serializer writes for ``result`` (pure): written here for what it
    writes plainly (strings in the output shape's member order), by moto's serializer for the
    rest (messages with message attributes, whose binary values it encodes)."""
    if moto_settings.PRETTIFY_RESPONSES or not _plain(operation, result):
        return moto_serialized(operation, result)
    if operation == "SendMessage":
        ordered: dict[str, Any] = {key: _string(result[key]) for key in _SEND_ORDER
                                   if result.get(key) is not None}
    elif operation == "ReceiveMessage" and result:
        ordered = {"Messages": [_ordered_message(m) for m in result["Messages"]]}
    else:
        ordered = {}
    return json.dumps(ordered)


def _plain(operation: str, result: dict[str, Any]) -> bool:
    if operation == "ReceiveMessage":
        return all("MessageAttributes" not in m for m in result.get("Messages", ()))
    return operation in ("SendMessage", "DeleteMessage")


def _ordered_message(message: dict[str, Any]) -> dict[str, Any]:
    ordered: dict[str, Any] = {}
    for key in _MESSAGE_ORDER:
        value = message.get(key)
        if value is None:
            continue
        ordered[key] = ({name: _string(v) for name, v in value.items()}
                        if key == "Attributes" else _string(value))
    return ordered


def _string(value: Any) -> Any:
    """moto's JSON serializer on a string member: str() of it, None and empties as they are."""
    return str(value) if value not in (None, {}, []) else value


def moto_serialized(operation: str, result: dict[str, Any]) -> str:
    """The body moto's own serializer writes for ``result``."""
    serializer = get_serializer_class("sqs", "json")(
        operation_model=_operation_model(operation),
        pretty_print=moto_settings.PRETTIFY_RESPONSES,
        value_picker=XFormedAttributePicker(
            response_transformers=getattr(SQSResponse, "RESPONSE_KEY_PATH_TO_TRANSFORMER",
                                          None)))
    return str(serializer.serialize(ActionResult(result).result)["body"])


_MODELS: dict[str, Any] = {}


def _operation_model(operation: str) -> Any:
    model = _MODELS.get(operation)
    if model is None:
        model = _MODELS[operation] = get_service_model("sqs").operation_model(operation)
    return model
