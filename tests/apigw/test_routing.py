"""REST API resource matching with API Gateway's precedence."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from harness.apigw.routing import ANY_METHODS, Route, explain_no_match, match_route


def route(path: str, *methods: str, resource_id: str | None = None) -> Route:
    return Route(resource_id or f"id:{path}", path, frozenset(methods))


def matched_path(routes: list[Route], method: str, path: str) -> str | None:
    found = match_route(routes, method, path)
    return None if found is None else found.route.path


API = [
    route("/", "GET"),
    route("/predict", "POST"),
    route("/items", "GET", "POST"),
    route("/items/{id}", "GET", "DELETE"),
    route("/items/{id}/parts/{part}", "GET"),
    route("/items/special", "GET"),
    route("/files/{proxy+}", "ANY"),
    route("/{proxy+}", "ANY"),
]


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("GET", "/", "/"),
    ("POST", "/predict", "/predict"),
    ("GET", "/items", "/items"),
    ("GET", "/items/7", "/items/{id}"),
    ("GET", "/items/special", "/items/special"),
    ("GET", "/items/7/parts/3", "/items/{id}/parts/{part}"),
    ("GET", "/files/a", "/files/{proxy+}"),
    ("GET", "/files/a/b/c.txt", "/files/{proxy+}"),
    ("GET", "/anything/else", "/{proxy+}"),
    ("GET", "/predict/extra", "/{proxy+}"),
])
def test_most_specific_resource_wins(method: str, path: str, expected: str) -> None:
    assert matched_path(API, method, path) == expected


def test_literal_beats_param_beats_greedy_in_any_order() -> None:
    routes = [route("/{proxy+}", "GET"), route("/a/{x}", "GET"), route("/a/b", "GET")]
    for ordering in (routes, routes[::-1], [routes[1], routes[2], routes[0]]):
        assert matched_path(ordering, "GET", "/a/b") == "/a/b"
        assert matched_path(ordering, "GET", "/a/c") == "/a/{x}"
        assert matched_path(ordering, "GET", "/a/c/d") == "/{proxy+}"


def test_first_differing_segment_decides() -> None:
    routes = [route("/{x}/b", "GET"), route("/a/{y}", "GET")]
    assert matched_path(routes, "GET", "/a/b") == "/a/{y}"


def test_falls_back_when_the_specific_branch_dead_ends() -> None:
    routes = [route("/a/{x}/c", "GET"), route("/{y}/b/d", "GET")]
    assert matched_path(routes, "GET", "/a/b/d") == "/{y}/b/d"


def test_concrete_method_beats_any_on_one_resource() -> None:
    found = match_route([route("/x", "ANY", "GET")], "GET", "/x")
    assert found is not None
    assert found.method_key == "GET"
    found = match_route([route("/x", "ANY", "GET")], "PUT", "/x")
    assert found is not None
    assert found.method_key == "ANY"


def test_method_missing_on_specific_resource_falls_through_to_generic_one() -> None:
    found = match_route(API, "POST", "/items/7")
    assert found is not None
    assert (found.route.path, found.method_key) == ("/{proxy+}", "ANY")


def test_more_specific_resource_wins_even_with_any_over_concrete() -> None:
    routes = [route("/{proxy+}", "GET"), route("/items/{id}", "ANY")]
    found = match_route(routes, "GET", "/items/1")
    assert found is not None
    assert (found.route.path, found.method_key) == ("/items/{id}", "ANY")


@pytest.mark.parametrize("method", sorted(ANY_METHODS))
def test_any_covers_the_seven_methods(method: str) -> None:
    found = match_route([route("/x", "ANY")], method, "/x")
    assert found is not None
    assert found.method_key == "ANY"


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND"])
def test_any_does_not_cover_other_methods(method: str) -> None:
    assert match_route([route("/x", "ANY")], method, "/x") is None


def test_method_is_matched_without_regard_to_case() -> None:
    found = match_route([route("/x", "GET")], "get", "/x")
    assert found is not None
    assert found.method_key == "GET"


def test_greedy_at_root_needs_at_least_one_segment() -> None:
    routes = [route("/{proxy+}", "ANY")]
    assert match_route(routes, "GET", "/") is None
    found = match_route(routes, "GET", "/a")
    assert found is not None
    assert found.path_parameters == {"proxy": "a"}


def test_greedy_needs_a_segment_below_its_parent() -> None:
    routes = [route("/files/{proxy+}", "ANY")]
    assert match_route(routes, "GET", "/files") is None
    assert match_route(routes, "GET", "/files/") is None


def test_greedy_keeps_inner_slashes() -> None:
    found = match_route([route("/{proxy+}", "ANY")], "GET", "/proxy-value//double-slash")
    assert found is not None
    assert found.path_parameters == {"proxy": "proxy-value//double-slash"}


@pytest.mark.parametrize("path", ["/items/7/", "//items/7", "/items/7//"])
def test_leading_and_trailing_slashes_are_ignored(path: str) -> None:
    found = match_route(API, "GET", path)
    assert found is not None
    assert found.route.path == "/items/{id}"
    assert found.path_parameters == {"id": "7"}


def test_trailing_slash_is_dropped_from_greedy_value() -> None:
    found = match_route([route("/{proxy+}", "ANY")], "GET", "/proxy-value/")
    assert found is not None
    assert found.path_parameters == {"proxy": "proxy-value"}


def test_root_matches_empty_and_slash() -> None:
    assert matched_path([route("/", "GET")], "GET", "/") == "/"
    assert matched_path([route("/", "GET")], "GET", "") == "/"


def test_matching_is_case_sensitive() -> None:
    assert match_route([route("/Items", "GET")], "GET", "/items") is None


def test_param_does_not_match_an_empty_segment() -> None:
    assert match_route([route("/a/{x}/b", "GET")], "GET", "/a//b") is None


def test_params_come_out_as_given_in_the_decoded_path() -> None:
    found = match_route([route("/users/{email}", "GET")], "GET", "/users/a b+c@d.e%41")
    assert found is not None
    assert found.path_parameters == {"email": "a b+c@d.e%41"}


def test_no_parameters_gives_none() -> None:
    found = match_route([route("/x", "GET")], "GET", "/x")
    assert found is not None
    assert found.path_parameters is None


def test_resource_id_travels_with_the_match() -> None:
    found = match_route([route("/x", "GET", resource_id="abc123")], "GET", "/x")
    assert found is not None
    assert found.route.resource_id == "abc123"


def test_no_routes_no_match() -> None:
    assert match_route([], "GET", "/") is None


def test_explain_names_a_missing_resource() -> None:
    assert match_route(API[:3], "GET", "/nothing") is None
    assert explain_no_match(API[:3], "GET", "/nothing") == "no resource matches path '/nothing'"


def test_explain_names_a_missing_method_and_what_exists() -> None:
    routes = [route("/items/{id}", "GET", "DELETE")]
    assert match_route(routes, "PATCH", "/items/1") is None
    reason = explain_no_match(routes, "PATCH", "/items/1")
    assert "no method PATCH" in reason
    assert "/items/{id} [DELETE GET]" in reason


def test_explain_reports_a_match_when_there_is_one() -> None:
    assert explain_no_match(API, "GET", "/items/1") == "GET /items/1 matches GET /items/{id}"


# --- properties ---------------------------------------------------------------------------------

LITERALS = st.from_regex(r"[A-Za-z0-9._~-]{1,8}", fullmatch=True)
NAMES = st.from_regex(r"[a-z][A-Za-z0-9_]{0,6}", fullmatch=True)
VALUES = st.text(st.characters(codec="utf-8", exclude_characters="/"),
                 min_size=1, max_size=10)


@st.composite
def template_and_request(draw: st.DrawFn) -> tuple[str, str, dict[str, str]]:
    """A resource template, a path built from it, and the parameter values used."""
    kinds = draw(st.lists(st.sampled_from(["literal", "param"]), max_size=5))
    greedy = draw(st.booleans())
    names = draw(st.lists(NAMES, min_size=len(kinds) + 1, max_size=len(kinds) + 1, unique=True))
    template_parts: list[str] = []
    path_parts: list[str] = []
    values: dict[str, str] = {}
    for kind, name in zip(kinds, names, strict=False):
        if kind == "literal":
            literal = draw(LITERALS)
            template_parts.append(literal)
            path_parts.append(literal)
        else:
            values[name] = draw(VALUES)
            template_parts.append("{" + name + "}")
            path_parts.append(values[name])
    if greedy:
        segments = draw(st.lists(VALUES, min_size=1, max_size=4))
        values[names[-1]] = "/".join(segments)
        template_parts.append("{" + names[-1] + "+}")
        path_parts.extend(segments)
    return "/" + "/".join(template_parts), "/" + "/".join(path_parts), values


@given(case=template_and_request(), trailing=st.booleans(), method=st.sampled_from(["GET", "POST"]))
def test_path_built_from_template_matches_it_with_its_values(
    case: tuple[str, str, dict[str, str]], trailing: bool, method: str
) -> None:
    template, path, values = case
    found = match_route([route(template, "ANY")], method, path + ("/" if trailing else ""))
    assert found is not None
    assert found.route.path == template
    assert found.path_parameters == (values or None)


@given(case=template_and_request())
def test_exact_template_beats_root_proxy(case: tuple[str, str, dict[str, str]]) -> None:
    template, path, _ = case
    # A greedy parameter straight under the root would tie with /{proxy+} itself.
    assume(not (template.startswith("/{") and template.endswith("+}") and template.count("/") == 1))
    routes = [route("/{proxy+}", "ANY"), route(template, "ANY")]
    assert matched_path(routes, "GET", path) == template


@given(method=st.sampled_from(sorted(ANY_METHODS)), path=st.text(max_size=30))
def test_explain_agrees_with_match(method: str, path: str) -> None:
    reason = explain_no_match(API, method, path)
    assert (match_route(API, method, path) is None) != reason.startswith(f"{method} ")
