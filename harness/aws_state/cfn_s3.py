"""S3's CloudFormation types: Bucket with its NotificationConfiguration (moto drops it) and
BucketPolicy (moto lacks it)."""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.s3.models import FakeBucket, s3_backends

from harness.aws_state.cfn_common import Declared, require


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


class BucketPolicy(Declared, CloudFormationModel):
    """AWS::S3::BucketPolicy (sam deploy's managed artifacts stack has one; moto has none)."""

    TYPE = "AWS::S3::BucketPolicy"

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    @property
    def physical_resource_id(self) -> str:
        return self.bucket

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


    def delete(self, account_id: str, region_name: str) -> None:
        try:
            s3_backends[account_id]["aws"].delete_bucket_policy(self.bucket)
        except Exception:  # the bucket went first, its policy with it
            pass


def _filter(rules: dict[str, Any] | None) -> dict[str, Any] | None:
    """CloudFormation's Filter {S3Key: {Rules}} as PutBucketNotificationConfiguration's."""
    key = (rules or {}).get("S3Key") or {}
    if not key.get("Rules"):
        return None
    return {"S3Key": {"FilterRule": [{"Name": r["Name"], "Value": r["Value"]}
                                     for r in key["Rules"]]}}


def notification_config(cfn: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's NotificationConfiguration as moto's S3 backend takes it."""
    kinds = (("LambdaConfigurations", "Function", "CloudFunctionConfiguration", "CloudFunction"),
             ("QueueConfigurations", "Queue", "QueueConfiguration", "Queue"),
             ("TopicConfigurations", "Topic", "TopicConfiguration", "Topic"))
    config: dict[str, Any] = {}
    for cfn_key, cfn_target, key, target in kinds:
        entries = []
        for entry in cfn.get(cfn_key) or []:
            made: dict[str, Any] = {target: entry[cfn_target], "Event": [entry["Event"]]}
            found = _filter(entry.get("Filter"))
            if found:
                made["Filter"] = found
            entries.append(made)
        if entries:
            config[key] = entries
    if (cfn.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled"):
        config["EventBridgeConfiguration"] = {}
    return config


class Bucket(CloudFormationModel):
    """AWS::S3::Bucket as moto makes it, plus its NotificationConfiguration."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return FakeBucket.cloudformation_name_type()

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::Bucket"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return FakeBucket.has_cfn_attr(attr)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> FakeBucket:
        bucket = FakeBucket.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs)
        _notify(bucket, cloudformation_json, account_id)
        return bucket

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: FakeBucket, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> FakeBucket:
        bucket = FakeBucket.update_from_cloudformation_json(
            original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        _notify(bucket, cloudformation_json, account_id)
        return bucket

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str,
    ) -> None:
        FakeBucket.delete_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name)


def _notify(bucket: FakeBucket, cloudformation_json: dict[str, Any], account_id: str) -> None:
    cfn = (cloudformation_json.get("Properties") or {}).get("NotificationConfiguration")
    s3_backends[account_id]["aws"].put_bucket_notification_configuration(
        bucket.name, notification_config(cfn) if cfn else {})

