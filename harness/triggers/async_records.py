"""What asynchronous invocation decides and sends, as pure functions: retry delays, the
destination record, a dead letter's attributes.

https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SUCCESS = "Success"
RETRIES_EXHAUSTED = "RetriesExhausted"
EVENT_AGE_EXCEEDED = "EventAgeExceeded"
ZERO_RESERVED_CONCURRENCY = "ZeroReservedConcurrency"
"""Reserved concurrency 0: AWS sends each new event to the DLQ or OnFailure at once, unrun."""

RETRY_DELAYS_S = (60.0, 120.0)
"""After a function error: "a one-minute wait between the first two attempts, and two minutes
between the second and third attempts"."""
THROTTLE_FIRST_S = 1.0
THROTTLE_MAX_S = 300.0
"""Throttles and system errors: "The retry interval increases exponentially from 1 second after
the first attempt to a maximum of 5 minutes", without using an attempt."""
ERROR_MESSAGE_MAX = 1024
"""A dead letter's ErrorMessage: "truncated to 1 KB"."""
ZERO_CONCURRENCY_MESSAGE = (
    # AWS's own text, its missing space included, as its dead letters carry it.
    "Function not invoked. Function isconfigured with zero reserved concurrent executions")


@dataclass(frozen=True)
class Attempt:
    """What the last run of an event answered."""

    payload: bytes
    executed_version: str
    function_error: str | None


def retry_delay(attempts: int) -> float:
    """Seconds before the retry that follows the ``attempts``-th failed run (1-based)."""
    return RETRY_DELAYS_S[min(attempts, len(RETRY_DELAYS_S)) - 1]


def throttle_delay(throttles: int) -> float:
    """Seconds before trying again after the ``throttles``-th refusal in a row (1-based)."""
    return min(THROTTLE_FIRST_S * 2 ** (throttles - 1), THROTTLE_MAX_S)


def may_retry_within(elapsed_s: float, delay_s: float, max_age_s: float) -> bool:
    """Whether a retry ``delay_s`` from now still falls within the event's age. AWS looks ahead:
    an event whose next retry would come too late is given up at once (EventAgeExceeded), it
    does not wait out its age; the age already spent counts in whole seconds."""
    return math.ceil(elapsed_s) + delay_s <= max_age_s


def timestamp(when: float) -> str:
    """``2020-03-09T22:01:53.075Z``: UTC with milliseconds, as the records carry it."""
    moment = datetime.fromtimestamp(when, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")


def destination_record(*, request_id: str, function_arn: str, condition: str, invoke_count: int,
                       request_payload: bytes, attempt: Attempt | None,
                       when: float) -> dict[str, Any]:
    """The invocation record sent to an OnSuccess or OnFailure destination. ``function_arn`` is
    qualified (``...:$LATEST`` for an unqualified invoke); an event that never ran has no
    responseContext nor responsePayload."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": timestamp(when),
        "requestContext": {"requestId": request_id, "functionArn": function_arn,
                           "condition": condition, "approximateInvokeCount": invoke_count},
        "requestPayload": _json_or_text(request_payload or b"{}"),
    }
    if attempt is not None:
        context: dict[str, Any] = {"statusCode": 200,
                                   "executedVersion": attempt.executed_version}
        if attempt.function_error:
            context["functionError"] = attempt.function_error
        record["responseContext"] = context
        record["responsePayload"] = _json_or_text(attempt.payload)
    return record


def record_text(record: dict[str, Any]) -> str:
    """A record as Lambda sends it: compact JSON."""
    return json.dumps(record, separators=(",", ":"))


def event_detail_type(condition: str) -> str:
    """The EventBridge detail-type of a record sent to a bus (its source is ``lambda``)."""
    kind = "Success" if condition == SUCCESS else "Failure"
    return f"Lambda Function Invocation Result - {kind}"


def failure_object_key(function_name: str, when: float, delivery_id: str) -> str:
    """Where an OnFailure record goes in an S3 bucket."""
    moment = datetime.fromtimestamp(when, tz=UTC)
    return (f"aws/lambda/async/{function_name}/{moment:%Y/%m/%d}/"
            f"{moment:%Y-%m-%dT%H.%M.%S}-{delivery_id}")


def dead_letter_attributes(request_id: str, condition: str, attempt: Attempt | None,
                           throttled: bool) -> dict[str, tuple[str, str]]:
    """A dead letter's message attributes (name -> (DataType, value)): RequestID, ErrorCode (the
    last answer's HTTP status) and ErrorMessage (the error's message, up to 1 KB). The body is
    the event itself, unchanged."""
    if condition == ZERO_RESERVED_CONCURRENCY:
        return {"RequestID": ("String", request_id),
                "ErrorMessage": ("String", ZERO_CONCURRENCY_MESSAGE)}
    if attempt is None or throttled:
        code, message = "429", "Rate Exceeded."
    else:
        code, message = "200", _error_message(attempt.payload)
    return {"RequestID": ("String", request_id), "ErrorCode": ("Number", code),
            "ErrorMessage": ("String", _truncated(message))}


def _error_message(payload: bytes) -> str:
    document = _json_or_text(payload)
    if isinstance(document, dict) and isinstance(document.get("errorMessage"), str):
        return str(document["errorMessage"])
    return payload.decode("utf-8", "replace")


def _truncated(message: str) -> str:
    raw = message.encode("utf-8")
    if len(raw) <= ERROR_MESSAGE_MAX:
        return message
    return raw[:ERROR_MESSAGE_MAX].decode("utf-8", "ignore")
