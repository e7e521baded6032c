"""Real AWS as a target, handled with care: the plan and the account before anything is created,
and ``destroy`` to remove every resource the deploy made.

The same calls work against any endpoint, which is how they are tested: with ``AWS_ENDPOINT_URL``
pointing at the embedded emulator, the AWS code path runs without touching AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.deploy import StackSpec, Target, _find_api, _step


@dataclass(frozen=True)
class PlanItem:
    kind: str
    name: str
    action: str
    """'create' or 'update'."""

    def __str__(self) -> str:
        return f"{self.action:<6} {self.kind:<16} {self.name}"


def account_of(target: Target, region: str) -> str:
    """The account the credentials belong to (STS GetCallerIdentity), for the user to check."""
    with _step("look up the account (sts get-caller-identity)"):
        return str(target.client("sts", region).get_caller_identity()["Account"])


def plan(target: Target, spec: StackSpec) -> list[PlanItem]:
    """What a deploy of ``spec`` would create or update; reads only."""
    s3, iam = target.client("s3", spec.region), target.client("iam", spec.region)
    lam, apigw = target.client("lambda", spec.region), target.client("apigateway", spec.region)
    with _step("read the current stack"):
        items = [
            PlanItem("S3 bucket", spec.bucket, _exists(lambda: s3.head_bucket(Bucket=spec.bucket))),
            PlanItem("IAM role", spec.role_name,
                     _exists(lambda: iam.get_role(RoleName=spec.role_name))),
            PlanItem("Lambda function", spec.function_name,
                     _exists(lambda: lam.get_function(FunctionName=spec.function_name))),
            PlanItem("REST API", f"{spec.api_name} (POST /{spec.route}, stage {spec.stage})",
                     "update" if _find_api(apigw, spec.api_name) else "create"),
        ]
    return items


def _exists(call: Callable[[], Any]) -> str:
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NoSuchEntity", "ResourceNotFoundException"):
            return "create"
        raise
    return "update"


def destroy(target: Target, spec: StackSpec,
            progress: Callable[[str], None] = lambda _msg: None) -> list[str]:
    """Delete the stack's API, function, role and bucket (with its objects); returns what went.

    Anything already gone is skipped, so it is safe to run twice.
    """
    removed: list[str] = []
    apigw = target.client("apigateway", spec.region)
    with _step(f"delete API {spec.api_name}"):
        api_id = _find_api(apigw, spec.api_name)
        if api_id is not None:
            progress(f"REST API {spec.api_name} ({api_id})")
            apigw.delete_rest_api(restApiId=api_id)
            removed.append(f"REST API {spec.api_name}")
    lam = target.client("lambda", spec.region)
    with _step(f"delete function {spec.function_name}"):
        if _gone_or(lambda: lam.delete_function(FunctionName=spec.function_name)):
            progress(f"function {spec.function_name}")
            removed.append(f"Lambda function {spec.function_name}")
    iam = target.client("iam", spec.region)
    with _step(f"delete role {spec.role_name}"):
        _gone_or(lambda: iam.delete_role_policy(RoleName=spec.role_name,
                                                PolicyName=spec.function_name))
        if _gone_or(lambda: iam.delete_role(RoleName=spec.role_name)):
            progress(f"role {spec.role_name}")
            removed.append(f"IAM role {spec.role_name}")
    with _step(f"delete bucket {spec.bucket}"):
        if _empty_and_delete_bucket(target.client("s3", spec.region), spec.bucket):
            progress(f"bucket {spec.bucket} and its objects")
            removed.append(f"S3 bucket {spec.bucket}")
    return removed


def _gone_or(call: Callable[[], Any]) -> bool:
    """Run a delete; False when the resource was not there."""
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchEntity", "ResourceNotFoundException", "NoSuchBucket", "404"):
            return False
        raise
    return True


def _empty_and_delete_bucket(s3: Any, bucket: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                      for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if doomed:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return False
        raise
    return _gone_or(lambda: s3.delete_bucket(Bucket=bucket))
