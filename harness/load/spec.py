"""The ``load:`` section of a scenario file, parsed and checked into frozen values.

    load:
      users: 8                  # simulated users (Locust users), required
      spawn_rate: 4             # users started per second (default: all within 1 s)
      requests: 10000           # stop after this many requests ...
      duration: 30s             # ... or after this long (exactly one of the two)
      arrival_rate: 200         # optional: target requests/s across all users
      think_time: [0.05, 0.2]   # optional: seconds between a user's requests (or one number)
      timeout: 35s              # client-side timeout of one request
      reserved_concurrency: 4   # optional: put_function_concurrency before the run
      cold_starts: template     # optional: real (default) or template (harness.lambda_.cold_starts)
      seed: 1                   # the payload draw's seed: same seed, same payloads
      payloads: {distinct: 32, rows: [1, 20], formats: [npy, csv, json], invalid_share: 0.1}
      slo: {p50_ms: 50, p95_ms: 200, p99_ms: 500, error_rate: 0.01, throttle_rate: 0,
            monthly_cost_usd: 25}
      cost: {architecture: x86_64, s3_puts_per_request: 0, s3_lists_per_request: 0}

Every mistake is a `ScenarioError` naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.config import COLD_START_MODES
from harness.errors import ScenarioError
from harness.scenario.source import line_of

FEATURE_FORMATS = ("npy", "csv", "json")
ARCHITECTURES = ("x86_64", "arm64")
DEFAULT_TIMEOUT_S = 35.0  # longer than API Gateway's 29 s integration timeout


@dataclass(frozen=True)
class PayloadMix:
    """What the pre-drawn requests look like."""

    distinct: int = 32
    """How many different requests are drawn; the run cycles through them."""
    rows: tuple[int, int] = (1, 20)
    """Rows per uploaded feature file, inclusive range."""
    formats: tuple[str, ...] = FEATURE_FORMATS
    """Feature file formats to upload."""
    invalid_share: float = 0.0
    """Share of requests that the function must refuse (4xx)."""


@dataclass(frozen=True)
class SloGates:
    """Limits the run must meet; None means no gate."""

    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    error_rate: float | None = None
    """Share of requests that did not get the answer their payload should get."""
    throttle_rate: float | None = None
    monthly_cost_usd: float | None = None
    """Ceiling on the projected monthly bill."""


@dataclass(frozen=True)
class CostModel:
    """What the cost meter assumes beyond what the run measures."""

    architecture: str = "x86_64"
    s3_puts_per_request: float = 0.0
    """S3 PUTs a client makes per prediction (the seed uploads its features first: 1)."""
    s3_lists_per_request: float = 0.0


@dataclass(frozen=True)
class SoakChecks:
    """A soak's extra checks: every request accounted for by id on both sides, resources flat,
    nothing left running (docs/load.md, "Soak")."""

    sample_interval_s: float = 1.0
    warmup: float = 0.2
    """Share of the resource samples left out at the start."""
    max_rss_growth_mb: float = 16.0
    max_fd_growth: float = 8.0
    max_thread_growth: float = 8.0


@dataclass(frozen=True)
class LoadSpec:
    """One load scenario: how many users, how long, what they send, what must hold."""

    users: int
    spawn_rate: float
    requests: int | None = None
    duration_s: float | None = None
    arrival_rate: float | None = None
    think_time_s: tuple[float, float] = (0.0, 0.0)
    timeout_s: float = DEFAULT_TIMEOUT_S
    reserved_concurrency: int | None = None
    cold_starts: str | None = None
    """How new environments start: "real", or "template" (forks of an initialised template,
    each held back by the template's Init Duration: bursts cost here what they cost on AWS);
    None: as the emulator is set (``harness up --cold-starts``, HARNESS_COLD_STARTS)."""
    seed: int = 0
    payloads: PayloadMix = field(default_factory=PayloadMix)
    slo: SloGates = field(default_factory=SloGates)
    cost: CostModel = field(default_factory=CostModel)
    soak: SoakChecks | None = None
    source: str = ""
    """The scenario file this came from."""


# -- where things are -----------------------------------------------------------------------------
class _Where:
    """Builds errors that point at a line of one file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, line: int | None, message: str) -> ScenarioError:
        return ScenarioError(message, path=self.path, line=line)


