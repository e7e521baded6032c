"""Invoke's parameters as AWS checks them: FunctionName (and its parts), Qualifier, ClientContext
and the payload (pure). https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

from harness.errors import InvalidParameterError, InvalidRequestContentError

# AWS's patterns, verbatim (they are also the OpenAPI description's). Groups of the first: 3 is
# "region:", 5 "account:", 7 the name and 9 the qualifier, each when given.
FUNCTION_NAME_PATTERN = (r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?"
                         r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?")
FUNCTION_NAME_MAX = 170
QUALIFIER_PATTERN = r"(|[a-zA-Z0-9$_-]+)"
QUALIFIER_MAX = 128
CLIENT_CONTEXT_MAX = 3583  # bytes of base64
_FUNCTION_NAME = re.compile(FUNCTION_NAME_PATTERN)
_QUALIFIER = re.compile(QUALIFIER_PATTERN)


@dataclass(frozen=True)
class FunctionName:
    """A FunctionName split into what it says; None where it says nothing."""

    name: str
    qualifier: str | None = None
    region: str | None = None
    account: str | None = None

    @property
    def with_qualifier(self) -> str:
        """``name`` or ``name:qualifier``: what moto resolves (it cannot read a partial ARN)."""
        return f"{self.name}:{self.qualifier}" if self.qualifier else self.name


def _constraint_error(field: str, value: str, pattern: str, limit: int) -> InvalidParameterError:
    # AWS's wording for a request that fails its own model's constraints.
    if not value:
        rule = "Member must have length greater than or equal to 1"
    elif len(value) > limit:
        rule = f"Member must have length less than or equal to {limit}"
    else:
        rule = f"Member must satisfy regular expression pattern: {pattern}"
    return InvalidParameterError(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: {rule}", code="ValidationException")


def parse_function_name(function: str) -> FunctionName:
    """Name, name:qualifier, partial ARN or full ARN; a ValidationException when it is none."""
    found = _FUNCTION_NAME.fullmatch(function) if 0 < len(function) <= FUNCTION_NAME_MAX else None
    if found is None:
        raise _constraint_error("functionName", function, FUNCTION_NAME_PATTERN,
                                FUNCTION_NAME_MAX)
    region, account = found.group(3), found.group(5)
    return FunctionName(name=found.group(7), qualifier=found.group(9),
                        region=region[:-1] if region else None,
                        account=account[:-1] if account else None)


def check_qualifier(qualifier: str | None) -> None:
    """A ValidationException unless ``qualifier`` is absent or fits Invoke's constraints."""
    if qualifier is not None and not (
            0 < len(qualifier) <= QUALIFIER_MAX and _QUALIFIER.fullmatch(qualifier)):
        raise _constraint_error("qualifier", qualifier, QUALIFIER_PATTERN, QUALIFIER_MAX)


def client_context_json(client_context: str | None) -> str | None:
    """The JSON object a ClientContext carries in base64, as the runtime gets it (compact ASCII,
    so it is a safe header value); InvalidRequestContentException if it is not one, as AWS says."""
    if not client_context:
        return None
    try:
        if len(client_context) > CLIENT_CONTEXT_MAX:
            raise ValueError("too long")
        decoded = json.loads(base64.b64decode(client_context, validate=True))
        if not isinstance(decoded, dict):
            raise ValueError("not an object")
    except (ValueError, binascii.Error, RecursionError):
        raise InvalidRequestContentError(
            "Client context must be a valid Base64-encoded JSON object.") from None
    return json.dumps(decoded, separators=(",", ":"))


def check_payload(payload: bytes) -> None:
    """InvalidRequestContentException unless the payload is empty (``{}``) or JSON."""
    if not payload:
        return
    try:
        json.loads(payload)
    except (ValueError, RecursionError) as error:
        raise InvalidRequestContentError(
            f"Could not parse request body into json: Could not parse payload into json: "
            f"{error}") from None
