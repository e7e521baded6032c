"""A small client for the emulator's clock endpoint (``/_harness/clock``), for tests, scenarios
and scripts: it works against the embedded emulator and against ``harness up`` alike."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from typing import Any

from harness.errors import UsageError


class ClockClient:
    """``ClockClient(endpoint).advance(60)``: a minute passes for schedules, retries and ages."""

    def __init__(self, endpoint: str, timeout: float = 10.0) -> None:
        self._url = endpoint.rstrip("/") + "/_harness/clock"
        self._timeout = timeout

    def _call(self, body: dict[str, Any] | None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self._url, data=data,
                                         method="GET" if body is None else "POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return dict(json.load(response))
        except urllib.error.HTTPError as error:
            if error.code == 404:
                raise UsageError(f"{self._url} is not there: the clock needs the harness "
                                 "emulator") from None
            detail = error.read().decode("utf-8", "replace")
            try:
                detail = json.loads(detail).get("message", detail)
            except ValueError:
                pass
            raise UsageError(f"the clock endpoint refused: {detail}") from None
        except urllib.error.URLError as error:
            raise UsageError(f"cannot reach the clock endpoint {self._url}: {error.reason} "
                             "(the clock needs the harness emulator)") from None

    def now(self) -> float:
        """Seconds since the epoch as the emulator sees them."""
        return float(self._call(None)["now"])

    @property
    def offset(self) -> float:
        """Seconds the emulator's clock has been advanced past real time."""
        return float(self._call(None)["offset"])

    def advance(self, seconds: float) -> float:
        """Move the emulator's time forward; returns its new ``now``. What falls due (a retry, a
        schedule, an event's age) fires at once, in due order."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) \
                or not math.isfinite(seconds) or seconds < 0:
            raise UsageError(f"the clock advances by a number of seconds >= 0, got {seconds!r}")
        return float(self._call({"advance": seconds})["now"])
