"""The execute-api data plane: find the API, stage and route in moto, call the Lambda proxy.

A request passes through a short chain: parse URL -> find API and stage -> match route ->
build proxy event -> invoke -> map proxy result. Each step's format work is a pure function in
``urls``, ``routing`` and ``events``; this module only reads moto's state and calls Lambda.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from harness.apigw import events, routing, urls
from harness.config import EmulatorConfig
from harness.errors import AwsError, TooManyRequestsError
from harness.http import HttpRequest, HttpResponse
from harness.lambda_.service import InvokeRequest, LambdaService

log = logging.getLogger("harness.apigw")
INTEGRATION_TIMEOUT_S = 29.0  # REST API integration timeout (default and maximum)


@dataclass(frozen=True)
class _Api:
    kind: str  # "rest" or "http"
    api: Any
    region: str
    account_id: str


class ExecuteApiGateway:
    """Serves execute-api requests for REST APIs (payload 1.0) and HTTP APIs (2.0)."""

    def __init__(self, lambdas: LambdaService, config: EmulatorConfig) -> None:
        self._lambdas = lambdas
        self._config = config

    def match(self, host: str, path: str) -> urls.ExecuteApiTarget | None:
        return urls.parse_execute_api(host, path)

    def handle(self, target: urls.ExecuteApiTarget, request: HttpRequest) -> HttpResponse:
        found = self._find_api(target.api_id)
        if found is None:
            return events.missing_authentication_token()
        if found.kind == "rest":
            return self._rest(found, target, request)
        return self._http_api(found, target, request)

    # -- lookup in moto ------------------------------------------------------------------------
    def _find_api(self, api_id: str) -> _Api | None:
        from moto.apigateway.models import apigateway_backends
        from moto.apigatewayv2.models import apigatewayv2_backends

        for kind, backends in (("rest", apigateway_backends), ("http", apigatewayv2_backends)):
            for account_id, regions in list(backends.items()):
                for region, backend in list(regions.items()):
                    api = backend.apis.get(api_id)
                    if api is not None:
                        return _Api(kind, api, region, account_id)
        return None

    # -- REST APIs -----------------------------------------------------------------------------
    def _rest(self, found: _Api, target: urls.ExecuteApiTarget,
              request: HttpRequest) -> HttpResponse:
        stage = found.api.stages.get(target.stage)
        if stage is None:
            return events.missing_authentication_token()
        routes = [routing.Route(rid, res.get_path(), frozenset(res.resource_methods))
                  for rid, res in list(found.api.resources.items())]
        match = routing.match_route(routes, request.method, target.path)
        if match is None:
            log.info("no route: %s", routing.explain_no_match(routes, request.method, target.path))
            return events.missing_authentication_token()
        method = found.api.resources[match.route.resource_id].resource_methods[match.method_key]
        integration = method.method_integration
        if integration is None or integration.integration_type not in ("AWS_PROXY",):
            log.warning("route %s %s has no AWS_PROXY integration", match.method_key,
                        match.route.path)
            return events.internal_server_error()
        request_id = str(uuid.uuid4())
        event = events.build_rest_event(
            request, target_path=target.path, match=match, stage=target.stage,
            stage_variables=dict(stage.variables or {}), api_id=target.api_id,
            account_id=found.account_id, request_id=request_id,
            extended_request_id=uuid.uuid4().hex[:16], now_epoch_ms=int(time.time() * 1000),
            binary_media_types=tuple(getattr(found.api, "binaryMediaTypes", None) or ()),
        )
        function = _function_from_uri(integration.uri, dict(stage.variables or {}))
        return self._call(function, found.region, event, events.map_rest_response)

    # -- HTTP APIs (apigatewayv2) --------------------------------------------------------------
    def _http_api(self, found: _Api, target: urls.ExecuteApiTarget,
                  request: HttpRequest) -> HttpResponse:
        return events.missing_authentication_token()

    # -- the Lambda call -----------------------------------------------------------------------
    def _call(self, function: str | None, region: str, event: dict[str, Any],
              mapper: Any) -> HttpResponse:
        if function is None:
            return events.internal_server_error()
        try:
            result = self._lambdas.invoke(InvokeRequest(
                function=function, payload=json.dumps(event).encode(), region=region))
        except TooManyRequestsError:
            # "If the Lambda API rejects the invocation request, API Gateway returns a 500":
            # https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html
            return events.internal_server_error(500)
        except AwsError as error:
            log.warning("lambda invoke for %s failed: %s", function, error.message)
            return events.internal_server_error()
        if result.function_error is not None:
            if result.record is not None and result.record.error_type == "Sandbox.Timedout":
                return events.endpoint_timed_out()
            log.warning("function %s failed: %s", function, result.payload[:500])
            return events.internal_server_error()
        try:
            return mapper(result.payload)
        except events.MalformedProxyResponse as error:
            log.warning("malformed Lambda proxy response from %s: %s", function, error.message)
            return events.internal_server_error(error.status)


def _function_from_uri(uri: str | None, stage_variables: dict[str, str]) -> str | None:
    """The function ARN inside an integration URI, with ${stageVariables.x} substituted.

    arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations
    """
    if not uri or "/functions/" not in uri:
        return None
    arn = uri.split("/functions/", 1)[1].rsplit("/invocations", 1)[0]
    for key, value in stage_variables.items():
        arn = arn.replace("${stageVariables." + key + "}", value)
    return arn
