"""The report's CloudWatch side, its pure parts: the window, the figures and the lines."""

from __future__ import annotations

import pytest

from harness.load import cloudwatch_side
from harness.load.cloudwatch_side import Query, combine, rows, window


def test_the_window_is_the_whole_minutes_the_run_overlapped() -> None:
    assert window(125.0, 130.0) == (120.0, 180.0)
    assert window(120.0, 181.0) == (120.0, 240.0)
    assert window(120.0, 120.0) == (120.0, 180.0)  # never empty


def test_minutes_combine_as_their_statistic_says() -> None:
    points = [{"Sum": 3.0, "SampleCount": 3.0, "Average": 10.0, "Maximum": 12.0},
              {"Sum": 1.0, "SampleCount": 1.0, "Average": 30.0, "Maximum": 31.0}]
    fn = (("FunctionName", "f"),)
    assert combine(Query("a", "AWS/Lambda", "Invocations", fn, "Sum"), points) == 4.0
    assert combine(Query("a", "AWS/Lambda", "Duration", fn, "Maximum"), points) == 31.0
    # Averages weighed by their samples: (3 * 10 + 1 * 30) / 4.
    assert combine(Query("a", "AWS/Lambda", "Duration", fn, "Average"), points) == 15.0
    assert combine(Query("a", "AWS/Lambda", "Errors", fn, "Sum"), []) is None


def test_each_metric_is_asked_under_the_dimension_set_it_is_emitted_with() -> None:
    asked = {q.key: q for q in cloudwatch_side.queries("fn", "api", "dev")}
    assert asked["invocations"].dimensions == (("FunctionName", "fn"),)
    assert asked["api_5xx"].dimensions == (("ApiName", "api"), ("Stage", "dev"))
    assert asked["api_5xx"].metric == "5XXError"


@pytest.mark.parametrize("side, expected", [
    (None, []),
    ({"available": False, "reason": "no endpoint"}, [("CloudWatch", "not read: no endpoint")]),
])
def test_lines_when_there_is_nothing_to_show(side, expected) -> None:
    assert rows(side) == expected


def test_lines_say_no_data_rather_than_zero() -> None:
    side = {"available": True, "window": {"start": 0.0, "end": 120.0, "period_s": 60},
            "function_name": "fn", "api_name": "api", "stage": "dev",
            "figures": {"invocations": 5.0, "errors": None}}
    lambda_line, api_line = rows(side)
    assert "Invocations 5  Errors no data" in lambda_line[1]
    assert "(2 min window, fn / api dev)" in api_line[1]
