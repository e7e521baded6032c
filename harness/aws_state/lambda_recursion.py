"""A function's recursive loop configuration (Put/GetFunctionRecursionConfig), which moto lacks:
kept on moto's own function object, so it goes with the function (deleted, reset) as AWS's does.
"""

from __future__ import annotations

from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import lambda_backends

from harness.errors import ResourceNotFoundError

ATTRIBUTE = "harness_recursive_loop"
DEFAULT = "Terminate"
"""Lambda's default: a detected loop is stopped."""


def _latest(name_or_arn: str, account_id: str, region: str):  # type: ignore[no-untyped-def]
    """moto's unqualified function (the configuration is the function's, not a version's)."""
    parts = name_or_arn.split(":")
    if name_or_arn.startswith("arn:") and len(parts) >= 7:
        region, account_id, name = parts[3], parts[4], parts[6]
    elif len(parts) >= 3 and parts[1] == "function":  # 123456789012:function:name
        account_id, name = parts[0], parts[2]
    else:
        name = parts[0]
    try:
        return lambda_backends[account_id][region].get_function(name)
    except (KeyError, UnknownFunctionException):
        arn = f"arn:aws:lambda:{region}:{account_id}:function:{name}"
        raise ResourceNotFoundError(f"Function not found: {arn}") from None


def recursive_loop(name_or_arn: str, account_id: str, region: str) -> str:
    """"Allow" or "Terminate" (ResourceNotFoundError when there is no such function)."""
    return str(getattr(_latest(name_or_arn, account_id, region), ATTRIBUTE, DEFAULT))


def set_recursive_loop(name_or_arn: str, account_id: str, region: str, value: str) -> str:
    setattr(_latest(name_or_arn, account_id, region), ATTRIBUTE, value)
    return value
