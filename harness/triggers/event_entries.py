"""PutEvents as AWS checks it, and the events EventBridge makes: a request's limits, each
entry's error, the event's JSON and the Scheduled Event. Pure functions.

https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from harness.triggers.event_errors import EventsValidationError

MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024  # the documented limit on a request's entries, summed
TIME_BYTES = 14  # what an entry's Time counts for in that sum


def check_request(entries: list[dict[str, Any]]) -> None:
    """The whole request's limits: ``EventsValidationError`` with AWS's message."""
    if len(entries) > MAX_ENTRIES:
        shown = ", ".join(_java_entry(entry) for entry in entries)
        raise EventsValidationError(
            f"1 validation error detected: Value '[{shown}]' at 'entries' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_ENTRIES}")
    if sum(entry_size(entry) for entry in entries) > MAX_REQUEST_BYTES:
        raise EventsValidationError("Total size of the entries in the request is over the limit.")


def _java_entry(entry: dict[str, Any]) -> str:
    """An entry as AWS's (Java) message prints it."""
    def shown(key: str) -> str:
        value = entry.get(key)
        return "null" if value is None else str(value)
    return (f"PutEventsRequestEntry(time={shown('Time')}, source={shown('Source')}, "
            f"resources={shown('Resources')}, detailType={shown('DetailType')}, "
            f"detail={shown('Detail')}, eventBusName={shown('EventBusName')}, "
            f"traceHeader={shown('TraceHeader')}, kmsKeyIdentifier=null, internalMetadata=null)")


def entry_size(entry: dict[str, Any]) -> int:
    """AWS's documented size of one entry: Time 14 bytes, the UTF-8 of Source, DetailType,
    Detail and each Resource."""
    size = TIME_BYTES if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        value = entry.get(key)
        if isinstance(value, str):
            size += len(value.encode())
    return size + sum(len(r.encode()) for r in entry.get("Resources") or [] if isinstance(r, str))


def entry_error(entry: dict[str, Any]) -> dict[str, str] | None:
    """The result entry AWS answers for an entry it refuses; None for a good one."""
    for key in ("Source", "DetailType", "Detail"):
        if not entry.get(key):
            return {"ErrorCode": "InvalidArgument",
                    "ErrorMessage": f"Parameter {key} is not valid. Reason: {key} is a required "
                                    "argument."}
    try:
        detail = json.loads(entry["Detail"])
    except (TypeError, ValueError):
        detail = None
    if not isinstance(detail, dict):
        return {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    if str(entry["Source"]).startswith("aws."):  # only AWS's own services send those
        return {"ErrorCode": "NotAuthorizedForSourceException",
                "ErrorMessage": "Not authorized for the source."}
    return None


def iso_time(seconds: float) -> str:
    """An event's ``time``: UTC to the second, as EventBridge writes it."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bus_address(name_or_arn: str | None, account: str, region: str) -> tuple[str, str, str]:
    """(account, region, bus name) an entry's ``EventBusName`` (a name or an ARN) points at."""
    if not name_or_arn:
        return account, region, "default"
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":", 5)
        if len(parts) == 6 and parts[5].startswith("event-bus/"):
            return parts[4], parts[3], parts[5].split("/", 1)[1]
    return account, region, name_or_arn.rsplit("/", 1)[-1]


def event_of(entry: dict[str, Any], *, event_id: str, account: str, region: str,
             now: float) -> dict[str, Any]:
    """The event a good entry becomes: what rules match and targets receive."""
    when = entry.get("Time")
    return {
        "version": "0",
        "id": event_id,
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": account,
        "time": iso_time(float(when) if isinstance(when, (int, float)) else now),
        "region": region,
        "resources": list(entry.get("Resources") or []),
        "detail": json.loads(entry["Detail"]),
    }


def scheduled_event(*, event_id: str, account: str, region: str, rule_arn: str,
                    when: float) -> dict[str, Any]:
    """What a scheduled rule sends at ``when``."""
    return {"version": "0", "id": event_id, "detail-type": "Scheduled Event",
            "source": "aws.events", "account": account, "time": iso_time(when),
            "region": region, "resources": [rule_arn], "detail": {}}


def aws_event(raw: dict[str, Any]) -> dict[str, Any]:
    """An event moto made itself (S3's EventBridge notifications, replays) in AWS's shape:
    ``time`` as text, no ``ingestion-time``."""
    event = {key: value for key, value in raw.items() if key != "ingestion-time"}
    if isinstance(event.get("time"), (int, float)):
        event["time"] = iso_time(float(event["time"]))
    return event
