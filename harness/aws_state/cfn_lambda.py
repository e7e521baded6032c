"""Lambda's CloudFormation types as AWS makes them: Function (every property), Url, Permission,
LayerVersion, EventInvokeConfig (moto's drop properties, lack the type, or give no physical
id)."""

from __future__ import annotations

import base64
import json
from typing import Any

from moto.awslambda.models import LambdaFunction, get_backend
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel

from harness.aws_state.cfn_common import (
    Declared,
    PropertyError,
    ReplacedOnUpdate,
    require,
    tags_map,
)

# AWS::Lambda::Function properties passed to CreateFunction as they are; moto's own model
# keeps only the first seven and drops the rest (Layers and Architectures among them).
_FUNCTION_PROPERTIES = (
    "Description", "MemorySize", "Publish", "Timeout", "VpcConfig", "Environment",
    "ReservedConcurrentExecutions", "Layers", "Architectures", "PackageType", "ImageConfig",
    "EphemeralStorage", "TracingConfig", "DeadLetterConfig", "KMSKeyArn", "FileSystemConfigs",
    "LoggingConfig", "SnapStart", "Tags",
)


def _code(code: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's Code as CreateFunction takes it: inline source zipped as index.py."""
    code = dict(code)
    if "ZipFile" in code:
        zipped = LambdaFunction._create_zipfile_from_plaintext_code(code["ZipFile"])
        code["ZipFile"] = base64.b64encode(zipped)
    return code


class Function(Declared, CloudFormationModel):
    """AWS::Lambda::Function with every property CreateFunction takes; returns moto's function."""

    TYPE = "AWS::Lambda::Function"
    NAME_PROPERTY = "FunctionName"
    ATTRIBUTES = frozenset({"Arn"})

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> LambdaFunction:
        properties = cloudformation_json["Properties"]
        require(properties, "Code", "Role")
        if properties.get("PackageType", "Zip") == "Zip":
            require(properties, "Handler", "Runtime")
        spec: dict[str, Any] = {"Code": _code(properties["Code"]), "FunctionName": resource_name,
                                "Handler": properties.get("Handler"), "Role": properties["Role"],
                                "Runtime": properties.get("Runtime")}
        for name in _FUNCTION_PROPERTIES:
            if name in properties:
                spec[name] = properties[name]
        if "Tags" in spec:
            spec["Tags"] = tags_map(spec["Tags"])
        return get_backend(account_id, region_name).create_function(spec)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: LambdaFunction, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> LambdaFunction:
        properties = dict(cloudformation_json["Properties"])
        if properties.get("PackageType", "Zip") != (original_resource.package_type or "Zip"):
            return cls._replace(original_resource, new_resource_name, cloudformation_json,
                                account_id, region_name)
        properties["Code"] = _code(properties.get("Code") or {})
        return LambdaFunction.update_from_cloudformation_json(
            original_resource, new_resource_name, {**cloudformation_json, "Properties": properties},
            account_id, region_name)

    @classmethod
    def _replace(cls, original: LambdaFunction, new_name: str, cloudformation_json: dict[str, Any],
                 account_id: str, region_name: str) -> LambdaFunction:
        """A new PackageType needs a new function (AWS: "Update requires: Replacement"): made
        first, under a new name, then the old one goes; a function named in the template
        cannot be replaced, and CloudFormation says so."""
        named = cloudformation_json["Properties"].get("FunctionName")
        if named:
            raise PropertyError(
                "CloudFormation cannot update a stack when a custom-named resource requires "
                f"replacing. Rename {named} and update the stack again.")
        made = cls.create_from_cloudformation_json(new_name, cloudformation_json, account_id,
                                                   region_name)
        get_backend(account_id, region_name).delete_function(original.function_name)
        return made

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str,
    ) -> None:
        get_backend(account_id, region_name).delete_function(resource_name)


