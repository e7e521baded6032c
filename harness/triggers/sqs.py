"""SQS event source mappings: what happens when a message arrives in a queue a function reads.

Each enabled mapping (made through the Lambda API or CloudFormation) gets pollers that long-poll
the queue, so messages sent before the mapping existed are taken too. A poller gathers up to
``BatchSize`` messages (waiting up to ``MaximumBatchingWindowInSeconds`` for more once one came),
drops those its ``FilterCriteria`` reject (deleted, as AWS does) and those of a recursive loop
(to the queue's dead-letter queue, else dropped), and invokes the function synchronously through
``LambdaService`` with Lambda's SQS event. A success deletes the batch; a function error leaves it
to reappear after the visibility timeout (moto moves it to the dead-letter queue past the redrive
policy's ``maxReceiveCount``); with ``ReportBatchItemFailures`` only the messages the reply names
stay. A FIFO queue hands out a message group only while no batch of it is in flight.

Pollers scale as Lambda's do: five to start (or ``ScalingConfig.MaximumConcurrency`` if lower),
one more at most every 0.2 s while batches come back full and more messages wait (AWS: up to 300
a minute), never while the function is being throttled, up to ``MaximumConcurrency`` (else
1,000); a poller whose long poll comes back empty retires down to the first five.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from harness.aws_state import event_source_mappings, sqs_queues
from harness.aws_state.event_patterns import compile_pattern
from harness.aws_state.event_source_mappings import MappingConfig
from harness.aws_state.sqs_queues import QueueMessage
from harness.errors import AwsError, TooManyRequestsError
from harness.lambda_.service import InvokeRequest, InvokeResult, LambdaService
from harness.triggers import recursion
from harness.triggers.sqs_records import (
    failed_item_ids,
    filter_view,
    record_bytes,
    sqs_event,
    sqs_record,
)

INITIAL_POLLERS = 5
MAX_POLLERS = 1000
GROW_EVERY_S = 0.2
LONG_POLL_S = 20.0
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
THROTTLE_BACKOFF_S = (0.05, 1.0)
GO, STOP, RETIRED = "go", "stop", "retired"
IDLE_WAIT_S = 1.0
"""How long a poller waits before looking again at a queue that is gone (or after a fault)."""
log = logging.getLogger("harness.triggers")


@dataclass(frozen=True)
class MappingStats:
    """What a mapping's pollers did (for load reports and benchmarks)."""

    invocations: int = 0
    delivered: int = 0
    """Messages the function was invoked with and that were then deleted."""
    failed: int = 0
    """Messages left in the queue by a failed batch or named by ``batchItemFailures``."""
    filtered: int = 0
    recursive_stops: int = 0
    throttles: int = 0
    pollers: int = 0
    peak_pollers: int = 0


ProcessedObserver = Callable[[str, list[str], float], None]
StopObserver = Callable[[str, int], None]
"""Told of each recursive loop stopped: (function ARN, invocations dropped)."""
"""``observer(queue_arn, message_ids, epoch_seconds)``: those messages were processed (deleted
after the function's success)."""


