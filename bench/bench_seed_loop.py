"""Benchmark of the embedded emulator: warm POST /predict, function duration, overhead, cold start.

Prints medians and p99 from one run, with baselines measured in the same run:
  - health GET: the HTTP server's floor (no Lambda at all);
  - Invoke of a trivial function: the Lambda path without the ML work;
  - POST /predict: the seed loop's warm round trip through API Gateway, Lambda and S3.
Overhead = round trip minus the function's own Duration from its REPORT line.

    python bench/bench_seed_loop.py [--warm 500] [--cold 8]
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.config import EmulatorConfig  # noqa: E402
from harness.deploy import StackSpec, Target, deploy  # noqa: E402
from harness.emulator import Emulator  # noqa: E402
from harness.features import encode_features  # noqa: E402
from harness.package import build_package, zip_files  # noqa: E402

TRIVIAL = "def handler(event, context):\n    return {'ok': True}\n"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def row(name: str, values: list[float]) -> str:
    return (f"{name:<44} n={len(values):<5} p50={statistics.median(values):8.3f} ms"
            f"  p99={pct(values, 99):8.3f} ms")


class Client:
    """One keep-alive HTTP connection, as a load generator or SDK would hold."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                               timeout=60)

    def call(self, method: str, path: str, body: bytes = b"",
             headers: dict[str, str] | None = None) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers or {})
        response = self.conn.getresponse()
        data = response.read()
        return response.status, data, (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=500, help="warm requests per series")
    parser.add_argument("--cold", type=int, default=8, help="cold starts to measure")
    args = parser.parse_args()

    import boto3
    import numpy as np

    state = Path(tempfile.mkdtemp(prefix="harness-bench-"))
    config = EmulatorConfig(port=0, state_dir=state)
    package = build_package(state / "build")
    features = np.load(package.holdout_features)
    with Emulator(config) as emulator:
        records: list = []
        assert emulator.lambdas is not None
        emulator.lambdas.add_listener(lambda spec, record: records.append(record))
        stack = deploy(Target(endpoint_url=emulator.url), StackSpec(), package)
        session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                        region_name=stack.region)
        s3 = session.client("s3", endpoint_url=emulator.url)
        lam = session.client("lambda", endpoint_url=emulator.url)
        s3.upload_fileobj(io.BytesIO(encode_features(features, "npy")), stack.bucket,
                          "bench/features.npy")
        lam.create_function(FunctionName="trivial", Runtime="python3.12", Handler="app.handler",
                            Role="arn:aws:iam::123456789012:role/harness-predict-role",
                            Code={"ZipFile": zip_files({"app.py": TRIVIAL})})
        client = Client(emulator.url)
        body = json.dumps({"bucket": stack.bucket, "key": "bench/features.npy"}).encode()
        predict_path = urlsplit(stack.invoke_url).path
        # By ARN: an unsigned request carries no region, the ARN does.
        invoke_path = (f"/2015-03-31/functions/arn:aws:lambda:{stack.region}:123456789012:"
                       "function:trivial/invocations")

        health = [client.call("GET", "/_harness/health")[2] for _ in range(args.warm)]
        assert client.call("POST", invoke_path, b"{}")[0] == 200
        records.clear()
        trivial = []
        for _ in range(args.warm):
            status, _, ms = client.call("POST", invoke_path, b"{}")
            assert status == 200, status
            trivial.append(ms)
        trivial_fn = [r.report.duration_ms for r in records]
        status, _, _ = client.call("POST", predict_path, body)
        assert status == 200, status
        records.clear()
        predict = []
        for _ in range(args.warm):
            status, _, ms = client.call("POST", predict_path, body)
            assert status == 200
            predict.append(ms)
        predict_fn = [r.report.duration_ms for r in records]

        cold_rt, cold_init, cold_over = [], [], []
        for i in range(args.cold):
            lam.update_function_configuration(
                FunctionName=stack.function_name,
                Environment={"Variables": {"ALLOWED_BUCKETS": stack.bucket, "BENCH": str(i)}})
            records.clear()
            status, _, ms = client.call("POST", predict_path, body)
            assert status == 200
            report = records[-1].report
            cold_rt.append(ms)
            cold_init.append(report.init_duration_ms or 0.0)
            cold_over.append(ms - (report.init_duration_ms or 0.0) - report.duration_ms)

    print(f"harness benchmark ({args.warm} warm requests per series, {args.cold} cold starts)")
    print(row("baseline: GET /_harness/health", health))
    print(row("Invoke trivial fn: round trip", trivial))
    print(row("Invoke trivial fn: function Duration", trivial_fn))
    print(row("Invoke trivial fn: overhead", [a - b for a, b in zip(trivial, trivial_fn)]))
    print(row("POST /predict (warm): round trip", predict))
    print(row("POST /predict (warm): function Duration", predict_fn))
    overhead = [a - b for a, b in zip(predict, predict_fn)]
    print(row("POST /predict (warm): harness overhead", overhead))
    print(row("cold start: POST /predict round trip", cold_rt))
    print(row("cold start: Init Duration (function's init)", cold_init))
    print(row("cold start: overhead beyond init+duration", cold_over))
    print(f"ratio warm /predict round trip to health baseline: "
          f"{statistics.median(predict) / statistics.median(health):.1f}x")
    return 0




if __name__ == "__main__":
    sys.exit(main())
