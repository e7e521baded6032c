"""The request ledger is bounded: past its size the oldest answered ids go, counted, and an
eviction never hides a request received or answered other than once."""

from __future__ import annotations

import pytest

from harness.ledger import MAX_ENTRIES, RequestLedger


def _answered(ledger: RequestLedger, ids: range, status: int = 200) -> None:
    for request_id in ids:
        ledger.received(request_id)
        ledger.answered(request_id, status)


def test_the_default_bound_holds_a_soak_ten_times_over():
    assert MAX_ENTRIES == 100_000 and RequestLedger().max_entries == MAX_ENTRIES
    ledger = RequestLedger()
    _answered(ledger, range(10_000))  # the soak's 10,000 requests: nothing is evicted
    assert (len(ledger), ledger.evicted) == (10_000, 0)


def test_past_the_bound_the_oldest_answered_ids_are_evicted_and_counted():
    ledger = RequestLedger(max_entries=100)
    _answered(ledger, range(1000))
    snapshot = ledger.snapshot()
    assert len(snapshot) <= 100
    assert ledger.evicted == 1000 - len(snapshot)
    assert ledger.evicted_irregular == 0
    assert max(snapshot) == 999 and min(snapshot) == 1000 - len(snapshot)  # the newest stay


def test_requests_still_in_flight_outlive_older_answered_ones():
    ledger = RequestLedger(max_entries=10)
    for request_id in range(3):
        ledger.received(request_id)  # in flight: received, not answered yet
    _answered(ledger, range(100, 200))
    snapshot = ledger.snapshot()
    assert {0, 1, 2} <= snapshot.keys()
    assert len(snapshot) <= 10
    ledger.answered(1, 502)  # its answer still lands on its entry
    assert ledger.snapshot()[1].answered == 1


def test_when_nothing_is_answered_the_oldest_go_so_the_bound_still_holds():
    ledger = RequestLedger(max_entries=10)
    for request_id in range(50):
        ledger.received(request_id)
    assert len(ledger) <= 10
    assert 49 in ledger.snapshot()
    assert ledger.evicted == ledger.evicted_irregular == 50 - len(ledger)  # never answered


def test_an_evicted_irregular_request_is_still_counted():
    ledger = RequestLedger(max_entries=5)
    ledger.received(7)
    ledger.received(7)  # received twice
    ledger.answered(7, 200)
    _answered(ledger, range(100, 120))
    assert 7 not in ledger.snapshot()
    assert ledger.evicted_irregular == 1


def test_clear_forgets_the_counts_too():
    ledger = RequestLedger(max_entries=2)
    _answered(ledger, range(10))
    ledger.clear()
    assert (len(ledger), ledger.evicted, ledger.evicted_irregular) == (0, 0, 0)
    with pytest.raises(ValueError, match="at least 1 entry"):
        RequestLedger(max_entries=0)
