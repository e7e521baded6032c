"""The emulator's WSGI app: health, Lambda Invoke, function URLs and execute-api here; the rest
goes to moto."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from harness.aws_state.cloudformation import account_for
from harness.clock import Clock
from harness.emulator.errors import lambda_error_response
from harness.emulator.lambda_routes import (
    handle_invoke,
    handle_recursion_config,
    match_invoke,
    match_recursion_config,
    upload_refusal,
)
from harness.emulator.openapi import OPENAPI_PATH, emulator_openapi
from harness.emulator.wsgi import StartResponse, WsgiEnviron, read_body, region_of, send, to_request
from harness.errors import AccessDeniedError, AwsError, UsageError
from harness.faults import FaultInjector, parse_rules
from harness.faults import s3 as s3_faults
from harness.http import HttpResponse
from harness.http_guard import Refusal, RequestGuard
from harness.lambda_.service import LambdaService

MAX_INVOKE_BODY = 6 * 1024 * 1024 + 64 * 1024
MAX_EXECUTE_API_BODY = 10 * 1024 * 1024
HEALTH_PATHS = ("/_harness/health", "/_localstack/health")
OWN_PREFIXES = ("/_harness/", "/_localstack/")
MAX_OWN_BODY = 1024 * 1024
SERVICES = ("s3", "lambda", "apigateway", "iam", "sts", "logs", "cloudformation")
log = logging.getLogger("harness.emulator")


def refusal_response(refused: Refusal, environ: WsgiEnviron) -> HttpResponse:
    """A refusal in the shape the caller's SDK reads its message from: S3's XML error, the
    query APIs' (IAM, STS) XML error, else JSON as the REST-JSON and JSON APIs answer."""
    code = "AccessDenied" if refused.status == 403 else "InvalidRequest"
    message = escape(refused.message)
    if s3_faults.signed_service(environ.get("HTTP_AUTHORIZATION", "")) == "s3":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    elif environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                f"<Message>{message}</Message></Error></ErrorResponse>")
    else:
        return HttpResponse.json(refused.status, {"message": refused.message},
                                 (("x-amzn-ErrorType", f"{code}Exception"),))
    return HttpResponse(refused.status, (("Content-Type", "application/xml"),), body.encode())


class InvokeGuard(Protocol):
    """What the app needs from IAM (harness.iam.room.Iam) to check an Invoke."""

    def refuse_invoke(self, authorization: str, function: str, qualifier: str | None,
                      region: str | None, source_ip: str = "127.0.0.1") -> str | None: ...


class ExecuteApi(Protocol):
    """What the app needs from the API Gateway data plane (see harness.apigw.gateway)."""

    def match(self, host: str, path: str) -> Any: ...
    def handle(self, target: Any, request: Any) -> HttpResponse: ...


class FunctionUrlServer(Protocol):
    """What the app needs from the function URLs (see harness.triggers.function_urls)."""

    def match(self, host: str | None) -> Any: ...
    def handle(self, target: Any, request: Any, raw_target: str) -> HttpResponse: ...
    def too_large(self) -> HttpResponse: ...


MotoShortcut = Callable[[WsgiEnviron], "tuple[str, list[tuple[str, str]], bytes] | None"]
"""A call answered from moto's state without moto's app (harness.aws_state.s3_objects.answer,
sqs_calls.answer): (status line, headers, body), or None for moto."""


