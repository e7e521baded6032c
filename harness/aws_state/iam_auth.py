"""moto's one authorization point, taken over: every request moto serves (S3's included) passes
``ActionAuthenticatorMixin._authenticate_and_authorize_action`` before it acts. Here that asks
the harness's IAM checks (``harness.iam``) about the calls they care for, and a refusal is
answered as the called service answers AccessDenied, in its own protocol.

moto's own check is not used for the calls the authorizer checks: it verifies signatures, which
fails for Lambda and API Gateway requests without a body even for an admin, and it reads no
bucket policy. Every other call gets moto's own behaviour, as before. No signature is verified
here; which credentials made the call is read from the request, as moto reads it. moto's S3
does apply a bucket policy's Deny to object requests, before this point and with an empty 403:
for a checked caller that is left to the authorizer, which answers with AWS's message. The hooks
are process-wide (moto's state is): the emulator started last decides, and with none running
moto's own behaviour is back.
"""

from __future__ import annotations

import contextvars
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote
from xml.sax.saxutils import escape

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.request import determine_request_protocol
from moto.core.utils import get_service_model
from moto.iam.access_control import PermissionResult
from moto.s3.models import FakeBucket
from moto.s3.responses import S3Response
from werkzeug.exceptions import HTTPException

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/")
# Signing names that are not the service's IAM prefix.
_IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses"}
# moto's S3 names (its ACTION_MAP) that are not IAM's.
_S3_ACTIONS = {"HeadBucket": "ListBucket", "ListObjects": "ListBucket",
               "ListObjectsV2": "ListBucket", "ListObjectVersions": "ListBucketVersions",
               "HeadObject": "GetObject", "ListMultipartUploads": "ListBucketMultipartUploads",
               "ListBuckets": "ListAllMyBuckets"}
_LAMBDA_PATH = re.compile(r"^/\d{4}-\d{2}-\d{2}/functions/([^/?]+)")
# AccessDenied's code where a service has its own.
_CODES = {"sns": "AuthorizationError"}


@dataclass(frozen=True)
class ServiceCall:
    """One request to an AWS API, as IAM sees it."""

    access_key: str
    session_token: str | None
    service: str
    """The IAM prefix: ``s3``, ``lambda``, ``sqs``..."""
    action: str
    """``s3:GetObject``."""
    resource: str | None
    """The resource's ARN; None when moto does not name one (then policies match leniently)."""
    account_id: str
    region: str
    context: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The request's condition keys, lower-cased (aws:SourceIp, s3:prefix...)."""


class Authorizer(Protocol):
    def checks(self, access_key: str) -> bool:
        """Whether calls made with this key are checked at all (cheap: asked of every call)."""

    def authorize(self, call: ServiceCall) -> str | None:
        """None to let the call through, else AccessDenied's message."""


_authorizers: list[Authorizer] = []
_lock = threading.Lock()
_original: Callable[..., None] | None = None
_checked_object_request: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "harness_checked_object_request", default=False)
"""True while moto's S3 serves an object request the authorizer checks."""


def install(authorizer: Authorizer) -> Callable[[], None]:
    """Make ``authorizer`` decide moto's requests; returns the call that takes it away again."""
    global _original
    with _lock:
        if _original is None:
            _original = ActionAuthenticatorMixin._authenticate_and_authorize_action
            ActionAuthenticatorMixin._authenticate_and_authorize_action = (  # type: ignore[method-assign]
                _authenticate_and_authorize_action)
            _take_over_bucket_policies()
        _authorizers.append(authorizer)

    def uninstall() -> None:
        with _lock:
            if authorizer in _authorizers:
                _authorizers.remove(authorizer)

    return uninstall


def _authenticate_and_authorize_action(self: Any, iam_request_cls: type,
                                       resource: str = "*") -> None:
    authorizer = _authorizers[-1] if _authorizers else None
    scope = _scope(self) if authorizer is not None else None
    if authorizer is None or scope is None or not authorizer.checks(scope[0]):
        # Not the harness's to check: moto's own behaviour (which checks nothing unless its
        # INITIAL_NO_AUTH_ACTION_COUNT is set, as a moto server in the same process may have).
        assert _original is not None
        _original(self, iam_request_cls, resource)
        return
    call = _service_call(self, scope, resource)
    message = authorizer.authorize(call)
    if message is not None:
        raise _access_denied(self, call.service, message)


