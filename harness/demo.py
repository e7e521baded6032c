"""The seed loop end to end: upload features to S3, list the bucket, POST {bucket, key}, predict.

Library code behind ``harness demo``; it talks to the stack only through boto3 and HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.deploy import Stack
from harness.errors import HarnessError
from harness.features import encode_features
from harness.scenario.http_client import HttpHelper


@dataclass(frozen=True)
class DemoResult:
    key: str
    listed: list[tuple[str, int]]
    status: int
    predictions: list[Any]
    accuracy: float | None
    latency_ms: float
    log_lines: list[str]


def boto_client(service: str, stack: Stack) -> Any:
    import boto3

    endpoint = stack.s3_endpoint_url if service == "s3" and stack.s3_endpoint_url else \
        stack.endpoint_url
    return boto3.session.Session().client(
        service, region_name=stack.region, endpoint_url=endpoint,
        aws_access_key_id="test", aws_secret_access_key="test")


def function_log_lines(stack: Stack, since_ms: int) -> list[str]:
    logs = boto_client("logs", stack)
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{stack.function_name}",
                                    startTime=since_ms)["events"]
    return [event["message"] for event in events]


def run_loop(stack: Stack, features: Any, labels: Any, fmt: str = "npy",
             say: Callable[[str], None] = lambda _m: None) -> DemoResult:
    """Upload, list, POST and score, as the seed's client does."""
    import io

    s3 = boto_client("s3", stack)
    key = f"validation/test_features.{fmt}"
    since_ms = int(time.time() * 1000) - 1000
    say(f"upload {len(features)} rows as s3://{stack.bucket}/{key}")
    s3.upload_fileobj(io.BytesIO(encode_features(features, fmt)), stack.bucket, key)
    listed = [(obj["Key"], int(obj["Size"]))
              for obj in s3.list_objects_v2(Bucket=stack.bucket).get("Contents", [])]
    say(f"list s3://{stack.bucket}: " + ", ".join(f"{k} ({n} B)" for k, n in listed))
    say(f"POST {stack.invoke_url}")
    started = time.perf_counter()
    status, parsed = HttpHelper().post_json(stack.invoke_url,
                                            {"bucket": stack.bucket, "key": key})
    latency_ms = (time.perf_counter() - started) * 1000
    if not isinstance(parsed, dict):
        parsed = {"message": str(parsed)[:200]}
    if status != 200:
        raise HarnessError(f"POST /predict answered {status}: {parsed.get('message', parsed)}")
    predictions = list(parsed["predictions"])
    accuracy = None
    if labels is not None and len(labels) == len(predictions):
        accuracy = sum(1 for p, y in zip(predictions, labels, strict=True)
                       if p == y) / len(predictions)
    return DemoResult(key, listed, status, predictions, accuracy, latency_ms,
                      function_log_lines(stack, since_ms))
