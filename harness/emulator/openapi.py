"""OpenAPI 3 descriptions, as data, of the HTTP surfaces the harness serves itself.

``emulator_openapi()``: the emulator's own routes and Lambda Invoke, served at
``GET /_harness/openapi.json`` so anyone can fuzz them. ``runtime_api_openapi()``: the Runtime API
2018-06-01 each execution environment serves, as AWS documents it:
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

from __future__ import annotations

from typing import Any

from harness.faults.model import KINDS, S3_ERRORS
from harness.lambda_.invoke_params import (
    CLIENT_CONTEXT_MAX,
    FUNCTION_NAME_MAX,
    FUNCTION_NAME_PATTERN,
    QUALIFIER_MAX,
    QUALIFIER_PATTERN,
)
from harness.lambda_.runtime_api import MAX_RESPONSE_BYTES
from harness.lambda_.service import INVOCATION_TYPES, MAX_ASYNC_PAYLOAD, MAX_SYNC_PAYLOAD

OPENAPI_PATH = "/_harness/openapi.json"
Schema = dict[str, Any]


def _json(schema: Schema, description: str, headers: Schema | None = None) -> Schema:
    response: Schema = {"description": description,
                        "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _string_header(description: str, **schema: Any) -> Schema:
    return {"description": description, "schema": {"type": "string", **schema}}


# -- the emulator's own routes -----------------------------------------------------------------

def _fault_rule() -> Schema:
    """One rule as ``harness.faults.model.parse_rule`` takes it: one shape per target and kind."""
    strings = {"type": "array", "items": {"type": "string"}}
    calls = {"type": "integer", "minimum": 1}
    text = {"type": "string", "nullable": True}  # null: as if absent
    common: Schema = {
        "id": text, "bucket": text, "key": text, "function": text,
        "error": text,  # only an s3 error rule reads it
        "operations": {"anyOf": [{"type": "string"}, strings]},
        "rate": {"type": "number", "minimum": 0, "maximum": 1},
        "calls": {"anyOf": [calls, {"type": "array", "items": calls}]},
        "times": {"type": "integer", "minimum": 1, "nullable": True},
    }
    latency = {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 900_000}

    def rule(target: str, kinds: list[str], **extra: Schema) -> Schema:
        return {"type": "object", "additionalProperties": False,
                "required": ["target", "kind", *extra],
                "properties": {"target": {"enum": [target]}, "kind": {"enum": kinds},
                               **common, **extra}}

    return {"oneOf": [
        rule("s3", ["error"], error={"enum": list(S3_ERRORS)}),
        rule("s3", ["latency"], latency_ms=latency),
        rule("lambda", ["latency"], latency_ms=latency),
        rule("lambda", [k for k in KINDS["lambda"] if k != "latency"]),
    ]}


def _own_components() -> Schema:
    return {
        "Message": {"type": "object", "required": ["message"],
                    "properties": {"message": {"type": "string"}}},
        "Health": {
            "type": "object", "required": ["status", "services", "environments"],
            "properties": {
                "status": {"enum": ["running"]},
                "services": {"type": "object", "additionalProperties": {"type": "string"}},
                "edition": {"type": "string"}, "uptime_s": {"type": "number", "minimum": 0},
                "environments": {"type": "integer", "minimum": 0},
                "cold_starts": {"enum": ["real", "template"]}}},
        "FaultRule": _fault_rule(),
        "FaultRules": {"type": "object", "required": ["rules"],
                       "properties": {"rules": {"type": "array", "items": {"type": "object"}}}},
        "Removed": {"type": "object", "required": ["removed"], "properties": {
            "removed": {"anyOf": [{"type": "boolean"}, {"type": "string"}]}}},
        "LambdaError": {
            "type": "object", "required": ["Type", "message"],
            "properties": {"Type": {"type": "string"}, "message": {"type": "string"},
                           "Reason": {"type": "string"}}},
    }


def _too_large() -> Schema:
    return _json(_ref("Message"), "The body is larger than 1 MiB.")


def _fault_paths() -> Schema:
    rules = {"type": "array", "items": _ref("FaultRule")}
    return {
        "/_harness/faults": {
            "get": {"operationId": "listFaults", "summary": "Rules in force and their hits.",
                    "responses": {"200": _json(_ref("FaultRules"), "Every rule.")}},
            "post": {
                "operationId": "addFaults",
                "summary": "Add one fault rule, a list of them, or {\"rules\": [...]}.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "anyOf": [_ref("FaultRule"), rules, {
                        "type": "object", "required": ["rules"], "additionalProperties": False,
                        "properties": {"rules": rules}}]}}}},
                "responses": {"201": _json(_ref("FaultRules"), "The rules added, with ids."),
                              "400": _json(_ref("Message"), "Not JSON, or not valid rules."),
                              "413": _too_large()}},
            "delete": {"operationId": "clearFaults", "summary": "Remove every rule.",
                       "responses": {"200": _json(_ref("Removed"), "Removed.")}}},
        "/_harness/faults/{rule_id}": {"delete": {
            "operationId": "removeFault", "summary": "Remove one rule.",
            "parameters": [{"name": "rule_id", "in": "path", "required": True,
                            "schema": {"type": "string", "minLength": 1}}],
            "responses": {"200": _json(_ref("Removed"), "Removed."),
                          "404": _json(_ref("Removed"), "No rule has this id.")}}},
    }


def _own_paths() -> Schema:
    health = {"operationId": "health", "summary": "The emulator is up; LocalStack's shape.",
              "responses": {"200": _json(_ref("Health"), "Running.")}}
    return {
        "/_harness/health": {"get": health},
        "/_localstack/health": {"get": {**health, "operationId": "localstackHealth"}},
        OPENAPI_PATH: {"get": {
            "operationId": "openapi", "summary": "This description.",
            "responses": {"200": _json({"type": "object"}, "An OpenAPI 3 document.")}}},
        **_fault_paths(),
        "/_harness/reset": {"post": {
            "operationId": "reset",
            "summary": "Forget every bucket, function, API, log and fault; stop environments.",
            "responses": {"200": _json({"type": "object", "required": ["reset"],
                                        "properties": {"reset": {"enum": [True]}}}, "Reset."),
                          "413": _too_large()}}},
    }


def _invoke_parameters() -> list[Schema]:
    return [
        {"name": "FunctionName", "in": "path", "required": True, "schema": {
            "type": "string", "minLength": 1, "maxLength": FUNCTION_NAME_MAX,
            "pattern": f"^{FUNCTION_NAME_PATTERN}$"}},
        {"name": "Qualifier", "in": "query", "schema": {
            "type": "string", "minLength": 1, "maxLength": QUALIFIER_MAX,
            "pattern": f"^{QUALIFIER_PATTERN}$"}},
        {"name": "X-Amz-Invocation-Type", "in": "header",
         "schema": {"type": "string", "enum": list(INVOCATION_TYPES)}},
        {"name": "X-Amz-Log-Type", "in": "header",
         "schema": {"type": "string", "enum": ["None", "Tail"]}},
        {"name": "X-Amz-Client-Context", "in": "header",
         "description": "Base64 of a JSON object (else 400 InvalidRequestContentException).",
         "schema": {"type": "string", "format": "byte", "maxLength": CLIENT_CONTEXT_MAX},
         "example": "eyJjdXN0b20iOiB7fX0="},
    ]


def _invoke_responses() -> Schema:
    def failure(description: str) -> Schema:
        return _json(_ref("LambdaError"), description,
                     {"x-amzn-ErrorType": _string_header("The AWS error code.")})

    version = {"X-Amz-Executed-Version": _string_header("The version that ran.")}
    return {
        "200": _json({}, "The function's result, or its error document when "
                         "X-Amz-Function-Error is set.", {
            **version,
            "X-Amz-Function-Error": _string_header(
                "Present when the function failed.", enum=["Handled", "Unhandled"]),
            "X-Amz-Log-Result": _string_header("Base64 of the log's last 4 KB (LogType Tail).",
                                               format="byte")}),
        "202": {"description": "Event: queued.", "headers": version},
        "204": {"description": "DryRun: the call would be allowed.", "headers": version},
        "400": failure("InvalidParameterValueException, InvalidRequestContentException, "
                       "ValidationException (a name or qualifier AWS would not accept)."),
        "404": failure("ResourceNotFoundException: no such function or qualifier."),
        "413": failure("RequestEntityTooLargeException: the payload is over the limit."),
        "429": failure("TooManyRequestsException: throttled (concurrency, or a fault)."),
        "500": failure("ServiceException: the emulator is shutting down."),
    }


def _invoke_operation() -> Schema:
    return {
        "operationId": "invoke", "summary": "Lambda Invoke (RequestResponse, Event, DryRun).",
        "parameters": _invoke_parameters(),
        "requestBody": {
            "required": False,
            "description": f"The event: any JSON (else 400 InvalidRequestContentException), at "
                           f"most {MAX_SYNC_PAYLOAD} bytes (RequestResponse) or "
                           f"{MAX_ASYNC_PAYLOAD} bytes (Event).",
            "content": {"application/json": {"schema": {}}}},
        "responses": _invoke_responses(),
    }


def emulator_openapi() -> Schema:
    """The emulator's own routes and Lambda Invoke, relative to the emulator's URL."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "harness emulator: own routes and Lambda Invoke", "version": "1",
                 "description": "Everything else on the endpoint (S3, the Lambda control plane, "
                                "API Gateway) is moto's, described by AWS's own models."},
        "servers": [{"url": "/"}],
        "paths": {**_own_paths(),
                  "/2015-03-31/functions/{FunctionName}/invocations": {
                      "post": _invoke_operation()}},
        "components": {"schemas": _own_components()},
    }