# -- scalar parsers -----------------------------------------------------------------------------
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(value: Any) -> float:
    """Seconds from ``30``, ``"30s"``, ``"500ms"``, ``"2m"`` or ``"1h"``; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if match is None:
            raise ValueError(f"not a duration: {value!r} (use e.g. 30s, 500ms, 2m, 1h)")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"duration must be positive, got {value!r}")
    return seconds


class _Fields:
    """Reads the keys of one mapping (a `LineDict` from the scenario loader), each with its line."""

    def __init__(self, data: Any, where: _Where, name: str, known: tuple[str, ...],
                 line: int | None) -> None:
        if not isinstance(data, dict):
            raise where.error(line, f"'{name}' must be a mapping")
        self.where, self.name, self.data = where, name, data
        self.line = line if line is not None else getattr(data, "line", None)
        for key in data:
            if key not in known:
                raise where.error(self.line_of(key), f"unknown key '{name}.{key}' "
                                                     f"(known: {', '.join(known)})")

    def line_of(self, key: str) -> int | None:
        return line_of(self.data, key) or self.line

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def get(self, key: str, convert: Callable[[Any], Any], default: Any = None) -> Any:
        if not self.has(key):
            return default
        try:
            return convert(self.data[key])
        except (TypeError, ValueError) as exc:
            raise self.where.error(self.line_of(key), f"'{self.name}.{key}': {exc}") from None

    def sub(self, key: str, known: tuple[str, ...]) -> _Fields | None:
        if not self.has(key):
            return None
        return _Fields(self.data[key], self.where, f"{self.name}.{key}", known, self.line_of(key))

    def error(self, key: str | None, message: str) -> ScenarioError:
        return self.where.error(self.line_of(key) if key else self.line, message)


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"must be a positive whole number, got {value!r}")
    return value


def _non_negative_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"must be a whole number >= 0, got {value!r}")
    return value


def _positive(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"must be a positive number, got {value!r}")
    return float(value)


def _non_negative(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"must be a number >= 0, got {value!r}")
    return float(value)


def _share(value: Any) -> float:
    share = _non_negative(value)
    if share > 1:
        raise ValueError(f"must be a share between 0 and 1, got {value!r}")
    return share


def _range(convert: Callable[[Any], Any]) -> Callable[[Any], tuple[Any, Any]]:
    def parse(value: Any) -> tuple[Any, Any]:
        if isinstance(value, list):
            if len(value) != 2:
                raise ValueError(f"must be one value or [min, max], got {value!r}")
            low, high = convert(value[0]), convert(value[1])
        else:
            low = high = convert(value)
        if low > high:
            raise ValueError(f"min {low} is larger than max {high}")
        return low, high
    return parse


def _formats(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValueError("needs at least one format")
    for item in items:
        if item not in FEATURE_FORMATS:
            raise ValueError(f"unknown format {item!r} (known: {', '.join(FEATURE_FORMATS)})")
    return tuple(dict.fromkeys(items))


def _cold_starts(value: Any) -> str:
    if value not in COLD_START_MODES:
        raise ValueError(f"must be one of {', '.join(COLD_START_MODES)}, got {value!r}")
    return str(value)


def _architecture(value: Any) -> str:
    if value not in ARCHITECTURES:
        raise ValueError(f"must be one of {', '.join(ARCHITECTURES)}, got {value!r}")
    return str(value)


# -- the section ----------------------------------------------------------------------------------
_LOAD_KEYS = ("users", "spawn_rate", "requests", "duration", "arrival_rate", "think_time",
              "timeout", "reserved_concurrency", "cold_starts", "seed", "payloads", "slo",
              "cost", "soak")
_PAYLOAD_KEYS = ("distinct", "rows", "formats", "invalid_share")
_SLO_KEYS = ("p50_ms", "p95_ms", "p99_ms", "error_rate", "throttle_rate", "monthly_cost_usd")
_COST_KEYS = ("architecture", "s3_puts_per_request", "s3_lists_per_request")
_SOAK_KEYS = ("sample_interval", "warmup", "max_rss_growth_mb", "max_fd_growth",
              "max_thread_growth")


def parse_load_section(data: Any, path: str, line: int | None = None) -> LoadSpec:
    """Check the ``load:`` mapping of file ``path`` and build its `LoadSpec`."""
    fields = _Fields(data, _Where(path), "load", _LOAD_KEYS, line)
    if not fields.has("users"):
        raise fields.error(None, "'load.users' is required")
    users = fields.get("users", _positive_int)
    if fields.has("requests") == fields.has("duration"):
        raise fields.error(None, "'load' needs exactly one of 'requests' and 'duration'")
    think = fields.get("think_time", _range(_non_negative), (0.0, 0.0))
    if fields.has("arrival_rate") and fields.has("think_time"):
        raise fields.error("arrival_rate", "'load.arrival_rate' and 'load.think_time' exclude "
                                           "each other: the arrival rate sets the wait")
    requests = fields.get("requests", _positive_int)
    if requests is not None and requests < users:
        raise fields.error("requests", f"'load.requests' ({requests}) must be at least "
                                       f"'load.users' ({users})")
    return LoadSpec(
        users=users,
        spawn_rate=fields.get("spawn_rate", _positive, float(users)),
        requests=requests,
        duration_s=fields.get("duration", parse_duration),
        arrival_rate=fields.get("arrival_rate", _positive),
        think_time_s=think,
        timeout_s=fields.get("timeout", parse_duration, DEFAULT_TIMEOUT_S),
        reserved_concurrency=fields.get("reserved_concurrency", _non_negative_int),
        cold_starts=fields.get("cold_starts", _cold_starts),
        seed=fields.get("seed", _non_negative_int, 0),
        payloads=_payload_mix(fields.sub("payloads", _PAYLOAD_KEYS)),
        slo=_slo(fields.sub("slo", _SLO_KEYS)),
        cost=_cost(fields.sub("cost", _COST_KEYS)),
        soak=_soak(fields),
        source=path,
    )


def _payload_mix(fields: _Fields | None) -> PayloadMix:
    if fields is None:
        return PayloadMix()
    default = PayloadMix()
    rows = fields.get("rows", _range(_positive_int), default.rows)
    return PayloadMix(
        distinct=fields.get("distinct", _positive_int, default.distinct),
        rows=rows,
        formats=fields.get("formats", _formats, default.formats),
        invalid_share=fields.get("invalid_share", _share, default.invalid_share),
    )


def _slo(fields: _Fields | None) -> SloGates:
    if fields is None:
        return SloGates()
    return SloGates(
        p50_ms=fields.get("p50_ms", _positive),
        p95_ms=fields.get("p95_ms", _positive),
        p99_ms=fields.get("p99_ms", _positive),
        error_rate=fields.get("error_rate", _share),
        throttle_rate=fields.get("throttle_rate", _share),
        monthly_cost_usd=fields.get("monthly_cost_usd", _non_negative),
    )


def _cost(fields: _Fields | None) -> CostModel:
    if fields is None:
        return CostModel()
    return CostModel(
        architecture=fields.get("architecture", _architecture, "x86_64"),
        s3_puts_per_request=fields.get("s3_puts_per_request", _non_negative, 0.0),
        s3_lists_per_request=fields.get("s3_lists_per_request", _non_negative, 0.0),
    )




def _soak(load: _Fields) -> SoakChecks | None:
    if "soak" not in load.data or load.data["soak"] is False:
        return None
    default = SoakChecks()
    if load.data["soak"] is None or load.data["soak"] is True:
        return default  # ``soak:`` with nothing under it, or ``soak: true``: the defaults
    fields = load.sub("soak", _SOAK_KEYS)
    assert fields is not None
    warmup = fields.get("warmup", _share, default.warmup)
    if warmup >= 1:
        raise fields.error("warmup", "'load.soak.warmup' must be below 1: it is the share of "
                                     "samples left out at the start")
    return SoakChecks(
        sample_interval_s=fields.get("sample_interval", parse_duration,
                                     default.sample_interval_s),
        warmup=warmup,
        max_rss_growth_mb=fields.get("max_rss_growth_mb", _non_negative,
                                     default.max_rss_growth_mb),
        max_fd_growth=fields.get("max_fd_growth", _non_negative, default.max_fd_growth),
        max_thread_growth=fields.get("max_thread_growth", _non_negative,
                                     default.max_thread_growth),
    )
