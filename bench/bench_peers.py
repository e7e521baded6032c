"""Peers benchmark: the same boto3 calls against the harness, moto's own server and LocalStack.

Each target is a server process of its own on 127.0.0.1: `harness up`, `python -m moto.server`
(moto from this virtual environment) and LocalStack 4.9.2 on the host (`localstack-core` in the
interpreter that HARNESS_LOCALSTACK_PYTHON names; skipped with a message when there is none; make
one with `python -m harness.localstack DIR`). Every target gets the same boto3 configuration:
the same credentials, region and payloads, no retries, path-style S3, connections kept alive.
The targets take turns in blocks of calls, so that load from elsewhere on the machine falls on
all of them alike; each block starts with an unmeasured call, so that a connection an idle server
closed is opened again off the clock.

Operations: S3 PutObject, GetObject (2 KiB) and ListObjectsV2 (10 keys); at each queue depth
(filled with SendMessageBatch first), SQS SendMessage, ReceiveMessage and DeleteMessage, timed
one by one in cycles of send, receive, delete, so the depth stays put (a received message stays
invisible for 12 hours); SNS Publish to a topic with no subscriptions and to one with an SQS
subscription. The last column is the CPU boto3 itself spends on a call in this process (the
median over every target's calls): the part of each p50 that no server can take away here.
Two bounds keep a run finite, and the table says when one applied: a target with
a single ReceiveMessage over 1 s at a depth is measured there for 20 cycles only, and a queue
still filling after --fill-budget seconds is measured at the depth reached (moto's SendMessage
counts the queue's messages, so filling it is quadratic). Prints p50 / p99 in ms per operation
and target, and the harness's p50 over the best peer's.

    python bench/bench_peers.py [--calls 300] [--targets harness,moto,localstack]
        [--only s3,sqs,sns] [--depths 10,1000,10000] [--warmup 20] [--fill-budget 300]
        [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3  # noqa: E402
import moto  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import BotoCoreError, ClientError  # noqa: E402

from harness import interrupts  # noqa: E402
from harness.localstack import LOCALSTACK_CORE  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peer_servers import (  # noqa: E402
    BenchError,
    Server,
    progress,
    start_servers,
    stop_all,
)

TARGETS = ("harness", "moto", "localstack")
SERVICES = ("s3", "sqs", "sns")
REGION = "us-east-1"
OBJECT = random.Random(16).randbytes(2048)  # the same 2 KiB for every target
MESSAGE = "m" * 256
HIDDEN_S = "43200"  # 12 hours, SQS's longest visibility timeout: a received message stays hidden
SLOW_MS = 1000.0  # a call slower than this cuts the target's series short ...
CUT_AFTER = 20  # ... after this many calls
BLOCK = 50  # calls a target makes in one turn

S3_PUT, S3_GET, S3_LIST = ("S3 PutObject 2 KiB", "S3 GetObject 2 KiB",
                           "S3 ListObjectsV2 (10 keys)")
SNS_QUIET, SNS_TO_QUEUE = ("SNS Publish (no subscriptions)", "SNS Publish (1 SQS subscription)")


def sqs_operations(depth: int) -> tuple[str, str, str]:
    return (f"SQS SendMessage (depth {depth:,})", f"SQS ReceiveMessage (depth {depth:,})",
            f"SQS DeleteMessage (depth {depth:,})")


# -- the clients and the work --------------------------------------------------------------------

@dataclass(frozen=True)
class Clients:
    s3: Any
    sqs: Any
    sns: Any

    @classmethod
    def of(cls, url: str) -> Clients:
        """The same configuration for every target: one kept-alive connection a client, no
        retries (a failure is counted, not hidden), path-style S3 addresses."""
        session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                        region_name=REGION)
        config = Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"},
                        max_pool_connections=1, connect_timeout=10, read_timeout=60)
        made = {name: session.client(name, endpoint_url=url, config=config)
                for name in ("s3", "sqs", "sns")}
        return cls(**made)


class Cycle:
    """One cycle's calls: each timed in ms; a call that failed is counted, not timed."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self.client_cpu_ms: dict[str, float] = {}
        """The CPU this process (boto3, the client) spent on each call."""
        self.failed: dict[str, str] = {}

    def time(self, operation: str, call: Callable[[], Any]) -> Any:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            answer = call()
        except (BotoCoreError, ClientError) as exc:
            self.failed[operation] = str(exc)
            return None
        self.ms[operation] = (time.perf_counter() - started) * 1000
        self.client_cpu_ms[operation] = (time.thread_time() - cpu) * 1000
        return answer


