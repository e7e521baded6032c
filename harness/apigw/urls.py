"""Recognise the execute-api URL forms LocalStack users already call, and split them up.

Three forms name an API, a stage and the path below the stage:

1. host ``{apiId}.execute-api.localhost.localstack.cloud[:port]`` (also ``….execute-api.localhost``
   and ``….execute-api.{region}.amazonaws.com``), path ``/{stage}/{path…}``;
2. path ``/_aws/execute-api/{apiId}/{stage}/{path…}`` on any host;
3. path ``/restapis/{apiId}/{stage}/_user_request_/{path…}`` on any host.

A URL that names an API but no stage gives ``stage == ""``: the caller answers it as AWS answers
a request for an unknown stage (403 Missing Authentication Token).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from harness.http import HttpRequest

# The default endpoint is {api-id}.execute-api.{region}.amazonaws.com:
# https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html
# The two localhost spellings are LocalStack's, which users' scripts already use.
_HOST = re.compile(
    r"^(?P<api_id>[A-Za-z0-9_-]+)\.execute-api\."
    r"(?:localhost\.localstack\.cloud|localhost|[a-z0-9-]+\.amazonaws\.com(?:\.cn)?)"
    r"(?::\d+)?\.?$",
    re.IGNORECASE,
)
_AWS_PREFIX = "/_aws/execute-api/"
_RESTAPIS_PREFIX = "/restapis/"
_USER_REQUEST = "_user_request_"
# An execute-api URL as CloudFormation outputs give it: AWS's host form.
_AWS_API_URL = re.compile(r"^https://(?P<api>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)"
                          r"\.amazonaws\.com/(?P<stage>[^/]+)(?P<path>/.*)?$")


@dataclass(frozen=True)
class ExecuteApiTarget:
    """Which API and stage a request is for, and the path below the stage."""

    api_id: str
    """The REST or HTTP API's id."""
    stage: str
    """The stage name; empty when the URL names none."""
    path: str
    """The path after the stage: starts with ``/`` (``/`` when empty), trailing slash kept."""


def parse_execute_api(host: str | None, path: str) -> ExecuteApiTarget | None:
    """The execute-api target of a request to ``host`` and ``path``, or None if it is not one.

    ``path`` is the request path without its query string. Host-style URLs win over the two
    path-style forms, because the host alone names the API.
    """
    if host:
        found = _HOST.match(host.strip())
        if found:
            return _split_stage(found.group("api_id"), path.lstrip("/"))
    if path.startswith(_AWS_PREFIX):
        return _from_aws_path(path[len(_AWS_PREFIX):])
    if path.startswith(_RESTAPIS_PREFIX):
        return _from_user_request_path(path[len(_RESTAPIS_PREFIX):])
    return None


def execute_api_target(request: HttpRequest) -> ExecuteApiTarget | None:
    """``parse_execute_api`` applied to a request's ``Host`` header and path."""
    return parse_execute_api(request.header("Host"), request.path)


def _from_aws_path(rest: str) -> ExecuteApiTarget | None:
    api_id, _, after_api = rest.partition("/")
    if not api_id:
        return None
    return _split_stage(api_id, after_api)


def _from_user_request_path(rest: str) -> ExecuteApiTarget | None:
    # Only /restapis/{id}/{stage}/_user_request_/... is a data-plane call; everything else under
    # /restapis/ (resources, deployments, stages, ...) is the control plane and stays with moto.
    parts = rest.split("/", 3)
    if len(parts) < 3 or parts[2] != _USER_REQUEST or not parts[0] or not parts[1]:
        return None
    below = parts[3] if len(parts) == 4 else ""
    return ExecuteApiTarget(api_id=parts[0], stage=parts[1], path=_as_path(below))


def _split_stage(api_id: str, after_api: str) -> ExecuteApiTarget:
    stage, _, below = after_api.partition("/")
    return ExecuteApiTarget(api_id=api_id, stage=stage, path=_as_path(below))


def _as_path(below: str) -> str:
    return "/" + below


def execute_api_url(served_by: str, api_id: str, stage: str, region: str, path: str) -> str:
    """The URL API Gateway serves ``path`` of ``stage`` at: AWS's host form on AWS, the
    emulator's ``/_aws/execute-api/`` form elsewhere. ``$default`` has no stage segment."""
    below = "/" + path.lstrip("/")
    staged = below if stage == "$default" else f"/{stage}{below}"
    host = urlsplit(served_by).hostname or ""
    if host.endswith((".amazonaws.com", ".amazonaws.com.cn")):
        return f"https://{api_id}.execute-api.{region}.amazonaws.com{staged}"
    return f"{served_by.rstrip('/')}/_aws/execute-api/{api_id}{staged}"


def reachable(value: str, served_by: str) -> str:
    """An output that is an execute-api URL, as the endpoint serving API Gateway serves it
    (unchanged on AWS, and for any other value)."""
    match = _AWS_API_URL.match(value)
    if match is None:
        return value
    return execute_api_url(served_by, match.group("api"), match.group("stage"),
                           match.group("region"), match.group("path") or "/")
