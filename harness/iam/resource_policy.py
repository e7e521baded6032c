"""Whether a function's resource-based policy lets an AWS service (or anyone) invoke it: pure.

What AddPermission and ``AWS::Lambda::Permission`` write is what API Gateway, S3, SNS,
EventBridge and function URLs are checked against on AWS
(https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html). A service
calls with its service principal and names the resource it calls for (``aws:SourceArn``) and its
account (``aws:SourceAccount``); a public function URL calls as ``*``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from harness.iam.decision import Decision
from harness.iam.policy import Effect, Principal, Request, evaluate, parse_policy

INVOKE_FUNCTION = "lambda:InvokeFunction"
INVOKE_FUNCTION_URL = "lambda:InvokeFunctionUrl"
_ACCOUNT = re.compile(r"^\d{12}$")


@lru_cache(maxsize=256)
def caller(principal: str) -> Principal:
    """The Principal a service name, an account id or an ARN stands for; ``*`` for anyone."""
    if principal == "*":
        return Principal()
    if principal.endswith((".amazonaws.com", ".amazon.com")):
        return Principal(service=principal)
    if _ACCOUNT.match(principal):
        return Principal(account=principal)
    return Principal(arns=frozenset({principal}),
                     account=principal.split(":")[4] if principal.count(":") >= 5 else None)


def decide_invoke(policy: str | Mapping[str, Any] | None, *, function_arn: str, principal: str,
                  source_arn: str | None = None, source_account: str | None = None,
                  action: str = INVOKE_FUNCTION,
                  context: Mapping[str, str] | None = None) -> Decision:
    """Whether ``principal`` may call ``action`` on ``function_arn`` (as invoked: qualified when
    a version or alias is), given the function's policy document (None: it has none)."""
    if policy is None or isinstance(policy, str):  # remembered: API Gateway asks every call
        return _decided(policy, function_arn, principal, source_arn, source_account, action,
                        tuple(sorted((context or {}).items())))
    return _decide(policy, function_arn, principal, source_arn, source_account, action,
                   dict(context or {}))


@lru_cache(maxsize=1024)
def _decided(policy: str | None, function_arn: str, principal: str, source_arn: str | None,
             source_account: str | None, action: str,
             context: tuple[tuple[str, str], ...]) -> Decision:
    return _decide(policy, function_arn, principal, source_arn, source_account, action,
                   dict(context))


def _decide(policy: str | Mapping[str, Any] | None, function_arn: str, principal: str,
            source_arn: str | None, source_account: str | None, action: str,
            context: Mapping[str, str]) -> Decision:
    who = f"{principal} calling {action}" + (f" for {source_arn}" if source_arn else "")
    if not policy:
        return Decision.deny(f"the function has no resource-based policy, so {who} is refused")
    keys: dict[str, tuple[str, ...]] = {k.lower(): (v,) for k, v in context.items()}
    if source_arn:
        keys["aws:sourcearn"] = (source_arn,)
    if source_account:
        keys["aws:sourceaccount"] = (source_account,)
    parsed = parse_policy(policy)
    outcome = evaluate(parsed, Request(action, function_arn, keys, caller(principal)))
    if outcome.effect is Effect.DENY:
        return Decision.deny(f"statement {outcome.sid!r} of the function's resource-based policy "
                             f"denies {who}")
    if outcome.effect is Effect.ALLOW and not outcome.through_account:
        return Decision.allow(f"statement {outcome.sid!r} allows {who}")
    return Decision.deny(f"no statement of the function's resource-based policy allows {who}")


def add_permission_command(function: str, principal: str, source_arn: str | None = None,
                           action: str = INVOKE_FUNCTION, region: str | None = None) -> str:
    """The AWS CLI call that grants what ``decide_invoke`` refused, for the log to name."""
    words = ["aws", "lambda", "add-permission", "--function-name", function,
             "--statement-id", f"{principal.split('.')[0].replace('*', 'public')}-invoke",
             "--action", action, "--principal", principal]
    if source_arn:
        words += ["--source-arn", source_arn]
    if region:
        words += ["--region", region]
    return " ".join(shlex.quote(word) for word in words)