class MappingPoller:
    """The pollers of one enabled mapping; ``stop()`` ends them after their current batch."""

    def __init__(self, config: MappingConfig, lambdas: LambdaService,
                 observers: list[ProcessedObserver] | None = None,
                 stop_observers: list[StopObserver] | None = None) -> None:
        self.config = config
        self._lambdas = lambdas
        self._observers = observers if observers is not None else []
        """Told of every batch deleted after its invocation (load replays time messages)."""
        self._stop_observers = stop_observers if stop_observers is not None else []
        """Told of every recursive loop stopped (the RecursiveInvocationsDropped metric)."""
        self._filters = [compile_pattern(text) for text in config.filters]
        self._cap = config.maximum_concurrency or MAX_POLLERS
        self._floor = min(INITIAL_POLLERS, self._cap)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._seq = itertools.count()
        self._alive = 0
        self._last_growth = 0.0
        self._throttled_at = float("-inf")
        self._stats = MappingStats()

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            for _ in range(self._floor):
                self._spawn()
        event_source_mappings.set_state(self.config.uuid, "Enabled")

    def _spawn(self) -> None:
        """Start one poller thread (the caller holds ``_lock``)."""
        self._alive += 1
        self._count(pollers=1)
        thread = threading.Thread(target=self._run, daemon=True,
                                  name=f"sqs-mapping-{self.config.uuid[:8]}-{next(self._seq)}")
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def stop(self) -> None:
        self._stopping.set()
        sqs_queues.wake(self.config.queue_arn)

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def stats(self) -> MappingStats:
        with self._lock:
            return self._stats

    def _count(self, **deltas: int) -> None:
        """Add to the stats (``pollers`` also moves the peak); the caller holds ``_lock``."""
        stats = self._stats
        changed = {key: getattr(stats, key) + value for key, value in deltas.items()}
        stats = replace(stats, **changed)
        self._stats = replace(stats, peak_pollers=max(stats.peak_pollers, stats.pollers))

    # -- one poller ----------------------------------------------------------------------------
    def _run(self) -> None:
        outcome = GO
        try:
            while outcome == GO and not self._stopping.is_set():
                try:
                    outcome = self._poll_once()
                except Exception:  # a moto reset under our feet, a bug: log, breathe, go on
                    log.exception("SQS mapping %s: a poll failed", self.config.uuid)
                    self._stopping.wait(IDLE_WAIT_S)
        finally:
            if outcome != RETIRED:
                with self._lock:
                    self._alive -= 1
                    self._count(pollers=-1)

    def _poll_once(self) -> str:
        """Gather one batch and deliver it: GO on, STOP (stopping, mapping gone) or RETIRED
        (an idle poller above the first five, already counted out)."""
        messages = self._gather()
        if self._stopping.is_set():
            sqs_queues.release(self.config.queue_arn, [m.receipt_handle for m in messages])
            return STOP
        if not messages:
            if event_source_mappings.state_of(self.config.uuid) is None:
                return STOP  # the mapping is gone (moto reset without the room knowing)
            if sqs_queues.queue_facts(self.config.queue_arn) is None:
                self._stopping.wait(IDLE_WAIT_S)
                return GO
            return RETIRED if self._retire_idle() else GO
        if len(messages) >= self.config.batch_size and not self._throttled_lately():
            self._grow()
        self._deliver(messages, time.monotonic())
        return GO

    def _retire_idle(self) -> bool:
        with self._lock:
            if self._alive <= self._floor:
                return False
            self._alive -= 1
            self._count(pollers=-1)
            return True

    def _throttled_lately(self) -> bool:
        return time.monotonic() - self._throttled_at < GROW_EVERY_S * 5

    def _grow(self) -> None:
        """One more poller while a backlog waits (at most one per GROW_EVERY_S)."""
        now = time.monotonic()
        with self._lock:
            if self._alive >= self._cap or now - self._last_growth < GROW_EVERY_S:
                return
            self._last_growth = now
        if sqs_queues.has_visible(self.config.queue_arn):
            with self._lock:
                if self._alive < self._cap:
                    self._spawn()

    def _gather(self) -> list[QueueMessage]:
        """Up to BatchSize messages: a long poll for the first, then more until the batch is
        full or the batching window (from the first message) has passed."""
        config, stopped = self.config, self._stopping.is_set
        batch = sqs_queues.receive(config.queue_arn, config.batch_size, LONG_POLL_S, stopped)
        deadline = time.monotonic() + config.window_s
        while batch and len(batch) < config.batch_size and not stopped():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            batch += sqs_queues.receive(config.queue_arn, config.batch_size - len(batch), left,
                                        stopped)
        return batch

    # -- delivery ------------------------------------------------------------------------------
    def _deliver(self, messages: list[QueueMessage], received: float) -> None:
        config = self.config
        records = [sqs_record(m, config.queue_arn, config.region) for m in messages]
        keep = self._filtered(messages, records)
        screening = recursion.screen(
            config.function_arn, [messages[i].attributes.get("AWSTraceHeader") for i in keep],
            recursion.policy_of(config.function_arn))
        if screening.stopped:
            self._stop_recursion([messages[keep[i]] for i in screening.stopped])
        keep = [keep[i] for i in screening.allowed]
        keep = self._fit_payload(messages, records, keep)
        if not keep:
            return
        batch = [messages[i] for i in keep]
        result = self._invoke(sqs_event(records[i] for i in keep), screening.trace_header,
                              received)
        self._settle(batch, result)

    def _filtered(self, messages: list[QueueMessage], records: list[dict[str, Any]]) -> list[int]:
        """Indexes of the messages the filters let through; the others are deleted unseen."""
        if not self._filters:
            return list(range(len(messages)))
        keep: list[int] = []
        drop: list[int] = []
        for i, record in enumerate(records):
            view = filter_view(record)
            (keep if any(match(view) for match in self._filters) else drop).append(i)
        if drop:
            sqs_queues.delete(self.config.queue_arn, [messages[i].receipt_handle for i in drop])
            with self._lock:
                self._count(filtered=len(drop))
        return keep

    def _stop_recursion(self, looping: list[QueueMessage]) -> None:
        sqs_queues.to_dead_letter_queue(self.config.queue_arn,
                                        [m.receipt_handle for m in looping])
        recursion.report_stopped(self.config.function_arn, self.config.queue_arn, len(looping))
        for observer in list(self._stop_observers):
            observer(self.config.function_arn, len(looping))
        with self._lock:
            self._count(recursive_stops=len(looping))

    def _fit_payload(self, messages: list[QueueMessage], records: list[dict[str, Any]],
                     keep: list[int]) -> list[int]:
        """The messages that fit Lambda's 6 MB payload; the rest are made visible again."""
        total = 0
        fits: list[int] = []
        for i in keep:
            total += record_bytes(records[i])
            if fits and total > MAX_PAYLOAD_BYTES:
                sqs_queues.release(self.config.queue_arn,
                                   [messages[j].receipt_handle for j in keep[len(fits):]])
                break
            fits.append(i)
        return fits

    def _invoke(self, payload: bytes, trace_header: str | None,
                received: float) -> InvokeResult | None:
        """Invoke synchronously, as Lambda's pollers do; a throttle is tried again with backoff
        until half the visibility timeout is spent. None when the invoke itself failed."""
        config = self.config
        facts = sqs_queues.queue_facts(config.queue_arn)
        give_up = received + (facts.visibility_timeout_s if facts else 0) / 2
        delay = THROTTLE_BACKOFF_S[0]
        while True:
            try:
                result = self._lambdas.invoke(InvokeRequest(
                    function=config.function_arn, payload=payload, region=config.region,
                    trace_header=trace_header))
                with self._lock:
                    self._count(invocations=1)
                return result
            except TooManyRequestsError:
                self._throttled_at = time.monotonic()
                with self._lock:
                    self._count(throttles=1)
                if time.monotonic() + delay > give_up or self._stopping.wait(delay):
                    return None
                delay = min(delay * 2, THROTTLE_BACKOFF_S[1])
            except AwsError as error:
                log.warning("SQS mapping %s could not invoke %s: %s", config.uuid,
                            config.function_arn, error.message)
                return None

    def _settle(self, batch: list[QueueMessage], result: InvokeResult | None) -> None:
        """Delete what succeeded; what failed reappears after the visibility timeout."""
        failed: set[str] | None = None
        if result is None or result.function_error:
            failed = None
        elif self.config.report_item_failures:
            failed = failed_item_ids(result.payload, {m.message_id for m in batch})
            if failed is None:
                log.warning("SQS mapping %s: %s replied no valid batchItemFailures; the whole "
                            "batch failed", self.config.uuid, self.config.function_arn)
        else:
            failed = set()
        done = [] if failed is None else [m for m in batch if m.message_id not in failed]
        if done:
            sqs_queues.delete(self.config.queue_arn, [m.receipt_handle for m in done])
            ended = time.time()
            for observer in list(self._observers):
                observer(self.config.queue_arn, [m.message_id for m in done], ended)
        with self._lock:
            self._count(delivered=len(done), failed=len(batch) - len(done))


