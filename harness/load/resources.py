"""The harness process's memory, open files and threads over a run, and whether they stay flat.

A sampler thread records, every ``interval`` seconds: this process's resident memory, open file
descriptors and threads, and the count and resident memory of its child processes (the
function runtimes), with how many requests had been answered by then. `trend` judges one
series over the steady part of the run (pure):

- the first ``warmup`` share of the samples is left out (environments start, the model and
  moto's state load, caches fill);
- the rest is cut in quarters; *growth* is the median of the last quarter minus the median of
  the first (medians, so one garbage-collection spike does not decide);
- the series is *flat* when the growth is at most the allowed one. The least-squares slope over
  the steady part is reported too, as growth per 10,000 requests.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import psutil

MB = 1024 * 1024
MIN_STEADY_SAMPLES = 8


@dataclass(frozen=True)
class Sample:
    t: float
    """Seconds since sampling started."""
    answered: int
    """Requests answered by then (as the caller counts them)."""
    rss_mb: float
    fds: int
    threads: int
    children: int
    children_rss_mb: float


def sample_process(process: psutil.Process, t: float, answered: int) -> Sample:
    """One sample of ``process`` and its live children."""
    with process.oneshot():
        rss = process.memory_info().rss
        fds = process.num_fds()  # POSIX: the harness runs on Linux and macOS
        threads = process.num_threads()
    children = 0
    children_rss = 0
    for child in process.children(recursive=True):
        try:
            children_rss += child.memory_info().rss
            children += 1
        except psutil.Error:
            continue
    return Sample(round(t, 3), answered, round(rss / MB, 2), fds, threads, children,
                  round(children_rss / MB, 2))


class ResourceSampler:
    """Samples this process every ``interval_s`` on a thread of its own; `stop` joins it."""

    def __init__(self, answered: Callable[[], int], interval_s: float = 1.0) -> None:
        self._answered = answered
        self._interval = interval_s
        self._process = psutil.Process()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = 0.0
        self.samples: list[Sample] = []

    def start(self) -> ResourceSampler:
        self._started = time.monotonic()
        self._take()
        self._thread = threading.Thread(target=self._loop, name="load-resource-sampler",
                                        daemon=True)
        self._thread.start()
        return self

    def _take(self) -> None:
        self.samples.append(sample_process(self._process, time.monotonic() - self._started,
                                           self._answered()))

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            self._take()

    def stop(self) -> list[Sample]:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            self._take()
        return self.samples


@dataclass(frozen=True)
class Trend:
    series: str
    samples: int
    steady_samples: int
    first: float | None
    """Median of the first quarter of the steady samples."""
    last: float | None
    """Median of the last quarter of the steady samples."""
    growth: float | None
    allowed: float
    per_10k_requests: float | None
    """Least-squares slope over the steady samples, per 10,000 answered requests."""
    peak: float | None
    flat: bool
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def trend(samples: Sequence[Sample], series: str, allowed: float, warmup: float = 0.2) -> Trend:
    """Whether ``series`` (a `Sample` field) stays within ``allowed`` growth after warm-up."""
    values = [float(getattr(s, series)) for s in samples]
    peak = max(values) if values else None
    steady = list(samples[int(len(samples) * warmup):])
    if len(steady) < MIN_STEADY_SAMPLES:
        return Trend(series, len(samples), len(steady), None, None, None, allowed, None, peak,
                     False, f"too few samples after warm-up to judge ({len(steady)} < "
                            f"{MIN_STEADY_SAMPLES}): run longer or sample more often")
    quarter = max(1, len(steady) // 4)
    ys = [float(getattr(s, series)) for s in steady]
    first, last = statistics.median(ys[:quarter]), statistics.median(ys[-quarter:])
    growth = last - first
    xs = [float(s.answered) for s in steady]
    slope = _slope(xs, ys)
    return Trend(series, len(samples), len(steady), round(first, 2), round(last, 2),
                 round(growth, 2), allowed, None if slope is None else round(slope * 10_000, 2),
                 peak, growth <= allowed)


def _slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
