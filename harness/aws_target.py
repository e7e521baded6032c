"""Real AWS as a target, handled with care: the plan and the account before anything is created,
and ``destroy`` to remove every resource the deploy made.

The example stack is a CloudFormation stack (``lambda_fn/template.yaml``): the plan lists the
template's resources against the stack's, and ``destroy`` empties the data bucket, deletes the
stack and the package it uploaded, then anything of the example's names left outside a stack
(what the harness made before it deployed a template). The same calls work against any endpoint,
which is how they are tested: with ``AWS_ENDPOINT_URL`` pointing at the embedded emulator, the
AWS code path runs without touching AWS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.deploy import (
    BUCKET_ID,
    FUNCTION_ID,
    ROUTE,
    StackSpec,
    Target,
    _step,
    bucket_exists,
    example_template,
    role_name_of,
    stack_name_of,
    stack_parameters,
    stack_resources,
)
from harness.templates.deployer import TemplateDeployer
from harness.templates.sam import sam_transform

ROLE_ID = "PredictRole"
API_ID = "PredictApi"
_KINDS = {"AWS::S3::Bucket": "S3 bucket", "AWS::IAM::Role": "IAM role",
          "AWS::Lambda::Function": "Lambda function", "AWS::ApiGateway::RestApi": "REST API",
          "AWS::ApiGateway::Deployment": "API deployment", "AWS::ApiGateway::Stage": "API stage",
          "AWS::Lambda::Permission": "Lambda permission"}
_GONE = ("404", "NoSuchBucket", "NoSuchEntity", "ResourceNotFoundException", "NotFoundException")
_PLACEHOLDER_ACCOUNT = "123456789012"  # only for reading the template, never deployed
_POLICY_NAME = "harness-predict"  # the role's inline policy, in the template and before it


@dataclass(frozen=True)
class PlanItem:
    kind: str
    name: str
    action: str
    """'create', 'update' (in the stack already), 'use' (a bucket that exists outside the
    stack) or 'exists' (a role or function outside the stack: the create fails until it is
    removed)."""

    def __str__(self) -> str:
        note = {"use": "  (exists: used as it is, outside the stack)",
                "exists": "  (exists outside the stack: remove it first, e.g. harness destroy)"}
        return f"{self.action:<6} {self.kind:<20} {self.name}{note.get(self.action, '')}"


def account_of(target: Target, region: str) -> str:
    """The account the credentials belong to (STS GetCallerIdentity), for the user to check."""
    with _step("look up the account (sts get-caller-identity)"):
        return str(target.client("sts", region).get_caller_identity()["Account"])


def template_resources(spec: StackSpec, *, create_bucket: bool = True) -> dict[str, str]:
    """Logical id -> type of what the example template makes for ``spec`` (SAM transformed)."""
    parameters = stack_parameters(spec, create_bucket=create_bucket)
    template = example_template(spec, "s3://packaged-at-deploy/code.zip", spec.extra_env)
    made = sam_transform(template, parameters, region=spec.region,
                         account_id=_PLACEHOLDER_ACCOUNT, stack_name=stack_name_of(spec))
    return {logical: str(resource["Type"]) for logical, resource in made["Resources"].items()
            if create_bucket or logical != BUCKET_ID}


def plan(target: Target, spec: StackSpec) -> list[PlanItem]:
    """What a deploy of ``spec`` would create, update or use; reads only."""
    client = target.stack_side().clients(spec.region)
    name = stack_name_of(spec)
    with _step("read the current stack"):
        existing = stack_resources(client, name)
        in_stack = existing or {}
        owned = BUCKET_ID in in_stack or not bucket_exists(target.client("s3", spec.region),
                                                           spec.bucket)
        items = [PlanItem("CloudFormation stack", f"{name} (lambda_fn/template.yaml)",
                          "create" if existing is None else "update")]
        if not owned:
            items.append(PlanItem("S3 bucket", spec.bucket, "use"))
        for logical, kind in template_resources(spec, create_bucket=owned).items():
            action = "update" if logical in in_stack else "create"
            if action == "create" and _outside(client, spec, logical):
                action = "exists"
            items.append(PlanItem(_KINDS.get(kind, kind), _name_of(logical, spec), action))
    return items


def _names(spec: StackSpec) -> dict[str, str]:
    """Logical id -> the name ``spec`` gives it, for the template's named resources."""
    return {BUCKET_ID: spec.bucket, ROLE_ID: role_name_of(spec), FUNCTION_ID: spec.function_name,
            API_ID: spec.api_name}


def _name_of(logical: str, spec: StackSpec) -> str:
    if logical == API_ID:
        return f"{spec.api_name} (POST /{ROUTE}, stage {spec.stage})"
    return _names(spec).get(logical, logical)


def _outside(client: Callable[[str], Any], spec: StackSpec, logical: str) -> bool:
    """Whether a resource the stack would create under a unique name (a role, a function)
    exists already, made without it. (API names need not be unique.)"""
    if logical == ROLE_ID:
        return _found(lambda: client("iam").get_role(RoleName=role_name_of(spec)))
    if logical == FUNCTION_ID:
        return _found(lambda: client("lambda").get_function(FunctionName=spec.function_name))
    return False


