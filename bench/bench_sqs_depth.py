"""SQS SendMessage, ReceiveMessage and DeleteMessage against queue depth, through HTTP with
boto3 to an emulator in its own process (as ``harness up`` runs), with the queue index
(harness.aws_state.sqs_index) and with moto's own path (the index uninstalled in that process:
moto's list, scans and receipt handles; the baseline from the same run).

Each queue is filled to its depth in-process (moto's own path would take minutes to fill 10,000
messages: every send reads the queue's counts, three scans). Then each call of a round is timed:
send one, receive one (MaxNumberOfMessages 1), delete it, and GetQueueUrl (the floor: an SQS
call on the same HTTP path that touches no message); the depth stays the same. moto's path gets
fewer rounds from a depth of 1,000 (``--baseline-calls``): its calls take up to a second there.

    python bench/bench_sqs_depth.py [--calls 200] [--baseline-calls 40] [--depths 10,1000,10000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.aws_state import sqs_index  # noqa: E402
from harness.config import EmulatorConfig  # noqa: E402
from harness.emulator import Emulator  # noqa: E402

ACCOUNT, REGION = "123456789012", "us-east-1"
OPS = ("send", "receive", "delete", "floor")
"""``floor``: GetQueueUrl, an SQS call on the same HTTP path that touches no message."""
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


def serve() -> None:
    """The emulator's process: prints its URL, then obeys ``fill NAME DEPTH``, ``index on`` and
    ``index off`` lines on stdin (answering ``ok``) until stdin closes."""
    config = EmulatorConfig().with_overrides(port=0, state_dir=Path(tempfile.mkdtemp(
        prefix="bench-sqs-depth-")))
    with Emulator(config) as emu:
        print(emu.url, flush=True)
        for line in sys.stdin:
            words = line.split()
            if words[:1] == ["fill"]:
                _fill(words[1], int(words[2]))
            elif words == ["index", "on"]:
                sqs_index.install()
            elif words == ["index", "off"]:
                sqs_index.uninstall()
            print("ok", flush=True)


class Server:
    """``serve()`` in a child process; ``command(line)`` waits for its ``ok``."""

    def __enter__(self) -> Server:
        self._process = subprocess.Popen([sys.executable, __file__, "--serve"], text=True,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self._process.stdout is not None
        self.url = self._process.stdout.readline().strip()
        if not self.url.startswith("http"):
            self.__exit__(None, None, None)
            raise RuntimeError(f"the emulator process did not start: {self.url!r}")
        return self

    def command(self, line: str) -> None:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()
        answer = self._process.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError(f"the emulator process answered {answer!r} to {line!r}")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(p / 100 * len(ordered) + 0.5) - 1))]


def rounds(sqs: Any, url: str, name: str, calls: int) -> dict[str, list[float]]:
    """Send one, receive one, delete it, GetQueueUrl, ``calls`` times (after a warm-up): ms
    per call."""
    took: dict[str, list[float]] = {op: [] for op in OPS}
    for i in range(WARMUP + calls):
        t0 = time.perf_counter()
        sqs.send_message(QueueUrl=url, MessageBody=f"round {i}")
        t1 = time.perf_counter()
        (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
        t2 = time.perf_counter()
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        t3 = time.perf_counter()
        sqs.get_queue_url(QueueName=name)
        t4 = time.perf_counter()
        if i >= WARMUP:
            for op, (a, b) in zip(OPS, ((t0, t1), (t1, t2), (t2, t3), (t3, t4))):
                took[op].append((b - a) * 1000)
    return took


def measure(server: Server, sqs: Any, depth: int, indexed: bool,
            calls: int) -> dict[str, list[float]]:
    """One queue of ``depth`` messages, on the index or (``indexed`` False) on moto's path."""
    name = f"bench-depth-{'index' if indexed else 'moto'}-{depth}-{os.getpid()}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    server.command(f"fill {name} {depth}")
    if not indexed:
        server.command("index off")
    try:
        return rounds(sqs, url, name, calls)
    finally:
        server.command("index on")
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
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    depths = [int(d) for d in args.depths.split(",")]
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    results: dict[int, tuple[dict[str, list[float]], dict[str, list[float]]]] = {}
    with Server() as server:
        sqs = _client(server.url)
        for depth in depths:
            index = measure(server, sqs, depth, True, args.calls)
            baseline = args.calls if depth < 1000 else min(args.calls, args.baseline_calls)
            moto = measure(server, sqs, depth, False, baseline)
            results[depth] = (index, moto)
            print(f"depth {depth:,}: done ({args.calls} rounds indexed, {baseline} on moto's "
                  f"path)", flush=True)
    print("\nms per call through HTTP (boto3), p50 / p99; ratio = moto's p50 / the index's p50")
    print(f"{'depth':>7} {'op':<8} {'index p50':>8} {'p99':>8}   {'moto p50':>8} {'p99':>8}   "
          f"{'ratio':>6}")
    for depth, (index, moto) in results.items():
        for op in OPS:
            print(_row(depth, op, index[op], moto[op]))
    print("(floor: GetQueueUrl in the same rounds, the same HTTP path with no message touched)")
    deepest = max(results)
    receive = _pct(results[deepest][0]["receive"], 50)
    print(f"\nReceiveMessage p50 at depth {deepest:,} with the index: {receive:.2f} ms "
          f"(target: at most 3 ms)")


if __name__ == "__main__":
    main()
