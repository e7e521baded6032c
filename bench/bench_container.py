"""Benchmark of the container executor next to the process executor, measured in one run.

For the example ML function (POST /predict through API Gateway) and for a trivial function
(Lambda Invoke), each run once as a process and once in a container:
  - cold start: the round trip of the first request to a new environment, and its Init Duration;
  - warm: round trip, the function's own Duration, and the overhead (round trip - Duration).
The ML image is harness/ml-fn:latest; the trivial function runs as a zip package mounted in the
stand-in base image. Both must be built first (`harness image build`); without a Docker engine or
the images, the benchmark says so and exits.

    python bench/bench_container.py [--warm 300] [--cold 5]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_seed_loop import Client, row  # noqa: E402
from harness.config import EmulatorConfig, LambdaConfig  # noqa: E402
from harness.container.images import BASE_TAG, FUNCTION_TAG  # noqa: E402
from harness.deploy import StackSpec, Target, deploy  # noqa: E402
from harness.emulator import Emulator  # noqa: E402
from harness.features import encode_features  # noqa: E402
from harness.package import build_package, zip_files  # noqa: E402

TRIVIAL = "def handler(event, context):\n    return {'ok': True}\n"
ROLE = "arn:aws:iam::123456789012:role/harness-predict-role"


def _engine_ready() -> str | None:
    from harness.container.engine import connect, engine_problem

    problem = engine_problem()
    if problem:
        return problem
    client = connect()
    try:
        names = {tag for image in client.images.list() for tag in image.tags}
    finally:
        client.close()
    missing = [tag for tag in (BASE_TAG, FUNCTION_TAG) if tag not in names]
    if missing:
        return f"images not built: {', '.join(missing)} (run `harness image build`)"
    return None


def _series(client: Client, path: str, body: bytes, records: list, warm: int,
            cold: int, refresh: Callable[[int], None]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"cold": [], "init": [], "warm": [], "duration": []}
    for i in range(cold):
        refresh(i)  # a configuration change retires the warm environments: the next one is cold
        records.clear()
        status, data, ms = client.call("POST", path, body)
        assert status == 200, data[:300]
        out["cold"].append(ms)
        out["init"].append(records[-1].report.init_duration_ms or 0.0)
    records.clear()
    for _ in range(warm):
        status, data, ms = client.call("POST", path, body)
        assert status == 200, data[:300]
        out["warm"].append(ms)
    out["duration"] = [r.report.duration_ms for r in records]
    out["overhead"] = [a - b for a, b in zip(out["warm"], out["duration"], strict=True)]
    return out


def _predict_series(emulator: Emulator, package, features, image: str | None, args) -> dict:
    import boto3

    records: list = []
    assert emulator.lambdas is not None
    emulator.lambdas.add_listener(lambda _spec, record: records.append(record))
    suffix = "image" if image else "zip"
    spec = StackSpec(function_name=f"predict-{suffix}", api_name=f"predict-{suffix}-api",
                     image_uri=image)
    stack = deploy(Target(endpoint_url=emulator.url), spec, package)
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name=stack.region)
    session.client("s3", endpoint_url=emulator.url).upload_fileobj(
        io.BytesIO(encode_features(features, "npy")), stack.bucket, "bench/features.npy")
    lam = session.client("lambda", endpoint_url=emulator.url)

    def refresh(i: int) -> None:
        lam.update_function_configuration(FunctionName=stack.function_name, Environment={
            "Variables": {"ALLOWED_BUCKETS": stack.bucket, "BENCH": f"{suffix}{i}"}})

    body = json.dumps({"bucket": stack.bucket, "key": "bench/features.npy"}).encode()
    return _series(Client(emulator.url), urlsplit(stack.invoke_url).path, body, records,
                   args.warm, args.cold, refresh)


def _trivial_series(emulator: Emulator, name: str, args) -> dict:
    import boto3

    records: list = []
    assert emulator.lambdas is not None
    emulator.lambdas.add_listener(lambda _spec, record: records.append(record))
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name="us-east-1")
    iam = session.client("iam", endpoint_url=emulator.url)
    try:  # moto's state is per process: the role may be there from an earlier series
        iam.create_role(RoleName="harness-predict-role", AssumeRolePolicyDocument="{}")
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    lam = session.client("lambda", endpoint_url=emulator.url)
    lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler",
                        Role=ROLE, Code={"ZipFile": zip_files({"app.py": TRIVIAL})})

    def refresh(i: int) -> None:
        lam.update_function_configuration(FunctionName=name,
                                           Environment={"Variables": {"BENCH": str(i)}})

    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    path = f"/2015-03-31/functions/{arn}/invocations"
    return _series(Client(emulator.url), path, b"{}", records, args.warm, args.cold, refresh)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=300, help="warm requests per series")
    parser.add_argument("--cold", type=int, default=5, help="cold starts per series")
    args = parser.parse_args()
    problem = _engine_ready()
    if problem:
        print(f"container benchmark skipped: {problem}")
        return 0
    import numpy as np

    state = Path(tempfile.mkdtemp(prefix="harness-bench-container-"))
    package = build_package(state / "build")
    features = np.load(package.holdout_features)
    results = {}
    with Emulator(EmulatorConfig(port=0, state_dir=state / "a")) as emulator:
        results["ML /predict, process"] = _predict_series(emulator, package, features, None, args)
        results["ML /predict, container"] = _predict_series(emulator, package, features,
                                                            FUNCTION_TAG, args)
        results["trivial Invoke, process"] = _trivial_series(emulator, "trivial-process", args)
    containers = LambdaConfig(zip_executor="container", zip_image=BASE_TAG)
    with Emulator(EmulatorConfig(port=0, state_dir=state / "b", lambda_=containers)) as emulator:
        results["trivial Invoke, container"] = _trivial_series(emulator, "trivial-container", args)

    print(f"container vs process executor ({args.warm} warm requests, {args.cold} cold starts "
          "per series)")
    for name, series in results.items():
        print(row(f"{name}: cold round trip", series["cold"]))
        print(row(f"{name}: cold Init Duration", series["init"]))
        print(row(f"{name}: warm round trip", series["warm"]))
        print(row(f"{name}: warm overhead", series["overhead"]))
    for kind in ("ML /predict", "trivial Invoke"):
        proc, cont = results[f"{kind}, process"], results[f"{kind}, container"]
        print(f"{kind}: container adds {_delta(cont['cold'], proc['cold']):+.1f} ms to a cold "
              f"start and {_delta(cont['warm'], proc['warm']):+.3f} ms to a warm round trip "
              "(medians)")
    return 0


def _delta(a: list[float], b: list[float]) -> float:
    return statistics.median(a) - statistics.median(b)


if __name__ == "__main__":
    sys.exit(main())
