"""Fault rules as values, and their validation (pure)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from harness.errors import UsageError

S3_ERRORS = {
    # code: (HTTP status, message) as S3 sends them:
    # https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
    "SlowDown": (503, "Please reduce your request rate."),
    "InternalError": (500, "We encountered an internal error. Please try again."),
    "ServiceUnavailable": (503, "Reduce your request rate."),
    "NoSuchKey": (404, "The specified key does not exist."),
    "AccessDenied": (403, "Access Denied"),
}
KINDS = {
    "s3": ("error", "latency"),
    "lambda": ("throttle", "timeout", "crash", "oom", "latency"),
}
_FIELDS = {"id", "target", "kind", "error", "latency_ms", "operations", "bucket", "key",
           "function", "rate", "calls", "times"}


@dataclass(frozen=True)
class FaultRule:
    """One fault: what it hits (target, operations, names), what it does, and how often."""

    target: str
    """"s3" or "lambda"."""
    kind: str
    """s3: error | latency; lambda: throttle | timeout | crash | oom | latency."""
    error: str | None = None
    """For an S3 error: SlowDown, InternalError, ServiceUnavailable, NoSuchKey, AccessDenied."""
    latency_ms: float = 0.0
    """Added delay, for kind latency."""
    operations: tuple[str, ...] = ()
    """S3 operations hit (GetObject, PutObject, ListObjectsV2, ...); empty means all."""
    bucket: str | None = None
    """Glob on the bucket name."""
    key: str | None = None
    """Glob on the object key."""
    function: str | None = None
    """Glob on the function name."""
    rate: float = 1.0
    """Probability that a matching call is hit (ignored when ``calls`` is given)."""
    calls: tuple[int, ...] = ()
    """Hit exactly these matching calls, counted from 1."""
    times: int | None = None
    """Stop after this many hits."""
    id: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["operations"] = list(self.operations)
        data["calls"] = list(self.calls)
        return {k: v for k, v in data.items() if v not in (None, (), [])}


def _number(raw: Mapping[str, Any], name: str, default: float, low: float,
            high: float | None = None) -> float:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"fault {name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise UsageError(f"fault {name} must be {bound}, got {value!r}")
    return float(value)


def _strings(raw: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = raw.get(name, ())
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"fault {name} must be a string or a list of strings, got {value!r}")
    return tuple(value)


def _calls(raw: Mapping[str, Any]) -> tuple[int, ...]:
    value = raw.get("calls", ())
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, list | tuple) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
        raise UsageError(f"fault calls must be whole numbers from 1, got {value!r}")
    return tuple(value)


def _optional_str(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is not None and not isinstance(value, str):
        raise UsageError(f"fault {name} must be a string, got {value!r}")
    return value


def parse_rules(payload: Any) -> list[FaultRule]:
    """One rule, a list of rules, or ``{"rules": [...]}`` (nothing else beside it), validated."""
    raw = payload
    if isinstance(payload, Mapping) and "rules" in payload:
        extra = sorted(set(payload) - {"rules"})
        if extra:
            raise UsageError(f"unknown field(s) beside rules: {', '.join(map(str, extra))}")
        raw = payload["rules"]
    elif isinstance(payload, Mapping):
        raw = [payload]
    if not isinstance(raw, list):
        raise UsageError(f"fault rules must be a list, got {type(raw).__name__}")
    return [parse_rule(item) for item in raw]


def parse_rule(raw: Any) -> FaultRule:
    """Validate one rule given as a mapping; every mistake is a UsageError naming the field."""
    if not isinstance(raw, Mapping):
        raise UsageError(f"a fault must be a mapping, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise UsageError(f"unknown fault field(s): {', '.join(unknown)}; "
                         f"known: {', '.join(sorted(_FIELDS))}")
    target = raw.get("target")
    if not isinstance(target, str) or target not in KINDS:
        raise UsageError(f"fault target must be one of {', '.join(KINDS)}, got {target!r}")
    kind = raw.get("kind")
    if kind not in KINDS[target]:
        raise UsageError(f"{target} fault kind must be one of {', '.join(KINDS[target])}, "
                         f"got {kind!r}")
    error = _optional_str(raw, "error")
    if target == "s3" and kind == "error" and error not in S3_ERRORS:
        raise UsageError(f"s3 error must be one of {', '.join(S3_ERRORS)}, got {error!r}")
    latency = _number(raw, "latency_ms", 0.0, 0.0, 900_000.0)
    if kind == "latency" and latency <= 0:
        raise UsageError("a latency fault needs latency_ms > 0")
    times = raw.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise UsageError(f"fault times must be a whole number from 1, got {times!r}")
    return FaultRule(
        target=target, kind=kind, error=error, latency_ms=latency,
        operations=_strings(raw, "operations"), bucket=_optional_str(raw, "bucket"),
        key=_optional_str(raw, "key"), function=_optional_str(raw, "function"),
        rate=_number(raw, "rate", 1.0, 0.0, 1.0), calls=_calls(raw), times=times,
        id=_optional_str(raw, "id") or uuid.uuid4().hex[:8],
    )
