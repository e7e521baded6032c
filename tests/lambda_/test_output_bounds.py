"""What the harness keeps of a function's output and logs is bounded, cut as Lambda and
CloudWatch Logs cut it: the output buffer, log events, log streams and their events."""

from __future__ import annotations

import re
import sys
import threading

import pytest

from harness.lambda_.cloudwatch import (
    LogBounds,
    LogWriter,
    invocation_log_lines,
    logs_backend,
    trim_stream,
)
from harness.lambda_.environment import InvokeRecord
from harness.lambda_.launcher import log_stream_name
from harness.lambda_.logs import (
    EVENT_OVERHEAD_BYTES,
    MAX_EVENT_BYTES,
    MAX_MESSAGE_BYTES,
    Report,
    event_messages,
)
from harness.lambda_.output import MAX_OUTPUT_BYTES, BoundedOutput, with_truncation_note
from harness.lambda_.process import RuntimeProcess
from harness.lambda_.spec import FunctionSpec
from tests.lambda_.specs import plain_spec

_TRUNCATED = re.compile(r"^\.\.\.truncated (\d+) bytes \(the harness keeps the first (\d+) bytes")


def test_the_cloudwatch_figures_are_aws_s():
    # PutLogEvents: "Each log event can be no larger than 256 KB", counted as the message's
    # UTF-8 bytes plus 26 bytes per event; Lambda cuts longer lines at 2^18 - 26.
    assert (MAX_EVENT_BYTES, EVENT_OVERHEAD_BYTES, MAX_MESSAGE_BYTES) == (262_144, 26, 262_118)


# -- the output buffer -------------------------------------------------------------------------

def test_output_within_the_limit_is_kept_whole_and_taken_once():
    output = BoundedOutput(limit=10, preamble=b"note\n")
    output.add(b"hello")
    assert len(output) == 10
    assert output.take() == "note\nhello"
    assert output.take() == ""


def test_output_past_the_limit_is_dropped_counted_and_said_in_one_line():
    output = BoundedOutput(limit=8)
    for chunk in (b"abcdef", b"ghijkl", b"mnop"):
        output.add(chunk)
    assert len(output) == 8  # never more than the limit, however much comes
    text = output.take()
    assert text.startswith("abcdefgh\n...truncated 8 bytes")
    assert text.endswith("per invocation)\n")
    output.add(b"next\n")  # the count starts again with the next invocation
    assert output.take() == "next\n"


def test_the_truncation_line_follows_a_whole_line_without_a_blank_one():
    assert with_truncation_note("a\n", 3, 2).startswith("a\n...truncated 3 bytes")
    assert with_truncation_note("", 3, 2).startswith("...truncated 3 bytes")
    assert with_truncation_note("a", 0, 2) == "a"
    with pytest.raises(ValueError, match="below 1 byte"):
        BoundedOutput(limit=0)


def test_a_process_printing_without_end_is_held_to_the_limit(tmp_path):
    """64 MiB printed (in a loop) leaves 1 MiB held, and the rest counted to the byte."""
    total = 64 * 1024 * 1024
    code = ("import os\nblock = b'y' * 65536\n"
            f"for _ in range({total // 65536}):\n    os.write(1, block)\n")
    exited = threading.Event()
    process = RuntimeProcess([sys.executable, "-c", code], cwd=str(tmp_path), env={},
                             on_exit=lambda _code: exited.set())
    process.start()
    try:
        assert exited.wait(60), "the printing process did not end"
        text = process.take_output()
    finally:
        process.kill()
    kept, _, note = text.partition("\n")
    assert kept == "y" * MAX_OUTPUT_BYTES
    match = _TRUNCATED.match(note)
    assert match is not None, note[:200]
    assert int(match.group(1)) == total - MAX_OUTPUT_BYTES


# -- log events --------------------------------------------------------------------------------

