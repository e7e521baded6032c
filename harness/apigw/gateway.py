"""The execute-api data plane: find the API, stage and route in moto, call the Lambda proxy.

A request passes through a short chain: parse URL -> find API and stage -> match route ->
build proxy event -> invoke (under the integration timeout) -> map proxy result. Each step's
format work is a pure function in ``urls``, ``routing``, ``http_api`` and ``events``; this module
only reads moto's state and calls Lambda.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.apigw import cors, events, http_api, routing, urls
from harness.config import EmulatorConfig
from harness.errors import AwsError, TooManyRequestsError
from harness.http import HttpRequest, HttpResponse
from harness.iam import may_invoke, refusal_message
from harness.lambda_.service import DeadlinePassed, InvokeRequest, LambdaService, fast_uuid

log = logging.getLogger("harness.apigw")
PRINCIPAL = "apigateway.amazonaws.com"
# REST APIs: "50 milliseconds - 29 seconds" by default; HTTP APIs: 30 s at most, the default
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html,
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html).
REST_INTEGRATION_TIMEOUT_S = 29.0
HTTP_API_INTEGRATION_TIMEOUT_S = 30.0
Mapper = Callable[[bytes], HttpResponse]


@dataclass(frozen=True)
class _Api:
    kind: str  # "rest" or "http"
    api: Any
    region: str
    account_id: str


@dataclass(frozen=True)
class _Answers:
    """What one kind of API answers when its Lambda integration gives no usable response."""

    rejected: Callable[[], HttpResponse]
    """Lambda refused the invocation (throttled, no such function)."""
    failed: Callable[[], HttpResponse]
    """The function ran and failed; its own timeout is such a failure."""
    timed_out: Callable[[], HttpResponse]
    """The integration timeout passed first."""
    malformed: Callable[[events.MalformedProxyResponse], HttpResponse]
    """The function's result is not a proxy response."""


# "If the Lambda API rejects the invocation request, API Gateway returns a 500 error code. If the
# function runs but returns an error, or returns a response in the wrong format, API Gateway
# returns a 502": https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html
# A function that hits its own timeout "runs but returns an error" (Sandbox.Timedout): 502. Only
# the gateway's own integration timeout gives 504 (INTEGRATION_TIMEOUT,
# https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
_REST = _Answers(
    rejected=lambda: events.internal_server_error(500),
    failed=events.internal_server_error,
    timed_out=events.endpoint_timed_out,
    malformed=lambda error: events.internal_server_error(error.status),
)
# HTTP APIs answer every Lambda failure with 500 {"message":"Internal Server Error"}.
_HTTP = _Answers(
    rejected=events.http_api_internal_error,
    failed=events.http_api_internal_error,
    timed_out=events.http_api_service_unavailable,
    malformed=lambda error: events.http_api_internal_error(),
)


@dataclass(frozen=True)
class ApiCall:
    """One request an API answered, as CloudWatch's AWS/ApiGateway metrics count it."""

    kind: str
    """"rest" or "http"."""
    api_id: str
    api_name: str
    stage: str
    account_id: str
    region: str
    status: int
    latency_ms: float
    integration_latency_ms: float | None
    """None when no integration was called (no route, a preflight)."""


@dataclass
class _Measure:
    """Filled in while a request is handled: what the ApiCall needs beyond the response."""

    stage: str = ""
    integration_ms: float | None = None


ApiCallListener = Callable[[ApiCall], None]


@dataclass(frozen=True)
class _Call:
    """One Lambda proxy call: what to invoke, how long to wait, how to read the result."""

    function: str | None
    region: str
    event: dict[str, Any]
    timeout_s: float
    mapper: Mapper
    answers: _Answers
    source_arn: str = ""
    """The execute-api ARN the call is made for, as the function's policy sees it:
    ``arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}{resource path}``, the path
    as the resource or route names it (``/items/{id}``; SAM's permissions write ``/items/*``,
    the console's ``/items/{id}``), or ``{api}/{stage}/$default`` for an HTTP API's $default
    route."""
    account_id: str = ""


