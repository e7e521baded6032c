"""The load: section: defaults, checks, and errors that name the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.load.scenario_file import read_load_scenario
from harness.load.spec import parse_duration

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def test_a_full_section_is_read_into_frozen_values(tmp_path: Path) -> None:
    path = _write(tmp_path, """\
scenario: full
stack: {memory_mb: 1024}
load:
  users: 8
  spawn_rate: 4
  duration: 2m
  think_time: [0.1, 0.5]
  timeout: 40s
  reserved_concurrency: 3
  cold_starts: template
  seed: 9
  payloads: {distinct: 12, rows: [2, 30], formats: [csv], invalid_share: 0.25}
  slo: {p50_ms: 10, p95_ms: 50, p99_ms: 90, error_rate: 0.01, throttle_rate: 0,
        monthly_cost_usd: 12.5}
  cost: {architecture: arm64, s3_puts_per_request: 1}
""")
    scenario = read_load_scenario(path)
    spec = scenario.load
    assert (spec.users, spec.spawn_rate, spec.duration_s, spec.requests) == (8, 4.0, 120.0, None)
    assert spec.think_time_s == (0.1, 0.5) and spec.timeout_s == 40.0
    assert spec.reserved_concurrency == 3 and spec.seed == 9
    assert spec.cold_starts == "template"
    assert spec.payloads.rows == (2, 30) and spec.payloads.formats == ("csv",)
    assert spec.slo.throttle_rate == 0.0 and spec.slo.monthly_cost_usd == 12.5
    assert spec.cost.architecture == "arm64" and spec.cost.s3_puts_per_request == 1.0
    assert scenario.stack.memory_mb == 1024 and scenario.name == "full"
    with pytest.raises(AttributeError):
        spec.users = 3  # type: ignore[misc]


@pytest.mark.parametrize(("body", "line", "words"), [
    ("load:\n  users: 2\n", 1, "exactly one of 'requests' and 'duration'"),
    ("load:\n  users: 2\n  requests: 10\n  duration: 5s\n", 1, "exactly one"),
    ("load:\n  requests: 10\n", 1, "'load.users' is required"),
    ("load:\n  users: 0\n  requests: 10\n", 2, "positive whole number"),
    ("load:\n  users: 2\n  duration: soon\n", 3, "not a duration"),
    ("load:\n  users: 2\n  requests: 10\n  spwan_rate: 3\n", 4, "unknown key 'load.spwan_rate'"),
    ("load:\n  users: 2\n  requests: 10\n  payloads:\n    invalid_share: 2\n", 5,
     "between 0 and 1"),
    ("load:\n  users: 2\n  requests: 10\n  payloads:\n    formats: [xml]\n", 5, "unknown format"),
    ("load:\n  users: 2\n  requests: 10\n  slo:\n    p99: 3\n", 5, "unknown key 'load.slo.p99'"),
    ("load:\n  users: 2\n  requests: 10\n  arrival_rate: 5\n  think_time: 1\n", 4,
     "exclude each other"),
    ("load:\n  users: 5\n  requests: 2\n", 3, "at least 'load.users'"),
    ("load:\n  users: 1\n  requests: 1\n  cold_starts: warm\n", 4,
     "must be one of real, template, got 'warm'"),
    ("stack: {memory_mb: 64}\nload:\n  users: 1\n  requests: 1\n", 1, "at least 128"),
    ("scenario: x\n", 1, "no 'load:' section"),
    ("load: [1, 2]\n", 1, "must be a mapping"),
    ("load:\n  users: 2\n requests: 3\n", 3, "not valid YAML"),
    ("load:\n  users: 1\n  requests: 1\n  soak: {warmup: 1}\n", 4, "must be below 1"),
    ("load:\n  users: 1\n  requests: 1\n  soak:\n    max_rss: 3\n", 5,
     "unknown key 'load.soak.max_rss'"),
    ("load:\n  users: 1\n  requests: 1\n  soak: {max_fd_growth: -1}\n", 4, "number >= 0"),
    ("faults: {target: s3}\nload:\n  users: 1\n  requests: 1\n", 1, "list of fault rules"),
    ("faults:\n  - {target: s3, kind: error, error: Oops}\nload:\n  users: 1\n  requests: 1\n",
     2, "faults[0]: s3 error must be one of"),
    ("faults:\n  - {target: s3, kind: latency, latency_ms: 5}\n  - {target: s3, kind: error, "
     "error: SlowDown, bucket: '${stack.bucket}'}\nload:\n  users: 1\n  requests: 1\n", 3,
     "variables are not expanded"),
])
def test_mistakes_name_the_file_and_line(tmp_path: Path, body: str, line: int,
                                         words: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ScenarioError) as caught:
        read_load_scenario(path)
    assert caught.value.path == str(path)
    assert caught.value.line == line, caught.value.message
    assert words in caught.value.message


@pytest.mark.parametrize(("text", "seconds"), [
    (30, 30.0), (1.5, 1.5), ("30s", 30.0), ("500ms", 0.5), ("2m", 120.0), ("1h", 3600.0),
    (" 3 s ", 3.0)])
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("name", ["load-seed.yaml", "load-10k.yaml", "load-burst.yaml",
                                  "soak.yaml"])
def test_shipped_load_scenarios_parse(name: str) -> None:
    scenario = read_load_scenario(SCENARIOS / name)
    assert scenario.load.users >= 1


def test_the_10k_scenario_sends_at_least_ten_thousand_requests() -> None:
    assert (read_load_scenario(SCENARIOS / "load-10k.yaml").load.requests or 0) >= 10_000


def test_the_burst_scenario_has_more_users_than_reserved_concurrency() -> None:
    spec = read_load_scenario(SCENARIOS / "load-burst.yaml").load
    assert spec.reserved_concurrency is not None and spec.users > spec.reserved_concurrency


def test_a_soak_section_and_faults_are_read(tmp_path: Path) -> None:
    path = _write(tmp_path, """\