# -- the Runtime API ---------------------------------------------------------------------------

def _runtime_components() -> Schema:
    return {
        "StatusResponse": {"type": "object", "properties": {"status": {"type": "string"}}},
        "ErrorResponse": {"type": "object", "properties": {
            "errorMessage": {"type": "string"}, "errorType": {"type": "string"}}},
        "ErrorRequest": {"type": "object", "properties": {
            "errorMessage": {"type": "string"}, "errorType": {"type": "string"},
            "stackTrace": {"type": "array", "items": {"type": "string"}}}},
        "EventResponse": {},
    }


def _runtime_post(summary: str, statuses: dict[str, str], *, request_id: bool,
                  error_type: bool, body: Schema) -> Schema:
    parameters: list[Schema] = []
    if request_id:
        parameters.append({"name": "AwsRequestId", "in": "path", "required": True,
                           "schema": {"type": "string", "minLength": 1}})
    if error_type:
        parameters.append({"name": "Lambda-Runtime-Function-Error-Type", "in": "header",
                           "schema": {"type": "string"}})
    responses: Schema = {}
    for status, description in statuses.items():
        schema = _ref("StatusResponse") if status == "202" else _ref("ErrorResponse")
        responses[status] = _json(schema, description)
    responses["500"] = {"description": "Container error: non-recoverable, the runtime exits."}
    return {"summary": summary, "parameters": parameters,
            "requestBody": {"content": {"*/*": {"schema": body}}}, "responses": responses}


