"""An HTTP API's CORS configuration, applied as API Gateway applies it; pure functions.

AWS (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html): with a
CORS configuration, API Gateway answers a preflight OPTIONS request itself when no route takes
it (a ``$default`` or ``ANY`` route does), adds the configured headers to the integration's
response, and ignores the CORS headers the integration sends. Headers are returned only to a
request that carries ``Origin`` (a preflight: and ``Access-Control-Request-Method``). REST APIs
have no such setting: their integrations send whatever CORS headers they want.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.http import HttpRequest, HttpResponse

ALLOW_ORIGIN = "Access-Control-Allow-Origin"


@dataclass(frozen=True)
class CorsConfig:
    """An HTTP API's ``CorsConfiguration``."""

    allow_origins: tuple[str, ...] = ()
    """``*``, exact origins, or prefixes with ``*`` (``https://*``)."""
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    @classmethod
    def from_api(cls, raw: Mapping[str, Any] | None) -> CorsConfig | None:
        """From the API's stored configuration (the control plane's camelCase JSON); None when
        the API has none."""
        if not raw:
            return None

        def words(key: str) -> tuple[str, ...]:
            return tuple(str(item) for item in raw.get(key) or ())

        try:
            max_age = None if raw.get("maxAge") is None else int(raw["maxAge"])
        except (TypeError, ValueError):
            max_age = None  # the control plane let a malformed value through: send none
        return cls(words("allowOrigins"), words("allowMethods"), words("allowHeaders"),
                   words("exposeHeaders"), max_age, bool(raw.get("allowCredentials")))

    def allowed_origin(self, origin: str) -> str | None:
        """The ``Access-Control-Allow-Origin`` value for ``origin``; None if it is not allowed."""
        if "*" in self.allow_origins:
            return "*"
        wanted = origin.strip().lower()
        for pattern in self.allow_origins:
            regex = ".*".join(re.escape(part) for part in pattern.strip().lower().split("*"))
            if re.fullmatch(regex, wanted):
                return origin.strip()
        return None


def is_preflight(request: HttpRequest) -> bool:
    return (request.method == "OPTIONS" and request.header("Origin") is not None
            and request.header("Access-Control-Request-Method") is not None)


def preflight_response(config: CorsConfig, request: HttpRequest) -> HttpResponse:
    """API Gateway's own answer to a preflight no route takes: 204, with the configured headers
    when the origin is allowed (without them the browser refuses the real request)."""
    allowed = config.allowed_origin(request.header("Origin") or "")
    if allowed is None:
        return HttpResponse(204)
    headers = [(ALLOW_ORIGIN, allowed)]
    if config.allow_methods:
        headers.append(("Access-Control-Allow-Methods", ",".join(config.allow_methods)))
    if config.allow_headers:
        headers.append(("Access-Control-Allow-Headers", ",".join(config.allow_headers)))
    if config.max_age is not None:
        headers.append(("Access-Control-Max-Age", str(config.max_age)))
    if config.allow_credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    return HttpResponse(204, tuple(headers))


def apply(config: CorsConfig, request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """``response`` without the integration's CORS headers, with the configured ones when the
    request's origin is allowed."""
    kept = [(k, v) for k, v in response.headers if not k.lower().startswith("access-control-")]
    origin = request.header("Origin")
    allowed = None if origin is None else config.allowed_origin(origin)
    if allowed is not None:
        kept.append((ALLOW_ORIGIN, allowed))
        if config.allow_credentials:
            kept.append(("Access-Control-Allow-Credentials", "true"))
        if config.expose_headers:
            kept.append(("Access-Control-Expose-Headers", ",".join(config.expose_headers)))
    return HttpResponse(response.status, tuple(kept), response.body)
