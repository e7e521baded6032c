"""What the harness itself saw of a load run, from the REPORT data of every invocation.

A listener on the embedded emulator's Lambda service keeps, for one function: cold starts and
their Init Durations (a SnapStart restore is a cold start too, with its Restore Duration in place
of an Init Duration), function durations, billed durations, max memory, throttles, and a sampler
counts the execution environments alive over time. Against an external ``--endpoint-url`` there
is no listener; `unavailable` says so in the report.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from harness.load.cost import gb_seconds

SAMPLE_INTERVAL_S = 0.25


@dataclass(frozen=True)
class Invocation:
    t: float
    """When the REPORT was published (epoch s)."""
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None
    env_id: str
    error_type: str | None
    restore_ms: float | None = None
    """SnapStart: the environment restored from a snapshot (a cold start without init)."""
    billed_restore_ms: int = 0
    snapstart_version: str | None = None
    """The published version, when it runs with SnapStart (its snapshot is cached)."""

    @property
    def cold(self) -> bool:
        return self.init_ms is not None or self.restore_ms is not None


class HarnessSide:
    """Attach to ``emulator.lambdas`` before the run; `stop` it after; `summary` for the report."""

    def __init__(self, lambdas: Any, function_name: str,
                 sample_interval_s: float = SAMPLE_INTERVAL_S) -> None:
        self._lambdas = lambdas
        self._function = function_name
        self._interval = sample_interval_s
        self._lock = threading.Lock()
        self.invocations: list[Invocation] = []
        self.throttles: list[float] = []
        self.environments: list[tuple[float, int]] = []
        self._stopped = threading.Event()
        self._sampler: threading.Thread | None = None
        self._listening = False

    # -- wiring ---------------------------------------------------------------------------------
    def start(self) -> HarnessSide:
        if not self._listening:
            self._lambdas.add_listener(self._on_record)
            self._lambdas.add_throttle_listener(self._on_throttle)
            self._listening = True
        self._stopped.clear()
        self._sampler = threading.Thread(target=self._sample_loop, name="load-env-sampler",
                                         daemon=True)
        self._sampler.start()
        return self

    def stop(self) -> None:
        """Stop sampling and listening (a long-lived emulator must not keep this run's figures
        alive through its listeners); ``start`` listens again."""
        self._stopped.set()
        if self._sampler is not None:
            self._sampler.join()
            self._sampler = None
        if self._listening:
            self._lambdas.remove_listeners(self._on_record, self._on_throttle)
            self._listening = False

    def _on_record(self, spec: Any, record: Any) -> None:
        if spec.name != self._function or self._stopped.is_set():
            return
        report = record.report
        item = Invocation(time.time(), report.duration_ms, report.billed_duration_ms,
                          report.memory_size_mb, report.max_memory_used_mb,
                          report.init_duration_ms, record.env_id, record.error_type,
                          restore_ms=report.restore_duration_ms,
                          billed_restore_ms=report.billed_restore_duration_ms or 0,
                          snapstart_version=spec.version if spec.snap_start else None)
        with self._lock:
            self.invocations.append(item)

    def _on_throttle(self, spec: Any, error: Any) -> None:
        if spec.name == self._function and not self._stopped.is_set():
            with self._lock:
                self.throttles.append(time.time())

    def _sample_loop(self) -> None:
        while True:
            self.environments.append((time.time(), self._lambdas.environments()))
            if self._stopped.wait(self._interval):
                return

    # -- figures ---------------------------------------------------------------------------------
    def summary(self, start: float) -> dict[str, Any]:
        with self._lock:
            calls = list(self.invocations)
            throttles = list(self.throttles)
        billed_total = sum(c.billed_ms + c.billed_restore_ms for c in calls)
        return {
            "available": True,
            "invocations": len(calls),
            "function_errors": sum(1 for c in calls if c.error_type is not None),
            "function_error_types": dict(Counter(c.error_type for c in calls
                                                 if c.error_type is not None)),
            "throttles": len(throttles),
            **_cold_figures(calls, start),
            "duration_ms": _spread([c.duration_ms for c in calls]),
            # a restore's Billed Restore Duration is billed as duration
            "billed_duration_ms": {**_spread([float(c.billed_ms + c.billed_restore_ms)
                                              for c in calls]),
                                   "total": billed_total},
            "max_memory_used_mb": _spread([float(c.max_memory_mb) for c in calls]),
            "memory_size_mb": calls[0].memory_mb if calls else None,
            "gb_seconds": sum(gb_seconds(c.billed_ms + c.billed_restore_ms, c.memory_mb)
                              for c in calls),
            "environments_used": len({c.env_id for c in calls}),
            "environments_peak": max((n for _t, n in self.environments), default=0),
            "environments_over_time": [[round(t - start, 3), n] for t, n in self.environments],
            "throttles_over_time": _per_second(throttles, start),
        }


def _cold_figures(calls: list[Invocation], start: float) -> dict[str, Any]:
    """Cold starts, SnapStart restores among them, and what they cost beyond a warm call."""
    cold = [c for c in calls if c.cold]
    restores = [c for c in cold if c.restore_ms is not None]
    return {
        "cold_starts": len(cold),
        "init_duration_ms": _spread([c.init_ms for c in cold if c.init_ms is not None]),
        "restores": len(restores),
        "restore_duration_ms": _spread([c.restore_ms for c in restores
                                        if c.restore_ms is not None]),
        # when each cold environment began initialising (or restoring): its REPORT time minus
        # init (or restore) and run
        "cold_start_list": [{"t": round(c.t - start - ((c.init_ms or c.restore_ms or 0)
                                                       + c.duration_ms) / 1000, 3),
                             "init_ms": c.init_ms, "restore_ms": c.restore_ms,
                             "env_id": c.env_id} for c in cold],
        # the Init part of cold starts' billed duration (billed since 2025-08), and the
        # restores' Billed Restore Duration
        "init_gb_seconds": sum(gb_seconds((c.init_ms or 0.0) + c.billed_restore_ms,
                                          c.memory_mb) for c in cold),
        # SnapStart: restores are charged per GB of memory, caching per version kept
        "restore_gb": sum(c.memory_mb / 1024.0 for c in restores),
        "snapstart_versions": _snapstart_versions(calls),
    }


def _snapstart_versions(calls: list[Invocation]) -> list[dict[str, Any]]:
    """Each SnapStart version the run invoked, with its memory size (what its cache costs)."""
    versions = {c.snapstart_version: c.memory_mb for c in calls if c.snapstart_version}
    return [{"version": v, "memory_mb": mb} for v, mb in sorted(versions.items())]


def unavailable(reason: str) -> dict[str, Any]:
    """The harness-side block of a report when there is no emulator to listen to."""
    return {"available": False, "reason": reason}


def _spread(values: list[float]) -> dict[str, float | None]:
    """min, p50, p95, p99, max and mean of a small list (nearest rank, like the HDR figures)."""
    if not values:
        return {"count": 0, "min": None, "p50": None, "p95": None, "p99": None, "max": None,
                "mean": None}
    ordered = sorted(values)
    n = len(ordered)

    def rank(p: float) -> float:
        return ordered[max(1, int(p / 100 * n + 0.5)) - 1]

    return {"count": n, "min": ordered[0], "p50": rank(50), "p95": rank(95), "p99": rank(99),
            "max": ordered[-1], "mean": sum(ordered) / n}


def _per_second(times: list[float], start: float) -> list[list[int]]:
    counts: dict[int, int] = {}
    for t in times:
        second = int(t - start)
        counts[second] = counts.get(second, 0) + 1
    return [[second, count] for second, count in sorted(counts.items())]
