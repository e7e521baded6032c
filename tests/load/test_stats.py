"""Client-side statistics: exact percentiles, windows that merge, errors by kind, accounting."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.load.stats import LoadStats, classify, percentiles_ms


def _nearest_rank(sorted_values: np.ndarray, p: float) -> float:
    """The value at rank round(p/100 x N) (at least 1): the definition the report uses."""
    rank = max(1, int(p / 100 * len(sorted_values) + 0.5))
    return float(sorted_values[rank - 1])


def _record_all(stats: LoadStats, latencies_ms: np.ndarray, t0: float = 1_000_000.0) -> None:
    for i, value in enumerate(latencies_ms):
        stats.note_sent()
        stats.record(t0 + i * 0.001, float(value), "2xx")


def test_percentiles_equal_numpy_exactly_below_262_ms() -> None:
    rng = np.random.default_rng(42)
    # whole microseconds, as recorded: 10,000 lognormal latencies around 5 ms, all < 262 ms
    us = np.clip(np.round(rng.lognormal(np.log(5000), 0.7, 10_000)), 1, 262_000)
    stats = LoadStats()
    _record_all(stats, us / 1000)
    got = stats.summary()["latency_ms"]
    for p in (50, 95, 99):
        # N = 10,000 makes p x N / 100 whole, where every nearest-rank definition agrees
        expected = np.percentile(us, p, method="inverted_cdf") / 1000
        assert got[f"p{p}"] == expected
        assert got[f"p{p}"] == _nearest_rank(np.sort(us), p) / 1000


@pytest.mark.parametrize("n", [1, 2, 7, 999, 4321])
def test_percentiles_are_nearest_rank_for_any_count(n: int) -> None:
    rng = np.random.default_rng(n)
    us = rng.integers(1, 200_000, n)
    stats = LoadStats()
    _record_all(stats, us / 1000)
    ordered = np.sort(us)
    for p in (50, 90, 95, 99, 99.9):
        assert percentiles_ms(stats.latency, (p,))[f"p{p:g}".replace(".", "_")] == \
            _nearest_rank(ordered, p) / 1000


def test_slow_requests_stay_within_one_part_in_100000() -> None:
    rng = np.random.default_rng(7)
    us = rng.integers(300_000, 30_000_000, 5000)  # 0.3 s to 30 s
    stats = LoadStats()
    _record_all(stats, us / 1000)
    ordered = np.sort(us)
    for p in (50, 95, 99):
        exact = _nearest_rank(ordered, p) / 1000
        assert stats.summary()["latency_ms"][f"p{p}"] == pytest.approx(exact, rel=1e-5)


def test_windows_sent_over_the_wire_merge_into_the_same_figures() -> None:
    rng = np.random.default_rng(3)
    ms = rng.lognormal(1.5, 0.9, 3000)
    whole, worker_a, worker_b = LoadStats(), LoadStats(), LoadStats()
    _record_all(whole, ms)
    _record_all(worker_a, ms[:1000])
    _record_all(worker_b, ms[1000:], t0=1_000_000.0 + 1.0)
    master = LoadStats(live=True)
    for worker in (worker_a, worker_b, worker_a):  # a's second window is empty
        master.merge(LoadStats.from_wire(json.loads(json.dumps(worker.take().to_wire()))))
    assert master.summary() == whole.summary()
    assert master.sent == 3000 and master.completed == 3000
    assert sum(row["requests"] for row in master.timeline(1_000_000.0)) == 3000
    assert master.live_percentiles()["p50"] == pytest.approx(whole.summary()["latency_ms"]["p50"],
                                                             rel=0.02)


def test_outcomes_are_classified_by_kind() -> None:
    assert classify(200, None) == "2xx"
    assert classify(404, Exception("not found")) == "4xx"
    assert classify(429, None) == "429"
    assert classify(502, None) == "5xx"
    assert classify(0, TimeoutError("timed out")) == "timeout"
    assert classify(0, ConnectionRefusedError(111, "refused")) == "connection"
    assert classify(0, ValueError("odd")) == "other"


def test_accounting_sent_equals_answered_plus_failed_plus_lost() -> None:
    stats = LoadStats()
    for kind, expected in (("2xx", "2xx"), ("4xx", "4xx"), ("5xx", "2xx"), ("429", "2xx"),
                           ("timeout", "2xx"), ("connection", "4xx")):
        stats.note_sent()
        stats.record(1.0, 5.0, kind, expected, s3_reads=1)
    stats.note_sent()  # in flight, never answered
    summary = stats.summary()
    assert (summary["sent"], summary["answered"], summary["failed"], summary["lost"]) == \
        (7, 4, 2, 1)
    # a valid request answered 5xx/429/timeout and an invalid one cut off are unexpected
    assert summary["unexpected"] == 4
    assert summary["errors"] == {"4xx": 1, "429": 1, "5xx": 1, "timeout": 1, "connection": 1,
                                 "other": 0}
    # only requests the function answered (2xx, 4xx) read S3
    assert summary["s3_gets"] == 2


def test_an_empty_run_has_no_percentiles() -> None:
    summary = LoadStats().summary()
    assert summary["latency_ms"]["p99"] is None and summary["lost"] == 0
