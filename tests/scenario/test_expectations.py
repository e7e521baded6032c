"""Expectations against what a step observed (pure)."""

from __future__ import annotations

import pytest

from harness.lambda_.logs import Report
from harness.scenario.expectations import Observed, check, json_check, status_matches

OK = {"predictions": [0, 1, 2, 2], "rows": 4, "model": {"classes": [0, 1, 2]}}
REPORT_COLD = Report("r1", 12.5, 950, 512, 90, init_duration_ms=937.0)
REPORT_WARM = Report("r2", 3.2, 4, 512, 91)


@pytest.mark.parametrize(("expected", "status", "matches"), [
    (200, 200, True), (200, 404, False), ([400, 404], 404, True), ("4xx", 415, True),
    ("4xx", 500, False), ("5xx", 502, True),
])
def test_status_forms(expected, status, matches):
    assert status_matches(expected, status) is matches


def test_a_passing_response_has_no_failures():
    observed = Observed(status=200, document=OK, latency_ms=12.0, report=REPORT_WARM)
    expect = {"status": 200, "predictions": {"count": 4, "among": [0, 1, 2]},
              "json": [{"path": "model.classes", "equals": [0, 1, 2]},
                       {"path": "rows", "type": "integer"},
                       {"path": "predictions", "length": 4},
                       {"path": "predictions", "contains": 2},
                       {"path": "error", "exists": False}],
              "max_latency_ms": 100, "report": {"cold": False, "billed_duration_ms": {"max": 10}}}
    assert check(expect, observed) == []


def test_each_miss_is_named():
    observed = Observed(status=404, document={"message": "no key", "error": "NoSuchKey"},
                        error="NoSuchKey", error_message="no key", latency_ms=250.0,
                        report=REPORT_COLD)
    failures = check({"status": 200, "error": "NoSuchBucket", "max_latency_ms": 100,
                      "predictions": {"count": 3}, "report": {"cold": False}}, observed)
    assert failures == [
        'status: expected 200, got 404 {"message": "no key", "error": "NoSuchKey"}',
        "error: expected NoSuchBucket, got NoSuchKey: no key",
        'predictions: the answer has no predictions list ({"message": "no key", '
        '"error": "NoSuchKey"})',
        "latency 250.0 ms is over the bound of 100 ms",
        "report: expected a warm start, got cold (Init Duration 937.0 ms)",
    ]


def test_predictions_count_and_classes():
    observed = Observed(status=200, document={"predictions": [0, 7, True]})
    assert check({"predictions": {"count": 2, "among": [0, 1]}}, observed) == [
        "predictions: expected 2 (one per row), got 3",
        "predictions: 2 value(s) not among [0, 1], e.g. 7",
    ]


def test_json_checks():
    document = {"message": "bucket 'x' does not exist", "n": 1.5, "flag": True, "list": [1]}
    assert json_check({"path": "message", "contains": "'x'"}, document) == []
    assert json_check({"path": "n", "type": "number"}, document) == []
    assert json_check({"path": "flag", "equals": 1}, document) == [
        "json flag: expected 1, got true"]
    assert json_check({"path": "list[3]", "equals": 1}, document) == [
        "json list[3]: the document.list has 1 items; no index 3"]
    assert json_check({"path": "n", "length": 1}, document) == ["json n: 1.5 has no length"]
    assert json_check({"path": "missing", "exists": True}, document)[0].startswith(
        "json missing: the document has no key 'missing'")


def test_an_s3_step_must_succeed_unless_an_error_is_expected():
    failed = Observed(error="NoSuchBucket", error_message="The specified bucket does not exist")
    assert check(None, failed, s3_step=True) == [
        "S3 answered NoSuchBucket: The specified bucket does not exist"]
    assert check({"error": "NoSuchBucket"}, failed, s3_step=True) == []
    assert check({"error": "NoSuchBucket"}, Observed(), s3_step=True) == [
        "error: expected NoSuchBucket, but the S3 call succeeded"]


def test_report_expectations_need_a_report():
    assert check({"report": {"cold": True}}, Observed(status=200)) == [
        "report: no REPORT line was found for this invocation"]
    assert check({"report": {"cold": True, "init_duration_ms": {"min": 1},
                             "billed_duration_ms": 950}},
                 Observed(report=REPORT_COLD)) == []
