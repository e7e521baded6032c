"""Benchmark of S3 put to function start: how long after a PutObject the notified function's
handler begins, on a warm environment.

One put at a time into a bucket whose ObjectCreated events go to a function; the handler sends
its start time (``time.time()``) over UDP. Two figures per put: from the PutObject call's start,
and from its return to the client (S3 hands the event on inside the request, so a handler can
start before the client has read the response: that figure can be below zero).

    python bench/bench_s3_trigger.py [--puts 50]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_seed_loop import pct  # noqa: E402
from harness.config import EmulatorConfig  # noqa: E402
from harness.emulator import Emulator  # noqa: E402
from harness.package import zip_files  # noqa: E402

HANDLER = '''
import json, os, socket, time
_SOCKET = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def handler(event, context):
    started = time.time()
    key = event["Records"][0]["s3"]["object"]["key"]
    _SOCKET.sendto(json.dumps([key, started]).encode(),
                   ("127.0.0.1", int(os.environ["BENCH_PORT"])))
'''
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"


def _deploy(emulator: Emulator, port: int) -> tuple[Any, str]:
    import boto3

    def client(service: str) -> Any:
        return boto3.client(service, region_name="us-east-1", endpoint_url=emulator.url,
                            aws_access_key_id="bench", aws_secret_access_key="bench")

    iam, lam, s3 = client("iam"), client("lambda"), client("s3")
    role = iam.create_role(RoleName="bench-s3", AssumeRolePolicyDocument="{}")
    arn = lam.create_function(
        FunctionName="bench-s3", Runtime=RUNTIME, Role=role["Role"]["Arn"],
        Handler="app.handler", Code={"ZipFile": zip_files({"app.py": HANDLER})},
        Environment={"Variables": {"BENCH_PORT": str(port)}})["FunctionArn"]
    lam.add_permission(FunctionName="bench-s3", StatementId="s3",
                       Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
    s3.create_bucket(Bucket="bench-uploads")
    s3.put_bucket_notification_configuration(
        Bucket="bench-uploads", NotificationConfiguration={"LambdaFunctionConfigurations": [
            {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    return s3, arn


def _put(emulator: Emulator, s3: Any, sock: socket.socket,
         key: str) -> tuple[float, float, float]:
    """(call start, call return, handler start) of one put, in seconds since the epoch."""
    called = time.time()
    s3.put_object(Bucket="bench-uploads", Key=key, Body=b"x" * 1024)
    returned = time.time()
    while True:
        seen, started = json.loads(sock.recv(4096))
        if seen == key:
            break
    # The invocation ends before the next put: that one then finds the environment warm and
    # idle (otherwise a second environment may cold-start, as Lambda would do too).
    assert emulator.lambdas is not None and emulator.lambdas.wait_for_events(timeout=60)
    return called, returned, started


def _plain_puts(s3: Any, count: int) -> list[float]:
    """PutObject round trips (ms) to a bucket without notifications: the baseline."""
    s3.create_bucket(Bucket="bench-plain")
    found = []
    for i in range(count):
        called = time.perf_counter()
        s3.put_object(Bucket="bench-plain", Key=f"in/{i}.csv", Body=b"x" * 1024)
        found.append((time.perf_counter() - called) * 1000)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--puts", type=int, default=50, help="puts to measure (after one warm-up)")
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="harness-bench-"))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, \
            Emulator(EmulatorConfig(port=0, state_dir=state)) as emulator:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(60)
        s3, _ = _deploy(emulator, sock.getsockname()[1])
        _put(emulator, s3, sock, "warm-up")  # the cold start is not this figure
        runs = [_put(emulator, s3, sock, f"in/{i}.csv") for i in range(args.puts)]
        plain = _plain_puts(s3, args.puts)
    from_call = [(started - called) * 1000 for called, _, started in runs]
    from_return = [(started - returned) * 1000 for _, returned, started in runs]
    notified = [(returned - called) * 1000 for called, returned, _ in runs]
    print(f"S3 put to function start, warm, {len(runs)} puts (ms):")
    for name, values in (("from the PutObject call", from_call),
                         ("from PutObject's return", from_return),
                         ("PutObject, notifying", notified),
                         ("PutObject, no notification", plain)):
        print(f"  {name:<26} p50={statistics.median(values):7.2f}  "
              f"p90={pct(values, 90):7.2f}  p99={pct(values, 99):7.2f}  min={min(values):7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