class Workload(Protocol):
    operations: tuple[str, ...]
    remark: str
    """Set by setup when the work is not quite what its name says (a queue not filled)."""
    cut_by: str | None
    """The operation whose single call over SLOW_MS cuts the target's series short."""

    def setup(self) -> None: ...

    def cycle(self) -> Cycle: ...

    def check(self) -> str | None:
        """After the warm-up: what is wrong with the target's answers, if anything."""

    def teardown(self) -> None: ...


class S3Work:
    operations: tuple[str, ...] = (S3_PUT, S3_GET, S3_LIST)
    remark = ""
    cut_by: str | None = None

    def __init__(self, clients: Clients) -> None:
        self.s3 = clients.s3
        self.n = 0

    def setup(self) -> None:
        self.s3.create_bucket(Bucket="peers-bench")
        self.s3.put_object(Bucket="peers-bench", Key="get/object", Body=OBJECT)
        self.s3.create_bucket(Bucket="peers-bench-list")
        for i in range(10):
            self.s3.put_object(Bucket="peers-bench-list", Key=f"list/{i}", Body=OBJECT)

    def cycle(self) -> Cycle:
        self.n += 1
        cycle = Cycle()
        cycle.time(S3_PUT, lambda: self.s3.put_object(Bucket="peers-bench",
                                                      Key=f"put/{self.n}", Body=OBJECT))
        cycle.time(S3_GET, lambda: self.s3.get_object(Bucket="peers-bench",
                                                      Key="get/object")["Body"].read())
        cycle.time(S3_LIST, lambda: self.s3.list_objects_v2(Bucket="peers-bench-list"))
        return cycle

    def check(self) -> str | None:
        body = self.s3.get_object(Bucket="peers-bench", Key="get/object")["Body"].read()
        keys = self.s3.list_objects_v2(Bucket="peers-bench-list").get("Contents", [])
        if body != OBJECT or len(keys) != 10:
            return f"S3 answered {len(body)} bytes and {len(keys)} keys (2048 and 10 expected)"
        return None

    def teardown(self) -> None:
        pass  # the server goes away at the end


class SqsDepthWork:
    """SendMessage, ReceiveMessage and DeleteMessage on a queue ``depth`` messages deep."""

    def __init__(self, clients: Clients, depth: int, target: str, fill_budget_s: float) -> None:
        self.sqs, self.depth, self.target = clients.sqs, depth, target
        self.operations: tuple[str, ...] = sqs_operations(depth)
        self.cut_by: str | None = self.operations[1]  # a receive that scans a deep queue
        self.fill_budget_s = fill_budget_s
        self.url, self.filled, self.remark = "", 0, ""

    def setup(self) -> None:
        self.url = self.sqs.create_queue(QueueName=f"peers-depth-{self.depth}",
                                         Attributes={"VisibilityTimeout": HIDDEN_S})["QueueUrl"]
        started = time.perf_counter()
        while self.filled < self.depth:
            if time.perf_counter() - started > self.fill_budget_s:
                # A server whose every send scans the queue fills in quadratic time.
                self.remark = f"filled to {self.filled:,} in {self.fill_budget_s:.0f} s"
                break
            entries = [{"Id": str(i), "MessageBody": MESSAGE}
                       for i in range(min(10, self.depth - self.filled))]
            answer = self.sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
            if answer.get("Failed"):
                raise BenchError(f"{self.target}: SendMessageBatch failed: {answer['Failed'][0]}")
            self.filled += len(entries)
            interrupts.check()
        progress(f"{self.target}: {self.filled:,} of {self.depth:,} messages sent in "
                 f"{time.perf_counter() - started:.1f} s")

    def cycle(self) -> Cycle:
        send, receive, delete = self.operations
        cycle = Cycle()
        cycle.time(send, lambda: self.sqs.send_message(QueueUrl=self.url, MessageBody=MESSAGE))
        answer = cycle.time(receive, lambda: self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=1, WaitTimeSeconds=0))
        messages = (answer or {}).get("Messages", [])
        if answer is not None and not messages:
            del cycle.ms[receive]
            cycle.failed[receive] = "no message, though the queue holds many"
        if messages:
            handle = messages[0]["ReceiptHandle"]
            cycle.time(delete, lambda: self.sqs.delete_message(QueueUrl=self.url,
                                                               ReceiptHandle=handle))
        return cycle

    def check(self) -> str | None:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        visible = int(attributes["ApproximateNumberOfMessages"])
        if visible != self.filled:
            return f"the queue holds {visible} visible messages, not {self.filled}"
        return None

    def teardown(self) -> None:
        if self.url:
            self.sqs.delete_queue(QueueUrl=self.url)


