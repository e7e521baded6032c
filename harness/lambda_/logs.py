"""Lambda's platform log lines (START, END, REPORT) as pure functions, and their parser.

Format: https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html
("REPORT RequestId: ... Duration: ... Billed Duration: ... Memory Size: ... Max Memory Used: ...
Init Duration: ..." on the first invocation of an environment).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

MAX_EVENT_BYTES = 256 * 1024
"""CloudWatch Logs' largest event from Lambda: 256 KB, counted as PutLogEvents counts a batch,
the message's UTF-8 bytes plus 26 bytes per event
(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html)."""
EVENT_OVERHEAD_BYTES = 26
MAX_MESSAGE_BYTES = MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES
"""262,118: Lambda splits a longer line of output into consecutive events of at most this many
bytes (not documented; observed as 2^18 - 26: https://stackoverflow.com/questions/77175643 and
https://github.com/DataDog/datadog-serverless-functions/issues/462). PutLogEvents itself has
taken events of up to 1 MB since 2025-04; Lambda's own log capture still cuts at 256 KB."""


def event_messages(line: str, limit: int = MAX_MESSAGE_BYTES) -> list[str]:
    """One line of output as Lambda ships it: one event, or consecutive pieces of at most
    ``limit`` bytes of UTF-8 each, cut between characters."""
    if len(line) * 4 <= limit:  # no character is longer than 4 bytes: no need to encode
        return [line]
    data = line.encode("utf-8", errors="replace")
    if len(data) <= limit:
        return [line]
    pieces = []
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # inside a character: back off
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start = end
    return pieces


@dataclass(frozen=True)
class Report:
    """The figures of one REPORT line."""

    request_id: str
    duration_ms: float
    billed_duration_ms: int
    memory_size_mb: int
    max_memory_used_mb: int
    init_duration_ms: float | None = None
    restore_duration_ms: float | None = None
    """SnapStart: a new environment's restore, in place of its Init Duration."""
    billed_restore_duration_ms: int | None = None

    @property
    def cold(self) -> bool:
        """A new environment's first invocation: an init ran, or (SnapStart) a restore."""
        return self.init_duration_ms is not None or self.restore_duration_ms is not None


def billed_duration_ms(duration_ms: float, init_duration_ms: float | None = None) -> int:
    """Billed duration: rounded up to the next 1 ms, at least 1 ms.

    Since 2025-08-01 the INIT phase of on-demand functions is billed too, so a cold start's billed
    duration covers init plus invoke: https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-
    billing-for-init-phase/
    """
    total = duration_ms + (init_duration_ms or 0.0)
    return max(1, math.ceil(round(total, 6)))


def start_line(request_id: str, version: str = "$LATEST") -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def report_line(report: Report) -> str:
    parts = [
        f"REPORT RequestId: {report.request_id}",
        f"Duration: {report.duration_ms:.2f} ms",
        f"Billed Duration: {report.billed_duration_ms} ms",
        f"Memory Size: {report.memory_size_mb} MB",
        f"Max Memory Used: {report.max_memory_used_mb} MB",
    ]
    if report.init_duration_ms is not None:
        parts.append(f"Init Duration: {report.init_duration_ms:.2f} ms")
    if report.restore_duration_ms is not None:
        parts.append(f"Restore Duration: {report.restore_duration_ms:.2f} ms")
        parts.append(f"Billed Restore Duration: {report.billed_restore_duration_ms or 0} ms")
    return "\t".join(parts)


_REPORT_RE = re.compile(
    r"^REPORT RequestId: (?P<id>\S+)\tDuration: (?P<dur>[\d.]+) ms\t"
    r"Billed Duration: (?P<billed>\d+) ms\tMemory Size: (?P<mem>\d+) MB\t"
    r"Max Memory Used: (?P<maxmem>\d+) MB(?:\tInit Duration: (?P<init>[\d.]+) ms)?"
    r"(?:\tRestore Duration: (?P<restore>[\d.]+) ms\tBilled Restore Duration: "
    r"(?P<billed_restore>\d+) ms)?\t?$"
)


def parse_report_line(line: str) -> Report | None:
    """The figures of a REPORT line, or None when the line is not one."""
    match = _REPORT_RE.match(line.rstrip("\n"))
    if match is None:
        return None
    init, restore, billed = match.group("init", "restore", "billed_restore")
    return Report(
        request_id=match.group("id"),
        duration_ms=float(match.group("dur")),
        billed_duration_ms=int(match.group("billed")),
        memory_size_mb=int(match.group("mem")),
        max_memory_used_mb=int(match.group("maxmem")),
        init_duration_ms=float(init) if init is not None else None,
        restore_duration_ms=float(restore) if restore is not None else None,
        billed_restore_duration_ms=int(billed) if billed is not None else None,
    )
