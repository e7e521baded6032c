"""Client-side statistics of a load run: exact latency percentiles, throughput, errors by kind.

Latencies go into an HDR histogram (https://hdrhistogram.github.io/HdrHistogram/) in whole
microseconds with 5 significant digits: every value below 262,144 us (262 ms) is kept exactly,
larger ones within 0.001 %, unlike Locust's own statistics, which round response times to 2
significant digits. Percentiles are nearest-rank: the value at rank round(p/100 x N).

Each process that sends requests keeps a `LoadStats`; a worker sends what it gathered since its
last report as a *window* (`take`, `to_wire`) and the master adds the windows up (`merge`).
Accounting: ``sent == answered + failed + lost``, where lost must be 0 when a run ends cleanly.
"""

from __future__ import annotations

import base64
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

LATENCY_MAX_US = 3_600_000_000  # one hour: anything longer is clamped
DIGITS = 5
SECOND_DIGITS = 2  # per-second histograms only feed plots and the live line

ANSWERED_KINDS = ("2xx", "3xx", "4xx", "429", "5xx")
"""An HTTP response came back."""
FAILED_KINDS = ("timeout", "connection", "other")
"""No HTTP response came back."""
ERROR_KINDS = ("4xx", "429", "5xx", "timeout", "connection", "other")


def classify(status: int, exception: BaseException | None) -> str:
    """The kind of one outcome: a status class, or why there was no response."""
    if status >= 100:
        if status == 429:
            return "429"
        return f"{min(status // 100, 5)}xx"
    if exception is None:
        return "other"
    name = type(exception).__name__.lower()
    if isinstance(exception, TimeoutError) or "timeout" in name or "timed out" in str(exception):
        return "timeout"
    if isinstance(exception, OSError) or "connection" in name or "closed" in name:
        return "connection"
    return "other"


def new_histogram(digits: int = DIGITS) -> HdrHistogram:
    return HdrHistogram(1, LATENCY_MAX_US, digits)


def to_us(latency_ms: float) -> int:
    return min(LATENCY_MAX_US, max(1, round(latency_ms * 1000)))


def percentiles_ms(histogram: HdrHistogram, points: tuple[float, ...] = (50, 95, 99)
                   ) -> dict[str, float | None]:
    """``{"p50": ms, ...}``; None for every point when the histogram is empty."""
    names = [_name(p) for p in points]
    if histogram.get_total_count() == 0:
        return dict.fromkeys(names)
    values = histogram.get_percentile_to_value_dict(list(points))
    return {name: values[p] / 1000.0 for name, p in zip(names, points, strict=True)}


def _name(point: float) -> str:
    return f"p{point:g}".replace(".", "_")


@dataclass
class Second:
    """What completed within one wall-clock second."""

    count: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    latency: HdrHistogram = field(default_factory=lambda: new_histogram(SECOND_DIGITS))

    def merge(self, other: Second) -> None:
        self.count += other.count
        self.kinds.update(other.kinds)
        _add(self.latency, other.latency)


