"""Writes each invocation's log lines into CloudWatch Logs (moto's backend), as Lambda does."""

from __future__ import annotations

import queue
import sys
import threading
import time
from typing import Any, TextIO

from harness.lambda_.environment import InvokeRecord
from harness.lambda_.launcher import log_stream_name
from harness.lambda_.logs import end_line, report_line, start_line
from harness.lambda_.spec import FunctionSpec


def invocation_log_lines(record: InvokeRecord, version: str, init_output: str = "") -> list[str]:
    """START, the function's output, END and REPORT, in the order Lambda writes them."""
    lines = [line for line in init_output.splitlines() if line]
    lines.append(start_line(record.request_id, version))
    lines.extend(line for line in record.output.splitlines() if line)
    lines.append(end_line(record.request_id))
    lines.append(report_line(record.report))
    return lines


class LogWriter:
    """Ships log lines into moto's CloudWatch Logs backend from a thread of its own.

    Writes leave the request path; ``flush()`` waits until everything written so far is in the
    backend, which the emulator calls before it serves any Logs API request (read your writes).
    """

    def __init__(self, echo: TextIO | None = None, max_events_per_stream: int = 20_000) -> None:
        self._echo = echo
        self._max_events = max_events_per_stream
        self._queue: queue.Queue[tuple[FunctionSpec, str, list[str], int] | None] = queue.Queue()
        self._streams: set[tuple[str, str, str, str]] = set()
        self._thread = threading.Thread(target=self._ship, name="lambda-logs", daemon=True)
        self._thread.start()

    def write(self, spec: FunctionSpec, env_id: str, lines: list[str]) -> None:
        self._queue.put((spec, env_id, lines, int(time.time() * 1000)))

    def flush(self) -> None:
        self._queue.join()

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _ship(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._put(*item)
            except Exception as exc:  # noqa: BLE001 - a lost log line must not stop the shipper
                print(f"harness: could not write logs: {exc}", file=sys.stderr)
            finally:
                self._queue.task_done()

    def _put(self, spec: FunctionSpec, env_id: str, lines: list[str], now: int) -> None:
        from moto.logs.models import logs_backends

        backend = logs_backends[spec.account_id][spec.region]
        stream = log_stream_name(spec.version, env_id)
        key = (spec.account_id, spec.region, spec.log_group, stream)
        if key not in self._streams or spec.log_group not in backend.groups:
            backend.ensure_log_group(spec.log_group)
            if stream not in backend.groups[spec.log_group].streams:
                backend.create_log_stream(spec.log_group, stream)
            self._streams.add(key)
        backend.put_log_events(spec.log_group, stream,
                               [{"timestamp": now, "message": line} for line in lines])
        trim_stream(backend.groups[spec.log_group].streams[stream], self._max_events)
        if self._echo is not None:
            for line in lines:
                print(f"[{spec.name}] {line}", file=self._echo)
            self._echo.flush()

    def forget(self) -> None:
        """Drop the cache of created streams (after a reset of moto's state)."""
        self.flush()
        self._streams.clear()


def trim_stream(stream: Any, keep: int) -> int:
    """Drop the oldest events of a moto log stream beyond ``keep``; how many were dropped.

    Trims in steps of a tenth of ``keep`` so that the list is not shifted on every write.
    """
    events = stream.events
    if len(events) <= keep + keep // 10:
        return 0
    dropped = len(events) - keep
    del events[:dropped]
    return dropped


def console_writer() -> LogWriter:
    return LogWriter(echo=sys.stderr)