class EmulatorApp:
    """Routes a request to the harness's own handlers or to moto."""

    def __init__(self, moto_app: Callable[..., Iterable[bytes]], lambdas: LambdaService,
                 execute_api: ExecuteApi, on_reset: Callable[[], None],
                 faults: FaultInjector | None = None, guard: RequestGuard | None = None,
                 clock: Clock | None = None,
                 usage: Callable[[], dict[str, Any]] | None = None,
                 function_urls: FunctionUrlServer | None = None,
                 iam: InvokeGuard | None = None,
                 shortcuts: tuple[MotoShortcut, ...] = ()) -> None:
        self._moto = moto_app
        self._shortcuts = shortcuts
        """Calls answered from moto's state (plain S3 reads, SQS message calls), in turn."""
        self._iam = iam
        self._usage = usage
        """This month's usage and charges so far (GET /_harness/usage)."""
        self._clock = clock or Clock()
        self._guard = guard or RequestGuard()
        self._faults = faults or FaultInjector()
        self._lambdas = lambdas
        self._execute_api = execute_api
        self._function_urls = function_urls
        self._on_reset = on_reset
        self._started = time.time()

    def __call__(self, environ: WsgiEnviron, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        own = path.startswith(OWN_PREFIXES)
        url = (None if own or self._function_urls is None
               else self._function_urls.match(environ.get("HTTP_HOST")))  # the host names it
        function = None if own or url is not None else match_invoke(method, path)
        recursion = None if own or function or url is not None else match_recursion_config(path)
        target = (None if own or function is not None or url is not None or recursion is not None
                  else self._execute_api.match(environ.get("HTTP_HOST", ""), path))
        refused = self._refusal(environ, users_api=target is not None or url is not None)
        if refused is not None:
            log.warning("refused %s %r: %s", method, path[:200], refused.message)
            return send(refusal_response(refused, environ), start_response)
        if own:
            try:
                body = read_body(environ, MAX_OWN_BODY)
            except AwsError as error:
                return send(HttpResponse.json(413, {"message": error.message}), start_response)
            return send(self._own(method, path, body), start_response)
        if url is not None:
            return self._function_url(environ, start_response, url)
        if function is not None:
            return self._invoke(environ, start_response, function)
        if recursion is not None:
            return self._recursion_config(environ, start_response, recursion)
        if target is not None:
            return self._gateway(environ, start_response, target)
        too_large = self._upload_refusal(environ)
        if too_large is not None:
            return send(lambda_error_response(too_large), start_response)
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("Logs_"):
            self._lambdas.flush_logs()  # a Logs API reader sees every invocation so far
        if self._faults.active:
            injected = self._s3_fault(environ)
            if injected is not None:
                return send(injected, start_response)
        for shortcut in self._shortcuts:
            answered = shortcut(environ)
            if answered is not None:  # headers as they are: a HEAD's Content-Length is the object's
                start_response(answered[0], answered[1])
                return [answered[2]]
        return self._moto_logging_failures(environ, start_response)

    def _moto_logging_failures(self, environ: WsgiEnviron,
                               start_response: StartResponse) -> Iterable[bytes]:
        """moto's answer; a 5xx is logged with its body (moto answers some of its own failures
        without raising, and a caller's SDK may show no more than the status)."""
        status: list[str] = []

        def starting(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(line)
            return start_response(line, headers, exc_info) if exc_info is not None else \
                start_response(line, headers)
        result = self._moto(environ, starting)
        if not status or not status[0].startswith("5"):
            return result
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        log.warning("moto answered %s %s with %s: %r", environ.get("REQUEST_METHOD"),
                    environ.get("PATH_INFO", "")[:200], status[0], body[:500])
        return [body]

    @staticmethod
    def _upload_refusal(environ: WsgiEnviron) -> AwsError | None:
        """A Lambda package upload over 50 MB, refused before moto decodes it (an S3 bucket
        may be named like Lambda's API version: S3 requests are never Lambda's)."""
        if s3_faults.signed_service(environ.get("HTTP_AUTHORIZATION", "")) == "s3":
            return None
        return upload_refusal(environ.get("REQUEST_METHOD", "GET"),
                              environ.get("PATH_INFO", "/"), environ.get("CONTENT_LENGTH"))

    def _refusal(self, environ: WsgiEnviron, users_api: bool) -> Refusal | None:
        """Refuse, before anything runs, a foreign Host anywhere, and a foreign web page on all
        but users' own APIs (execute-api serves browser apps, with API Gateway's CORS)."""
        refused = self._guard.check_host(environ.get("HTTP_HOST"),
                                         environ.get("SERVER_PROTOCOL", ""))
        if refused is not None:
            return refused
        if users_api:
            return None
        return self._guard.check_browser(environ.get("HTTP_ORIGIN"),
                                         environ.get("HTTP_SEC_FETCH_SITE"))

    def _s3_fault(self, environ: WsgiEnviron) -> HttpResponse | None:
        """Apply a matching S3 fault rule: an S3 error document, or a delay before moto."""
        if s3_faults.signed_service(environ.get("HTTP_AUTHORIZATION", "")) != "s3":
            return None
        call = s3_faults.classify(environ.get("REQUEST_METHOD", "GET"),
                                  environ.get("PATH_INFO", "/"), environ.get("QUERY_STRING", ""),
                                  environ.get("HTTP_HOST", ""))
        rule = self._faults.decide("s3", operation=call.operation, bucket=call.bucket,
                                   key=call.key)
        if rule is None:
            return None
        if rule.kind == "latency":
            time.sleep(rule.latency_ms / 1000)
            return None
        return s3_faults.error_response(rule.error or "InternalError", call)

    def _faults_endpoint(self, method: str, path: str, body: bytes) -> HttpResponse:
        """GET lists rules and their hits; POST adds {rule} or {"rules": [...]}; DELETE clears."""
        rule_id = path[len("/_harness/faults/"):] if path.startswith("/_harness/faults/") else ""
        if method == "GET" and not rule_id:
            return HttpResponse.json(200, {"rules": self._faults.report()})
        if method == "DELETE":
            if rule_id:
                found = self._faults.remove(rule_id)
                return HttpResponse.json(200 if found else 404, {"removed": found})
            self._faults.clear()
            return HttpResponse.json(200, {"removed": "all"})
        if method != "POST" or rule_id:
            allow = "DELETE" if rule_id else "GET, POST, DELETE"
            return HttpResponse.json(405, {"message": f"{method} not allowed on {path}"},
                                     (("Allow", allow),))
        try:
            rules = parse_rules(json.loads(body or b"{}"))
        except (ValueError, RecursionError) as error:
            return HttpResponse.json(400, {"message": f"fault rules must be JSON: {error}"})
        except UsageError as error:
            return HttpResponse.json(400, {"message": error.message})
        return HttpResponse.json(201, {"rules": [self._faults.add(r).to_json() for r in rules]})

    def _clock_endpoint(self, method: str, path: str, body: bytes) -> HttpResponse:
        """GET tells the harness's time; POST {"advance": seconds} moves it forward, firing
        the schedules, retries and event ages that fall due."""
        if method == "POST":
            try:
                request = json.loads(body or b"{}")
                seconds = float(request["advance"])
                if not 0 <= seconds <= 10 * 365 * 86400:
                    raise ValueError(f"{seconds} is not between 0 and ten years")
            except (ValueError, TypeError, KeyError, RecursionError) as error:
                return HttpResponse.json(400, {
                    "message": f'POST {path} takes {{"advance": seconds}} (>= 0): {error}'})
            self._clock.advance(seconds)
        elif method not in ("GET", "HEAD"):
            return HttpResponse.json(405, {"message": f"{method} not allowed on {path}"},
                                     (("Allow", "GET, HEAD, POST"),))
        return HttpResponse.json(200, {"now": self._clock.now(), "offset": self._clock.offset})

    def _own(self, method: str, path: str, body: bytes = b"") -> HttpResponse:
        """The harness's own endpoints; every method and path under their prefixes is ours."""
        if path in HEALTH_PATHS:
            if method not in ("GET", "HEAD"):
                return HttpResponse.json(405, {"message": f"{method} not allowed on {path}"},
                                         (("Allow", "GET, HEAD"),))
            return self._health()
        if path == OPENAPI_PATH:
            if method not in ("GET", "HEAD"):
                return HttpResponse.json(405, {"message": f"{method} not allowed on {path}"},
                                         (("Allow", "GET, HEAD"),))
            return HttpResponse.json(200, emulator_openapi())
        if path == "/_harness/faults" or path.startswith("/_harness/faults/"):
            return self._faults_endpoint(method, path, body)
        if path == "/_harness/clock":
            return self._clock_endpoint(method, path, body)
        if path == "/_harness/usage":
            if method not in ("GET", "HEAD"):
                return HttpResponse.json(405, {"message": f"{method} not allowed on {path}"},
                                         (("Allow", "GET, HEAD"),))
            return HttpResponse.json(200, self._usage() if self._usage else {})
        if path == "/_harness/reset":
            if method != "POST":
                return HttpResponse.json(405, {"message": f"{method} not allowed on {path}"},
                                         (("Allow", "POST"),))
            self._on_reset()
            return HttpResponse.json(200, {"reset": True})
        return HttpResponse.json(404, {"message": f"no such harness endpoint: {path}"})

    def _invoke(self, environ: WsgiEnviron, start_response: StartResponse,
                function: str) -> Iterable[bytes]:
        try:
            body = read_body(environ, MAX_INVOKE_BODY)
        except AwsError as error:
            return send(lambda_error_response(error), start_response)
        request = to_request(environ, body)
        if self._iam is not None:
            qualifier = parse_qs(request.query_string).get("Qualifier", [None])[0]
            refused = self._iam.refuse_invoke(environ.get("HTTP_AUTHORIZATION", ""), function,
                                              qualifier, region_of(environ), request.source_ip)
            if refused is not None:
                return send(lambda_error_response(AccessDeniedError(refused)), start_response)
        return send(handle_invoke(self._lambdas, request, function, region_of(environ)),
                    start_response)

    def _function_url(self, environ: WsgiEnviron, start_response: StartResponse,
                      url: Any) -> Iterable[bytes]:
        assert self._function_urls is not None
        try:
            body = read_body(environ, MAX_INVOKE_BODY)
        except AwsError:
            return send(self._function_urls.too_large(), start_response)
        raw_target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
        return send(self._function_urls.handle(url, to_request(environ, body), raw_target),
                    start_response)

    def _recursion_config(self, environ: WsgiEnviron, start_response: StartResponse,
                          function: str) -> Iterable[bytes]:
        try:
            body = read_body(environ, MAX_OWN_BODY)
        except AwsError as error:
            return send(lambda_error_response(error), start_response)
        account = account_for(environ.get("HTTP_AUTHORIZATION", ""),
                              environ.get("HTTP_X_MOTO_ACCOUNT_ID"))
        return send(handle_recursion_config(to_request(environ, body), function, account,
                                            region_of(environ) or "us-east-1"), start_response)

    def _gateway(self, environ: WsgiEnviron, start_response: StartResponse,
                 target: Any) -> Iterable[bytes]:
        from harness.apigw import events

        try:
            body = read_body(environ, MAX_EXECUTE_API_BODY)
        except AwsError:
            return send(events.payload_too_large(), start_response)
        return send(self._execute_api.handle(target, to_request(environ, body)), start_response)

    def _health(self) -> HttpResponse:
        body = {
            "status": "running",
            "services": {name: "running" for name in SERVICES},
            "edition": "harness",
            "uptime_s": round(time.time() - self._started, 3),
            "environments": self._lambdas.environments(),
            "cold_starts": self._lambdas.cold_starts,
        }
        return HttpResponse(200, (("Content-Type", "application/json"),),
                            json.dumps(body).encode())
