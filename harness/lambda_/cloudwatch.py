"""Writes each invocation's log lines into CloudWatch Logs (moto's backend), as Lambda does."""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from harness.aws_state.backends import existing
from harness.lambda_.environment import InvokeRecord
from harness.lambda_.launcher import log_stream_name
from harness.lambda_.logs import end_line, event_messages, report_line, start_line
from harness.lambda_.spec import FunctionSpec


def invocation_log_lines(record: InvokeRecord, version: str, init_output: str = "") -> list[str]:
    """START, the function's output, END and REPORT, in the order Lambda writes them.

    A line of output longer than CloudWatch's largest event becomes several events, as Lambda
    ships it (see ``event_messages``).
    """
    lines = [piece for line in init_output.splitlines() if line for piece in event_messages(line)]
    lines.append(start_line(record.request_id, version))
    lines.extend(piece for line in record.output.splitlines() if line
                 for piece in event_messages(line))
    lines.append(end_line(record.request_id))
    lines.append(report_line(record.report))
    return lines


SHIP_WINDOW_S = 0.02
"""How long the shipper lets writes gather after the first before it ships them (``flush``
cuts it short): under load, one wake and one PutLogEvents per stream for many invocations."""


@dataclass(frozen=True)
class LogBounds:
    """What the log writer keeps, so that a long-running emulator stays flat."""

    events_per_stream: int = 20_000
    """Newest events kept per log stream."""
    bytes_per_stream: int = 8 * 1024 * 1024
    """Newest message bytes kept per log stream (counted as moto counts storedBytes)."""
    streams_per_group: int = 50
    """Log streams kept per log group: past it, the streams of stopped environments written
    longest ago are deleted (AWS keeps them until the group's retention says otherwise)."""


class LogWriter:
    """Ships log lines into moto's CloudWatch Logs backend from a thread of its own.

    Writes leave the request path; ``flush()`` waits until everything written so far is in the
    backend, which the emulator calls before it serves any Logs API request (read your writes).
    """

    def __init__(self, echo: TextIO | None = None, max_events_per_stream: int = 20_000, *,
                 bounds: LogBounds | None = None) -> None:
        self._echo = echo
        self._bounds = bounds or LogBounds(events_per_stream=max_events_per_stream)
        self._queue: queue.Queue[tuple[FunctionSpec, str, list[str], int] | None] = queue.Queue()
        # (account, region, group) -> {stream: env id}, least recently written first
        self._streams: dict[tuple[str, str, str], OrderedDict[str, str]] = {}
        self._live: Callable[[], Collection[str]] = frozenset
        self._hurry = threading.Event()
        """Set by ``flush``: ship what is queued now, without waiting for more."""
        self._thread = threading.Thread(target=self._ship, name="lambda-logs", daemon=True)
        self._thread.start()

    def watch_environments(self, live: Callable[[], Collection[str]]) -> None:
        """``live()`` gives the ids of the environments still running: their streams are kept."""
        self._live = live

    def write(self, spec: FunctionSpec, env_id: str, lines: list[str]) -> None:
        self._queue.put((spec, env_id, lines, int(time.time() * 1000)))

    def flush(self) -> None:
        self._hurry.set()  # no gathering window: the reader is waiting
        self._queue.join()

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _ship(self) -> None:
        while True:
            batch = [self._queue.get()]
            if batch[0] is not None:  # let the writes of a burst gather: one wake, one put
                self._hurry.wait(SHIP_WINDOW_S)
            # Cleared before the drain: a flush of writes not drained now sets it again.
            self._hurry.clear()
            while True:  # what queued up meanwhile goes in the same pass (a put per stream)
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            writes = [item for item in batch if item is not None]
            try:
                for spec, env_id, events in stream_runs(writes):
                    try:
                        self._put(spec, env_id, events)
                    except Exception as exc:  # noqa: BLE001 - a lost line must not stop this
                        print(f"harness: could not write logs: {exc}", file=sys.stderr)
            finally:
                for _ in batch:
                    self._queue.task_done()
            if None in batch:
                return

    def _put(self, spec: FunctionSpec, env_id: str, events: list[tuple[int, str]]) -> None:
        backend = logs_backend(spec.account_id, spec.region)
        stream = log_stream_name(spec.version, env_id)
        written = self._streams.setdefault((spec.account_id, spec.region, spec.log_group),
                                           OrderedDict())
        if put_events(backend, spec.log_group, stream, events, self._bounds):
            written.pop(stream, None)  # made anew (first write, or deleted by a user)
        written[stream] = env_id
        written.move_to_end(stream)
        if len(written) > self._bounds.streams_per_group:
            self._prune(backend, spec.log_group, written)
        if self._echo is not None:
            for _, line in events:
                print(f"[{spec.name}] {line}", file=self._echo)
            self._echo.flush()

    def _prune(self, backend: Any, group: str, written: OrderedDict[str, str]) -> None:
        """Delete the streams of stopped environments written longest ago, down to the bound."""
        live = set(self._live())
        excess = len(written) - self._bounds.streams_per_group
        for stream, env_id in list(written.items()):
            if excess <= 0:
                break
            if env_id not in live:
                delete_stream(backend, group, stream)
                del written[stream]
                excess -= 1

    def forget(self) -> None:
        """Drop what is known of the streams (after a reset of moto's state)."""
        self.flush()
        self._streams.clear()


