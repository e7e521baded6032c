from hypothesis import given
from hypothesis import strategies as st

from harness.lambda_.logs import (
    Report,
    billed_duration_ms,
    end_line,
    parse_report_line,
    report_line,
    start_line,
)


def test_report_line_matches_aws_format_on_warm_invocation():
    line = report_line(Report("abc-1", 12.344, 13, 512, 80))
    assert line == ("REPORT RequestId: abc-1\tDuration: 12.34 ms\tBilled Duration: 13 ms\t"
                    "Memory Size: 512 MB\tMax Memory Used: 80 MB")


def test_report_line_carries_init_duration_on_cold_start():
    line = report_line(Report("abc-1", 1.0, 952, 512, 80, init_duration_ms=950.123))
    assert line.endswith("\tMax Memory Used: 80 MB\tInit Duration: 950.12 ms")


def test_start_and_end_lines():
    assert start_line("r1") == "START RequestId: r1 Version: $LATEST"
    assert start_line("r1", "3") == "START RequestId: r1 Version: 3"
    assert end_line("r1") == "END RequestId: r1"


def test_billed_duration_rounds_up_to_the_next_millisecond():
    assert billed_duration_ms(0.0) == 1
    assert billed_duration_ms(0.2) == 1
    assert billed_duration_ms(1.0) == 1
    assert billed_duration_ms(1.01) == 2
    assert billed_duration_ms(12.34) == 13


def test_billed_duration_includes_init_on_cold_start():
    assert billed_duration_ms(10.2, init_duration_ms=950.1) == 961


def test_parse_rejects_other_lines():
    assert parse_report_line("START RequestId: x Version: $LATEST") is None
    assert parse_report_line("REPORT nonsense") is None


@given(
    request_id=st.uuids().map(str),
    duration=st.floats(min_value=0, max_value=900_000, allow_nan=False),
    memory=st.integers(min_value=128, max_value=10_240),
    used=st.integers(min_value=1, max_value=10_240),
    init=st.none() | st.floats(min_value=0, max_value=10_000, allow_nan=False),
)
def test_report_line_round_trips_through_the_parser(request_id, duration, memory, used, init):
    report = Report(request_id, round(duration, 2), billed_duration_ms(duration, init), memory,
                    used, None if init is None else round(init, 2))
    parsed = parse_report_line(report_line(report))
    assert parsed == report
