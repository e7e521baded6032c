"""S3's CloudFormation types moto lacks: BucketPolicy."""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.s3.models import s3_backends

from harness.aws_state.cfn_common import require


def _unconditional(document: dict[str, Any]) -> dict[str, Any] | None:
    """The policy without its conditional statements, or None when none is left.

    moto enforces a bucket policy ignoring its Conditions, so SAM's "Deny unless
    aws:SecureTransport" would deny every request to the plain-HTTP emulator.
    """
    statements = document.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    kept = [statement for statement in statements if not statement.get("Condition")]
    return {**document, "Statement": kept} if kept else None


class BucketPolicy(CloudFormationModel):
    """AWS::S3::BucketPolicy (sam deploy's managed artifacts stack has one; moto has none)."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    @property
    def physical_resource_id(self) -> str:
        return self.bucket

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> BucketPolicy:
        properties = cloudformation_json["Properties"]
        require(properties, "Bucket", "PolicyDocument")
        document = properties["PolicyDocument"]
        enforced = _unconditional(json.loads(document) if isinstance(document, str) else document)
        if enforced is not None:
            s3_backends[account_id]["aws"].put_bucket_policy(
                properties["Bucket"], json.dumps(enforced).encode())
        return cls(properties["Bucket"])

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: BucketPolicy, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> BucketPolicy:
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str,
    ) -> None:
        raise NotImplementedError("deleted through the instance's delete()")

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            s3_backends[account_id]["aws"].delete_bucket_policy(self.bucket)
        except Exception:  # the bucket went first, its policy with it
            pass