def allows_call(authorization: str, action: str, resource: str, account_id: str,
                source_ip: str, user_agent: str | None,
                session_token: str | None) -> bool | None:
    """The authorizer's word on a call a fast path answers without moto's app (an S3 object
    read, an SQS message call), asked as moto's path would ask it (see ``_service_call``):
    None when no authorizer checks the caller (moto's own behaviour, bucket policy included,
    applies), else whether ``action`` (``s3:GetObject``) on ``resource`` is allowed."""
    authorizer = _authorizers[-1] if _authorizers else None
    scope = credential_scope(authorization) if authorizer is not None else None
    if authorizer is None or scope is None or not authorizer.checks(scope[0]):
        return None
    access_key, region, _ = scope
    context: dict[str, tuple[str, ...]] = {
        "aws:sourceip": (source_ip,), "aws:securetransport": ("false",),
        "aws:requestedregion": (region,)}
    if user_agent:
        context["aws:useragent"] = (user_agent,)
    call = ServiceCall(access_key, session_token, action.split(":", 1)[0], action, resource,
                       account_id, region, context)
    return authorizer.authorize(call) is None


def _take_over_bucket_policies() -> None:
    key_response = S3Response._key_response
    get_permission = FakeBucket.get_permission

    def checked_key_response(self: Any, *args: Any, **kwargs: Any) -> Any:
        authorizer = _authorizers[-1] if _authorizers else None
        scope = _scope(self) if authorizer is not None else None
        checked = authorizer is not None and scope is not None and authorizer.checks(scope[0])
        token = _checked_object_request.set(checked)
        try:
            return key_response(self, *args, **kwargs)
        finally:
            _checked_object_request.reset(token)

    def permission(self: Any, action: str, resource: str) -> Any:
        if _checked_object_request.get():
            return PermissionResult.NEUTRAL  # the authorizer reads the bucket policy itself
        return get_permission(self, action, resource)

    S3Response._key_response = checked_key_response  # type: ignore[method-assign]
    FakeBucket.get_permission = permission  # type: ignore[method-assign]


def credential_scope(authorization: str) -> tuple[str, str, str] | None:
    """(access key, region, signing name) of a SigV4 Authorization header."""
    match = _CREDENTIAL.search(authorization)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def _header(self: Any, name: str) -> str | None:
    """A request header, read from the WSGI environ where there is one: werkzeug's header
    lookup is case-insensitive and slow, and this runs on every request."""
    environ = getattr(getattr(self, "normalized_request", None), "environ", None)
    if isinstance(environ, dict):
        return environ.get("HTTP_" + name.upper().replace("-", "_"))  # type: ignore[no-any-return]
    return self.headers.get(name)  # type: ignore[no-any-return]


def _scope(self: Any) -> tuple[str, str, str] | None:
    """(access key, region, signing name) from the Authorization header or a presigned URL."""
    match = _CREDENTIAL.search(_header(self, "Authorization") or "")
    if match is None:
        credential = (self.querystring.get("X-Amz-Credential") or [""])[0]
        match = _CREDENTIAL.search("Credential=" + credential)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def _service_call(self: Any, scope: tuple[str, str, str], resource: str) -> ServiceCall:
    access_key, region, signing_name = scope
    service = _IAM_PREFIX.get(signing_name, signing_name)
    account = str(self.current_account)
    context = _context(self, region)
    if service == "s3":
        moto_action = self.data.get("Action") if isinstance(self.data, dict) else None
        name = moto_action or _action_name(self)
        action = f"s3:{_S3_ACTIONS.get(name, name)}"
        if action == "s3:ListBucket":
            context.update(_s3_list_keys(self.querystring))
        known: str | None = resource
    elif service == "apigateway":  # IAM names API Gateway's management actions by HTTP verb
        action = f"apigateway:{self.method}"
        known = f"arn:aws:apigateway:{region}::{self.path}"
    else:
        action = f"{service}:{_action_name(self)}"
        known = resource if resource != "*" else _named_resource(self, service, region, account)
    token = _header(self, "X-Amz-Security-Token") or (
        self.querystring.get("X-Amz-Security-Token") or [None])[0]
    return ServiceCall(access_key, token, service, action, known, account, region, context)


