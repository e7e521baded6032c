"""CloudWatch's side of the harness: metric points aggregated per minute, as CloudWatch keeps
standard-resolution metrics, with the raw values of each minute kept for percentiles.

Points carry the harness clock's time, so an alarm evaluated after the clock is advanced sees
the minutes the test moved through. Memory is bounded: each series keeps ``max_minutes`` minutes
and each minute ``max_values`` raw values (a uniform sample beyond that; sums stay exact).
"""

from __future__ import annotations

import math
import random
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

Dimensions = tuple[tuple[str, str], ...]


class SeriesKey(NamedTuple):
    """One metric: what CloudWatch's ListMetrics lists (namespace, name, dimensions), plus where.
    A tuple, so that a plain tuple of the same fields finds it (``add_many``)."""

    account: str
    region: str
    namespace: str
    name: str
    dimensions: Dimensions
    unit: str


@dataclass
class Minute:
    """The points of one series in one minute."""

    start: float
    """Epoch seconds at the minute's start (harness clock)."""
    count: int = 0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    values: list[float] = field(default_factory=list)

    def add(self, value: float, max_values: int) -> None:
        self.count += 1
        self.total += value
        if value < self.low:
            self.low = value
        if value > self.high:
            self.high = value
        if len(self.values) < max_values:
            self.values.append(value)
        else:  # reservoir sampling: every value equally likely to be kept
            slot = int(random.random() * self.count)  # randrange costs 20 times as much
            if slot < max_values:
                self.values[slot] = value


Series = tuple[str, Dimensions, str]
"""(name, dimensions, unit) of a metric in a namespace."""


@dataclass(frozen=True)
class Handles:
    """Series looked up once (``MetricStore.handles``), for the points an emitter adds again
    and again to the same series (an invocation's dozen); void once the store is cleared."""

    generation: int
    minutes: tuple[OrderedDict[float, Minute], ...]


class MetricStore:
    """Thread-safe; ``add`` is called on the invocation path, so it stays O(1)."""

    def __init__(self, max_minutes: int = 24 * 60, max_values: int = 2000) -> None:
        self._max_minutes = max_minutes
        self._max_values = max_values
        self._series: dict[SeriesKey, OrderedDict[float, Minute]] = {}
        self._lock = threading.Lock()
        self._generation = 0

    def handles(self, account: str, region: str, namespace: str,
                series: Iterable[Series]) -> Handles:
        """Handles of ``series`` (made if new) for ``add_values``."""
        with self._lock:
            found = []
            for name, dimensions, unit in series:
                key = SeriesKey(account, region, namespace, name, dimensions, unit)
                found.append(self._series.setdefault(key, OrderedDict()))
            return Handles(self._generation, tuple(found))

    def add_values(self, handles: Handles, values: Iterable[float], at: float) -> bool:
        """Add one value to each series of ``handles``, in their order, at one time; False
        (nothing added) when the store was cleared since they were made."""
        start = at - at % 60
        with self._lock:
            if handles.generation != self._generation:
                return False
            for minutes, value in zip(handles.minutes, values):
                self._minute_locked(minutes, start).add(value, self._max_values)
        return True

    def add(self, key: SeriesKey, value: float, at: float) -> None:
        self.add_many(key.account, key.region, key.namespace,
                      [(key.name, key.dimensions, key.unit, value)], at)

    def add_many(self, account: str, region: str, namespace: str,
                 points: Iterable[tuple[str, Dimensions, str, float]], at: float) -> None:
        """Add (name, dimensions, unit, value) points at one time, under one lock: an
        invocation's dozen points cost one acquisition and no SeriesKey once a series exists."""
        start = at - at % 60
        with self._lock:
            for name, dimensions, unit, value in points:
                where = (account, region, namespace, name, dimensions, unit)
                minutes = self._series.get(where)  # type: ignore[call-overload]  # equal tuples
                if minutes is None:
                    minutes = self._series[SeriesKey(*where)] = OrderedDict()
                self._minute_locked(minutes, start).add(value, self._max_values)

    def _minute_locked(self, minutes: OrderedDict[float, Minute], start: float) -> Minute:
        minute = minutes.get(start)
        if minute is None:
            minute = minutes[start] = Minute(start)
            if len(minutes) > self._max_minutes:
                minutes.popitem(last=False)
        return minute

    def series(self, account: str, region: str) -> list[tuple[SeriesKey, list[Minute]]]:
        """Every series of one account and region, with a copy of its minutes, oldest first."""
        with self._lock:
            return [(key, [_copy(m) for m in sorted(minutes.values(), key=lambda m: m.start)])
                    for key, minutes in self._series.items()
                    if key.account == account and key.region == region]

    def minutes(self, key: SeriesKey, start: float, end: float) -> list[Minute]:
        """The minutes of ``key`` that begin in [start, end)."""
        with self._lock:
            minutes = self._series.get(key)
            if not minutes:
                return []
            return [_copy(m) for m in minutes.values() if start <= m.start < end]

    def matching(self, account: str, region: str, namespace: str, name: str,
                 dimensions: Iterable[tuple[str, str]]) -> list[SeriesKey]:
        """Series with exactly these dimensions (CloudWatch matches dimension sets exactly)."""
        wanted = tuple(sorted(dimensions))
        with self._lock:
            return [k for k in self._series if (k.account, k.region, k.namespace, k.name,
                                                tuple(sorted(k.dimensions)))
                    == (account, region, namespace, name, wanted)]

    def clear(self) -> None:
        with self._lock:
            self._series.clear()
            self._generation += 1


def _copy(minute: Minute) -> Minute:
    return Minute(minute.start, minute.count, minute.total, minute.low, minute.high,
                  list(minute.values))
