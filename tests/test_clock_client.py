"""The emulator's clock over HTTP: the ``harness_clock`` fixture and its client."""

from __future__ import annotations

import pytest

from harness.clock_client import ClockClient
from harness.errors import UsageError


def test_harness_clock_advances_the_emulators_time(harness_clock) -> None:
    before = harness_clock.offset
    now = harness_clock.advance(3600)
    assert harness_clock.offset - before == pytest.approx(3600)
    assert harness_clock.now() >= now  # the clock never moves back


@pytest.mark.parametrize("seconds", [-1, float("nan"), float("inf"), "60", True])
def test_the_clock_only_advances_by_a_number_of_seconds(harness_clock, seconds) -> None:
    before = harness_clock.offset
    with pytest.raises(UsageError, match=r"advances by a number of seconds >= 0, got "):
        harness_clock.advance(seconds)
    assert harness_clock.offset == before


def test_the_emulator_refuses_a_step_past_ten_years(harness_clock) -> None:
    with pytest.raises(UsageError, match=r"the clock endpoint refused: .*ten years"):
        harness_clock.advance(11 * 365 * 86400)


def test_no_emulator_is_a_clear_error() -> None:
    with pytest.raises(UsageError, match=r"cannot reach the clock endpoint .* harness emulator"):
        ClockClient("http://127.0.0.1:9", timeout=5).advance(1)