class LoadStats:
    """Counters, the exact histogram and the per-second timeline of one process or run."""

    def __init__(self, live: bool = False) -> None:
        self.sent = 0
        self.kinds: Counter[str] = Counter()
        self.unexpected = 0
        self.s3_gets = 0
        self.latency = new_histogram()
        self.latency_sum_us = 0  # HdrHistogram's own mean walks every bucket: slow
        self.seconds: dict[int, Second] = {}
        # Coarse running histogram for the live line: percentiles of the exact one can take
        # a while to walk, and the live line is redrawn twice a second.
        self.live = new_histogram(SECOND_DIGITS) if live else None
        self.outcomes: list[tuple[int, str]] = []
        """(request id, kind) of each tracked request (soak accounting), in completion order."""

    # -- recording ------------------------------------------------------------------------------
    def note_sent(self, count: int = 1) -> None:
        self.sent += count

    def record(self, end_time: float, latency_ms: float, kind: str, expected: str = "2xx",
               s3_reads: int = 0, request_id: int | None = None) -> None:
        """One completed request: when it ended (epoch s), how long it took, what came back."""
        value = to_us(latency_ms)
        if request_id is not None:
            self.outcomes.append((request_id, kind))
        self.kinds[kind] += 1
        if kind != expected:
            self.unexpected += 1
        if kind in ("2xx", "4xx"):
            self.s3_gets += s3_reads  # the function ran and read what the payload points at
        self.latency.record_value(value)
        self.latency_sum_us += value
        second = self.seconds.get(int(end_time))
        if second is None:
            second = self.seconds[int(end_time)] = Second()
        second.count += 1
        second.kinds[kind] += 1
        second.latency.record_value(value)
        if self.live is not None:
            self.live.record_value(value)

    def merge(self, other: LoadStats) -> None:
        self.sent += other.sent
        self.kinds.update(other.kinds)
        self.unexpected += other.unexpected
        self.s3_gets += other.s3_gets
        self.outcomes.extend(other.outcomes)
        _add(self.latency, other.latency)
        self.latency_sum_us += other.latency_sum_us
        for second, figures in other.seconds.items():
            mine = self.seconds.get(second)
            if mine is None:
                mine = self.seconds[second] = Second()
            mine.merge(figures)
            if self.live is not None:
                _add(self.live, figures.latency)

    def take(self) -> LoadStats:
        """Everything gathered so far, leaving this object empty (a worker's report window)."""
        window = LoadStats()
        window.sent, self.sent = self.sent, 0
        window.kinds, self.kinds = self.kinds, Counter()
        window.unexpected, self.unexpected = self.unexpected, 0
        window.s3_gets, self.s3_gets = self.s3_gets, 0
        window.latency, self.latency = self.latency, new_histogram()
        window.latency_sum_us, self.latency_sum_us = self.latency_sum_us, 0
        window.seconds, self.seconds = self.seconds, {}
        window.outcomes, self.outcomes = self.outcomes, []
        return window

    # -- figures -------------------------------------------------------------------------------
    @property
    def answered(self) -> int:
        return sum(self.kinds[k] for k in ANSWERED_KINDS)

    @property
    def failed(self) -> int:
        return sum(self.kinds[k] for k in FAILED_KINDS)

    @property
    def completed(self) -> int:
        return self.answered + self.failed

    @property
    def lost(self) -> int:
        """Sent but never counted as answered or failed."""
        return self.sent - self.completed

    def live_percentiles(self) -> dict[str, float | None]:
        return percentiles_ms(self.live if self.live is not None else self.latency, (50, 99))

    def summary(self) -> dict[str, Any]:
        h = self.latency
        empty = h.get_total_count() == 0
        return {
            "sent": self.sent, "answered": self.answered, "failed": self.failed,
            "lost": self.lost, "unexpected": self.unexpected,
            "kinds": {k: self.kinds[k] for k in (*ANSWERED_KINDS, *FAILED_KINDS)},
            "errors": {k: self.kinds[k] for k in ERROR_KINDS},
            "latency_ms": {
                **percentiles_ms(h, (50, 90, 95, 99, 99.9)),
                "min": None if empty else h.get_min_value() / 1000.0,
                "max": None if empty else h.get_max_value() / 1000.0,
                "mean": None if empty else self.latency_sum_us / h.get_total_count() / 1000.0,
                "count": h.get_total_count(),
            },
            "s3_gets": self.s3_gets,
        }

    def timeline(self, start: float) -> list[dict[str, Any]]:
        """One row per second from ``start`` (epoch s): requests, errors, latency percentiles."""
        if not self.seconds:
            return []
        first, last = int(math.floor(start)), max(self.seconds)
        rows = []
        for second in range(min(first, min(self.seconds)), last + 1):
            figures = self.seconds.get(second, Second())
            rows.append({
                "t": second - first, "requests": figures.count,
                "errors": sum(figures.kinds[k] for k in ERROR_KINDS),
                "kinds": dict(figures.kinds),
                **{f"{k}_ms": v for k, v in percentiles_ms(figures.latency, (50, 95, 99)).items()},
                "max_ms": (figures.latency.get_max_value() / 1000.0) if figures.count else None,
            })
        return rows

    # -- the wire --------------------------------------------------------------------------------
    def to_wire(self) -> dict[str, Any]:
        """JSON-safe form (histograms as HdrHistogram's compressed base64 blobs)."""
        return {
            "sent": self.sent, "kinds": dict(self.kinds), "unexpected": self.unexpected,
            "s3_gets": self.s3_gets, "latency": _encode(self.latency),
            "latency_sum_us": self.latency_sum_us,
            "seconds": {str(s): {"count": f.count, "kinds": dict(f.kinds),
                                 "latency": _encode(f.latency)}
                        for s, f in self.seconds.items()},
            "outcomes": [[request_id, kind] for request_id, kind in self.outcomes],
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any], live: bool = False) -> LoadStats:
        stats = cls(live=live)
        stats.sent = int(data["sent"])
        stats.kinds = Counter({k: int(v) for k, v in data["kinds"].items()})
        stats.unexpected = int(data["unexpected"])
        stats.s3_gets = int(data["s3_gets"])
        stats.latency = _decode(data["latency"], DIGITS)
        stats.latency_sum_us = int(data.get("latency_sum_us", 0))
        stats.outcomes = [(int(i), str(k)) for i, k in data.get("outcomes", ())]
        for key, figures in data["seconds"].items():
            second = Second(int(figures["count"]), Counter(figures["kinds"]),
                            _decode(figures["latency"], SECOND_DIGITS))
            stats.seconds[int(key)] = second
            if stats.live is not None:
                _add(stats.live, second.latency)
        return stats


def _add(into: HdrHistogram, other: HdrHistogram) -> None:
    # Adding an empty histogram would drag the minimum down to 0.
    if other.get_total_count():
        into.add(other)


def _encode(histogram: HdrHistogram) -> str | None:
    if histogram.get_total_count() == 0:
        return None
    blob = histogram.encode()
    return blob.decode("ascii") if isinstance(blob, bytes) else base64.b64encode(blob).decode()


def _decode(blob: str | None, digits: int) -> HdrHistogram:
    if blob is None:
        return new_histogram(digits)
    decoded = HdrHistogram.decode(blob.encode("ascii"))
    # A decoded histogram keeps the encoder's range; re-home it so add() stays the fast path.
    histogram = new_histogram(digits)
    _add(histogram, decoded)
    return histogram
