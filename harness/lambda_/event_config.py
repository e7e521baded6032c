"""Asynchronous invocation's configuration as AWS checks and answers it (pure): the event invoke
config (PutFunctionEventInvokeConfig and its siblings) and a function's DeadLetterConfig.

https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.errors import AwsError, InvalidParameterError

DEFAULT_RETRY_ATTEMPTS = 2
MAX_RETRY_ATTEMPTS = 2
DEFAULT_EVENT_AGE_S = 6 * 3600
MIN_EVENT_AGE_S = 60
MAX_EVENT_AGE_S = 21600
# AWS's pattern for a destination, verbatim as its ValidationException quotes it.
DESTINATION_PATTERN = (r"^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:"
                       r"([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)")
_DESTINATION = re.compile(DESTINATION_PATTERN)
# Where records may go: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
# (S3 buckets on failure only).
SUCCESS_SERVICES = ("sqs", "sns", "lambda", "events")
FAILURE_SERVICES = (*SUCCESS_SERVICES, "s3")
DEAD_LETTER_SERVICES = ("sqs", "sns")
_FIELDS = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")


@dataclass(frozen=True)
class AsyncSettings:
    """What governs one function's asynchronous events: the event invoke config of the qualifier
    invoked (AWS's defaults where it says nothing) and the function version's own settings."""

    max_retries: int = DEFAULT_RETRY_ATTEMPTS
    max_age_s: int = DEFAULT_EVENT_AGE_S
    on_success: str | None = None
    on_failure: str | None = None
    dead_letter: str | None = None
    """DeadLetterConfig.TargetArn of the version that runs."""
    reserved_concurrency: int | None = None


def settings_from(config: Mapping[str, Any] | None, dead_letter: str | None,
                  reserved_concurrency: int | None) -> AsyncSettings:
    """An `AsyncSettings` from a stored event invoke config (None: there is none)."""
    config = config or {}
    destinations = config.get("DestinationConfig") or {}
    retries = config.get("MaximumRetryAttempts")
    age = config.get("MaximumEventAgeInSeconds")
    return AsyncSettings(
        max_retries=DEFAULT_RETRY_ATTEMPTS if retries is None else int(retries),
        max_age_s=DEFAULT_EVENT_AGE_S if age is None else int(age),
        on_success=(destinations.get("OnSuccess") or {}).get("Destination") or None,
        on_failure=(destinations.get("OnFailure") or {}).get("Destination") or None,
        dead_letter=dead_letter or None, reserved_concurrency=reserved_concurrency)


def _validation_error(problems: list[str]) -> AwsError:
    count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''}"
    return InvalidParameterError(f"{count} detected: " + "; ".join(problems),
                                 code="ValidationException")


def _constraint(value: Any, field: str, rule: str) -> str:
    return f"Value '{value}' at '{field}' failed to satisfy constraint: {rule}"


def _number_problems(body: Mapping[str, Any]) -> list[str]:
    problems = []
    bounds = (("MaximumRetryAttempts", "maximumRetryAttempts", 0, MAX_RETRY_ATTEMPTS),
              ("MaximumEventAgeInSeconds", "maximumEventAgeInSeconds", MIN_EVENT_AGE_S,
               MAX_EVENT_AGE_S))
    for key, field, low, high in bounds:
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidParameterError(f"{key} must be an integer, got {value!r}",
                                        code="ValidationException")
        if value < low:
            problems.append(_constraint(value, field,
                                        f"Member must have value greater than or equal to {low}"))
        elif value > high:
            problems.append(_constraint(value, field,
                                        f"Member must have value less than or equal to {high}"))
    return problems


def _destination(destinations: Mapping[str, Any], key: str) -> str | None:
    entry = destinations.get(key)
    if entry is None:
        return None
    if not isinstance(entry, Mapping):
        raise InvalidParameterError(f"DestinationConfig.{key} must be an object with a "
                                    "Destination", code="ValidationException")
    value = entry.get("Destination")
    if value is not None and not isinstance(value, str):
        raise InvalidParameterError(f"DestinationConfig.{key}.Destination must be an ARN, "
                                    f"got {value!r}", code="ValidationException")
    return value or None


def arn_service(arn: str) -> str:
    """The service part of an ARN (``arn:aws:sqs:...`` -> ``sqs``)."""
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 else ""


def check_event_invoke_config(body: Any, function_arn: str) -> dict[str, Any]:
    """The config a Put or Update request body asks for, normalised as AWS stores it, or AWS's
    error: ValidationException for a value out of range or not an ARN, else
    InvalidParameterValueException (nothing given, a destination no service of the list)."""
    if not isinstance(body, Mapping):
        raise InvalidParameterError("the request body must be a JSON object",
                                    code="ValidationException")
    if not any(body.get(key) is not None for key in _FIELDS):
        raise InvalidParameterError(
            "You must specify at least one of error handling or destination setting.")
    destinations = body.get("DestinationConfig") or {}
    if not isinstance(destinations, Mapping):
        raise InvalidParameterError("DestinationConfig must be an object",
                                    code="ValidationException")
    success, failure = _destination(destinations, "OnSuccess"), _destination(destinations,
                                                                             "OnFailure")
    problems = _number_problems(body)
    for value, field in ((success, "onSuccess"), (failure, "onFailure")):
        if value is not None and not _DESTINATION.match(value):
            problems.append(_constraint(value, f"destinationConfig.{field}.destination",
                                        "Member must satisfy regular expression pattern: "
                                        + DESTINATION_PATTERN))
    if problems:
        raise _validation_error(problems)
    _check_services(success, failure, function_arn)
    config: dict[str, Any] = {
        key: body[key] for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds")
        if body.get(key) is not None}
    config["DestinationConfig"] = {
        "OnSuccess": {"Destination": success} if success else {},
        "OnFailure": {"Destination": failure} if failure else {}}
    return config


def _check_services(success: str | None, failure: str | None, function_arn: str) -> None:
    wrong = ((success is not None and arn_service(success) not in SUCCESS_SERVICES)
             or (failure is not None and arn_service(failure) not in FAILURE_SERVICES))
    if wrong:
        on_success = f"OnSuccess(destination={success})" if success else "null"
        on_failure = f"OnFailure(destination={failure})" if failure else "null"
        raise InvalidParameterError(
            f"The provided destination config DestinationConfig(onSuccess={on_success}, "
            f"onFailure={on_failure}) is invalid.")
    for value in (success, failure):
        if value is not None and _unqualified(value) == _unqualified(function_arn):
            raise InvalidParameterError(
                "You can't specify the function as a destination for itself.")


def _unqualified(arn: str) -> str:
    parts = arn.split(":")
    return ":".join(parts[:7]) if parts[2:3] == ["lambda"] else arn


def merged(current: Mapping[str, Any], body: Mapping[str, Any],
           checked: Mapping[str, Any]) -> dict[str, Any]:
    """UpdateFunctionEventInvokeConfig: what the request ``body`` gives (``checked``: its
    normalised form) replaces the stored fields; the others stay."""
    result = dict(current)
    for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
        if body.get(key) is not None:
            result[key] = body[key]
    if body.get("DestinationConfig") is not None:
        result["DestinationConfig"] = checked["DestinationConfig"]
    return result


def check_dead_letter(config: Any) -> str | None:
    """The TargetArn of a DeadLetterConfig (None or "" for none), or InvalidParameterValueException
    when it is no SQS queue or SNS topic."""
    if config is None:
        return None
    if not isinstance(config, Mapping):
        raise InvalidParameterError("DeadLetterConfig must be an object with a TargetArn")
    target = config.get("TargetArn")
    if target is None or target == "":
        return None
    if not isinstance(target, str) or not target.startswith("arn:"):
        raise InvalidParameterError(
            f"Invalid dead letter queue ARN: ARNs must start with 'arn:': {target}")
    if arn_service(target) not in DEAD_LETTER_SERVICES:
        raise InvalidParameterError(
            f"The dead-letter target {target} is invalid: it must be an Amazon SQS queue or an "
            "Amazon SNS topic")
    return target
