"""The live line on stderr while a load run goes: a bar, rate, latency so far, errors."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

WIDTH = 24
PLAIN_EVERY_S = 5.0  # when stderr is not a terminal, a plain line this often


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def render(line: dict[str, Any], total: int | None, duration_s: float | None,
           harness: dict[str, int] | None = None) -> str:
    """One status line from the engine's progress record and the harness's counters."""
    done, elapsed = int(line.get("done", 0)), float(line.get("elapsed", 0.0))
    if total:
        fraction = done / total
        amount = f"{done:,}/{total:,} req"
    elif duration_s:
        fraction = elapsed / duration_s
        amount = f"{done:,} req"
    else:
        fraction, amount = 0.0, f"{done:,} req"
    fraction = max(0.0, min(1.0, fraction))
    filled = int(fraction * WIDTH)
    bar = "#" * filled + "-" * (WIDTH - filled)
    parts = [f"[{bar}] {fraction:4.0%}", amount, f"{line.get('rps', 0):.0f} req/s",
             f"p50 {_ms(line.get('p50'))}", f"p99 {_ms(line.get('p99'))}",
             f"non-2xx {line.get('errors', 0)} (unexpected {line.get('unexpected', 0)})",
             f"users {line.get('users', 0)}",
             f"{elapsed:.0f}s"]
    if harness:
        parts.append(f"envs {harness['environments']} cold {harness['cold_starts']} "
                     f"throttled {harness['throttles']}")
    return "  ".join(parts)


class ProgressLine:
    """Redraws one line in place on a terminal; elsewhere prints a line now and then."""

    def __init__(self, total: int | None, duration_s: float | None,
                 stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total, self.duration_s = total, duration_s
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_plain = 0.0
        self._width = 0

    def update(self, line: dict[str, Any], harness: dict[str, int] | None = None) -> None:
        if not self.enabled:
            return
        text = render(line, self.total, self.duration_s, harness)
        if self.tty:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self._width = len(text)
        elif time.monotonic() - self._last_plain >= PLAIN_EVERY_S:
            self.stream.write(text + "\n")
            self._last_plain = time.monotonic()
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
