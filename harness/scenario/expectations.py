"""Checks a step's observed result against its (resolved) expectations; pure, returns failures."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.lambda_.logs import Report
from harness.scenario.variables import VariableError, get_path, parse_path

_REPORT_FIELDS = ("billed_duration_ms", "duration_ms", "init_duration_ms", "max_memory_used_mb")


@dataclass(frozen=True)
class Observed:
    """What a step saw; fields a step kind does not produce stay None."""

    status: int | None = None
    """HTTP status (post), the proxy result's statusCode or Invoke's StatusCode (invoke)."""
    document: Any = None
    """What ``json`` checks look at: a response body, an invoke payload, a bucket listing."""
    error: str | None = None
    """An S3 error code, or the ``error`` field of a response body."""
    error_message: str | None = None
    latency_ms: float | None = None
    report: Report | None = None
    function_error: str | None = None


def check(expect: Mapping[str, Any] | None, observed: Observed, *,
          s3_step: bool = False) -> list[str]:
    """Every way ``observed`` misses ``expect``. S3 steps must succeed unless an error is
    expected."""
    expect = expect or {}
    failures: list[str] = []
    if s3_step and "error" not in expect and observed.error is not None:
        failures.append(f"S3 answered {observed.error}: {observed.error_message}")
    if "status" in expect:
        failures += _status(expect["status"], observed)
    if "error" in expect:
        failures += _error(expect["error"], observed, s3_step)
    for item in expect.get("json") or ():
        failures += json_check(item, observed.document)
    if "predictions" in expect:
        failures += _predictions(expect["predictions"], observed.document)
    bound = expect.get("max_latency_ms")
    if bound is not None and observed.latency_ms is not None and observed.latency_ms > bound:
        failures.append(f"latency {observed.latency_ms:.1f} ms is over the bound of "
                        f"{float(bound):g} ms")
    if "report" in expect:
        failures += _report(expect["report"], observed.report)
    if "function_error" in expect and expect["function_error"] != observed.function_error:
        failures.append(f"function_error: expected {expect['function_error']!r}, "
                        f"got {observed.function_error!r}")
    return failures


def status_matches(expected: Any, status: int) -> bool:
    if isinstance(expected, list):
        return status in expected
    if isinstance(expected, str):
        return str(status).startswith(expected[0]) and expected.endswith("xx")
    return bool(status == expected)


def _status(expected: Any, observed: Observed) -> list[str]:
    if observed.status is None:
        return ["status: the step got no response"]
    if status_matches(expected, observed.status):
        return []
    return [f"status: expected {_show(expected)}, got {observed.status} "
            f"{_show(observed.document, 200)}"]


def _error(expected: str, observed: Observed, s3_step: bool) -> list[str]:
    if observed.error == expected:
        return []
    if observed.error is None:
        what = "the S3 call succeeded" if s3_step else "the answer has no error field"
        return [f"error: expected {expected}, but {what}"]
    return [f"error: expected {expected}, got {observed.error}: {observed.error_message}"]


def json_check(item: Mapping[str, Any], document: Any) -> list[str]:
    """One ``{path, equals|contains|length|type|exists}`` check."""
    path_text = str(item["path"])
    try:
        value = get_path(document, parse_path(path_text), "the document")
    except VariableError as error:
        if item.get("exists") is False:
            return []
        return [f"json {path_text}: {error}"]
    shown = f"json {path_text}"
    if "exists" in item:
        return [] if item["exists"] else [f"{shown}: expected no value, found {_show(value)}"]
    if "equals" in item and not _equal(value, item["equals"]):
        return [f"{shown}: expected {_show(item['equals'])}, got {_show(value)}"]
    if "contains" in item and not _contains(value, item["contains"]):
        return [f"{shown}: {_show(value)} does not contain {_show(item['contains'])}"]
    if "length" in item:
        if not isinstance(value, list | str | Mapping):
            return [f"{shown}: {_show(value)} has no length"]
        if len(value) != item["length"]:
            return [f"{shown}: expected length {item['length']}, got {len(value)}"]
    if "type" in item and json_type(value) not in _accepted(item["type"]):
        return [f"{shown}: expected a JSON {item['type']}, got {json_type(value)} "
                f"{_show(value)}"]
    return []


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object"


def _accepted(kind: str) -> tuple[str, ...]:
    return ("integer", "number") if kind == "number" else (kind,)


def _equal(value: Any, expected: Any) -> bool:
    if isinstance(value, bool) or isinstance(expected, bool):
        return type(value) is type(expected) and value == expected
    return bool(value == expected)


def _contains(value: Any, expected: Any) -> bool:
    if isinstance(value, str):
        return isinstance(expected, str) and expected in value
    if isinstance(value, list | tuple):
        return any(_equal(item, expected) for item in value)
    if isinstance(value, Mapping):
        if isinstance(expected, Mapping):
            return all(key in value and _equal(value[key], item) for key, item in expected.items())
        return expected in value
    return False


def _predictions(expected: Mapping[str, Any], document: Any) -> list[str]:
    predictions = document.get("predictions") if isinstance(document, Mapping) else None
    if not isinstance(predictions, list):
        return [f"predictions: the answer has no predictions list ({_show(document, 200)})"]
    failures = []
    count = expected.get("count")
    if count is not None and len(predictions) != count:
        failures.append(f"predictions: expected {count} (one per row), got {len(predictions)}")
    among = expected.get("among")
    if among is not None:
        strays = [p for p in predictions if not any(_equal(p, c) for c in among)]
        if strays:
            failures.append(f"predictions: {len(strays)} value(s) not among {_show(among)}, "
                            f"e.g. {_show(strays[0])}")
    return failures


def _report(expected: Mapping[str, Any], report: Report | None) -> list[str]:
    if report is None:
        return ["report: no REPORT line was found for this invocation"]
    failures = []
    if "cold" in expected and expected["cold"] != report.cold:
        want = "a cold start" if expected["cold"] else "a warm start"
        got = "warm"
        if report.init_duration_ms is not None:
            got = f"cold (Init Duration {report.init_duration_ms:.1f} ms)"
        elif report.restore_duration_ms is not None:
            got = f"cold (Restore Duration {report.restore_duration_ms:.1f} ms)"
        failures.append(f"report: expected {want}, got {got}")
    for name in _REPORT_FIELDS:
        if name in expected:
            failures += _bound(f"report {name}", expected[name], getattr(report, name))
    return failures


def _bound(name: str, bound: Any, value: float | None) -> list[str]:
    if value is None:
        return [f"{name}: not in the REPORT line"]
    if isinstance(bound, Mapping):
        low, high = bound.get("min"), bound.get("max")
        if low is not None and value < low:
            return [f"{name}: {value:g} is below the minimum {low:g}"]
        if high is not None and value > high:
            return [f"{name}: {value:g} is over the maximum {high:g}"]
        return []
    return [] if value == bound else [f"{name}: expected {bound:g}, got {value:g}"]


def _show(value: Any, limit: int = 120) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
