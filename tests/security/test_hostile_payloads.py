"""The example function under attack (issue #7), over real HTTP through the embedded emulator.

Every hostile payload (traversal keys, foreign buckets, pickles, gzip bombs, huge shapes, wide or
deep documents, NaN and inf, malformed bodies) gets a 4xx with a JSON message; no pickle's code
runs; the function keeps serving; and its Max Memory Used stays within a fixed headroom of idle.

The function is deployed on its own here, so its environment's peak (REPORT lines are the
process's high-water mark) starts from a known idle figure, untouched by other tests.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings

from harness.aws_target import destroy
from harness.deploy import Stack, StackSpec, Target, deploy, ensure_bucket
from harness.lambda_.logs import Report, parse_report_line
from harness.scenario.http_client import parse_body
from harness.scenario.session import empty_bucket
from tests.security.hostile import (
    GOOD_ROW,
    PICKLE_KINDS,
    Hostile,
    exploit_bytes,
    gzip_bomb,
    gzip_bytes,
    hostile_requests,
    npy_bytes,
    representatives,
    request,
)

FAMILIES = 8

SPEC = StackSpec(function_name="hostile-predict", api_name="hostile-predict-api",
                 role_name="hostile-predict-role", bucket="hostile-features")
TRUSTING_SPEC = StackSpec(function_name="hostile-trusting", api_name="hostile-trusting-api",
                          role_name="hostile-trusting-role", bucket="hostile-trusting",
                          allow_pickle_features=True)
OTHER_BUCKET = "hostile-elsewhere"
VALID_KEY = "valid/features.npy"
MAX_OBJECT_BYTES = 20 * 1024 * 1024  # the function's default, which SPEC keeps
# A refused payload may hold one capped object and one decoded copy of it (2 x 20 MiB) plus
# interpreter slack; the payloads below stay well under that. Unbounded parsing, by contrast,
# costs 200-800 MB for a 20 MiB CSV or JSON document (see tests/lambda_fn/test_format_memory.py).
MEMORY_HEADROOM_MB = 64


@dataclass
class Attacked:
    """The deployed target of the attack and what it is measured by."""

    stack: Stack
    s3: Any
    logs: Any
    marker: Path
    """Every hostile pickle touches this file when it is unpickled."""
    idle_peak_mb: int
    """Max Memory Used after init and one valid request."""


@pytest.fixture(scope="module")
def attacked(harness_target, harness_endpoint, harness_package, harness_client, harness_http,
             tmp_path_factory) -> Iterator[Attacked]:
    emulator = harness_target.emulator
    if emulator is None or emulator.config.lambda_.zip_executor != "process":
        pytest.skip("needs the embedded emulator running functions as local processes, which "
                    "share this machine's files with the test (the pickle marker)")
    target = Target(endpoint_url=harness_endpoint)
    stack = deploy(target, SPEC, harness_package)
    s3 = harness_client("s3", region_name=stack.region)
    logs = harness_client("logs", region_name=stack.region)
    ensure_bucket(s3, OTHER_BUCKET, stack.region)
    s3.put_object(Bucket=stack.bucket, Key=VALID_KEY, Body=npy_bytes([GOOD_ROW] * 3))
    try:
        assert_still_serving(harness_http, stack)
        idle = max(r.max_memory_used_mb for r in reports(logs, stack.function_name))
        yield Attacked(stack, s3, logs, tmp_path_factory.mktemp("marker") / "pwned", idle)
    finally:
        empty_bucket(s3, OTHER_BUCKET)
        s3.delete_bucket(Bucket=OTHER_BUCKET)
        destroy(target, SPEC)
        _forget_logs(logs, SPEC.function_name)


def post(http, stack: Stack, hostile: Hostile) -> tuple[int, dict[str, str], Any]:
    status, headers, raw = http.request("POST", stack.invoke_url, hostile.body,
                                        {"Content-Type": hostile.content_type})
    return status, headers, parse_body(raw)


def assert_still_serving(http, stack: Stack) -> None:
    status, body = http.post_json(stack.invoke_url, {"bucket": stack.bucket, "key": VALID_KEY})
    assert status == 200, body
    assert len(body["predictions"]) == 3


def assert_refused(hostile: Hostile, status: int, headers: dict[str, str], body: Any) -> None:
    assert 400 <= status < 500 and status in hostile.statuses, (status, body)
    assert headers.get("Content-Type", "").startswith("application/json"), headers
    assert isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]


def reports(logs, function_name: str) -> list[Report]:
    """Every REPORT line the function's log group holds (the emulator writes them via moto)."""
    group = f"/aws/lambda/{function_name}"
    found = []
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group):
        found += [r for e in page["events"] if (r := parse_report_line(e["message"])) is not None]
    return found


def _forget_logs(logs, function_name: str) -> None:
    try:
        logs.delete_log_group(logGroupName=f"/aws/lambda/{function_name}")
    except logs.exceptions.ResourceNotFoundException:
        pass


