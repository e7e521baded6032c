"""SLO gates: compare a run's figures with the limits of its scenario (pure)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from harness.load.spec import SloGates


@dataclass(frozen=True)
class GateResult:
    name: str
    limit: float
    actual: float | None
    """None when the run produced no figure to compare (no requests): the gate fails."""
    passed: bool
    unit: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        shown = "n/a" if self.actual is None else _fmt(self.actual, self.unit)
        verdict = "ok" if self.passed else "FAILED"
        return f"{self.name} {shown} <= {_fmt(self.limit, self.unit)}: {verdict}"


def _fmt(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.2f} ms"
    if unit == "share":
        return f"{value:.2%}"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "usd":
        return f"${value:,.2f}"
    return f"{value:g}"


def evaluate(gates: SloGates, figures: dict[str, float | None]) -> list[GateResult]:
    """One result per gate that is set; ``figures`` has p50_ms, p95_ms, p99_ms, error_rate,
    throttle_rate and monthly_cost_usd."""
    units = {"p50_ms": "ms", "p95_ms": "ms", "p99_ms": "ms", "error_rate": "share",
             "throttle_rate": "share", "monthly_cost_usd": "usd"}
    results = []
    for name, unit in units.items():
        limit = getattr(gates, name)
        if limit is None:
            continue
        actual = figures.get(name)
        results.append(GateResult(name, float(limit), actual,
                                  actual is not None and actual <= limit, unit))
    return results


def accounting_gate(sent: int, lost: int) -> GateResult:
    """Every request sent must be counted as answered or failed."""
    return GateResult("requests lost", 0, float(lost), lost == 0 and sent > 0, "")
