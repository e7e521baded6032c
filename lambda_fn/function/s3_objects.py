"""Read one feature object from S3 with a size cap, mapping S3's errors to client errors."""

from __future__ import annotations

from typing import Any

import boto3
import function_errors as errors
from botocore.config import Config
from botocore.exceptions import ClientError

# Fail well inside Lambda's timeout instead of hanging on a dead endpoint.
CLIENT_CONFIG = Config(
    connect_timeout=2, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"}
)
_NOT_FOUND_KEY = {"NoSuchKey", "404", "NotFound"}
_DENIED = {"AccessDenied", "403", "Forbidden", "AllAccessDisabled"}


def make_client() -> Any:
    """An S3 client from the environment (credentials, region, AWS_ENDPOINT_URL)."""
    # A new session, not boto3's default one: that one caches credentials from its first use.
    return boto3.session.Session().client("s3", config=CLIENT_CONFIG)


def read_object(client: Any, bucket: str, key: str, *, max_bytes: int) -> bytes:
    """The object's bytes; ObjectTooLarge before the body is read when it exceeds ``max_bytes``."""
    try:
        response = client.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        raise client_error_for(exc, bucket, key) from None
    body = response["Body"]
    try:
        size = response.get("ContentLength")
        if size is not None and size > max_bytes:
            raise _too_large(bucket, key, size, max_bytes)
        # ContentLength can be absent (or wrong behind a proxy): never read past the cap.
        data = body.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise _too_large(bucket, key, None, max_bytes)
        return data
    finally:
        body.close()


def client_error_for(exc: ClientError, bucket: str, key: str) -> Exception:
    """The RequestError for an S3 error a caller can act on; other errors are returned as-is."""
    code = str(exc.response.get("Error", {}).get("Code", ""))
    if code in _NOT_FOUND_KEY:
        return errors.NoSuchKey(f"no object with key {key!r} in bucket {bucket!r}")
    if code == "NoSuchBucket":
        return errors.NoSuchBucket(f"bucket {bucket!r} does not exist")
    if code in _DENIED:
        return errors.AccessDenied(
            f"access denied reading key {key!r} in bucket {bucket!r}: "
            "check the function role's s3:GetObject permission"
        )
    return exc


def _too_large(bucket: str, key: str, size: int | None, max_bytes: int) -> errors.ObjectTooLarge:
    shown = f"{size} bytes" if size is not None else f"more than {max_bytes} bytes"
    return errors.ObjectTooLarge(
        f"object {key!r} in bucket {bucket!r} is {shown}; MAX_OBJECT_BYTES is {max_bytes}"
    )
