"""The execute-api URL forms: which requests are execute-api calls, and how they split up."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.apigw.urls import ExecuteApiTarget, execute_api_target, parse_execute_api
from harness.http import HttpRequest

API_IDS = st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True)
STAGES = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
SEGMENTS = st.lists(st.text(st.characters(codec="utf-8", exclude_characters="/"),
                            min_size=1, max_size=8), max_size=5)


@pytest.mark.parametrize("host", [
    "abc123.execute-api.localhost.localstack.cloud:4566",
    "abc123.execute-api.localhost.localstack.cloud",
    "abc123.execute-api.localhost:4566",
    "abc123.execute-api.localhost",
    "abc123.execute-api.us-east-1.amazonaws.com",
    "abc123.execute-api.eu-west-2.amazonaws.com:443",
    "ABC123.EXECUTE-API.LOCALHOST.LOCALSTACK.CLOUD:4566",
])
def test_host_form_names_api_and_stage(host: str) -> None:
    target = parse_execute_api(host, "/prod/predict")
    assert target is not None
    assert target.api_id.lower() == "abc123"
    assert (target.stage, target.path) == ("prod", "/predict")


def test_aws_path_form() -> None:
    assert parse_execute_api("localhost:4566", "/_aws/execute-api/abc/dev/items/7") == \
        ExecuteApiTarget("abc", "dev", "/items/7")


def test_user_request_path_form() -> None:
    assert parse_execute_api("localhost:4566", "/restapis/abc/dev/_user_request_/items/7") == \
        ExecuteApiTarget("abc", "dev", "/items/7")


@pytest.mark.parametrize("path", [
    "/restapis/abc/resources",
    "/restapis/abc/resources/xyz/methods/GET",
    "/restapis/abc/deployments",
    "/restapis/abc/stages/dev",
    "/restapis",
    "/restapis/",
    "/restapis/abc",
    "/restapis/abc/dev/not_user_request/x",
    "/restapis//dev/_user_request_/x",
])
def test_control_plane_calls_are_not_execute_api(path: str) -> None:
    assert parse_execute_api("localhost:4566", path) is None


@pytest.mark.parametrize(("host", "path"), [
    ("localhost:4566", "/prod/predict"),
    ("localhost:4566", "/"),
    ("s3.localhost.localstack.cloud:4566", "/bucket/key"),
    ("bucket.s3.localhost.localstack.cloud:4566", "/key"),
    ("localhost.localstack.cloud:4566", "/abc/dev"),
    ("execute-api.localhost:4566", "/dev/x"),
    ("abc.execute-api.example.com", "/dev/x"),
    (None, "/2015-03-31/functions/f/invocations"),
    ("localhost:4566", "/_aws/execute-api/"),
    ("localhost:4566", "/_aws/execute-api"),
])
def test_other_requests_are_not_execute_api(host: str | None, path: str) -> None:
    assert parse_execute_api(host, path) is None


@pytest.mark.parametrize(("path", "expected"), [
    ("/prod", "/"),
    ("/prod/", "/"),
    ("/prod/a", "/a"),
    ("/prod/a/", "/a/"),
    ("/prod/a/b//c", "/a/b//c"),
])
def test_path_starts_with_slash_and_keeps_trailing_slash(path: str, expected: str) -> None:
    target = parse_execute_api("abc.execute-api.localhost", path)
    assert target is not None
    assert target.path == expected


@pytest.mark.parametrize("path", [
    "/_aws/execute-api/abc/prod/a/",
    "/restapis/abc/prod/_user_request_/a/",
])
def test_path_forms_keep_trailing_slash(path: str) -> None:
    target = parse_execute_api("localhost", path)
    assert target is not None
    assert target.path == "/a/"


@pytest.mark.parametrize("path", [
    "/restapis/abc/prod/_user_request_",
    "/restapis/abc/prod/_user_request_/",
    "/_aws/execute-api/abc/prod",
    "/_aws/execute-api/abc/prod/",
])
def test_empty_path_below_stage_is_root(path: str) -> None:
    target = parse_execute_api(None, path)
    assert target == ExecuteApiTarget("abc", "prod", "/")


@pytest.mark.parametrize(("host", "path"), [
    ("abc.execute-api.localhost", "/"),
    ("abc.execute-api.localhost", ""),
    (None, "/_aws/execute-api/abc"),
    (None, "/_aws/execute-api/abc/"),
])
def test_url_without_stage_gives_empty_stage(host: str | None, path: str) -> None:
    assert parse_execute_api(host, path) == ExecuteApiTarget("abc", "", "/")


def test_host_form_wins_over_path_forms() -> None:
    target = parse_execute_api("abc.execute-api.localhost", "/_aws/execute-api/other/dev/x")
    assert target == ExecuteApiTarget("abc", "_aws", "/execute-api/other/dev/x")


def test_execute_api_target_reads_host_header_case_insensitively() -> None:
    request = HttpRequest("GET", "/dev/x", headers=(("host", "abc.execute-api.localhost:4566"),))
    assert execute_api_target(request) == ExecuteApiTarget("abc", "dev", "/x")


def test_execute_api_target_without_host_uses_path_forms() -> None:
    request = HttpRequest("GET", "/_aws/execute-api/abc/dev/x")
    assert execute_api_target(request) == ExecuteApiTarget("abc", "dev", "/x")


def _path(segments: list[str], trailing: bool) -> str:
    below = "/".join(segments)
    return "/" + below + ("/" if trailing and below else "")


@given(api_id=API_IDS, stage=STAGES, segments=SEGMENTS, trailing=st.booleans())
def test_every_form_gives_the_same_target(api_id: str, stage: str, segments: list[str],
                                          trailing: bool) -> None:
    below = _path(segments, trailing)
    expected = ExecuteApiTarget(api_id, stage, below)
    suffix = below if below != "/" else ""
    assert parse_execute_api(f"{api_id}.execute-api.localhost.localstack.cloud:4566",
                             f"/{stage}{suffix}") == expected
    assert parse_execute_api("localhost:4566", f"/_aws/execute-api/{api_id}/{stage}{suffix}") == \
        expected
    assert parse_execute_api(
        "localhost:4566", f"/restapis/{api_id}/{stage}/_user_request_{suffix}") == expected


@given(host=st.one_of(st.none(), st.text(max_size=40)), path=st.text(max_size=60))
def test_result_path_always_starts_with_slash(host: str | None, path: str) -> None:
    target = parse_execute_api(host, path)
    if target is not None:
        assert target.path.startswith("/")
        assert target.api_id