class SnsWork:
    operations: tuple[str, ...] = (SNS_QUIET, SNS_TO_QUEUE)
    remark = ""
    cut_by: str | None = None

    def __init__(self, clients: Clients) -> None:
        self.sns, self.sqs = clients.sns, clients.sqs
        self.quiet = self.loud = self.sink = ""

    def setup(self) -> None:
        self.quiet = self.sns.create_topic(Name="peers-quiet")["TopicArn"]
        self.loud = self.sns.create_topic(Name="peers-to-queue")["TopicArn"]
        self.sink = self.sqs.create_queue(QueueName="peers-sns-sink")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.sink, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": self.loud}}}]}
        self.sqs.set_queue_attributes(QueueUrl=self.sink,
                                      Attributes={"Policy": json.dumps(policy)})
        self.sns.subscribe(TopicArn=self.loud, Protocol="sqs", Endpoint=queue_arn)

    def cycle(self) -> Cycle:
        cycle = Cycle()
        cycle.time(SNS_QUIET, lambda: self.sns.publish(TopicArn=self.quiet, Message=MESSAGE))
        cycle.time(SNS_TO_QUEUE, lambda: self.sns.publish(TopicArn=self.loud, Message=MESSAGE))
        return cycle

    def check(self) -> str | None:
        """The subscription delivers (at once on moto; LocalStack delivers in the background)."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.sqs.receive_message(QueueUrl=self.sink, WaitTimeSeconds=1).get("Messages"):
                return None
        return "nothing published reached the subscribed queue in 15 s"

    def teardown(self) -> None:
        pass


# -- measuring -----------------------------------------------------------------------------------

@dataclass
class Series:
    operation: str
    target: str
    ms: list[float] = field(default_factory=list)
    client_cpu_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    cut_short: bool = False
    remark: str = ""

    def add(self, cycle: Cycle) -> None:
        if self.operation in cycle.ms:
            self.ms.append(cycle.ms[self.operation])
            self.client_cpu_ms.append(cycle.client_cpu_ms[self.operation])
        elif self.operation in cycle.failed:
            self.errors += 1
            self.first_error = self.first_error or cycle.failed[self.operation]

    def p50(self) -> float | None:
        return statistics.median(self.ms) if self.ms else None

    def p99(self) -> float | None:
        if not self.ms:
            return None
        ordered = sorted(self.ms)
        return ordered[max(1, int(0.99 * len(ordered) + 0.5)) - 1]  # nearest rank


def warm_up(work: Workload, cycles: int) -> None:
    """``cycles`` unmeasured cycles; 3 are enough when a call already takes over SLOW_MS."""
    for i in range(cycles):
        cycle = work.cycle()
        interrupts.check()
        if i >= 2 and work.cut_by and cycle.ms.get(work.cut_by, 0.0) > SLOW_MS:
            return


def take_turns(works: dict[str, Workload], series: dict[tuple[str, str], Series],
               calls: int) -> None:
    """Each target in turn makes up to BLOCK measured cycles, until each has made ``calls``
    (or was cut short: a ``work.cut_by`` call over SLOW_MS, then CUT_AFTER cycles in all)."""
    made = dict.fromkeys(works, 0)
    slow: set[str] = set()
    stopped: set[str] = set()
    while any(made[t] < calls and t not in stopped for t in works):
        for target, work in works.items():
            if made[target] >= calls or target in stopped:
                continue
            work.cycle()  # off the clock: opens a connection the server closed while idle
            for _ in range(min(BLOCK, calls - made[target])):
                cycle = work.cycle()
                interrupts.check()
                for operation in work.operations:
                    series[(operation, target)].add(cycle)
                made[target] += 1
                if work.cut_by and cycle.ms.get(work.cut_by, 0.0) > SLOW_MS:
                    slow.add(target)
                if target in slow and made[target] >= CUT_AFTER and made[target] < calls:
                    stopped.add(target)
                    cut_short(work, target, series, made[target])
                    break


def cut_short(work: Workload, target: str, series: dict[tuple[str, str], Series],
              made: int) -> None:
    for operation in work.operations:
        series[(operation, target)].cut_short = True
    progress(f"{target}: {', '.join(work.operations)} cut short after {made} calls: a single "
             f"{work.cut_by} took over {SLOW_MS / 1000:.0f} s")


def run_phase(works: dict[str, Workload], calls: int, warmup: int,
              notes: list[str]) -> list[Series]:
    """Set up, warm up and check every target's work, then measure them in turns."""
    series = {(operation, target): Series(operation, target)
              for target, work in works.items() for operation in work.operations}
    try:
        for target, work in works.items():
            progress(f"{target}: setting up {', '.join(work.operations)}")
            work.setup()
            for operation in work.operations:
                series[(operation, target)].remark = work.remark
            warm_up(work, warmup)
            problem = work.check()
            if problem:
                notes.append(f"{target}: {problem}")
                progress(f"warning: {target}: {problem}")
        take_turns(works, series, calls)
    finally:
        for work in works.values():
            with contextlib.suppress(BotoCoreError, ClientError):
                work.teardown()
    return list(series.values())


