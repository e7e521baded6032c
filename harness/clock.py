"""The harness's time: real time plus an offset that tests advance, and timers that follow it.

Schedules, async retry delays and event ages read this clock, so a test can advance it an hour
and see an hourly schedule fire, in milliseconds of wall time. Timers fire on one scheduler thread
in due order; a callback must be quick (it hands work to a pool), never block.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("harness.clock")


@dataclass(order=True)
class Timer:
    """A callback due at ``when`` (clock seconds since the epoch); ``cancel()`` stops it."""

    when: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    name: str = field(default="", compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class Clock:
    """``now()`` is ``time.time()`` plus the advanced offset. Start with ``with Clock() as c``."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._offset = 0.0
        self._timers: list[Timer] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    # -- time ----------------------------------------------------------------------------------
    def now(self) -> float:
        """Seconds since the epoch, as this harness sees them."""
        return self._wall() + self._offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    @property
    def offset(self) -> float:
        """Seconds the clock has been advanced past real time."""
        return self._offset

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` (>= 0); timers that became due fire in due order.
        Returns the new ``now()``."""
        if seconds < 0:
            raise ValueError(f"the clock only moves forward: {seconds} seconds")
        with self._cond:
            self._offset += seconds
            self._cond.notify_all()
        return self.now()

    def reset(self) -> None:
        """Back to real time; every timer is cancelled."""
        with self._cond:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
            self._offset = 0.0
            self._cond.notify_all()

    # -- timers --------------------------------------------------------------------------------
    def call_at(self, when: float, callback: Callable[[], None], name: str = "") -> Timer:
        """Run ``callback`` on the scheduler thread once ``now() >= when``."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the clock is closed")
            timer = Timer(when, next(self._seq), callback, name)
            heapq.heappush(self._timers, timer)
            self._ensure_thread()
            self._cond.notify_all()
        return timer

    def call_later(self, delay: float, callback: Callable[[], None], name: str = "") -> Timer:
        return self.call_at(self.now() + max(0.0, delay), callback, name)

    def pending(self) -> list[Timer]:
        """Timers not yet fired nor cancelled, soonest first."""
        with self._cond:
            return sorted(t for t in self._timers if not t.cancelled)

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="harness-clock", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                due = self._next_due()
                while due is None:
                    if self._closed:
                        return
                    wait = self._timers[0].when - self.now() if self._timers else None
                    self._cond.wait(timeout=None if wait is None else min(wait, 1.0))
                    due = self._next_due()
            if due.cancelled:
                continue
            try:
                due.callback()
            except Exception:  # a timer's failure is its owner's to report; the clock goes on
                log.exception("timer %s failed", due.name or due.callback)

    def _next_due(self) -> Timer | None:
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)
        if self._timers and self._timers[0].when <= self.now():
            return heapq.heappop(self._timers)
        return None

    # -- lifecycle -----------------------------------------------------------------------------
    def close(self) -> None:
        """Cancel every timer and stop the scheduler thread."""
        with self._cond:
            self._closed = True
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def __enter__(self) -> Clock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
