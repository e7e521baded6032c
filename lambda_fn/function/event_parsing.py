"""Turn an invocation event into a validated (bucket, key) request; pure, no I/O.

Accepts an API Gateway REST proxy event (payload format 1.0) whose ``body`` is a JSON object
``{"bucket": ..., "key": ...}``, optionally base64-encoded, or a direct-invoke event that is
that object itself. Checks run in this order: body, fields, bucket name, key, allowlist.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import function_errors as errors

MAX_KEY_BYTES = 1024
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IPV4_LIKE = re.compile(r"\d+\.\d+\.\d+\.\d+")
_RESERVED_PREFIXES = ("xn--", "sthree-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3")
_PROXY_FIELDS = ("httpMethod", "requestContext", "resource", "headers")


@dataclass(frozen=True)
class PredictRequest:
    """A request that passed every check: features are to be read from s3://bucket/key."""

    bucket: str
    key: str


def parse_request(event: Any, allowed_buckets: Collection[str]) -> PredictRequest:
    """Validate ``event`` and return the request, or raise a `RequestError` naming the problem."""
    payload = request_payload(event)
    bucket = _string_field(payload, "bucket")
    key = _string_field(payload, "key")
    validate_bucket_name(bucket)
    validate_key(key)
    check_bucket_allowed(bucket, allowed_buckets)
    return PredictRequest(bucket=bucket, key=key)


def request_payload(event: Any) -> Mapping[str, Any]:
    """The JSON object carrying the request: the decoded proxy body, or the event itself."""
    if not isinstance(event, Mapping):
        raise errors.InvalidRequestBody(f"event must be a JSON object, got {_json_type(event)}")
    if "body" not in event and not any(field in event for field in _PROXY_FIELDS):
        return event  # direct invoke: the event is the request
    body = event.get("body")
    if body is None or body == "":
        raise errors.EmptyBody('request body is empty; send {"bucket": "...", "key": "..."}')
    if not isinstance(body, str):
        raise errors.InvalidRequestBody(f"body must be a string, got {_json_type(body)}")
    text = _decode_base64(body) if event.get("isBase64Encoded") else body
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise errors.InvalidJSON(f"request body is not valid JSON: {_short(str(exc))}") from None
    if not isinstance(payload, dict):
        raise errors.InvalidRequestBody(
            f'request body must be a JSON object {{"bucket": ..., "key": ...}}, '
            f"got {_json_type(payload)}"
        )
    return payload


def validate_bucket_name(bucket: str) -> None:
    """Raise InvalidBucketName unless ``bucket`` follows S3's general-purpose naming rules."""
    if (
        not _BUCKET_NAME.fullmatch(bucket)
        or ".." in bucket
        or _IPV4_LIKE.fullmatch(bucket)
        or bucket.startswith(_RESERVED_PREFIXES)
        or bucket.endswith(_RESERVED_SUFFIXES)
    ):
        raise errors.InvalidBucketName(
            f"invalid bucket name {_short(repr(bucket))}: bucket names are 3-63 lowercase "
            "letters, digits, dots and hyphens, start and end with a letter or digit, "
            "and are not IP addresses"
        )


def validate_key(key: str) -> None:
    """Raise InvalidKey unless ``key`` is a plain relative S3 key of at most 1024 bytes."""
    if not key:
        raise errors.InvalidKey("key must not be empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise errors.InvalidKey("key is not valid UTF-8 (it contains a lone surrogate)") from None
    if size > MAX_KEY_BYTES:
        raise errors.InvalidKey(f"key is {size} bytes of UTF-8; S3 keys are at most 1024 bytes")
    control = next((c for c in key if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0), None)
    if control is not None:
        raise errors.InvalidKey(f"key contains a control character (U+{ord(control):04X})")
    if key.startswith("/"):
        raise errors.InvalidKey("key must not start with '/'")
    if "\\" in key:
        raise errors.InvalidKey("key must not contain a backslash")
    if ".." in key.split("/"):
        raise errors.InvalidKey("key must not contain a '..' path segment")


def check_bucket_allowed(bucket: str, allowed_buckets: Collection[str]) -> None:
    """Raise unless ``bucket`` is on the allowlist; an empty allowlist refuses every bucket."""
    if not allowed_buckets:
        raise errors.AllowlistNotConfigured(
            "ALLOWED_BUCKETS is not configured: set it to a comma-separated list of the "
            "buckets this function may read features from"
        )
    if bucket not in allowed_buckets:
        raise errors.BucketNotAllowed(f"bucket {bucket!r} is not in ALLOWED_BUCKETS")


def _string_field(payload: Mapping[str, Any], name: str) -> str:
    if name not in payload:
        raise errors.MissingField(f'request is missing the "{name}" field')
    value = payload[name]
    if not isinstance(value, str):
        raise errors.InvalidFieldType(f'"{name}" must be a string, got {_json_type(value)}')
    return value


def _decode_base64(body: str) -> str:
    try:
        return base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise errors.InvalidJSON(
            "request body is marked isBase64Encoded but is not base64 of UTF-8 text"
        ) from None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _short(text: str, limit: int = 80) -> str:
    # Messages echo caller input; keep them short whatever the caller sent.
    return text if len(text) <= limit else text[: limit - 3] + "..."