def runtime_api_openapi() -> Schema:
    """The Runtime API of one environment; the server is ``http://$AWS_LAMBDA_RUNTIME_API``."""
    forbidden = ("Forbidden: not allowed in the environment's state, or (AccessDenied) the "
                 "caller is not one of the environment's own processes.")
    gone = "Gone (InvokeTimeout): the invocation timed out before this result came."
    invocation_headers = {name: _string_header(text) for name, text in (
        ("Lambda-Runtime-Aws-Request-Id", "The invocation's request id."),
        ("Lambda-Runtime-Deadline-Ms", "Its deadline, in Unix milliseconds."),
        ("Lambda-Runtime-Invoked-Function-Arn", "The ARN invoked, qualifier included."),
        ("Lambda-Runtime-Trace-Id", "The X-Ray trace header."),
        ("Lambda-Runtime-Client-Context", "The caller's client context."),
        ("Lambda-Runtime-Cognito-Identity", "The caller's Cognito identity."))}
    return {
        "openapi": "3.0.3",
        "info": {"title": "AWS Lambda Runtime API", "version": "2018-06-01"},
        "servers": [{"url": "/2018-06-01"}],
        "paths": {
            "/runtime/init/error": {"post": _runtime_post(
                "Non-recoverable init error; served as the answer to the first invoke.",
                {"202": "Accepted", "403": forbidden},
                request_id=False, error_type=True, body=_ref("ErrorRequest"))},
            "/runtime/invocation/next": {"get": {
                "summary": "Long poll: blocks until the next invocation, then hands it out.",
                "responses": {
                    "200": _json(_ref("EventResponse"), "The event.", invocation_headers),
                    "403": _json(_ref("ErrorResponse"), forbidden),
                    "500": {"description": "Container error: the environment is stopping."}}}},
            "/runtime/invocation/{AwsRequestId}/response": {"post": _runtime_post(
                "The invocation's result.",
                {"202": "Accepted", "400": "Bad Request: not the current invocation's id.",
                 "403": forbidden, "410": gone,
                 "413": f"Payload Too Large: over {MAX_RESPONSE_BYTES} bytes."},
                request_id=True, error_type=False, body={})},
            "/runtime/invocation/{AwsRequestId}/error": {"post": _runtime_post(
                "The invocation's error.",
                {"202": "Accepted", "400": "Bad Request: not the current invocation's id.",
                 "403": forbidden, "410": gone},
                request_id=True, error_type=True, body=_ref("ErrorRequest"))},
        },
        "components": {"schemas": _runtime_components()},
    }
