"""AWS::IAM::Role as AWS makes it: moto's drops ManagedPolicyArns (which every SAM function's
role carries: AWSLambdaBasicExecutionRole, and AmazonS3ReadOnlyAccess-style ``Policies``) and
ignores a change to the policies on update. Here both apply, so the role checked by the
harness's IAM is the role the template describes."""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.iam.models import IAMBackend, iam_backends
from moto.iam.models import Role as MotoRole

from harness.aws_state.cfn_common import Declared, PropertyError
from harness.aws_state.iam_roles import PARTITION, ensure_aws_policy


def _text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _backend(account_id: str) -> IAMBackend:
    return iam_backends[account_id][PARTITION]


def _apply_policies(backend: IAMBackend, role: MotoRole, properties: dict[str, Any]) -> None:
    """Make the role's inline and managed policies exactly the template's."""
    wanted = {str(p["PolicyName"]): _text(p["PolicyDocument"])
              for p in properties.get("Policies") or []}
    for name in [n for n in role.policies if n not in wanted]:
        role.delete_policy(name)
    for name, document in wanted.items():
        role.put_policy(name, document)
    arns = [str(arn) for arn in properties.get("ManagedPolicyArns") or []]
    for arn in [a for a in role.managed_policies if a not in arns]:
        backend.detach_role_policy(arn, role.name)
    for arn in arns:
        ensure_aws_policy(backend, arn)
        if arn not in backend.managed_policies:
            raise PropertyError(f"Policy {arn} does not exist or is not attachable.")
        if arn not in role.managed_policies:
            backend.attach_role_policy(arn, role.name)
    role.permissions_boundary_arn = properties.get("PermissionsBoundary") or None


class Role(Declared, CloudFormationModel):
    """AWS::IAM::Role with its Policies, ManagedPolicyArns and PermissionsBoundary; returns
    moto's role (Ref: its name; GetAtt Arn and RoleId)."""

    TYPE = "AWS::IAM::Role"
    NAME_PROPERTY = "RoleName"
    ATTRIBUTES = frozenset({"Arn", "RoleId"})

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> MotoRole:
        properties = cloudformation_json["Properties"]
        if "AssumeRolePolicyDocument" not in properties:
            raise PropertyError("Properties validation failed: required key(s) "
                                "[AssumeRolePolicyDocument] not found")
        backend = _backend(account_id)
        role = backend.create_role(
            role_name=properties.get("RoleName", resource_name),
            assume_role_policy_document=_text(properties["AssumeRolePolicyDocument"]),
            path=properties.get("Path", "/"), permissions_boundary=None,
            description=properties.get("Description", ""), tags=properties.get("Tags") or [],
            max_session_duration=properties.get("MaxSessionDuration", 3600))
        try:
            _apply_policies(backend, role, properties)
        except Exception:
            _delete(backend, role.name)
            raise
        return role

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: MotoRole, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> MotoRole:
        properties = cloudformation_json["Properties"]
        name = properties.get("RoleName", original_resource.name)
        if name != original_resource.name:  # a new name is a new role, as on AWS
            created = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name)
            _delete(_backend(account_id), original_resource.name)
            return created
        backend = _backend(account_id)
        original_resource.assume_role_policy_document = _text(
            properties["AssumeRolePolicyDocument"])
        original_resource.description = properties.get("Description", "")
        _apply_policies(backend, original_resource, properties)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str,
    ) -> None:
        _delete(_backend(account_id), resource_name)


def _delete(backend: IAMBackend, role_name: str) -> None:
    """The role and everything attached to it (its instance profiles' hold on it included)."""
    try:
        role = backend.get_role(role_name)
    except Exception:  # already gone
        return
    for arn in list(role.managed_policies):
        backend.detach_role_policy(arn, role_name)
    for name in list(role.policies):
        role.delete_policy(name)
    for profile in backend.instance_profiles.values():
        profile.roles = [r for r in profile.roles if r.name != role_name]
    backend.delete_role(role_name)