# -- the property ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_hostile_payloads_get_a_4xx_run_nothing_and_keep_memory_bounded(
        attacked, harness_http, record_property) -> None:
    stack, s3 = attacked.stack, attacked.s3
    families: dict[str, int] = {}

    @settings(max_examples=100, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(hostile_requests(stack.bucket, OTHER_BUCKET, attacked.marker))
    def attack(hostile: Hostile) -> None:
        families[hostile.family] = families.get(hostile.family, 0) + 1
        for bucket, key, data in hostile.uploads:
            s3.put_object(Bucket=bucket, Key=key, Body=data)
        try:
            assert_refused(hostile, *post(harness_http, stack, hostile))
            assert not attacked.marker.exists(), "a hostile pickle ran inside the function"
            assert_still_serving(harness_http, stack)
        finally:
            for bucket, key, _ in hostile.uploads:
                s3.delete_object(Bucket=bucket, Key=key)

    for fixed in representatives(stack.bucket, OTHER_BUCKET, attacked.marker):
        attack = example(fixed)(attack)  # every family runs, whatever hypothesis draws
    started = time.perf_counter()
    attack()
    peak = max(r.max_memory_used_mb for r in reports(attacked.logs, stack.function_name))
    record_property("idle_peak_mb", attacked.idle_peak_mb)
    record_property("hostile_peak_mb", peak)
    record_property("seconds", round(time.perf_counter() - started, 1))
    print(f"\nidle peak {attacked.idle_peak_mb} MB, peak under attack {peak} MB; "
          f"{sum(families.values())} payloads: {dict(sorted(families.items()))}")
    assert len(families) == FAMILIES, families
    assert peak <= attacked.idle_peak_mb + MEMORY_HEADROOM_MB


# -- focused cases -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", PICKLE_KINDS)
def test_the_hostile_pickles_really_run_code_when_unpickled(kind, tmp_path) -> None:
    # Proves the property above could fail: loading these bytes as a trusting reader would
    # creates the marker, in the interpreter the function's runtime uses.
    marker, path = tmp_path / "pwned", tmp_path / f"evil.{kind}"
    path.write_bytes(exploit_bytes(marker, kind))
    loader = {"joblib": "import joblib; joblib.load(p)",
              "pickle": "import pickle; pickle.loads(open(p, 'rb').read())",
              "npy": "import numpy; numpy.load(p, allow_pickle=True)"}[kind]
    subprocess.run([sys.executable, "-c", f"import sys; p = sys.argv[1]; {loader}", str(path)],
                   check=True, timeout=60)
    assert marker.exists()


def test_a_function_that_allows_pickles_does_run_them(attacked, harness_endpoint,
                                                      harness_package, harness_http) -> None:
    # The same marker path, seen from inside a real runtime: the default function's refusal,
    # not a sandbox, is what keeps the marker from appearing.
    target = Target(endpoint_url=harness_endpoint)
    try:
        stack = deploy(target, TRUSTING_SPEC, harness_package)
        marker = attacked.marker.with_name("pwned-when-trusted")
        attacked.s3.put_object(Bucket=stack.bucket, Key="evil.joblib",
                               Body=exploit_bytes(marker, "joblib"))
        status, body = harness_http.post_json(stack.invoke_url,
                                              {"bucket": stack.bucket, "key": "evil.joblib"})
        assert marker.exists()
        assert (status, body["error"]) == (400, "WrongDtype")
    finally:
        destroy(target, TRUSTING_SPEC)
        _forget_logs(attacked.logs, TRUSTING_SPEC.function_name)


@pytest.mark.parametrize("suffix", [".pkl", ".pickle", ".joblib", ".pkl.gz", ".npy", ".npy.gz",
                                    ".json", ".csv.gz"])
@pytest.mark.parametrize("kind", PICKLE_KINDS)
def test_no_pickle_runs_whatever_its_key(attacked, harness_http, kind, suffix) -> None:
    stack = attacked.stack
    key = f"focused/{kind}{suffix}"
    data = exploit_bytes(attacked.marker, kind)
    attacked.s3.put_object(Bucket=stack.bucket, Key=key,
                           Body=gzip_bytes(data) if suffix.endswith(".gz") else data)
    hostile = Hostile("pickles", kind, request(stack.bucket, key), frozenset({400, 415}))
    assert_refused(hostile, *post(harness_http, stack, hostile))
    assert not attacked.marker.exists()


@pytest.mark.parametrize("suffix", [".npy.gz", ".csv.gz", ".json.gz"])
def test_gigabyte_gzip_bomb_is_413_naming_key_and_limit(attacked, harness_http, suffix) -> None:
    stack = attacked.stack
    key = f"focused/bomb{suffix}"
    bomb = gzip_bomb(1 << 30)
    assert len(bomb) < 2 << 20
    attacked.s3.put_object(Bucket=stack.bucket, Key=key, Body=bomb)
    status, body = harness_http.post_json(stack.invoke_url, {"bucket": stack.bucket, "key": key})
    assert (status, body["error"]) == (413, "DecompressedTooLarge")
    assert repr(key) in body["message"] and str(MAX_OBJECT_BYTES) in body["message"]
    last = reports(attacked.logs, stack.function_name)[-1]
    assert last.max_memory_used_mb <= attacked.idle_peak_mb + MEMORY_HEADROOM_MB
    assert_still_serving(harness_http, stack)


@pytest.mark.parametrize("body", ["!!not base64!!", base64.b64encode(b"\xff\xfe\x00").decode(),
                                  base64.b64encode(b"[1, 2]").decode()])
def test_base64_garbage_in_a_proxy_event_is_400(attacked, harness_client, body) -> None:
    lam = harness_client("lambda", region_name=attacked.stack.region)
    event = {"httpMethod": "POST", "resource": "/predict", "body": body, "isBase64Encoded": True}
    response = lam.invoke(FunctionName=attacked.stack.function_name,
                          Payload=json.dumps(event).encode())
    result = json.loads(response["Payload"].read())
    assert "FunctionError" not in response
    assert result["statusCode"] == 400
    assert json.loads(result["body"])["error"] in ("InvalidJSON", "InvalidRequestBody")
