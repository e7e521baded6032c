"""Where a warm request's harness overhead goes: POST through execute-api, phase by phase.

The embedded emulator serves a trivial function and the example ML function behind REST APIs;
one keep-alive client (in this process, as bench_seed_loop.py's) sends warm requests, and the
emulator's steps are timed by wrapping four of its methods (the gateway's ``handle``, the
environment's ``invoke``, and the Runtime API's ``/next`` and ``/response`` calls). Prints the
median of each phase, in ms:

  client -> gateway     the request's way in: client send, HTTP parse, routing, body
  gateway -> invoke     API, route and permission lookups, the proxy event, the function's spec
  invoke -> handed out  the invocation waits for the runtime's /next
  function              handed out to /response received (what REPORT's Duration counts)
  response -> invoked   the invocation's end: output, REPORT, the environment back to READY
  invoked -> gateway    logs, metrics, the proxy result mapped to the HTTP answer
  gateway -> client     the answer's way out: app, ledger, HTTP write, client read

The wrappers add a few microseconds per phase; compare phases, not totals, with other benches.

    python bench/bench_overhead_phases.py [--requests 300]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_seed_loop import Client  # noqa: E402
from bench_throughput import TRIVIAL, _proxy_api  # noqa: E402

from harness.apigw.gateway import ExecuteApiGateway  # noqa: E402
from harness.config import EmulatorConfig  # noqa: E402
from harness.deploy import StackSpec, Target, deploy  # noqa: E402
from harness.emulator import Emulator  # noqa: E402
from harness.features import encode_features  # noqa: E402
from harness.lambda_.environment import ExecutionEnvironment  # noqa: E402
from harness.package import build_package, zip_files  # noqa: E402

PHASES = ("client -> gateway", "gateway -> invoke", "invoke -> handed out", "function",
          "response -> invoked", "invoked -> gateway", "gateway -> client")
# (class, method, mark on entry, mark on return)
WRAPPED = ((ExecuteApiGateway, "handle", "gateway_in", "gateway_out"),
           (ExecutionEnvironment, "invoke", "invoke_in", "invoke_out"),
           (ExecutionEnvironment, "next_invocation", None, "handed"),
           (ExecutionEnvironment, "invocation_response", "response", None))


@contextmanager
def marking(marks: dict[str, float]) -> Iterator[None]:
    """The wrapped methods write perf_counter() stamps into ``marks`` while inside."""
    originals = [(cls, name, getattr(cls, name)) for cls, name, _, _ in WRAPPED]

    def wrap(method: Callable[..., Any], on_entry: str | None,
             on_return: str | None) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if on_entry:
                marks[on_entry] = time.perf_counter()
            result = method(*args, **kwargs)
            if on_return:
                marks[on_return] = time.perf_counter()
            return result
        return timed

    for (cls, name, on_entry, on_return), (_, _, method) in zip(WRAPPED, originals,
                                                                 strict=True):
        setattr(cls, name, wrap(method, on_entry, on_return))
    try:
        yield
    finally:
        for cls, name, method in originals:
            setattr(cls, name, method)


def phases(sent: float, answered: float, m: dict[str, float]) -> list[float]:
    """The phases of one request, in ms (pure)."""
    stamps = [sent, m["gateway_in"], m["invoke_in"], m["handed"], m["response"],
              m["invoke_out"], m["gateway_out"], answered]
    return [(b - a) * 1000 for a, b in zip(stamps, stamps[1:])]


def measure(client: Client, path: str, body: bytes, requests: int,
            marks: dict[str, float]) -> list[list[float]]:
    for _ in range(20):
        client.call("POST", path, body)
    rows = []
    for _ in range(requests):
        marks.clear()
        sent = time.perf_counter()
        status, _, _ = client.call("POST", path, body)
        answered = time.perf_counter()
        if status != 200:
            raise SystemExit(f"bench_overhead_phases: POST {path} answered {status}")
        rows.append(phases(sent, answered, marks))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="warm requests per function")
    args = parser.parse_args()
    if args.requests < 1:
        parser.error("--requests must be at least 1")

    import boto3
    import numpy as np

    state = Path(tempfile.mkdtemp(prefix="harness-bench-phases-"))
    package = build_package(state / "build")
    marks: dict[str, float] = {}
    results: dict[str, list[list[float]]] = {}
    with Emulator(EmulatorConfig(port=0, state_dir=state)) as emulator:
        stack = deploy(Target(endpoint_url=emulator.url), StackSpec(), package)
        session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                        region_name=stack.region)
        s3, lam, apigw = (session.client(name, endpoint_url=emulator.url)
                          for name in ("s3", "lambda", "apigateway"))
        features = np.load(package.holdout_features)[:10]
        s3.upload_fileobj(io.BytesIO(encode_features(features, "npy")), stack.bucket,
                          "bench/ten-rows.npy")
        trivial = lam.create_function(
            FunctionName="phases-trivial", Runtime="python3.12", Handler="app.handler",
            Role="arn:aws:iam::123456789012:role/harness-predict-role",
            Code={"ZipFile": zip_files({"app.py": TRIVIAL})})
        api_id = _proxy_api(apigw, "phases-trivial", trivial["FunctionArn"], stack.region)
        lam.add_permission(FunctionName="phases-trivial", StatementId="apigateway",
                           Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com")
        client = Client(emulator.url)
        targets = {
            "trivial": (f"/_aws/execute-api/{api_id}/dev/predict", b"{}"),
            "ML /predict (10 rows)": (urlsplit(stack.invoke_url).path, json.dumps(
                {"bucket": stack.bucket, "key": "bench/ten-rows.npy"}).encode()),
        }
        with marking(marks):
            for name, (path, body) in targets.items():
                results[name] = measure(client, path, body, args.requests, marks)
    print(f"warm POST through execute-api, {args.requests} requests each, medians in ms")
    print("| phase | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for i, phase in enumerate(PHASES):
        print(f"| {phase} | " + " | ".join(
            f"{statistics.median(row[i] for row in rows):.3f}" for rows in results.values())
            + " |")
    for name, rows in results.items():
        outside = [sum(row) - row[3] for row in rows]
        print(f"{name}: harness overhead (all but the function) p50 "
              f"{statistics.median(outside):.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
