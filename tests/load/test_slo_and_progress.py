"""SLO gates (pure) and the live progress line."""

from __future__ import annotations

import io

from harness.load.progress import ProgressLine, render
from harness.load.slo import accounting_gate, evaluate
from harness.load.spec import SloGates


def test_only_the_gates_that_are_set_are_checked() -> None:
    gates = SloGates(p99_ms=50, error_rate=0.01)
    results = evaluate(gates, {"p50_ms": 1.0, "p99_ms": 49.9, "error_rate": 0.02})
    assert [(r.name, r.passed) for r in results] == [("p99_ms", True), ("error_rate", False)]
    assert "FAILED" in results[1].describe() and "2.00%" in results[1].describe()


def test_a_gate_without_a_figure_fails() -> None:
    [result] = evaluate(SloGates(p50_ms=10), {"p50_ms": None})
    assert not result.passed and "n/a" in result.describe()


def test_a_lost_request_fails_the_accounting_gate() -> None:
    assert accounting_gate(100, 0).passed
    assert not accounting_gate(100, 1).passed
    assert not accounting_gate(0, 0).passed  # nothing sent is not a pass


def test_the_progress_line_shows_the_figures_so_far() -> None:
    line = {"done": 250, "elapsed": 5.0, "rps": 50.0, "p50": 3.21, "p99": 9.87, "errors": 2,
            "unexpected": 1, "users": 4}
    text = render(line, total=1000, duration_s=None,
                  harness={"environments": 4, "cold_starts": 4, "throttles": 1})
    assert "[######------------------]  25%" in text
    for part in ("250/1,000 req", "50 req/s", "p50 3.2 ms", "p99 9.9 ms",
                 "non-2xx 2 (unexpected 1)", "envs 4", "throttled 1"):
        assert part in text


def test_on_a_terminal_the_line_is_redrawn_in_place() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    bar = ProgressLine(total=None, duration_s=10.0, stream=stream)
    bar.update({"done": 1, "elapsed": 1.0})
    bar.update({"done": 2, "elapsed": 2.0})
    bar.close()
    assert stream.getvalue().count("\r") == 2 and stream.getvalue().endswith("\n")
