"""Match a request's method and path to a REST API resource, with API Gateway's precedence.

Precedence (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-settings-method-request.html,
"a method request against a specific resource takes precedence over a method request against a
generic resource at the same level of the resource hierarchy"): walking the path segment by
segment, a literal segment beats ``{param}``, which beats the greedy ``{proxy+}``; the first segment
where two candidate resources differ decides. Only resources that have the request's method (or
``ANY``) are candidates, so ``POST /items/1`` falls through from ``GET /items/{id}`` to
``ANY /{proxy+}``; on one resource a concrete method beats ``ANY``.

Trailing and leading slashes are ignored when matching: ``/a/`` and ``//a`` reach resource ``/a``.
AWS does this: a request to ``/stage/proxy-value/`` reaches ``/{proxy+}`` with
``proxy=proxy-value`` and ``path=/proxy-value/`` in its event (recorded against AWS in
LocalStack's test ``test_lambda_aws_proxy_integration``). Slashes inside a greedy value are kept.

Paths are matched as given. ``HttpRequest.path`` is already percent-decoded, so the path
parameters come out decoded; decoding them again would corrupt a literal ``%``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ANY = "ANY"

# ANY stands for exactly these methods (same page as above): "all of the supported HTTP methods
# of DELETE, GET, HEAD, OPTIONS, PATCH, POST, and PUT".
ANY_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})

_LITERAL, _PARAM, _GREEDY = 0, 1, 2


@dataclass(frozen=True)
class Route:
    """One REST API resource and the methods set up on it."""

    resource_id: str
    """The resource's id, as ``requestContext.resourceId`` reports it."""
    path: str
    """The path template as API Gateway stores it: ``/``, ``/items/{id}``, ``/{proxy+}``."""
    methods: frozenset[str]
    """Upper-case HTTP methods set up on the resource, possibly including ``ANY``."""


@dataclass(frozen=True)
class RouteMatch:
    """The resource and method a request reached."""

    route: Route
    method_key: str
    """The method entry that matched: the request's own method, or ``ANY``."""
    path_parameters: dict[str, str] | None
    """Values of the template's ``{name}`` and ``{name+}`` segments; None when it has none."""


def match_route(routes: Sequence[Route], method: str, path: str) -> RouteMatch | None:
    """The resource and method a request reaches, or None (AWS: 403 Missing Authentication Token).

    None covers both "no resource has this path" and "the resource has no such method";
    ``explain_no_match`` tells the two apart for logs.
    """
    method = method.upper()
    best: tuple[tuple[int, ...], int, int] | None = None
    found: RouteMatch | None = None
    for order, route in enumerate(routes):
        key = _method_key(route, method)
        if key is None:
            continue
        bound = _bind(route.path, path)
        if bound is None:
            continue
        rank = (bound[0], 0 if key == method else 1, order)
        if best is None or rank < best:
            best = rank
            found = RouteMatch(route, key, bound[1] or None)
    return found


def explain_no_match(routes: Sequence[Route], method: str, path: str) -> str:
    """A short reason, for logs, why ``match_route`` found nothing (or what it found)."""
    method = method.upper()
    hit = match_route(routes, method, path)
    if hit is not None:
        return f"{method} {path} matches {hit.method_key} {hit.route.path}"
    resources = [route for route in routes if _bind(route.path, path) is not None]
    if not resources:
        return f"no resource matches path {path!r}"
    offered = ", ".join(
        f"{route.path} [{' '.join(sorted(route.methods)) or 'no methods'}]" for route in resources
    )
    return f"no method {method} on the resources matching {path!r}: {offered}"


def _method_key(route: Route, method: str) -> str | None:
    if method in route.methods:
        return method
    if ANY in route.methods and method in ANY_METHODS:
        return ANY
    return None


def _bind(template: str, path: str) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """Match one template against a path: (specificity per segment, parameters) or None."""
    wanted = _segments(template)
    given = _segments(path)
    ranks: list[int] = []
    params: dict[str, str] = {}
    for index, part in enumerate(wanted):
        if part.startswith("{") and part.endswith("+}"):
            rest = given[index:]
            # Greedy: one or more segments, and the template ends here (AWS forbids children).
            if not rest or index != len(wanted) - 1:
                return None
            params[part[1:-2]] = "/".join(rest)
            ranks.append(_GREEDY)
            return tuple(ranks), params
        if index >= len(given) or not given[index]:
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = given[index]
            ranks.append(_PARAM)
        elif part == given[index]:
            ranks.append(_LITERAL)
        else:
            return None
    if len(given) != len(wanted):
        return None
    return tuple(ranks), params


def _segments(path: str) -> list[str]:
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []
