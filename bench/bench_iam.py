"""Benchmark of IAM enforcement on the warm POST /predict path (target: under 0.2 ms at p50).

The example stack is deployed and warmed; then each warm POST /predict is measured with the
checks IAM adds to it timed where they run, in the emulator's own process:
  - the check of the function's S3 GetObject (the execution role's policies and the bucket's
    policy, read from moto and evaluated): the whole of moto's authorization hook;
  - API Gateway's check of the function's resource-based policy before the integration call.
Their sum per request is the enforcement's overhead. For scale, the same requests' round trips
are then measured with IAM on and with IAM off (separate emulators, one after the other; on a
busy machine their difference is mostly noise, which is why the checks are timed directly).

    python bench/bench_iam.py [--warm 300]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_seed_loop import Client, pct, row  # noqa: E402
from harness.config import EmulatorConfig, IamConfig  # noqa: E402
from harness.deploy import StackSpec, Target, deploy  # noqa: E402
from harness.emulator import Emulator  # noqa: E402
from harness.features import encode_features  # noqa: E402
from harness.package import Package, build_package  # noqa: E402


def timed(owner: Any, name: str, samples: list[float]) -> Callable[[], None]:
    """Time every call of ``owner.name`` into ``samples`` (ms); returns the undo."""
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter_ns()
        try:
            return original(*args, **kwargs)
        finally:
            samples.append((time.perf_counter_ns() - started) / 1e6)

    setattr(owner, name, wrapper)
    return lambda: setattr(owner, name, original)


def series(mode: str, package: Package, state: Path, warm: int,
           checks: dict[str, list[float]] | None) -> list[float]:
    """Round trips of ``warm`` warm POST /predict with IAM ``mode``; with ``checks``, the time
    of each check is gathered into it too."""
    from moto.core.authorization import ActionAuthenticatorMixin

    from harness.apigw.gateway import ExecuteApiGateway

    config = EmulatorConfig(port=0, state_dir=state, iam=IamConfig(mode=mode))
    with Emulator(config) as emulator:
        stack = deploy(Target(endpoint_url=emulator.url), StackSpec(), package)
        s3 = emulator_client(emulator.url, "s3", stack.region)
        features = __import__("numpy").load(package.holdout_features)
        s3.upload_fileobj(io.BytesIO(encode_features(features, "npy")), stack.bucket,
                          "bench/features.npy")
        client = Client(emulator.url)
        body = json.dumps({"bucket": stack.bucket, "key": "bench/features.npy"}).encode()
        path = urlsplit(stack.invoke_url).path
        for _ in range(20):  # cold start, then the environment settles
            status, _, _ = client.call("POST", path, body)
            assert status == 200, status
        undo = []
        if checks is not None:
            undo = [timed(ActionAuthenticatorMixin, "_authenticate_and_authorize_action",
                          checks["s3"]),
                    timed(ExecuteApiGateway, "_may_invoke", checks["apigw"])]
        trips = []
        try:
            for _ in range(warm):
                status, _, ms = client.call("POST", path, body)
                assert status == 200, status
                trips.append(ms)
        finally:
            for step in undo:
                step()
    return trips


def emulator_client(url: str, service: str, region: str) -> Any:
    import boto3

    return boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                 region_name=region).client(service, endpoint_url=url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=300, help="warm requests per series")
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="harness-bench-iam-"))
    package = build_package(state / "build")
    checks: dict[str, list[float]] = {"s3": [], "apigw": []}
    on = series("on", package, state, args.warm, checks)
    off = series("off", package, state, args.warm, None)
    assert len(checks["s3"]) == len(checks["apigw"]) == args.warm, (
        {k: len(v) for k, v in checks.items()})
    total = [a + b for a, b in zip(checks["s3"], checks["apigw"], strict=True)]
    print(f"IAM enforcement on the warm POST /predict path ({args.warm} requests)")
    print(row("check: the function's S3 GetObject", checks["s3"]))
    print(row("check: API Gateway may invoke the function", checks["apigw"]))
    print(row("enforcement overhead per request (sum)", total))
    print(row("round trip, IAM on", on))
    print(row("round trip, IAM off", off))
    p50 = statistics.median(total)
    verdict = "under" if p50 < 0.2 else "OVER"
    print(f"overhead p50 {p50:.3f} ms, p99 {pct(total, 99):.3f} ms: {verdict} the 0.2 ms target")
    return 0 if p50 < 0.2 else 1


if __name__ == "__main__":
    sys.exit(main())