def _found(call: Callable[[], Any]) -> bool:
    return not _gone_or_not(call)


def find_api(apigw: Any, name: str) -> str | None:
    for page in apigw.get_paginator("get_rest_apis").paginate():
        for api in page.get("items", []):
            if api.get("name") == name:
                return str(api["id"])
    return None


def destroy(target: Target, spec: StackSpec,
            progress: Callable[[str], None] = lambda _msg: None) -> list[str]:
    """Delete the example stack (its bucket emptied first, its uploaded package after), and a
    bucket it used without owning it; without a stack, what an older harness made by name (API,
    function, role, bucket). Returns what went.

    Anything already gone is skipped, so it is safe to run twice.
    """
    client = target.stack_side().clients(spec.region)
    name = stack_name_of(spec)
    with _step(f"read stack {name}"):
        existing = stack_resources(client, name)
    if existing is None:  # made before the template, by name, as the harness made it then
        return _sweep_names(target, spec, progress) + _sweep_bucket(target, spec, progress)
    removed = _delete_stack(client, spec, name, existing, progress)
    return removed + _sweep_bucket(target, spec, progress)  # one the stack used as it was


def _delete_stack(client: Callable[[str], Any], spec: StackSpec, name: str,
                  existing: Mapping[str, tuple[str, str]],
                  progress: Callable[[str], None]) -> list[str]:
    deployer = TemplateDeployer(client, spec.region, progress)
    if BUCKET_ID in existing:  # CloudFormation cannot delete a bucket that holds objects
        bucket = existing[BUCKET_ID][1]
        with _step(f"empty bucket {bucket}"):
            _empty_bucket(client("s3"), bucket)
    deployer.delete(name)
    names = _names(spec)
    removed = [f"CloudFormation stack {name}"] + [
        f"{_KINDS[kind]} {names[logical]}" for logical, (kind, _physical) in existing.items()
        if logical in names]
    with _step(f"delete stack {name}'s package"):
        removed += _remove_artifacts(client("s3"), deployer.artifacts_bucket_name(), name)
    return removed


def _remove_artifacts(s3: Any, bucket: str, prefix: str) -> list[str]:
    """The packages uploaded under ``prefix/``; the artifacts bucket too once it is empty."""
    from botocore.exceptions import ClientError

    try:
        pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                   Prefix=f"{prefix}/"))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _GONE:
            return []
        raise
    keys = [{"Key": item["Key"]} for page in pages for item in page.get("Contents", [])]
    if keys:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    removed = [f"package s3://{bucket}/{prefix}/"] if keys else []
    empty = not s3.list_objects_v2(Bucket=bucket, MaxKeys=1).get("KeyCount")
    if empty and not _gone_or_not(lambda: s3.delete_bucket(Bucket=bucket)):
        removed.append(f"S3 bucket {bucket}")
    return removed


def _sweep_names(target: Target, spec: StackSpec, progress: Callable[[str], None]) -> list[str]:
    """The example's API, function and role outside any stack, by name (what the harness made
    before it deployed the template)."""
    removed: list[str] = []
    apigw = target.client("apigateway", spec.region)
    with _step(f"delete API {spec.api_name}"):
        api_id = find_api(apigw, spec.api_name)
        if api_id is not None:
            progress(f"REST API {spec.api_name} ({api_id})")
            apigw.delete_rest_api(restApiId=api_id)
            removed.append(f"REST API {spec.api_name}")
    lam = target.client("lambda", spec.region)
    with _step(f"delete function {spec.function_name}"):
        if not _gone_or_not(lambda: lam.delete_function(FunctionName=spec.function_name)):
            progress(f"function {spec.function_name}")
            removed.append(f"Lambda function {spec.function_name}")
    iam, role = target.client("iam", spec.region), role_name_of(spec)
    with _step(f"delete role {role}"):
        _gone_or_not(lambda: iam.delete_role_policy(RoleName=role, PolicyName=_POLICY_NAME))
        if not _gone_or_not(lambda: iam.delete_role(RoleName=role)):
            progress(f"role {role}")
            removed.append(f"IAM role {role}")
    return removed


def _sweep_bucket(target: Target, spec: StackSpec, progress: Callable[[str], None]) -> list[str]:
    """The data bucket with its objects, when no stack owns it."""
    removed: list[str] = []
    with _step(f"delete bucket {spec.bucket}"):
        if _empty_and_delete_bucket(target.client("s3", spec.region), spec.bucket):
            progress(f"bucket {spec.bucket} and its objects")
            removed.append(f"S3 bucket {spec.bucket}")
    return removed


def _gone_or_not(call: Callable[[], Any]) -> bool:
    """Run a read or a delete; True when the resource was not there."""
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in _GONE:
            return True
        raise
    return False


def _empty_bucket(s3: Any, bucket: str) -> bool:
    """Delete every object version of ``bucket``; False when there is no such bucket."""
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
    return True


def _empty_and_delete_bucket(s3: Any, bucket: str) -> bool:
    return _empty_bucket(s3, bucket) and not _gone_or_not(lambda: s3.delete_bucket(Bucket=bucket))
