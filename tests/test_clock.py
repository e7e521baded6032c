"""The harness's clock: advancing it fires due timers in order, at once, and nothing else."""

from __future__ import annotations

import threading

import pytest

from harness.clock import Clock


def _recorder() -> tuple[list[str], threading.Condition, object]:
    fired: list[str] = []
    cond = threading.Condition()

    def make(name: str):  # type: ignore[no-untyped-def]
        def fire() -> None:
            with cond:
                fired.append(name)
                cond.notify_all()
        return fire
    return fired, cond, make


def test_advance_fires_due_timers_in_due_order_and_leaves_later_ones() -> None:
    fired, cond, make = _recorder()
    with Clock() as clock:
        clock.call_later(3600, make("hour"))
        clock.call_later(60, make("minute"))
        clock.call_later(86400, make("day"))
        clock.advance(3601)
        with cond:
            assert cond.wait_for(lambda: len(fired) == 2, timeout=10)
        assert fired == ["minute", "hour"]
        assert [t.name or "day" for t in clock.pending()] == ["day"]


def test_now_moves_with_the_offset_and_reset_goes_back_to_real_time() -> None:
    with Clock(wall=lambda: 1000.0) as clock:
        assert clock.now() == 1000.0
        assert clock.advance(60) == 1060.0
        assert clock.offset == 60
        clock.call_later(10, lambda: None, name="x")
        clock.reset()
        assert clock.now() == 1000.0
        assert clock.pending() == []


def test_a_cancelled_timer_never_fires_and_a_failing_one_does_not_stop_the_clock() -> None:
    fired, cond, make = _recorder()
    with Clock() as clock:
        clock.call_later(5, make("cancelled")).cancel()

        def boom() -> None:
            raise RuntimeError("timer failure")
        clock.call_later(6, boom)
        clock.call_later(7, make("after"))
        clock.advance(10)
        with cond:
            assert cond.wait_for(lambda: fired == ["after"], timeout=10)


def test_a_timer_due_now_fires_without_advancing() -> None:
    fired, cond, make = _recorder()
    with Clock() as clock:
        clock.call_later(0, make("now"))
        with cond:
            assert cond.wait_for(lambda: fired == ["now"], timeout=10)


def test_the_clock_never_moves_back_and_close_stops_its_thread() -> None:
    clock = Clock()
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)
    before = set(threading.enumerate())  # other clocks (the session emulator's) may run
    clock.call_later(100, lambda: None)
    [thread] = [t for t in set(threading.enumerate()) - before if t.name == "harness-clock"]
    clock.close()
    assert not thread.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        clock.call_later(1, lambda: None)