def measure(clients: dict[str, Clients], args: argparse.Namespace,
            notes: list[str]) -> list[Series]:
    def sqs_at(depth: int) -> Callable[[str, Clients], Workload]:
        return lambda target, c: SqsDepthWork(c, depth, target, args.fill_budget)

    phases: list[Callable[[str, Clients], Workload]] = []
    if "s3" in args.only:
        phases.append(lambda _t, c: S3Work(c))
    if "sqs" in args.only:
        phases += [sqs_at(depth) for depth in args.depths]
    if "sns" in args.only:
        phases.append(lambda _t, c: SnsWork(c))
    found: list[Series] = []
    for make in phases:
        works = {target: make(target, c) for target, c in clients.items()}
        found += run_phase(works, args.calls, args.warmup, notes)
    return found


# -- the report ----------------------------------------------------------------------------------

def cell(series: Series | None) -> str:
    if series is None or not series.ms:
        return "-" if series is None else f"failed ({series.errors} errors)"
    text = f"{series.p50():.2f} / {series.p99():.2f}"
    if series.remark:
        text += f" ({series.remark})"
    if series.cut_short:
        text += f" (cut short: {len(series.ms)} calls)"
    if series.errors:
        text += f" ({series.errors} errors)"
    return text


def ratio(by_target: dict[str, Series]) -> float | None:
    """The harness's p50 over the best (lowest) peer p50 measured."""
    ours = by_target.get("harness")
    peers = [s.p50() for t, s in by_target.items() if t != "harness" and s.ms]
    if ours is None or not ours.ms or not peers:
        return None
    return float(ours.p50() or 0.0) / min(p for p in peers if p is not None)


def table(found: list[Series], targets: list[str]) -> str:
    operations = list(dict.fromkeys(s.operation for s in found))
    lines = ["| operation | " + " | ".join(f"{t} p50 / p99 ms" for t in targets)
             + " | harness p50 / best peer p50 | boto3's own CPU p50 ms |",
             "|---|" + "---|" * len(targets) + "---|---|"]
    for operation in operations:
        by_target = {s.target: s for s in found if s.operation == operation}
        share = ratio(by_target)
        client = client_cpu(by_target)
        lines.append(f"| {operation} | " + " | ".join(cell(by_target.get(t)) for t in targets)
                     + f" | {'-' if share is None else f'{share:.2f}'}"
                     + f" | {'-' if client is None else f'{client:.2f}'} |")
    return "\n".join(lines)


