"""Who may call a function URL: the SigV4 check of an ``AWS_IAM`` URL and the resource-based
policy a ``NONE`` URL needs. Pure functions over a request and policy statements.

AWS (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html): an ``AWS_IAM`` URL takes only
requests signed with SigV4 for service ``lambda``; a ``NONE`` URL still needs "your function's
resource-based policy [to] grant public access", and "starting in October 2025, new function
URLs will require both lambda:InvokeFunctionUrl and lambda:InvokeFunction permissions" (SAM's
``FunctionUrlConfig`` adds both statements; the Lambda console too).

The emulator accepts any credentials, so a signature is recomputed only when the key is one moto
issued (an IAM user's, an assumed role's) and its secret is known; for any other key the
signature's form, scope and time are checked.
"""

from __future__ import annotations

import fnmatch
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from harness.http import HttpRequest

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "lambda"
MAX_SKEW = timedelta(minutes=15)  # SigV4: a request older or newer than this is refused
MAX_PRESIGNED_EXPIRY_S = 7 * 24 * 3600
PUBLIC_ACTIONS = ("lambda:InvokeFunctionUrl", "lambda:InvokeFunction")
"""What a NONE URL's policy must allow everyone (since October 2025)."""
URL_CONTEXT = {"lambda:functionurlauthtype": "NONE", "lambda:invokedviafunctionurl": "true"}
"""The condition keys an anonymous call through a NONE URL carries."""
_TIMESTAMP = "%Y%m%dT%H%M%SZ"
_HEADER_FIELD = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]*)")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
             "Check your AWS Secret Access Key and signing method. Consult the service "
             "documentation for details.")


class SignatureRefused(Exception):
    """Why a signed request is refused: ``code`` is the x-amzn-ErrorType, ``message`` AWS's."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Signature:
    """A request's SigV4 signature, from its Authorization header or its query string."""

    access_key: str
    scope_date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str
    """X-Amz-Date, ``20240101T000000Z``."""
    expires_s: int | None = None
    """Presigned URLs only: X-Amz-Expires."""

    @property
    def presigned(self) -> bool:
        return self.expires_s is not None


def read_signature(request: HttpRequest) -> Signature | None:
    """The request's signature; None when it carries none (AWS: 403 Forbidden). Raises
    ``SignatureRefused`` for one that is incomplete or malformed."""
    header = (request.header("Authorization") or "").strip()
    if header:
        return _from_header(header, request.header("X-Amz-Date") or "")
    query = dict(parse_qsl(request.query_string, keep_blank_values=True))
    if "X-Amz-Signature" in query or "X-Amz-Algorithm" in query:
        return _from_query(query)
    return None


def _from_header(header: str, timestamp: str) -> Signature:
    algorithm, _, rest = header.partition(" ")
    if algorithm != ALGORITHM:
        raise SignatureRefused("IncompleteSignatureException",
                               f"Authorization header must use {ALGORITHM}, not {algorithm!r}")
    fields = dict(_HEADER_FIELD.findall(rest))
    for name in ("Credential", "SignedHeaders", "Signature"):
        if not fields.get(name):
            raise SignatureRefused(
                "IncompleteSignatureException",
                f"Authorization header requires '{name}' parameter. Authorization={header[:120]}")
    if not timestamp:
        raise SignatureRefused("IncompleteSignatureException",
                               "Authorization header requires existence of either a "
                               "'X-Amz-Date' or a 'Date' header.")
    return _signature(fields["Credential"], fields["SignedHeaders"], fields["Signature"],
                      timestamp, None)


def _from_query(query: Mapping[str, str]) -> Signature:
    missing = [name for name in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
                                 "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Expires")
               if not query.get(name)]
    if missing:
        raise SignatureRefused("IncompleteSignatureException",
                               f"the presigned URL lacks {', '.join(missing)}")
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise SignatureRefused("IncompleteSignatureException",
                               f"X-Amz-Algorithm must be {ALGORITHM}")
    try:
        expires = int(query["X-Amz-Expires"])
    except ValueError:
        expires = -1
    if not 0 < expires <= MAX_PRESIGNED_EXPIRY_S:
        raise SignatureRefused("InvalidSignatureException",
                               f"X-Amz-Expires must be between 1 and {MAX_PRESIGNED_EXPIRY_S}")
    return _signature(query["X-Amz-Credential"], query["X-Amz-SignedHeaders"],
                      query["X-Amz-Signature"], query["X-Amz-Date"], expires)


def _signature(credential: str, signed: str, signature: str, timestamp: str,
               expires: int | None) -> Signature:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise SignatureRefused(
            "IncompleteSignatureException",
            f"Credential {credential!r} is not <key>/<date>/<region>/<service>/aws4_request")
    if not _HEX64.fullmatch(signature):
        raise SignatureRefused("InvalidSignatureException", _MISMATCH)
    return Signature(access_key=parts[0], scope_date=parts[1], region=parts[2],
                     service=parts[3], signed_headers=tuple(signed.lower().split(";")),
                     signature=signature, timestamp=timestamp, expires_s=expires)


