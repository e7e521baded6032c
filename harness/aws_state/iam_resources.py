"""Resource-based policies as moto holds them: a bucket's policy (which moto stores but never
evaluates) and a function's policy (what AddPermission and AWS::Lambda::Permission wrote)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness.aws_state.backends import existing

PARTITION = "aws"
# moto's Lambda and S3 models are imported where they are read: importing them costs seconds
# (moto's IAM data comes with them), which API Gateway's and the triggers' modules, imported by
# every CLI command, must not pay.


@dataclass(frozen=True)
class Bucket:
    """A bucket as S3's IAM checks need it."""

    name: str
    owner_account: str
    policy: bytes | None
    """The bucket policy's JSON, as PutBucketPolicy stored it; None without one."""
    _model: Any

    def has_object(self, key: str) -> bool:
        """Whether ``key`` names an object (not a delete marker) in the bucket now."""
        found = self._model.keys.get(key)
        return found is not None and type(found).__name__ != "FakeDeleteMarker"


def bucket(account_id: str, name: str) -> Bucket | None:
    """The bucket ``name`` (any account's: bucket names are global); None when none exists."""
    from moto.s3.models import s3_backends

    try:
        found = existing(s3_backends, account_id, PARTITION).buckets.get(name)
        owner = account_id
        if found is None and name in s3_backends.bucket_accounts:
            _partition, owner = s3_backends.bucket_accounts[name]
            found = s3_backends[owner][PARTITION].buckets.get(name)
    except KeyError:
        return None
    if found is None:
        return None
    return Bucket(name, owner, found.policy, found)


@dataclass(frozen=True)
class FunctionPolicy:
    """A function (version or alias) and its resource-based policy."""

    function_name: str
    function_arn: str
    """Unqualified."""
    document: str | None
    """The policy's JSON text (what GetPolicy answers); None when the function has none (no
    permission was ever added). Text, so that its parse is cached by it."""


def function_policy(function: str, region: str, account_id: str,
                    qualifier: str | None = None) -> FunctionPolicy | None:
    """The policy of ``function`` (a name, ``name:qualifier`` or an ARN) as invoked; None when
    there is no such function (the invocation answers that itself)."""
    from moto.awslambda.models import lambda_backends

    try:
        fn = existing(lambda_backends, account_id, region).get_function(function, qualifier)
    except Exception:  # noqa: BLE001 - moto's several "not found" errors, an unknown region
        return None
    return FunctionPolicy(fn.function_name, fn.function_arn, _policy_text(fn.policy))


_texts: dict[tuple[object, ...], str | None] = {}


def _policy_text(policy: Any) -> str | None:
    """The policy's JSON, made again only when its statements changed: moto's AddPermission
    appends a new statement and changes the revision, RemovePermission drops one; neither
    changes a statement in place. (API Gateway reads the policy before every call.)"""
    statements = list(policy.statements)
    key = (id(policy), policy.revision, *map(id, statements))
    found = _texts.get(key, False)
    if found is not False:
        return found  # type: ignore[return-value]
    if len(_texts) >= 1024:
        _texts.clear()
    text = json.dumps({"Version": "2012-10-17", "Statement": [
        _as_aws_stores_it(s) for s in statements]}) if statements else None
    _texts[key] = text
    return text


def _as_aws_stores_it(statement: dict[str, Any]) -> dict[str, Any]:
    """A statement as GetPolicy shows it on AWS: moto keeps AddPermission's and
    AWS::Lambda::Permission's FunctionUrlAuthType (and the latter's FunctionName) as they came."""
    out = {k: v for k, v in statement.items() if k not in ("FunctionName", "FunctionUrlAuthType")}
    if "FunctionUrlAuthType" in statement:
        condition = dict(out.get("Condition") or {})
        condition["StringEquals"] = {**condition.get("StringEquals", {}),
                                     "lambda:FunctionUrlAuthType":
                                     statement["FunctionUrlAuthType"]}
        out["Condition"] = condition
    return out
