"""A small HTTP client for the API: (status, headers, body), 4xx and 5xx returned, not raised."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from harness.errors import HarnessError


class HttpHelper:
    """What tests and scenario steps use to call the deployed API."""

    def request(self, method: str, url: str, body: bytes | None = None,
                headers: dict[str, str] | None = None,
                timeout: float = 60.0) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers.items()), error.read()
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise HarnessError(f"{method} {url} failed: {reason}") from None

    def post_json(self, url: str, payload: Any, timeout: float = 60.0) -> tuple[int, Any]:
        status, _headers, body = self.request(
            "POST", url, json.dumps(payload).encode(), {"Content-Type": "application/json"},
            timeout)
        return status, parse_body(body)


def parse_body(body: bytes) -> Any:
    """The body as JSON when it is JSON, else as text (or the bytes, when not UTF-8)."""
    try:
        return json.loads(body)
    except ValueError:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return body