class SqsMappings:
    """The triggers room's SQS source: one ``MappingPoller`` per enabled mapping, kept in step
    with moto's mappings as they are created, updated and deleted."""

    def __init__(self, lambdas: LambdaService) -> None:
        from harness.triggers.sqs_rules import check_mapping

        self._lambdas = lambdas
        self._lock = threading.Lock()
        self._pollers: dict[str, MappingPoller] = {}
        self._retired: list[MappingPoller] = []
        self._observers: list[ProcessedObserver] = []
        self._stop_observers: list[StopObserver] = []
        self._closed = False
        self._hooks: event_source_mappings.Installation | None = None
        sqs_queues.install()
        hooks = event_source_mappings.install(self.sync, check_mapping)
        with self._lock:
            self._hooks = hooks
        self.sync()

    def sync(self) -> None:
        """Start, restart (changed) and stop pollers to match moto's mappings. Only the newest
        emulator of the process polls (moto's state is shared): an older one stops its pollers
        until the newer one closes."""
        with self._lock:
            if self._closed or self._hooks is None:
                return
            active = self._hooks.active
            current = {c.uuid: c for c in event_source_mappings.sqs_mappings()} if active else {}
            for uuid in [u for u in self._pollers if u not in current]:
                self._retire(self._pollers.pop(uuid))
            for uuid, config in current.items():
                poller = self._pollers.get(uuid)
                if poller is not None and poller.config == config:
                    continue
                if poller is not None:
                    self._retire(self._pollers.pop(uuid))
                if config.enabled:
                    self._pollers[uuid] = poller = MappingPoller(
                        config, self._lambdas, self._observers, self._stop_observers)
                    poller.start()
                else:
                    event_source_mappings.set_state(uuid, "Disabled")

    def _retire(self, poller: MappingPoller) -> None:
        poller.stop()
        self._retired = [p for p in self._retired if p.stats.pollers] + [poller]

    def add_observer(self, observer: ProcessedObserver) -> None:
        self._observers.append(observer)

    def add_stop_observer(self, observer: StopObserver) -> None:
        """Told of each recursive loop a poller stops (pollers made from now on)."""
        self._stop_observers.append(observer)

    def remove_observer(self, observer: ProcessedObserver) -> None:
        if observer in self._observers:
            self._observers.remove(observer)

    def pollers_of(self, queue_arn: str) -> int:
        """Pollers running now for the queue's enabled mappings (its concurrency)."""
        with self._lock:
            pollers = [p for p in self._pollers.values() if p.config.queue_arn == queue_arn]
        return sum(p.stats.pollers for p in pollers)

    def stats(self, uuid: str) -> MappingStats | None:
        """What the mapping's current pollers did since they started (None: not polling)."""
        with self._lock:
            poller = self._pollers.get(uuid)
        return poller.stats if poller is not None else None

    def _stop_all(self, timeout: float) -> None:
        with self._lock:
            pollers = list(self._pollers.values()) + self._retired
            self._pollers, self._retired = {}, []
        for poller in pollers:
            poller.stop()
        deadline = time.monotonic() + timeout
        for poller in pollers:
            poller.join(max(0.0, deadline - time.monotonic()))

    def reset(self) -> None:
        # A poller in the middle of an invocation ends when the Lambda service's reset stops
        # its environment, which comes next: do not wait for it here.
        self._stop_all(timeout=0.5)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        if self._hooks is not None:
            self._hooks.uninstall()
        self._stop_all(timeout=5.0)