class FunctionUrl(Declared, ReplacedOnUpdate, CloudFormationModel):
    """AWS::Lambda::Url: a function URL config in moto's Lambda; ``GetAtt FunctionUrl``."""

    TYPE = "AWS::Lambda::Url"
    ATTRIBUTES = frozenset({"FunctionUrl", "FunctionArn"})

    def __init__(self, function_name: str, url: str, function_arn: str) -> None:
        self.function_name = function_name
        self.url = url
        self.function_arn = function_arn

    @property
    def physical_resource_id(self) -> str:
        return self.function_arn

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "FunctionUrl":
            return self.url if self.url.endswith("/") else self.url + "/"
        if attribute_name == "FunctionArn":
            return self.function_arn
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> FunctionUrl:
        properties = cloudformation_json["Properties"]
        target = properties["TargetFunctionArn"]
        config = {key: properties[key] for key in ("AuthType", "Cors", "InvokeMode")
                  if key in properties}
        made = get_backend(account_id, region_name).create_function_url_config(target, config)
        return cls(made.function.function_name, made.url, made.function.function_arn)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str,
    ) -> None:
        target = cloudformation_json["Properties"]["TargetFunctionArn"]
        get_backend(account_id, region_name).delete_function_url_config(target)

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            get_backend(account_id, region_name).delete_function_url_config(self.function_name)
        except Exception:  # the function went first: its URL went with it
            pass


class Permission(Declared, ReplacedOnUpdate, CloudFormationModel):
    """AWS::Lambda::Permission: a statement in the function's policy, removed on delete.

    moto's own adds the statement without an id and never removes it.
    """

    TYPE = "AWS::Lambda::Permission"

    def __init__(self, function_name: str, statement_id: str) -> None:
        self.function_name = function_name
        self.statement_id = statement_id

    @property
    def physical_resource_id(self) -> str:
        return self.statement_id

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> Permission:
        properties = dict(cloudformation_json["Properties"])
        fn = get_backend(account_id, region_name).get_function(properties["FunctionName"])
        fn.policy.add_statement(raw=json.dumps({**properties, "StatementId": resource_name}))
        return cls(fn.function_name, resource_name)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str,
    ) -> None:
        function = cloudformation_json["Properties"]["FunctionName"]
        cls(function, resource_name).delete(account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            fn = get_backend(account_id, region_name).get_function(self.function_name)
            fn.policy.del_statement(self.statement_id)
        except Exception:  # the function, and its policy with it, went first
            pass


class LayerVersion(Declared, CloudFormationModel):
    """AWS::Lambda::LayerVersion; Ref gives its version ARN (moto's gives no physical id)."""

    TYPE = "AWS::Lambda::LayerVersion"
    NAME_PROPERTY = "LayerName"
    ATTRIBUTES = frozenset({"LayerVersionArn"})

    def __init__(self, name: str, version: int, arn: str) -> None:
        self.name = name
        self.version = version
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "LayerVersionArn":
            return self.arn
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> LayerVersion:
        properties = cloudformation_json["Properties"]
        require(properties, "Content")
        spec = {key: properties[key] for key in (
            "Content", "Description", "CompatibleRuntimes", "CompatibleArchitectures",
            "LicenseInfo") if key in properties}
        made = get_backend(account_id, region_name).publish_layer_version(
            {**spec, "LayerName": properties.get("LayerName") or resource_name})
        return cls(made.name, int(made.version), made.arn)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: LayerVersion, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> LayerVersion:
        # Layer versions are immutable: a change publishes a new one, and the old one goes
        # unless the template retains it (SAM's default RetentionPolicy is Retain).
        made = cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name)
        policy = cloudformation_json.get("UpdateReplacePolicy",
                                         cloudformation_json.get("DeletionPolicy"))
        if policy != "Retain":
            original_resource.delete(account_id, region_name)
        return made


    def delete(self, account_id: str, region_name: str) -> None:
        try:
            get_backend(account_id, region_name).delete_layer_version(self.name,
                                                                      str(self.version))
        except Exception:  # already deleted
            pass
