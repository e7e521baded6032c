"""May an AWS service invoke a function? Its resource-based policy, read from moto, decides.

API Gateway asks before each integration call; the event sources (S3 notifications, SNS,
EventBridge, function URLs) ask through ``may_invoke``, and log the refusal with
``refusal_message``, which names the AddPermission call that fixes it. Whether to ask at all is
the caller's: ``EmulatorConfig.iam.enabled``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from harness.aws_state.iam_resources import function_policy
from harness.config import DEFAULT_ACCOUNT_ID
from harness.errors import AwsError
from harness.iam.decision import Decision
from harness.iam.resource_policy import INVOKE_FUNCTION, add_permission_command, decide_invoke
from harness.lambda_.invoke_params import parse_function_name
from harness.lambda_.spec import FunctionSpec


def may_invoke(function: FunctionSpec | str, principal: str, source_arn: str | None = None,
               source_account: str | None = None, *, action: str = INVOKE_FUNCTION,
               region: str | None = None,
               context: Mapping[str, str] | None = None) -> Decision:
    """Whether ``principal`` (``apigateway.amazonaws.com``, ``s3.amazonaws.com``, ``*`` for a
    public function URL...) may call ``action`` on ``function`` (a spec, name, ``name:qualifier``
    or ARN) for ``source_arn`` (the API, bucket, topic or rule) owned by ``source_account``.

    A function that does not exist is allowed here: the invocation answers ResourceNotFound.
    ``context`` adds condition keys (``lambda:FunctionUrlAuthType``).
    """
    name, qualifier, where, account = _target(function, region)
    found = function_policy(name, where, account, qualifier)
    if found is None:
        return Decision.allow(f"no function {name} in {where}: the invocation answers that")
    invoked = f"{found.function_arn}:{qualifier}" if qualifier else found.function_arn
    return decide_invoke(found.document, function_arn=invoked, principal=principal,
                         source_arn=source_arn, source_account=source_account, action=action,
                         context=context)


def refusal_message(function: FunctionSpec | str, principal: str, source_arn: str | None,
                    decision: Decision, *, action: str = INVOKE_FUNCTION,
                    region: str | None = None) -> str:
    """One line for the log: what was refused, why, and the call that grants it."""
    name, qualifier, where, _account = _target(function, region)
    shown = f"{name}:{qualifier}" if qualifier else name
    fix = add_permission_command(shown, principal, source_arn, action, where)
    return (f"{principal} may not invoke function {shown}: {decision.reason}. Grant it with "
            f"AddPermission, e.g. {fix} (or an AWS::Lambda::Permission in your template)")


def _target(function: FunctionSpec | str,
            region: str | None) -> tuple[str, str | None, str, str]:
    """(name, qualifier, region, account) of what is invoked."""
    if isinstance(function, FunctionSpec):
        qualifier = None if function.version == "$LATEST" else function.version
        return function.name, qualifier, function.region, function.account_id
    return _named(function, region)


@lru_cache(maxsize=1024)
def _named(function: str, region: str | None) -> tuple[str, str | None, str, str]:
    # Cached: the name's pattern is long, and API Gateway asks before every call.
    try:
        named = parse_function_name(function)
    except AwsError:
        return function, None, region or "us-east-1", DEFAULT_ACCOUNT_ID
    qualifier = None if named.qualifier == "$LATEST" else named.qualifier
    return (named.name, qualifier, named.region or region or "us-east-1",
            named.account or DEFAULT_ACCOUNT_ID)
