"""HTTP face of the Lambda APIs the harness serves itself: Invoke
(POST /2015-03-31/functions/{name}/invocations) and Put/GetFunctionRecursionConfig
(/2024-08-31/functions/{name}/recursion-config), which moto lacks; and the size limit of a
package uploaded in a control-plane request, checked before moto reads it."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import parse_qs, unquote

from harness.emulator.errors import lambda_error_response
from harness.errors import AwsError, InvalidRequestContentError
from harness.http import HttpRequest, HttpResponse
from harness.lambda_.code_limits import check_request_size
from harness.lambda_.service import InvokeRequest, LambdaService
from harness.triggers import recursion

INVOKE_RE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
# The control-plane requests that carry a package (ZipFile, base64 in the JSON body).
_UPLOADS = (("POST", re.compile(r"^/2015-03-31/functions/?$"), "CreateFunction"),
            ("PUT", re.compile(r"^/2015-03-31/functions/[^/]+/code/?$"), "UpdateFunctionCode"),
            ("POST", re.compile(r"^/2018-10-31/layers/[^/]+/versions/?$"), "PublishLayerVersion"))
RECURSION_RE = re.compile(r"^/2024-08-31/functions/(?P<name>[^/]+)/recursion-config/?$")


def match_invoke(method: str, path: str) -> str | None:
    """The function name or ARN when the path is Invoke's (whatever the method: it is ours)."""
    match = INVOKE_RE.match(path)
    return unquote(match.group("name")) if match else None


def upload_refusal(method: str, path: str, content_length: str | None) -> AwsError | None:
    """Lambda's RequestEntityTooLargeException for a package upload over 50 MB zipped."""
    operation = next((name for verb, pattern, name in _UPLOADS
                      if verb == method and pattern.match(path)), None)
    if operation is None or not (content_length or "").isdigit():
        return None
    try:
        check_request_size(operation, int(content_length or 0))
    except AwsError as error:
        return error
    return None
def match_recursion_config(path: str) -> str | None:
    """The function name or ARN when the path is Put/GetFunctionRecursionConfig's."""
    match = RECURSION_RE.match(path)
    return unquote(match.group("name")) if match else None


def handle_recursion_config(request: HttpRequest, function: str, account_id: str,
                            region: str) -> HttpResponse:
    try:
        if request.method == "GET":
            reply = recursion.get_config(function, account_id, region)
        elif request.method == "PUT":
            reply = recursion.put_config(function, account_id, region, request.body)
        else:
            refused = lambda_error_response(AwsError(
                f"{request.method} is not supported on {request.path}",
                code="MethodNotAllowedException", status=405))
            return replace(refused, headers=(*refused.headers, ("Allow", "GET, PUT")))
    except AwsError as error:
        return lambda_error_response(error)
    return HttpResponse.json(200, reply)


def _header(request: HttpRequest, name: str, default: str) -> str:
    value = request.header(name)
    return default if value is None else value


def handle_invoke(service: LambdaService, request: HttpRequest, function: str,
                  region: str | None) -> HttpResponse:
    if request.method != "POST":
        from harness.emulator.errors import lambda_error_response

        refused = lambda_error_response(AwsError(
            f"{request.method} is not supported on {request.path}; Invoke is POST",
            code="MethodNotAllowedException", status=405))
        return replace(refused, headers=(*refused.headers, ("Allow", "POST")))
    query = parse_qs(request.query_string, keep_blank_values=True)  # Qualifier= is refused
    qualifier = query.get("Qualifier", [None])[0]
    # Defaults only when absent: an empty value is not one of the values, and is refused.
    invocation_type = _header(request, "X-Amz-Invocation-Type", "RequestResponse")
    log_type = _header(request, "X-Amz-Log-Type", "None")
    try:
        if log_type not in ("None", "Tail"):
            raise InvalidRequestContentError(f"LogType {log_type!r} is not one of None, Tail")
        result = service.invoke(InvokeRequest(
            function=function, payload=request.body, qualifier=qualifier,
            invocation_type=invocation_type, log_type=log_type,
            client_context=request.header("X-Amz-Client-Context"), region=region,
            trace_header=request.header("X-Amzn-Trace-Id"),
        ))
    except AwsError as error:
        from harness.emulator.errors import lambda_error_response

        return lambda_error_response(error)
    headers: list[tuple[str, str]] = [("Content-Type", "application/json")]
    if result.executed_version:
        headers.append(("X-Amz-Executed-Version", result.executed_version))
    if result.function_error:
        headers.append(("X-Amz-Function-Error", result.function_error))
    if result.log_result:
        headers.append(("X-Amz-Log-Result", result.log_result))
    if result.record is not None:
        headers.append(("X-Amzn-Requestid", result.record.request_id))
    return HttpResponse(result.status, tuple(headers), result.payload)
