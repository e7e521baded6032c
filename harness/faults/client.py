"""A small client for the emulator's fault endpoint, for tests, scenarios and scripts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from harness.errors import UsageError


class FaultClient:
    """``FaultClient(endpoint).add({"target": "s3", "kind": "error", "error": "SlowDown"})``."""

    def __init__(self, endpoint: str, timeout: float = 10.0) -> None:
        self._url = endpoint.rstrip("/") + "/_harness/faults"
        self._timeout = timeout

    def _call(self, method: str, url: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")
            try:
                detail = json.loads(detail).get("message", detail)
            except ValueError:
                pass
            raise UsageError(f"fault endpoint refused {method}: {detail}") from None
        except urllib.error.URLError as error:
            raise UsageError(f"cannot reach the fault endpoint {self._url}: {error.reason} "
                             "(faults need the harness emulator)") from None

    def add(self, *rules: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Add rules; returns them as the emulator stored them (with their ids)."""
        return list(self._call("POST", self._url, {"rules": list(rules)})["rules"])

    def remove(self, rule_id: str) -> None:
        self._call("DELETE", f"{self._url}/{rule_id}")

    def clear(self) -> None:
        self._call("DELETE", self._url)

    def report(self) -> list[dict[str, Any]]:
        """Every active rule with ``matched`` and ``hits`` counts."""
        return list(self._call("GET", self._url)["rules"])

    @contextmanager
    def active(self, *rules: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """Rules in force for the ``with`` block only."""
        added = self.add(*rules)
        try:
            yield added
        finally:
            for rule in added:
                try:
                    self.remove(rule["id"])
                except UsageError:
                    pass
