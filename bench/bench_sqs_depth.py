"""SQS SendMessage, ReceiveMessage and DeleteMessage against queue depth, through the embedded
emulator's HTTP endpoint with boto3, with the queue index (harness.aws_state.sqs_index) and
with moto's own path (the index uninstalled in-process: moto's list, scans and receipt handles,
the baseline from the same run).

Each queue is filled to its depth in-process (moto's own path would take minutes to fill 10,000
messages: every send reads the queue's counts, three scans), then each call of a round, send one,
receive one (MaxNumberOfMessages 1), delete it, is timed, so the depth stays the same. moto's
path gets fewer rounds at the largest depth (``--baseline-calls``): its calls take 100 ms there.

    python bench/bench_sqs_depth.py [--calls 200] [--baseline-calls 40] [--depths 10,1000,10000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.aws_state import sqs_index  # noqa: E402
from harness.config import EmulatorConfig  # noqa: E402
from harness.emulator import Emulator  # noqa: E402

ACCOUNT, REGION = "123456789012", "us-east-1"
OPS = ("send", "receive", "delete")
WARMUP = 5


def _client(url: str) -> Any:
    import boto3

    session = boto3.session.Session(aws_access_key_id="t", aws_secret_access_key="t",
                                     region_name=REGION)
    return session.client("sqs", endpoint_url=url)


def _fill(name: str, depth: int) -> None:
    """``depth`` messages straight into moto's backend (through the index, which is fast)."""
    from moto.sqs.models import sqs_backends

    backend = sqs_backends[ACCOUNT][REGION]
    for i in range(depth):
        backend.send_message(name, f"filler {i:06d}")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(p / 100 * len(ordered) + 0.5) - 1))]


def rounds(sqs: Any, url: str, calls: int) -> dict[str, list[float]]:
    """Send one, receive one, delete it, ``calls`` times (after a warm-up): ms per call."""
    took: dict[str, list[float]] = {op: [] for op in OPS}
    for i in range(WARMUP + calls):
        t0 = time.perf_counter()
        sqs.send_message(QueueUrl=url, MessageBody=f"round {i}")
        t1 = time.perf_counter()
        (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
        t2 = time.perf_counter()
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        t3 = time.perf_counter()
        if i >= WARMUP:
            for op, ms in zip(OPS, ((t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000)):
                took[op].append(ms)
    return took


def floor(sqs: Any, calls: int) -> list[float]:
    """GetQueueUrl, ms per call: an SQS call that touches no message (the HTTP floor)."""
    name = f"bench-depth-floor-{os.getpid()}"
    sqs.create_queue(QueueName=name)
    took = []
    for i in range(WARMUP + calls):
        t0 = time.perf_counter()
        sqs.get_queue_url(QueueName=name)
        if i >= WARMUP:
            took.append((time.perf_counter() - t0) * 1000)
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
    return took


def measure(sqs: Any, depth: int, indexed: bool, calls: int) -> dict[str, list[float]]:
    """One queue of ``depth`` messages, on the index or (``indexed`` False) on moto's path."""
    sqs_index.install()
    name = f"bench-depth-{'index' if indexed else 'moto'}-{depth}-{os.getpid()}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    _fill(name, depth)
    if not indexed:
        sqs_index.uninstall()
    try:
        return rounds(sqs, url, calls)
    finally:
        sqs_index.install()
        sqs.delete_queue(QueueUrl=url)


def _row(depth: int, op: str, index: list[float], moto: list[float]) -> str:
    i50, i99, m50, m99 = _pct(index, 50), _pct(index, 99), _pct(moto, 50), _pct(moto, 99)
    return (f"{depth:>7,} {op:<8} {i50:8.2f} {i99:8.2f}   {m50:8.2f} {m99:8.2f}   "
            f"{m50 / i50:6.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="timed rounds per depth")
    parser.add_argument("--baseline-calls", type=int, default=40,
                        help="timed rounds on moto's path at depths of 1,000 and more")
    parser.add_argument("--depths", default="10,1000,10000")
    args = parser.parse_args()
    depths = [int(d) for d in args.depths.split(",")]
    config = EmulatorConfig().with_overrides(port=0, state_dir=Path(tempfile.mkdtemp(
        prefix="bench-sqs-depth-")))
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    results: dict[int, tuple[dict[str, list[float]], dict[str, list[float]]]] = {}
    with Emulator(config) as emu:
        sqs = _client(emu.url)
        base = floor(sqs, args.calls)
        for depth in depths:
            index = measure(sqs, depth, True, args.calls)
            baseline = args.calls if depth < 1000 else min(args.calls, args.baseline_calls)
            moto = measure(sqs, depth, False, baseline)
            results[depth] = (index, moto)
            print(f"depth {depth:,}: done ({args.calls} rounds indexed, {baseline} on moto's "
                  f"path)", flush=True)
    print("\nms per call through HTTP (boto3), p50 / p99; ratio = moto's p50 / the index's p50")
    print(f"{'depth':>7} {'op':<8} {'index p50':>8} {'p99':>8}   {'moto p50':>8} {'p99':>8}   "
          f"{'ratio':>6}")
    for depth, (index, moto) in results.items():
        for op in OPS:
            print(_row(depth, op, index[op], moto[op]))
    print(f"{'':>7} {'floor':<8} {_pct(base, 50):8.2f} {_pct(base, 99):8.2f}   "
          "(GetQueueUrl: the same HTTP path, no message touched)")
    deepest = max(results)
    receive = _pct(results[deepest][0]["receive"], 50)
    print(f"\nReceiveMessage p50 at depth {deepest:,} with the index: {receive:.2f} ms "
          f"(target: at most 3 ms)")


if __name__ == "__main__":
    main()
