"""The OpenAPI descriptions the harness ships are valid OpenAPI 3 and name what it serves."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from harness.emulator.openapi import emulator_openapi, runtime_api_openapi
from harness.lambda_.runtime_api import API_PREFIX


@pytest.mark.parametrize("build", [emulator_openapi, runtime_api_openapi])
def test_the_descriptions_are_valid_openapi(build):
    validate(build())


def test_the_emulator_description_names_its_own_routes_and_invoke():
    paths = emulator_openapi()["paths"]
    assert {"/_harness/health", "/_harness/openapi.json", "/_harness/faults", "/_harness/reset",
            "/2015-03-31/functions/{FunctionName}/invocations"} <= set(paths)


def test_the_runtime_api_description_is_relative_to_its_version():
    document = runtime_api_openapi()
    base = document["servers"][0]["url"]
    assert {base + path for path in document["paths"]} == {
        f"{API_PREFIX}/init/error", f"{API_PREFIX}/invocation/next",
        f"{API_PREFIX}/invocation/{{AwsRequestId}}/response",
        f"{API_PREFIX}/invocation/{{AwsRequestId}}/error"}