def test_a_line_longer_than_an_event_is_split_into_events_of_at_most_the_maximum():
    line = "x" * 2_000_000
    pieces = event_messages(line)
    assert "".join(pieces) == line
    assert [len(p) for p in pieces] == [MAX_MESSAGE_BYTES] * 7 + [2_000_000 - 7 * MAX_MESSAGE_BYTES]


def test_a_split_never_cuts_a_character():
    line = "é" * 200_000  # 2 bytes each: 400,000 bytes
    pieces = event_messages(line)
    assert "".join(pieces) == line
    assert all(len(p.encode()) <= MAX_MESSAGE_BYTES for p in pieces)
    assert len(pieces) == 2
    assert event_messages("short") == ["short"]
    assert event_messages("€" * 10, limit=7) == ["€€", "€€", "€€", "€€", "€€"]


def test_invocation_log_lines_are_each_within_an_event():
    report = Report("r-1", 1.0, 1, 128, 60)
    record = InvokeRecord(request_id="r-1", payload=b"", error_type=None, report=report,
                          output="a\n" + "z" * 600_000 + "\nb\n", env_id="e")
    lines = invocation_log_lines(record, "$LATEST", init_output="i" * 300_000 + "\n")
    assert all(len(line.encode()) + EVENT_OVERHEAD_BYTES <= MAX_EVENT_BYTES for line in lines)
    assert lines[2].startswith("START RequestId: r-1")
    assert "".join(lines[4:7]) == "z" * 600_000
    assert lines[-3:-1] == ["b", "END RequestId: r-1"]


# -- log streams (against moto's own backend) --------------------------------------------------



def _streams(spec: FunctionSpec) -> dict[str, list[str]]:
    group = logs_backend(spec.account_id, spec.region).groups[spec.log_group]
    return {name: [e.message for e in stream.events] for name, stream in group.streams.items()}


def test_a_stream_keeps_its_newest_bytes_and_says_what_it_stores():
    spec = plain_spec("bounds")
    writer = LogWriter(bounds=LogBounds(events_per_stream=1000, bytes_per_stream=1000))
    try:
        for index in range(30):
            writer.write(spec, "env-1", [f"{index:02d}" + "." * 98])  # 100 bytes each
        writer.flush()
    finally:
        writer.close()
    stream = logs_backend(spec.account_id, spec.region).groups[spec.log_group].streams[
        log_stream_name(spec.version, "env-1")]
    messages = [event.message for event in stream.events]
    assert messages[-1].startswith("29")
    assert 1000 <= sum(map(len, messages)) <= 1100  # a tenth of slack: not trimmed every write
    assert stream.stored_bytes == sum(map(len, messages))


def test_trimming_always_keeps_the_newest_event():
    spec = plain_spec("bounds")
    writer = LogWriter(bounds=LogBounds(events_per_stream=10, bytes_per_stream=10))
    try:
        writer.write(spec, "env-1", ["a" * 50, "b" * 50])
        writer.flush()
    finally:
        writer.close()
    stream = logs_backend(spec.account_id, spec.region).groups[spec.log_group].streams[
        log_stream_name(spec.version, "env-1")]
    assert [event.message for event in stream.events] == ["b" * 50]
    assert trim_stream(stream, 10, 10) == 0


def test_streams_of_stopped_environments_are_pruned_past_the_bound_live_ones_never():
    spec = plain_spec("bounds")
    live = {"env-00", "env-01"}  # the two oldest stay: their environments still run
    writer = LogWriter(bounds=LogBounds(streams_per_group=3))
    writer.watch_environments(lambda: live)
    try:
        for index in range(12):
            writer.write(spec, f"env-{index:02d}", [f"line of env {index}"])
        writer.write(spec, "env-05", ["written again: it is no longer among the oldest"])
        writer.flush()
    finally:
        writer.close()
    kept = sorted(name.rsplit("]", 1)[1] for name in _streams(spec))
    # the two live ones, plus the most recently written stopped ones up to the bound
    assert kept == ["env-00", "env-01", "env-05"]