def stream_runs(batch: list[tuple[FunctionSpec, str, list[str], int]]
          ) -> Iterator[tuple[FunctionSpec, str, list[tuple[int, str]]]]:
    """Consecutive writes to one stream as one list of (timestamp, message) events, in order;
    a write stamped earlier than the one before it starts a new list (PutLogEvents wants each
    call's events in chronological order)."""
    run: list[tuple[int, str]] = []
    key: tuple[FunctionSpec, str] | None = None
    for spec, env_id, lines, now in batch:
        if key is not None and (key != (spec, env_id) or (run and now < run[-1][0])):
            yield key[0], key[1], run
            run = []
        key = (spec, env_id)
        run.extend((now, line) for line in lines)
    if key is not None:
        yield key[0], key[1], run


# -- the adapter over moto's CloudWatch Logs backend -------------------------------------------

def logs_backend(account_id: str, region: str) -> Any:
    from moto.logs.models import logs_backends

    return existing(logs_backends, account_id, region)


def put_events(backend: Any, group: str, stream: str, events: list[tuple[int, str]],
               bounds: LogBounds) -> bool:
    """Append (timestamp, message) ``events`` to a stream (made, with its group, if need be),
    then trim it to ``bounds``; True if the stream was made now."""
    if group not in backend.groups:
        backend.ensure_log_group(group)
    made = stream not in backend.groups[group].streams
    if made:
        backend.create_log_stream(group, stream)
    backend.put_log_events(group, stream,
                           [{"timestamp": at, "message": line} for at, line in events])
    trim_stream(backend.groups[group].streams[stream], bounds.events_per_stream,
                bounds.bytes_per_stream)
    return made


def delete_stream(backend: Any, group: str, stream: str) -> None:
    """Delete a log stream; one already gone (deleted through the API) is fine."""
    found = backend.groups.get(group)
    if found is not None and stream in found.streams:
        backend.delete_log_stream(group, stream)


def trim_stream(stream: Any, keep: int, keep_bytes: int | None = None) -> int:
    """Drop the oldest events of a moto log stream beyond ``keep`` events and ``keep_bytes``
    message bytes (the newest event always stays); how many were dropped.

    Trims in steps of a tenth of each bound so that the list is not shifted on every write, and
    keeps moto's ``stored_bytes`` to what the stream still holds.
    """
    events = stream.events
    held = stream.stored_bytes
    over_count = len(events) > keep + keep // 10
    over_bytes = keep_bytes is not None and held > keep_bytes + keep_bytes // 10
    if not over_count and not over_bytes:
        return 0
    cut = max(0, len(events) - keep)
    freed = sum(len(event.message) for event in events[:cut])
    if keep_bytes is not None:
        while cut < len(events) - 1 and held - freed > keep_bytes:
            freed += len(events[cut].message)
            cut += 1
    del events[:cut]
    stream.stored_bytes = held - freed
    return cut


def console_writer() -> LogWriter:
    return LogWriter(echo=sys.stderr)
