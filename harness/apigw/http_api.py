"""Which stage and route of an HTTP API (apigatewayv2) a request reaches; pure functions.

AWS's rules (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html,
"Routing API requests"): "If the request explicitly matches a stage, API Gateway sends the
request to that stage. If no stage fully matches the request, API Gateway sends the request to
the $default stage. If there's no $default stage, then the API returns {"message":"Not Found"}".
Then the most specific route wins: a full match, then a path variable, then a greedy
``{proxy+}``, then the ``$default`` route; with no route either, ``{"message":"Not Found"}``.
Specificity per segment is the REST rule, so ``harness.apigw.routing`` does the matching.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from harness.apigw import routing
from harness.apigw.urls import ExecuteApiTarget

DEFAULT = "$default"


@dataclass(frozen=True)
class StageChoice:
    """The stage a request reaches and its path below the stage."""

    stage: str
    path: str
    """Starts with ``/``; for the ``$default`` stage it is the whole path after the host."""


@dataclass(frozen=True)
class HttpRouteMatch:
    """The route a request reached."""

    route_id: str
    route_key: str
    """``GET /items/{id}``, ``ANY /{proxy+}`` or ``$default``."""
    route_path: str
    """The route's path template; ``$default`` for the ``$default`` route."""
    method_key: str
    """The request's method, or ``ANY``; for the ``$default`` route the request's method."""
    path_parameters: dict[str, str] | None


def select_stage(stages: Collection[str], target: ExecuteApiTarget,
                 request_path: str) -> StageChoice | None:
    """The stage of ``stages`` (names) that serves ``target``, or None (404 Not Found).

    ``request_path`` is the raw request path; it tells ``/items`` from ``/items/`` when the
    first segment turns out not to be a stage after all. A URL that spells out ``$default`` as
    its stage reaches that stage too: the ``/restapis/{id}/{stage}/_user_request_/`` form has no
    other way to name it (on AWS the segment would be part of the path).
    """
    if target.stage and target.stage in stages:
        return StageChoice(target.stage, target.path)
    if DEFAULT not in stages:
        return None
    if not target.stage:
        return StageChoice(DEFAULT, target.path)
    below = target.path
    if below == "/" and not request_path.endswith("/"):
        below = ""
    return StageChoice(DEFAULT, f"/{target.stage}{below}")


def parse_route_key(route_key: str) -> tuple[str, str] | None:
    """(METHOD, path) of ``GET /items/{id}``; None for ``$default`` or a malformed key."""
    method, _, path = route_key.strip().partition(" ")
    if not method or not path.startswith("/"):
        return None
    return method.upper(), path.strip()


def match_route(routes: Sequence[tuple[str, str]], method: str,
                path: str) -> HttpRouteMatch | None:
    """The route of ``routes`` ((route id, route key) pairs) a request reaches, or None."""
    candidates = []
    keys = {}
    for route_id, route_key in routes:
        parsed = parse_route_key(route_key)
        if parsed is not None:
            candidates.append(routing.Route(route_id, parsed[1], frozenset({parsed[0]})))
            keys[route_id] = route_key
    found = routing.match_route(candidates, method, path)
    if found is not None:
        return HttpRouteMatch(found.route.resource_id, keys[found.route.resource_id],
                              found.route.path, found.method_key, found.path_parameters)
    for route_id, route_key in routes:
        if route_key.strip() == DEFAULT:
            return HttpRouteMatch(route_id, DEFAULT, DEFAULT, method.upper(), None)
    return None


def integration_id(target: str | None) -> str | None:
    """The integration id of a route target, ``integrations/{id}``."""
    if not target or not target.startswith("integrations/"):
        return None
    return target.split("/", 1)[1] or None
