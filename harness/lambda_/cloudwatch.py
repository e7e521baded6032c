"""Writes each invocation's log lines into CloudWatch Logs (moto's backend), as Lambda does."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

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
    """Puts log events into moto's CloudWatch Logs backend, and optionally echoes them."""

    def __init__(self, echo: TextIO | None = None) -> None:
        self._echo = echo
        self._lock = threading.Lock()
        self._streams: set[tuple[str, str, str, str]] = set()

    def write(self, spec: FunctionSpec, env_id: str, lines: list[str]) -> None:
        from moto.logs.models import logs_backends

        backend = logs_backends[spec.account_id][spec.region]
        stream = log_stream_name(spec.version, env_id)
        now = int(time.time() * 1000)
        events = [{"timestamp": now, "message": line} for line in lines]
        with self._lock:
            key = (spec.account_id, spec.region, spec.log_group, stream)
            if key not in self._streams or spec.log_group not in backend.groups:
                backend.ensure_log_group(spec.log_group)
                group = backend.groups[spec.log_group]
                if stream not in group.streams:
                    backend.create_log_stream(spec.log_group, stream)
                self._streams.add(key)
            backend.put_log_events(spec.log_group, stream, events)
        if self._echo is not None:
            for line in lines:
                print(f"[{spec.name}] {line}", file=self._echo)
            self._echo.flush()

    def forget(self) -> None:
        """Drop the cache of created streams (after a reset of moto's state)."""
        with self._lock:
            self._streams.clear()


def console_writer() -> LogWriter:
    return LogWriter(echo=sys.stderr)