def _action_name(self: Any) -> str:
    action = self._get_action()
    return str(action[0] if isinstance(action, list) else action or "")


def _context(self: Any, region: str) -> dict[str, tuple[str, ...]]:
    request = getattr(self, "normalized_request", None)
    source_ip = getattr(request, "remote_addr", None) or "127.0.0.1"
    context: dict[str, tuple[str, ...]] = {
        "aws:sourceip": (str(source_ip),), "aws:securetransport": ("false",),
        "aws:requestedregion": (region,)}
    agent = _header(self, "User-Agent")
    if agent:
        context["aws:useragent"] = (agent,)
    return context


def _s3_list_keys(querystring: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {f"s3:{name}": (querystring[name][0],) for name in ("prefix", "delimiter", "max-keys")
            if querystring.get(name)}


def _named_resource(self: Any, service: str, region: str, account: str) -> str | None:
    """The resource of the common calls moto names none for; None for the others."""
    if service == "lambda":
        match = _LAMBDA_PATH.match(self.path)
        if match is None:
            return None
        name = unquote(match.group(1))
        if name.startswith("arn:"):
            return name
        qualifier = (self.querystring.get("Qualifier") or [""])[0]
        arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
        return f"{arn}:{qualifier}" if qualifier and ":" not in name else arn
    if service in ("dynamodb", "sns", "logs"):
        try:
            params = json.loads(self.body) if service != "sns" else {}
        except (TypeError, ValueError):
            params = {}
        if service == "sns":
            arn = self._get_param("TopicArn") or self._get_param("TargetArn")
            return str(arn) if arn else None
        if service == "dynamodb" and params.get("TableName"):
            return f"arn:aws:dynamodb:{region}:{account}:table/{params['TableName']}"
        if service == "logs" and params.get("logGroupName"):
            return f"arn:aws:logs:{region}:{account}:log-group:{params['logGroupName']}:*"
    return None


class AccessDenied(HTTPException):
    """AccessDenied as the called service writes it."""

    code = 403

    def __init__(self, body: str, headers: dict[str, str], status: int = 403) -> None:
        super().__init__()
        self.code = status
        self.description = body
        self._headers = headers

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return list(self._headers.items())

    def get_body(self, *args: Any, **kwargs: Any) -> str:
        return self.description or ""


def _access_denied(self: Any, service: str, message: str) -> AccessDenied:
    request_id = str(uuid.uuid4())
    text = escape(message)
    if service == "s3":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                f"<Message>{text}</Message><RequestId>{request_id[:16].upper()}</RequestId>"
                f"<HostId>{uuid.uuid4().hex}</HostId></Error>")
        headers, status = {"Content-Type": "application/xml"}, 403
    else:
        body, headers, status = _in_protocol(self, service, message, request_id)
    headers["x-amzn-RequestId"] = request_id
    # moto's call_action answers an authorization error with its body and status and the
    # response's own headers (not the exception's): the shape's headers go there too.
    response_headers = getattr(self, "response_headers", None)
    if isinstance(response_headers, dict):
        response_headers.update(headers)
    return AccessDenied(body, headers, status)


def _in_protocol(self: Any, service: str, message: str,
                 request_id: str) -> tuple[str, dict[str, str], int]:
    """Body, headers and status: the JSON protocol's services answer AccessDeniedException
    with 400 ("Common Errors"), the REST and query ones with 403."""
    try:
        protocol = determine_request_protocol(get_service_model(self.boto3_service_name),
                                              self.normalized_request)
    except Exception:  # noqa: BLE001 - a service botocore cannot describe: query's XML
        protocol = "query"
    if protocol in ("json", "rest-json"):
        code = _CODES.get(service, "AccessDeniedException")
        headers = {"Content-Type": "application/x-amz-json-1.1"
                   if protocol == "json" else "application/json", "x-amzn-ErrorType": code}
        if service == "sqs":  # a query-compatible service: the SDK reads the query code
            headers["x-amzn-query-error"] = "AccessDenied;Sender"
        document = ({"__type": code, "message": message} if protocol == "json"
                    else {"Type": "User", "Message": message} if service == "lambda"
                    else {"message": message})
        return json.dumps(document), headers, 400 if protocol == "json" else 403
    code = _CODES.get(service, "AccessDenied")
    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>")
    return body, {"Content-Type": "text/xml"}, 403
