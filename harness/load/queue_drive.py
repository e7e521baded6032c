"""``harness load --queue``: drive an SQS queue of your template's stack at a steady rate and
report what its event source mapping made of it: send-to-processed latency (exact, message by
message, from the mapping's own deletes), the queue's depth over time and the mapping's
concurrency (pollers, and the function's executions in flight).

It runs on the embedded emulator, which it starts and stops: the latency needs the harness side.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config import EmulatorConfig
from harness.deploy import Target
from harness.errors import UsageError
from harness.scenario.model import TemplateSource
from harness.scenario.template_stack import deploy_template_source

Say = Callable[[str], None]
SAMPLE_S = 0.25


@dataclass(frozen=True)
class QueueDrive:
    """What to send: ``rate`` messages a second to ``queue`` until ``messages`` are sent."""

    template: Path
    queue: str
    """The queue's logical id in the template, or its name."""
    rate: float
    messages: int
    parameters: tuple[tuple[str, str], ...] = ()
    region: str = "us-east-1"
    drain_timeout_s: float = 120.0
    """How long to wait, after the last send, for the mapping to process what is left."""


@dataclass
class _Run:
    sent: dict[str, float] = field(default_factory=dict)
    """Message id -> when SendMessage was called (epoch seconds)."""
    processed: dict[str, float] = field(default_factory=dict)
    samples: list[dict[str, float]] = field(default_factory=list)
    send_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.done = threading.Condition(self.lock)


def drive(spec: QueueDrive, say: Say, out: Path | None = None) -> dict[str, Any]:
    """Deploy, send, wait for the mapping to catch up; the report (also written to ``out``)."""
    from harness.emulator import Emulator

    if spec.rate <= 0 or spec.messages <= 0:
        raise UsageError("--rate and --messages must be positive")
    config = EmulatorConfig.from_env().with_overrides(port=0, host="127.0.0.1")
    with Emulator(config) as emulator:
        say(f"embedded emulator on {emulator.url}")
        target = Target(endpoint_url=emulator.url)
        stack = deploy_template_source(target, TemplateSource(spec.template, spec.parameters),
                                       spec.region, "harness-queue-load", say)
        sqs = target.client("sqs", spec.region)
        url, arn = _queue(sqs, stack.physical_ids.get(spec.queue, spec.queue))
        functions = stack.functions()
        run = _Run()
        assert emulator.triggers is not None and emulator.lambdas is not None
        mappings, lambdas = emulator.triggers.sqs, emulator.lambdas

        def processed(queue_arn: str, ids: list[str], when: float) -> None:
            if queue_arn == arn:
                with run.done:
                    run.processed.update((i, when) for i in ids if i not in run.processed)
                    run.done.notify_all()

        mappings.add_observer(processed)
        try:
            say(f"sending {spec.messages} messages to {url.rsplit('/', 1)[-1]} at "
                f"{spec.rate:g}/s")
            started = time.time()
            sampler = _Sampler(run, sqs, url, lambda: mappings.pollers_of(arn),
                               lambda: sum(lambdas.busy_named(f) for f in functions), started)
            sampler.start()
            try:
                _send_all(sqs, url, spec, run)
                drained = _wait_drained(run, spec.drain_timeout_s)
            finally:
                sampler.stop()
        finally:
            mappings.remove_observer(processed)
    report = queue_report(spec, run, started, drained)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "queue-report.json").write_text(json.dumps(report, indent=1))
    return report


def _queue(sqs: Any, given: str) -> tuple[str, str]:
    name = given.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    try:
        url = str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except Exception:  # noqa: BLE001 - any failure: the queue is not there
        raise UsageError(f"no queue {given!r} in the stack (give its logical id or name)") \
            from None
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    return url, str(arn)


