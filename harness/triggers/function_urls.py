"""Function URLs: an HTTP request to ``<url-id>.lambda-url.<region>.localhost.localstack.cloud``
becomes a synchronous ``LambdaService.invoke`` and its result the HTTP answer.

A request passes: find the URL in moto -> answer a CORS preflight -> check the caller
(``AWS_IAM``: SigV4; ``NONE``: the resource-based policy) -> throttle -> invoke -> map the
result. The formats are in ``function_url_http``, the checks in ``function_url_auth``; moto's
state is read through ``harness.aws_state.function_urls``.

``InvokeMode`` ``RESPONSE_STREAM`` is answered buffered: the whole response at once, as
``BUFFERED`` does (the function's result is the same; only its delivery differs).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from harness.apigw import cors, events
from harness.aws_state import function_urls as url_state
from harness.errors import (
    AwsError,
    RequestTooLargeError,
    ResourceNotFoundError,
    TooManyRequestsError,
)
from harness.http import HttpRequest, HttpResponse
from harness.lambda_.service import InvokeRequest, LambdaService
from harness.triggers import function_url_auth as auth
from harness.triggers import function_url_http as formats

log = logging.getLogger("harness.triggers")

# <url-id>.lambda-url.<region>.<LocalStack's names, or AWS's own>[:port]
_HOST = re.compile(
    r"^(?P<url_id>[a-z0-9]+)\.lambda-url\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\."
    r"(?:localhost\.localstack\.cloud|localhost|on\.aws)(?::\d+)?\.?$",
    re.IGNORECASE,
)
RPS_PER_CONCURRENCY = 10
"""A URL takes at most 10 requests a second per unit of reserved concurrency
(urls-configuration.html, "Throttling function URLs")."""

_GRANTS = {
    "lambda:InvokeFunctionUrl": "--action lambda:InvokeFunctionUrl --principal '*' "
                                "--function-url-auth-type NONE",
    "lambda:InvokeFunction": "--action lambda:InvokeFunction --principal '*' "
                             "--invoked-via-function-url",
}
"""How to grant each action, for the log line of a refusal."""


@dataclass(frozen=True)
class UrlTarget:
    """Which function URL a request's Host names."""

    url_id: str
    region: str


def parse_host(host: str | None) -> UrlTarget | None:
    """The function URL a ``Host`` value names, or None when it names none."""
    found = _HOST.match((host or "").strip())
    if found is None:
        return None
    return UrlTarget(found.group("url_id").lower(), found.group("region").lower())


class RequestRate:
    """Requests per function in the last second, to throttle at 10 x reserved concurrency."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, function_arn: str, reserved: int | None) -> bool:
        """Whether one more request may go now; counted when it may."""
        if reserved is None:
            return True
        now = self._now()
        with self._lock:
            seen = self._seen.setdefault(function_arn, deque())
            while seen and now - seen[0] >= 1.0:
                seen.popleft()
            if len(seen) >= RPS_PER_CONCURRENCY * reserved:
                return False
            seen.append(now)
            return True

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


class FunctionUrls:
    """Serves every function URL moto holds; a ``Source`` of the triggers room."""

    def __init__(self, lambdas: LambdaService, *, port: Callable[[], int | None]) -> None:
        self._lambdas = lambdas
        self._rate = RequestRate()
        self._uninstall = url_state.install(port)

    def match(self, host: str | None) -> UrlTarget | None:
        return parse_host(host)

    def handle(self, target: UrlTarget, request: HttpRequest, raw_target: str) -> HttpResponse:
        """Answer ``request``; ``raw_target`` is its request target as sent (for SigV4)."""
        request_id = str(uuid.uuid4())
        found = url_state.find(target.url_id, target.region)
        if found is None:
            log.info("no function URL %s in %s", target.url_id, target.region)
            return formats.with_request_id(formats.url_not_found(), request_id)
        config = formats.cors_config(found.cors)
        if config is not None and cors.is_preflight(request):
            response = cors.preflight_response(config, request)
        else:
            response = self._answer(found, request, raw_target, request_id)
            if config is not None:
                response = formats.with_cors(config, request, response)
        return formats.with_request_id(response, request_id)

    def too_large(self) -> HttpResponse:
        """The answer to a request body the emulator will not read."""
        return formats.request_too_large()

    def reset(self) -> None:
        self._rate.clear()

    def close(self) -> None:
        self._uninstall()

    # -- the steps -----------------------------------------------------------------------------
    def _answer(self, found: url_state.UrlConfig, request: HttpRequest, raw_target: str,
                request_id: str) -> HttpResponse:
        iam = None
        if found.auth_type == "AWS_IAM":
            identity = self._authenticate(found, request, raw_target)
            if isinstance(identity, HttpResponse):
                return identity
            iam = identity
        else:
            missing = auth.missing_public_access(found.statements, found.function_arn)
            if missing:
                log.warning("function URL %s refused: the policy of %s allows Principal '*' "
                            "no %s (AddPermission: %s)", found.url_id, found.function_arn,
                            " and no ".join(missing), "; ".join(_GRANTS[a] for a in missing))
                return formats.forbidden()
        if not self._rate.admit(found.function_arn, found.reserved_concurrency):
            return formats.throttled()
        event = formats.build_event(request, url_id=found.url_id, account_id=found.account_id,
                                 request_id=request_id, now_epoch_ms=int(time.time() * 1000),
                                 iam=iam)
        return self._invoke(found, event)

    def _authenticate(self, found: url_state.UrlConfig, request: HttpRequest,
                      raw_target: str) -> dict[str, object] | HttpResponse:
        """The caller of a SigV4-signed request, or the answer refusing it."""
        try:
            signature = auth.read_signature(request)
            if signature is None:
                return formats.forbidden()
            auth.check_scope(signature, found.region, datetime.now(UTC))
            caller = url_state.caller(signature.access_key, found.region)
            if caller.secret_key is not None:
                auth.verify(signature, request, raw_target, caller.secret_key)
        except auth.SignatureRefused as refused:
            log.warning("function URL %s refused a signature: %s", found.url_id,
                        refused.message)
            return formats.signature_refused(refused.code, refused.message)
        return formats.iam_identity(caller.access_key, caller.account_id, caller.arn,
                                 caller.user_id)

    def _invoke(self, found: url_state.UrlConfig, event: dict[str, object]) -> HttpResponse:
        if found.invoke_mode == "RESPONSE_STREAM":
            log.debug("function URL %s streams on AWS; answered buffered", found.url_id)
        request = InvokeRequest(function=found.function_arn, payload=json.dumps(event).encode(),
                                region=found.region, payload_is_json=True)
        try:
            result = self._lambdas.invoke(request)
        except TooManyRequestsError as error:
            log.warning("function URL %s throttled: %s", found.url_id, error.reason)
            return formats.throttled()
        except RequestTooLargeError:
            return formats.request_too_large()
        except ResourceNotFoundError:  # the function went between the lookup and the call
            return formats.url_not_found()
        except AwsError as error:
            log.warning("function URL %s: Lambda refused the call: %s", found.url_id,
                        error.message)
            return formats.function_failed()
        if result.function_error is not None:
            log.warning("function URL %s: the function failed: %s", found.url_id,
                        result.payload[:500])
            return formats.function_failed()
        try:
            return formats.map_result(result.payload)
        except events.MalformedProxyResponse as error:
            log.warning("function URL %s: %s", found.url_id, error.message)
            return formats.function_failed()
