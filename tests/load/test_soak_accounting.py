"""The soak's checks as pure functions: request-by-request accounting, resource trends, ledger."""

from __future__ import annotations

from typing import Any

import pytest

from harness.ledger import LedgerEntry, RequestLedger, ledger_middleware, parse_id
from harness.load.resources import Sample, trend
from harness.load.soak import account, gates
from harness.load.stats import LoadStats


def _ok(ids: range, status: int = 200) -> dict[int, LedgerEntry]:
    return {i: LedgerEntry(1, 1, status) for i in ids}


def test_a_clean_run_accounts_for_every_request() -> None:
    outcomes = [(i, "2xx") for i in range(10)]
    result = account(10, outcomes, _ok(range(10)), range(10))
    assert result.clean and result.lost == 0 and result.server_received == 10
    assert [g.passed for g in gates(result, [], [])] == [True, True]


def test_a_request_without_an_outcome_is_lost_and_named() -> None:
    outcomes = [(i, "2xx") for i in range(10) if i != 7]
    result = account(10, outcomes, _ok(range(10)), range(10))
    assert result.lost == 1 and result.examples["lost"] == [7] and not result.clean
    # without the expected ids the count still shows it
    assert account(10, outcomes, _ok(range(10))).lost == 1


def test_two_outcomes_for_one_request_are_a_duplicate() -> None:
    outcomes = [(i, "2xx") for i in range(5)] + [(3, "2xx")]
    result = account(6, outcomes, _ok(range(5)))
    assert result.client_duplicates == 1 and result.examples["client_duplicates"] == [3]
    assert not result.clean


def test_the_emulator_answering_twice_or_never_is_caught() -> None:
    ledger = _ok(range(4))
    ledger[1] = LedgerEntry(1, 2, 200)
    ledger[2] = LedgerEntry(2, 1, 200)
    ledger[3] = LedgerEntry(1, 0, 0)
    outcomes = [(0, "2xx"), (1, "2xx"), (2, "2xx"), (3, "timeout")]
    result = account(4, outcomes, ledger)
    assert (result.answered_twice, result.server_duplicates, result.unanswered) == (1, 1, 1)
    assert not result.clean


def test_a_status_class_that_differs_between_the_sides_is_a_mismatch() -> None:
    ledger = {0: LedgerEntry(1, 1, 502), 1: LedgerEntry(1, 1, 404), 2: LedgerEntry(1, 1, 200)}
    result = account(3, [(0, "5xx"), (1, "2xx"), (2, "2xx")], ledger)
    assert result.mismatched == 1 and result.examples["mismatched"] == [1]


def test_client_side_failures_are_accounted_not_mismatched() -> None:
    ledger = {1: LedgerEntry(1, 1, 200)}
    result = account(2, [(0, "connection"), (1, "timeout")], ledger)
    assert result.clean
    assert (result.never_reached, result.answered_after_give_up) == (1, 1)


def _samples(rss: list[float], fds: list[int] | None = None) -> list[Sample]:
    fds = fds or [40] * len(rss)
    return [Sample(float(i), i * 100, value, fd, 30, 6, 600.0)
            for i, (value, fd) in enumerate(zip(rss, fds, strict=True))]


def test_a_steady_series_is_flat_even_with_a_spike() -> None:
    rss = [100.0] * 10 + [250.0] * 5 + [251.0, 250.5] * 20 + [400.0] + [250.0] * 10
    result = trend(_samples(rss), "rss_mb", allowed=16, warmup=0.2)
    assert result.flat and result.growth is not None and abs(result.growth) < 2
    assert result.peak == 400.0


def test_a_leak_is_not_flat_and_its_slope_is_reported() -> None:
    rss = [200.0 + 0.5 * i for i in range(60)]  # half a MB every 100 requests
    result = trend(_samples(rss), "rss_mb", allowed=16, warmup=0.2)
    assert not result.flat and result.growth is not None and result.growth > 16
    assert result.per_10k_requests == pytest.approx(50.0)
    fd = trend(_samples([1.0] * 60, list(range(40, 100))), "fds", allowed=8)
    assert not fd.flat


def test_too_few_samples_cannot_pass_as_flat() -> None:
    result = trend(_samples([100.0] * 5), "rss_mb", allowed=16)
    assert not result.flat and "too few samples" in result.note


def test_leftovers_fail_the_soak() -> None:
    clean = account(1, [(0, "2xx")], _ok(range(1)))
    assert not gates(clean, [], ["thread runtime-api-x"])[-1].passed


def test_outcomes_travel_in_worker_windows() -> None:
    worker = LoadStats()
    worker.note_sent(2)
    worker.record(1.0, 5.0, "2xx", request_id=4)
    worker.record(1.0, 5.0, "4xx", "4xx", request_id=6)
    window = LoadStats.from_wire(worker.take().to_wire())
    master = LoadStats()
    master.merge(window)
    assert master.outcomes == [(4, "2xx"), (6, "4xx")] and worker.outcomes == []


def _call(app: Any, headers: dict[str, str]) -> None:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/x", **headers}
    list(app(environ, lambda status, headers, exc_info=None: None))


def test_the_ledger_counts_tagged_requests_and_their_answers() -> None:
    ledger = RequestLedger()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("404 Not Found", [])
        if environ.get("HTTP_TWICE"):
            start_response("500 Internal Server Error", [], None)
        return [b""]

    wrapped = ledger_middleware(app, ledger)
    _call(wrapped, {"HTTP_X_HARNESS_REQUEST_ID": "12"})
    _call(wrapped, {"HTTP_X_HARNESS_REQUEST_ID": "12"})
    _call(wrapped, {"HTTP_X_HARNESS_REQUEST_ID": "13", "HTTP_TWICE": "1"})
    _call(wrapped, {})
    _call(wrapped, {"HTTP_X_HARNESS_REQUEST_ID": "-1"})
    snapshot = ledger.snapshot()
    assert snapshot == {12: LedgerEntry(2, 2, 404), 13: LedgerEntry(1, 2, 500)}
    assert ledger.malformed == 1


@pytest.mark.parametrize(("raw", "parsed"), [("7", 7), (" 42 ", 42), ("x", None), ("", None),
                                             ("1" * 19, None), ("٣", None), ("1.5", None)])
def test_request_ids_are_plain_whole_numbers(raw: str, parsed: int | None) -> None:
    assert parse_id(raw) == parsed
