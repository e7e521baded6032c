"""Benchmark of an SQS event source mapping on the embedded emulator, trivial function:

- latency: messages sent one at a time, about ``--rate`` a second, to a queue an enabled mapping
  reads (BatchSize 10, up to 5 pollers); processed = the function's handler began with the
  record; p50/p99 of (handler start - the moment before SendMessage);
- drain: ``--messages`` messages waiting (sent with SendMessageBatch), then a mapping created;
  messages a second from its creation until the handler has seen the last, at concurrency 1
  (ReservedConcurrentExecutions 1 under MaximumConcurrency 2, the least the API takes), 2 and 5
  (ScalingConfig.MaximumConcurrency). The function is warmed first (as many environments as the
  concurrency), so a figure is the mapping's, not cold starts'. A receive costs the same at
  any backlog (harness.aws_state.sqs_index; bench_sqs_depth.py measures it against moto's scan).

    python bench/bench_sqs_mapping.py [--messages 1000] [--latency 300] [--rate 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.config import EmulatorConfig  # noqa: E402
from harness.emulator import Emulator  # noqa: E402
from harness.package import zip_files  # noqa: E402

FUNCTION = '''
import time
def handler(event, context):
    now = time.time()
    for record in event["Records"]:
        print("T", record["body"], repr(now))
    return {}
'''
ROLE = "arn:aws:iam::123456789012:role/bench-sqs"


class Seen:
    """Handler start times by message body, from every invocation's output."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._more = threading.Condition(self._lock)

    def __call__(self, spec: Any, record: Any) -> None:
        with self._lock:
            for line in record.output.splitlines():
                if line.startswith("T "):
                    _, body_a, body_b, when = line.split(" ")
                    self.at[f"{body_a} {body_b}"] = float(when)
            self._more.notify_all()

    def wait(self, count: int, prefix: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while sum(1 for body in self.at if body.startswith(prefix)) < count:
                if not self._more.wait(max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f"only {len(self.at)} messages processed")


def _clients(emu: Emulator) -> dict[str, Any]:
    import boto3

    session = boto3.session.Session(aws_access_key_id="t", aws_secret_access_key="t",
                                    region_name="us-east-1")
    return {name: session.client(name, endpoint_url=emu.url) for name in ("sqs", "lambda", "iam")}


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    return url, arn


def _warm(lam: Any, function: str, environments: int) -> None:
    """``environments`` concurrent invocations, so that many warm environments wait."""
    event = b'{"Records": []}'
    with ThreadPoolExecutor(environments) as pool:
        list(pool.map(lambda _: lam.invoke(FunctionName=function, Payload=event),
                      range(environments)))


def latency(c: dict[str, Any], seen: Seen, function: str, count: int, rate: float) -> str:
    url, arn = _queue(c["sqs"], "bench-latency")
    uuid = c["lambda"].create_event_source_mapping(
        EventSourceArn=arn, FunctionName=function, ScalingConfig={"MaximumConcurrency": 5})["UUID"]
    _warm(c["lambda"], function, 5)
    sent: dict[str, float] = {}
    round_trips = []
    for i in range(count):
        body = f"lat {i}"
        sent[body] = time.time()
        c["sqs"].send_message(QueueUrl=url, MessageBody=body)
        round_trips.append((time.time() - sent[body]) * 1000)
        time.sleep(max(0.0, 1 / rate - (time.time() - sent[body])))
    seen.wait(count, "lat ")
    c["lambda"].delete_event_source_mapping(UUID=uuid)
    delays = sorted((seen.at[body] - at) * 1000 for body, at in sent.items())
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    return (f"send -> processed, {count} messages at ~{rate:.0f}/s: "
            f"p50 {statistics.median(delays):.1f} ms, p99 {p99:.1f} ms, max {delays[-1]:.1f} ms "
            f"(SendMessage's own round trip: p50 {statistics.median(round_trips):.1f} ms)")


def drain(c: dict[str, Any], seen: Seen, function: str, count: int, concurrency: int) -> str:
    sqs, lam = c["sqs"], c["lambda"]
    url, arn = _queue(sqs, f"bench-drain-{concurrency}")
    prefix = f"d{concurrency} "
    for start in range(0, count, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": f"{prefix}{start + i}"}
            for i in range(min(10, count - start))])
    if concurrency == 1:
        lam.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=1)
    _warm(lam, function, concurrency)
    began = time.time()
    uuid = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=function,
        ScalingConfig={"MaximumConcurrency": max(2, concurrency)})["UUID"]
    seen.wait(count, prefix)
    last = max(at for body, at in seen.at.items() if body.startswith(prefix))
    lam.delete_event_source_mapping(UUID=uuid)
    if concurrency == 1:
        lam.delete_function_concurrency(FunctionName=function)
    how = ("ReservedConcurrentExecutions 1" if concurrency == 1
           else f"MaximumConcurrency {concurrency}")
    return (f"drain {count} waiting messages, {how}: {count / (last - began):.0f} messages/s "
            f"({last - began:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000, help="backlog drained per row")
    parser.add_argument("--latency", type=int, default=300, help="messages timed one by one")
    parser.add_argument("--rate", type=float, default=50.0, help="messages a second, latency")
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="bench-sqs-"))
    config = EmulatorConfig().with_overrides(port=0, state_dir=state)
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    with Emulator(config) as emu:
        assert emu.lambdas is not None
        seen = Seen()
        emu.lambdas.add_listener(seen)
        c = _clients(emu)
        c["iam"].create_role(RoleName="bench-sqs", AssumeRolePolicyDocument="{}")
        c["lambda"].create_function(
            FunctionName="bench-sqs", Runtime=f"python{sys.version_info[0]}.{sys.version_info[1]}",
            Role=ROLE, Handler="app.handler", Code={"ZipFile": zip_files({"app.py": FUNCTION})})
        print(latency(c, seen, "bench-sqs", args.latency, args.rate), flush=True)
        for concurrency in (1, 2, 5):
            print(drain(c, seen, "bench-sqs", args.messages, concurrency), flush=True)


if __name__ == "__main__":
    main()