def _send_all(sqs: Any, url: str, spec: QueueDrive, run: _Run) -> None:
    """Paced sends from a small pool, each timed at its start; the pace holds the rate even when
    one SendMessage is slower than the interval."""
    interval = 1.0 / spec.rate
    begin = time.perf_counter()

    def send(seq: int) -> None:
        at = time.time()
        try:
            reply = sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"seq": seq}))
        except Exception:  # noqa: BLE001 - counted; the run goes on
            with run.lock:
                run.send_errors += 1
            return
        with run.lock:
            run.sent[reply["MessageId"]] = at

    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="queue-load") as pool:
        for seq in range(spec.messages):
            delay = begin + seq * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)  # pacing the sends, not waiting for an outcome
            pool.submit(send, seq)


def _wait_drained(run: _Run, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    with run.done:
        return run.done.wait_for(lambda: set(run.sent) <= set(run.processed),
                                 max(0.0, deadline - time.monotonic()))


class _Sampler:
    """Samples depth, pollers and executions in flight every ``SAMPLE_S`` seconds."""

    def __init__(self, run: _Run, sqs: Any, url: str, pollers: Callable[[], int],
                 busy: Callable[[], int], started: float) -> None:
        self._run, self._sqs, self._url = run, sqs, url
        self._pollers, self._busy, self._started = pollers, busy, started
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="queue-load-sampler",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            try:
                attributes = self._sqs.get_queue_attributes(
                    QueueUrl=self._url, AttributeNames=["ApproximateNumberOfMessages",
                                                        "ApproximateNumberOfMessagesNotVisible"])
            except Exception:  # noqa: BLE001 - a missed sample, not a failed run
                continue
            values = attributes["Attributes"]
            sample = {"t": round(time.time() - self._started, 3),
                      "depth": float(values.get("ApproximateNumberOfMessages", 0)),
                      "in_flight": float(values.get("ApproximateNumberOfMessagesNotVisible", 0)),
                      "pollers": float(self._pollers()), "executions": float(self._busy())}
            with self._run.lock:
                self._run.samples.append(sample)


def queue_report(spec: QueueDrive, run: _Run, started: float, drained: bool) -> dict[str, Any]:
    """The figures of one run (pure over what the run gathered)."""
    with run.lock:
        latencies = sorted((run.processed[i] - t) * 1000 for i, t in run.sent.items()
                           if i in run.processed)
        samples = list(run.samples)
        sent, errors = len(run.sent), run.send_errors
        last = max(run.processed.values(), default=started)
    return {
        "queue": spec.queue, "rate": spec.rate, "messages": spec.messages,
        "sent": sent, "send_errors": errors, "processed": len(latencies),
        "unprocessed": sent - len(latencies), "drained": drained,
        "latency_ms": {name: _rank(latencies, p) for name, p in
                       (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))},
        "throughput_per_s": len(latencies) / max(1e-9, last - started),
        "peak_depth": max((s["depth"] for s in samples), default=0.0),
        "peak_pollers": max((s["pollers"] for s in samples), default=0.0),
        "peak_executions": max((s["executions"] for s in samples), default=0.0),
        "timeline": samples,
    }


def _rank(ordered: list[float], percent: float) -> float | None:
    if not ordered:
        return None
    index = max(0, min(len(ordered) - 1, -(-len(ordered) * percent // 100) - 1))
    return round(ordered[int(index)], 3)


def summary_lines(report: dict[str, Any]) -> list[str]:
    lat = report["latency_ms"]
    return [
        f"queue         {report['queue']}: sent {report['sent']:,} at {report['rate']:g}/s, "
        f"processed {report['processed']:,}, unprocessed {report['unprocessed']:,}, "
        f"send errors {report['send_errors']}",
        f"send->done    p50 {lat['p50']} ms  p95 {lat['p95']} ms  p99 {lat['p99']} ms  "
        f"max {lat['max']} ms  (exact, per message)",
        f"throughput    {report['throughput_per_s']:.1f} messages/s processed",
        f"depth         peak {report['peak_depth']:.0f} waiting",
        f"concurrency   peak {report['peak_pollers']:.0f} pollers, "
        f"{report['peak_executions']:.0f} executions in flight",
    ]