class ExecuteApiGateway:
    """Serves execute-api requests for REST APIs (payload 1.0) and HTTP APIs (1.0 or 2.0)."""

    def __init__(self, lambdas: LambdaService, config: EmulatorConfig) -> None:
        self._lambdas = lambdas
        self._config = config
        self._listeners: list[ApiCallListener] = []

    def add_listener(self, listener: ApiCallListener) -> None:
        """``listener(call)`` hears of every request an existing API answered."""
        self._listeners.append(listener)

    def remove_listener(self, listener: ApiCallListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def match(self, host: str, path: str) -> urls.ExecuteApiTarget | None:
        return urls.parse_execute_api(host, path)

    def handle(self, target: urls.ExecuteApiTarget, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        found = self._find_api(target.api_id)
        if found is None:
            return events.missing_authentication_token()
        measure = _Measure(stage=target.stage)
        if found.kind == "rest":
            response = self._rest(found, target, request, measure)
        else:
            response = self._http_api(found, target, request, measure)
        if self._listeners:
            call = ApiCall(found.kind, target.api_id, str(getattr(found.api, "name", "") or ""),
                           measure.stage, found.account_id, found.region, response.status,
                           (time.perf_counter() - started) * 1000, measure.integration_ms)
            for listener in self._listeners:
                listener(call)
        return response

    # -- lookup in moto ------------------------------------------------------------------------
    def _find_api(self, api_id: str) -> _Api | None:
        from moto.apigateway.models import apigateway_backends
        from moto.apigatewayv2.models import apigatewayv2_backends

        sources: tuple[tuple[str, Any], ...] = (("rest", apigateway_backends),
                                                ("http", apigatewayv2_backends))
        for kind, backends in sources:
            for account_id, regions in list(backends.items()):
                for region, backend in list(regions.items()):
                    api = backend.apis.get(api_id)
                    if api is not None:
                        return _Api(kind, api, region, account_id)
        return None

    def _timeout(self, integration_ms: Any, default_s: float) -> float:
        try:
            own = int(integration_ms) / 1000 if integration_ms else default_s
        except (TypeError, ValueError):
            own = default_s
        cap = self._config.gateway.integration_timeout_s
        return own if cap is None else min(own, cap)

    # -- REST APIs -----------------------------------------------------------------------------
    def _rest(self, found: _Api, target: urls.ExecuteApiTarget,
              request: HttpRequest, measure: _Measure) -> HttpResponse:
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
        variables = dict(stage.variables or {})
        # moto keeps a PATCH "add" by its value, so an AWS-style one (value in the path) is "".
        binary_types = tuple(t for t in getattr(found.api, "binaryMediaTypes", None) or () if t)
        event = events.build_rest_event(
            request, target_path=target.path, match=match, stage=target.stage,
            stage_variables=variables, api_id=target.api_id, account_id=found.account_id,
            request_id=fast_uuid(), extended_request_id=_extended_id(),
            now_epoch_ms=int(time.time() * 1000), binary_media_types=binary_types,
        )
        return self._call(_Call(
            function=_function_from_uri(integration.uri, variables), region=found.region,
            event=event, timeout_s=self._timeout(integration.timeout_in_millis,
                                                 REST_INTEGRATION_TIMEOUT_S),
            mapper=_rest_mapper(binary_types, request.header("Accept")), answers=_REST,
            source_arn=_source_arn(found, target.api_id, target.stage,
                                   f"{request.method}{match.route.path}"),
            account_id=found.account_id), measure)

    # -- HTTP APIs (apigatewayv2) --------------------------------------------------------------
    def _http_api(self, found: _Api, target: urls.ExecuteApiTarget,
                  request: HttpRequest, measure: _Measure) -> HttpResponse:
        api = found.api
        choice = http_api.select_stage(list(api.stages), target, request.path)
        if choice is None:
            return events.not_found()
        measure.stage = choice.stage
        routes = [(route_id, route.route_key) for route_id, route in list(api.routes.items())]
        match = http_api.match_route(routes, request.method, choice.path)
        cors_config = cors.CorsConfig.from_api(getattr(api, "cors_configuration", None))
        if match is None and cors_config is not None and cors.is_preflight(request):
            return cors.preflight_response(cors_config, request)
        if match is None:
            log.info("no route of HTTP API %s matches %s %s", target.api_id, request.method,
                     choice.path)
            return events.not_found()
        route = api.routes[match.route_id]
        integration = api.integrations.get(http_api.integration_id(route.target) or "")
        if integration is None or integration.integration_type != "AWS_PROXY":
            log.warning("route %s of HTTP API %s has no AWS_PROXY integration",
                        match.route_key, target.api_id)
            return events.http_api_internal_error()
        variables = dict(api.stages[choice.stage].stage_variables or {})
        # PayloadFormatVersion is required for Lambda integrations; 2.0 is what AWS's console
        # proposes, so it stands in when a control plane left it out.
        version = integration.payload_format_version or "2.0"
        event, mapper = _http_api_event(found, target, request, choice, match, variables,
                                        version)
        response = self._call(_Call(
            function=_function_from_uri(integration.integration_uri, variables),
            region=found.region, event=event,
            timeout_s=self._timeout(integration.timeout_in_millis,
                                    HTTP_API_INTEGRATION_TIMEOUT_S),
            mapper=mapper, answers=_HTTP,
            source_arn=_source_arn(found, target.api_id, choice.stage,
                                   "$default" if match.route_key == http_api.DEFAULT
                                   else f"{request.method}{match.route_path}"),
            account_id=found.account_id), measure)
        return response if cors_config is None else cors.apply(cors_config, request, response)

    # -- the Lambda call -----------------------------------------------------------------------
    def _may_invoke(self, call: _Call, function: str) -> bool:
        """Whether the function's resource-based policy lets API Gateway invoke it; when not,
        AWS answers as when Lambda rejects the call, and its execution log says why."""
        decision = may_invoke(function, PRINCIPAL, call.source_arn, call.account_id,
                              region=call.region)
        if not decision.allowed:
            log.warning("Execution failed due to configuration error: Invalid permissions on "
                        "Lambda function: %s", refusal_message(
                            function, PRINCIPAL, _any_route(call.source_arn), decision,
                            region=call.region))
        return decision.allowed

    def _call(self, call: _Call, measure: _Measure) -> HttpResponse:
        answers = call.answers
        if call.function is None:
            log.warning("the integration names no Lambda function")
            return answers.rejected()
        if self._config.iam.enabled and not self._may_invoke(call, call.function):
            return answers.rejected()
        request = InvokeRequest(function=call.function, payload=json.dumps(call.event).encode(),
                                region=call.region, payload_is_json=True)
        started = time.perf_counter()
        try:
            # Past the integration timeout the answer is a 504; the invocation runs on in the
            # Lambda service until the function ends, and its environment then goes back.
            result = self._lambdas.invoke(request, deadline=started + call.timeout_s)
        except DeadlinePassed:
            log.warning("integration timed out after %.2f s calling %s (the function runs on)",
                        call.timeout_s, call.function)
            return answers.timed_out()
        except TooManyRequestsError as error:
            log.warning("lambda throttled the call to %s: %s", call.function, error.reason)
            return answers.rejected()
        except AwsError as error:
            log.warning("lambda refused the call to %s: %s", call.function, error.message)
            return answers.rejected()
        finally:
            measure.integration_ms = (time.perf_counter() - started) * 1000
        if result.function_error is not None:
            log.warning("function %s failed: %s", call.function, result.payload[:500])
            return answers.failed()
        try:
            return call.mapper(result.payload)
        except events.MalformedProxyResponse as error:
            log.warning("malformed Lambda proxy response from %s: %s", call.function,
                        error.message)
            return answers.malformed(error)


def _extended_id() -> str:
    """16 hex digits, as API Gateway's extendedRequestId; no secrecy needed, so no urandom."""
    return f"{random.getrandbits(64):016x}"


def _source_arn(found: _Api, api_id: str, stage: str, route: str) -> str:
    return f"arn:aws:execute-api:{found.region}:{found.account_id}:{api_id}/{stage}/{route}"


def _any_route(source_arn: str) -> str:
    """The source ARN a permission for every stage, method and path of the API names."""
    api = source_arn.split("/", 1)[0]
    return f"{api}/*"


def _rest_mapper(binary_types: tuple[str, ...], accept: str | None) -> Mapper:
    # An API without binaryMediaTypes keeps the harness default (a base64 body is decoded); one
    # with them follows AWS: decoded only when the Accept header names one of them.
    def mapper(payload: bytes) -> HttpResponse:
        return events.map_rest_response(payload, binary_media_types=binary_types or None,
                                        accept=accept)

    return mapper


def _http_api_event(found: _Api, target: urls.ExecuteApiTarget, request: HttpRequest,
                    choice: http_api.StageChoice, match: http_api.HttpRouteMatch,
                    variables: dict[str, str], version: str) -> tuple[dict[str, Any], Mapper]:
    """The event an HTTP API sends in payload format ``version``, and the mapper of its result.

    Format 1.0 is the REST event plus ``"version": "1.0"``; its result is read as a REST result
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
    """
    request_id = fast_uuid()
    now_ms = int(time.time() * 1000)
    if version != "1.0":
        return events.build_http_api_event(
            request, target_path=choice.path, route_key=match.route_key, stage=choice.stage,
            stage_variables=variables, path_parameters=match.path_parameters,
            api_id=target.api_id, account_id=found.account_id, request_id=request_id,
            now_epoch_ms=now_ms), events.map_http_api_response
    route = routing.Route(match.route_id, match.route_path, frozenset({match.method_key}))
    event = events.build_rest_event(
        request, target_path=choice.path,
        match=routing.RouteMatch(route, match.method_key, match.path_parameters),
        stage=choice.stage, stage_variables=variables, api_id=target.api_id,
        account_id=found.account_id, request_id=request_id,
        extended_request_id=_extended_id(), now_epoch_ms=now_ms)
    if choice.stage == http_api.DEFAULT:  # served at the root: no stage in the path
        event["requestContext"]["path"] = choice.path
    return {"version": "1.0", **event}, events.map_rest_response


def _function_from_uri(uri: str | None, stage_variables: dict[str, str]) -> str | None:
    """The function ARN of an integration URI, with ${stageVariables.x} substituted.

    REST APIs name it inside
    ``arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations``; HTTP APIs
    take that form or the function's ARN itself.
    """
    if not uri:
        return None
    if "/functions/" in uri:
        arn = uri.split("/functions/", 1)[1].rsplit("/invocations", 1)[0]
    elif uri.startswith("arn:") and uri.split(":")[2:3] == ["lambda"]:
        arn = uri
    else:
        return None
    for key, value in stage_variables.items():
        arn = arn.replace("${stageVariables." + key + "}", value)
    return arn