faults:
  - {target: s3, kind: error, error: SlowDown, operations: [GetObject], rate: 0.5}
  - {target: lambda, kind: crash, rate: 0.01, id: mine}
load:
  users: 1
  requests: 5
  soak: {sample_interval: 500ms, warmup: 0.1, max_rss_growth_mb: 4}
""")
    scenario = read_load_scenario(path)
    soak = scenario.load.soak
    assert soak is not None
    assert (soak.sample_interval_s, soak.warmup, soak.max_rss_growth_mb) == (0.5, 0.1, 4.0)
    assert soak.max_fd_growth == 8.0  # the default
    # rules without an id get a fixed one, so a seeded run hits the same calls every time
    assert [r.id for r in scenario.faults] == ["fault-1", "mine"]
    assert scenario.faults[0].operations == ("GetObject",) and scenario.faults[0].rate == 0.5


@pytest.mark.parametrize(("text", "on"), [("", False), ("  soak:\n", True),
                                          ("  soak: true\n", True), ("  soak: false\n", False)])
def test_soak_is_off_unless_asked_for(tmp_path: Path, text: str, on: bool) -> None:
    path = _write(tmp_path, "load:\n  users: 1\n  requests: 1\n" + text)
    assert (read_load_scenario(path).load.soak is not None) is on


def test_the_soak_scenario_is_a_soak_of_ten_thousand_mixed_requests_with_faults() -> None:
    scenario = read_load_scenario(SCENARIOS / "soak.yaml")
    assert scenario.load.soak is not None and (scenario.load.requests or 0) >= 10_000
    assert 0.2 <= scenario.load.payloads.invalid_share < 1
    assert {r.target for r in scenario.faults} == {"s3", "lambda"}
    assert all(r.rate < 1 for r in scenario.faults)