def client_cpu(by_target: dict[str, Series]) -> float | None:
    """The median CPU the client (boto3, in this process) spent on one call, over every
    target's calls: the share of each p50 that no server can take away on this machine."""
    spent = [ms for series in by_target.values() for ms in series.client_cpu_ms]
    return statistics.median(spent) if spent else None


def as_json(found: list[Series], args: argparse.Namespace, urls: dict[str, str],
            notes: list[str]) -> dict[str, Any]:
    rows = [{"operation": s.operation, "target": s.target, "calls": len(s.ms),
             "p50_ms": s.p50(), "p99_ms": s.p99(), "errors": s.errors,
             "client_cpu_p50_ms": statistics.median(s.client_cpu_ms) if s.client_cpu_ms
             else None,
             "first_error": s.first_error, "cut_short": s.cut_short, "remark": s.remark}
            for s in found]
    ratios = {op: ratio({s.target: s for s in found if s.operation == op})
              for op in dict.fromkeys(s.operation for s in found)}
    return {"calls": args.calls, "warmup": args.warmup, "only": args.only, "depths": args.depths,
            "fill_budget_s": args.fill_budget, "load_average": os.getloadavg()[0],
            "targets": urls, "rows": rows, "harness_over_best_peer_p50": ratios,
            "notes": notes}


# -- the command ---------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="measured calls per operation")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured cycles first")
    parser.add_argument("--targets", default=",".join(TARGETS),
                        help="comma-separated, of: " + ", ".join(TARGETS))
    parser.add_argument("--only", default=",".join(SERVICES),
                        help="comma-separated services to measure, of: " + ", ".join(SERVICES))
    parser.add_argument("--depths", default="10,1000,10000", help="SQS queue depths")
    parser.add_argument("--fill-budget", type=float, default=300.0, metavar="SECONDS",
                        help="stop filling a queue after this long and measure at the depth "
                             "reached (moto's SendMessage scans the queue: filling is quadratic)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown or not args.targets:
        parser.error(f"--targets: unknown {', '.join(unknown) or '(none given)'}; "
                     f"choose from {', '.join(TARGETS)}")
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in args.only if s not in SERVICES]
    if unknown or not args.only:
        parser.error(f"--only: unknown {', '.join(unknown) or '(none given)'}; "
                     f"choose from {', '.join(SERVICES)}")
    try:
        args.depths = [int(d) for d in args.depths.split(",") if d.strip()]
    except ValueError:
        parser.error(f"--depths: not a comma-separated list of integers: {args.depths}")
    if args.calls < 1 or args.warmup < 0 or any(d < 0 for d in args.depths):
        parser.error("--calls must be at least 1; --warmup and --depths not negative")
    if args.fill_budget <= 0:
        parser.error(f"--fill-budget must be positive, not {args.fill_budget}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="harness-bench-peers-"))
    servers: list[Server] = []
    notes: list[str] = []
    load_at_start = os.getloadavg()[0]
    try:
        with interrupts.handled():
            start_servers(args.targets, work, servers)
            clients = {server.name: Clients.of(server.url) for server in servers}
            found = measure(clients, args, notes)
    except KeyboardInterrupt as exc:
        progress(f"{interrupts.describe(exc)}: the servers are stopped")
        return 130
    except BenchError as exc:
        progress(f"bench_peers: {exc}")
        return 1
    finally:
        stop_all(servers)
        shutil.rmtree(work, ignore_errors=True)
    measured = [s.name for s in servers]
    print(table(found, measured))
    print(f"{args.calls} calls each after {args.warmup} warm-up cycles; {os.cpu_count()} cores, "
          f"load average {load_at_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end; "
          f"boto3 {boto3.__version__}, moto {moto.__version__}"
          + (f", {LOCALSTACK_CORE.replace('[runtime]', '')}" if "localstack" in measured else ""))
    for note in notes:
        print(f"note: {note}")
    if args.json:
        urls = {s.name: s.url for s in servers}
        args.json.write_text(json.dumps(as_json(found, args, urls, notes), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
