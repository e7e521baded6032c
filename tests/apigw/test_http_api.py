"""HTTP API stage and route selection, without sockets."""

from __future__ import annotations

import pytest

from harness.apigw.http_api import (
    DEFAULT,
    integration_id,
    match_route,
    parse_route_key,
    select_stage,
)
from harness.apigw.urls import parse_execute_api

ROUTES = [("r1", "GET /items/{id}"), ("r2", "GET /items/special"), ("r3", "ANY /{proxy+}"),
          ("r4", "POST /items/{id}")]


def stage_of(stages, path):
    target = parse_execute_api(None, "/_aws/execute-api/api" + path)
    return select_stage(stages, target, "/_aws/execute-api/api" + path)


@pytest.mark.parametrize(("stages", "path", "expected"), [
    ({"prod"}, "/prod/items/1", ("prod", "/items/1")),
    ({"prod", DEFAULT}, "/prod/items/1", ("prod", "/items/1")),
    ({DEFAULT}, "/items/1", (DEFAULT, "/items/1")),
    ({DEFAULT}, "/items", (DEFAULT, "/items")),
    ({DEFAULT}, "/items/", (DEFAULT, "/items/")),
    ({DEFAULT}, "/", (DEFAULT, "/")),
    ({DEFAULT, "prod"}, "/dev/x", (DEFAULT, "/dev/x")),
    ({DEFAULT}, "/$default/x", (DEFAULT, "/x")),
    ({"prod"}, "/dev/x", None),
])
def test_explicit_stage_wins_else_default_stage_gets_the_whole_path(stages, path, expected):
    choice = stage_of(stages, path)
    assert (None if choice is None else (choice.stage, choice.path)) == expected


@pytest.mark.parametrize(("method", "path", "route_id", "params"), [
    ("GET", "/items/special", "r2", None),  # a literal beats a variable
    ("GET", "/items/7", "r1", {"id": "7"}),
    ("POST", "/items/7", "r4", {"id": "7"}),
    ("DELETE", "/items/7", "r3", {"proxy": "items/7"}),  # falls through to ANY greedy
    ("GET", "/a/b/c", "r3", {"proxy": "a/b/c"}),
])
def test_most_specific_route_wins(method, path, route_id, params):
    found = match_route(ROUTES, method, path)
    assert found is not None
    assert (found.route_id, found.path_parameters) == (route_id, params)


def test_default_route_catches_what_no_route_matches():
    routes = [("a", "GET /only"), ("d", "$default")]
    found = match_route(routes, "PUT", "/else/where")
    assert found is not None
    assert (found.route_id, found.route_key, found.path_parameters) == ("d", DEFAULT, None)
    assert match_route([("a", "GET /only")], "PUT", "/else/where") is None


def test_route_keys_and_targets():
    assert parse_route_key("GET /items/{id}") == ("GET", "/items/{id}")
    assert parse_route_key("any /x") == ("ANY", "/x")
    assert parse_route_key(DEFAULT) is None
    assert parse_route_key("GET items") is None
    assert integration_id("integrations/abc123") == "abc123"
    assert integration_id(None) is None
    assert integration_id("arn:aws:lambda:...") is None