def check_scope(signature: Signature, region: str, now: datetime) -> None:
    """Refuse a signature for another service or region, or one out of its time."""
    if signature.service != SERVICE:
        raise SignatureRefused(
            "InvalidSignatureException",
            f"Credential should be scoped to correct service: '{SERVICE}'.")
    if signature.region != region:
        raise SignatureRefused(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{signature.region}'.")
    if "host" not in signature.signed_headers:
        raise SignatureRefused("InvalidSignatureException",
                               "'Host' must be a 'SignedHeader' in the AWS Authorization.")
    try:
        signed_at = datetime.strptime(signature.timestamp, _TIMESTAMP).replace(
            tzinfo=UTC)
    except ValueError:
        raise SignatureRefused("IncompleteSignatureException",
                               f"X-Amz-Date {signature.timestamp!r} is not "
                               "yyyyMMdd'T'HHmmss'Z'") from None
    if signature.scope_date != signature.timestamp[:8]:
        raise SignatureRefused("InvalidSignatureException",
                               "Date in Credential scope does not match YYYYMMDD from "
                               "ISO-8601 version of date from HTTP")
    _check_time(signature, signed_at, now)


def _check_time(signature: Signature, signed_at: datetime, now: datetime) -> None:
    stamp = now.strftime(_TIMESTAMP)
    if signature.expires_s is not None:
        if now > signed_at + timedelta(seconds=signature.expires_s):
            raise SignatureRefused("AccessDeniedException", "Request has expired")
        if signed_at - now > MAX_SKEW:
            raise SignatureRefused("InvalidSignatureException", "Signature not yet current")
        return
    if now - signed_at > MAX_SKEW:
        raise SignatureRefused(
            "InvalidSignatureException",
            f"Signature expired: {signature.timestamp} is now earlier than "
            f"{(now - MAX_SKEW).strftime(_TIMESTAMP)} ({stamp} - 15 min.)")
    if signed_at - now > MAX_SKEW:
        raise SignatureRefused(
            "InvalidSignatureException",
            f"Signature not yet current: {signature.timestamp} is still later than "
            f"{(now + MAX_SKEW).strftime(_TIMESTAMP)} ({stamp} + 15 min.)")


def verify(signature: Signature, request: HttpRequest, raw_target: str, secret_key: str) -> None:
    """Recompute the signature with ``secret_key`` (botocore's signer) and refuse a mismatch.

    ``raw_target`` is the request target as sent (path and query, still percent-encoded): the
    signer signed the path as it sent it.
    """
    # botocore costs most of a second to import; only this check needs it, not the CLI.
    from botocore.auth import SigV4Auth, SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    path, _, query = raw_target.partition("?")
    if signature.presigned:
        query = urlencode([(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
                           if k != "X-Amz-Signature"])
    headers: dict[str, str] = {}
    for name, value in request.headers:  # a repeated header is signed as its values joined
        if name.lower() in signature.signed_headers:
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
    url = f"http://{request.header('Host') or ''}{path or '/'}" + (f"?{query}" if query else "")
    aws_request = AWSRequest(method=request.method, url=url, headers=headers,
                             data=request.body)
    aws_request.context["timestamp"] = signature.timestamp
    kind = SigV4QueryAuth if signature.presigned else SigV4Auth
    signer = kind(Credentials(signature.access_key, secret_key), signature.service,
                  signature.region)
    canonical = signer.canonical_request(aws_request)
    expected = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
    if not hmac.compare_digest(expected, signature.signature):
        raise SignatureRefused("InvalidSignatureException", _MISMATCH)


# -- the resource-based policy of a NONE URL ---------------------------------------------------

def missing_public_access(statements: Iterable[Mapping[str, Any]], function_arn: str,
                          actions: Sequence[str] = PUBLIC_ACTIONS) -> list[str]:
    """The ``actions`` the function's policy does not allow an anonymous caller through its
    URL (an explicit Deny counts as not allowed)."""
    applying = [s for s in statements if _resource_applies(s.get("Resource"), function_arn)
                and _everyone(s.get("Principal")) and _conditions_hold(s.get("Condition"))]
    missing = []
    for action in actions:
        matching = [s for s in applying if _action_matches(s.get("Action"), action)]
        denied = any(s.get("Effect") == "Deny" for s in matching)
        if denied or not any(s.get("Effect", "Allow") == "Allow" for s in matching):
            missing.append(action)
    return missing


def _words(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _action_matches(value: Any, action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in _words(value))


def _everyone(principal: Any) -> bool:
    if isinstance(principal, Mapping):
        return "*" in _words(principal.get("AWS"))
    return "*" in _words(principal)


def _resource_applies(resource: Any, function_arn: str) -> bool:
    """A statement about the function itself (or ``$LATEST``, or a wildcard); one scoped to an
    alias or version is about another URL."""
    for pattern in _words(resource) or [function_arn]:
        if fnmatch.fnmatchcase(function_arn, pattern) or pattern == f"{function_arn}:$LATEST":
            return True
    return False


def _conditions_hold(condition: Any) -> bool:
    """Whether every condition holds for an anonymous call through the URL: only the
    function-URL keys have values; any other key (a source ARN, an account) does not hold."""
    if not condition:
        return True
    if not isinstance(condition, Mapping):
        return False
    for operator, tests in condition.items():
        if not isinstance(tests, Mapping):
            return False
        for key, wanted in tests.items():
            if not _test(str(operator), URL_CONTEXT.get(str(key).lower()), _words(wanted)):
                return False
    return True


def _test(operator: str, value: str | None, wanted: list[str]) -> bool:
    if value is None:
        return operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if base in ("StringEquals", "Bool"):
        return any(value == w or (base == "Bool" and value == w.lower()) for w in wanted)
    if base == "StringEqualsIgnoreCase":
        return any(value.lower() == w.lower() for w in wanted)
    if base == "StringLike":
        return any(fnmatch.fnmatchcase(value, w) for w in wanted)
    return False
