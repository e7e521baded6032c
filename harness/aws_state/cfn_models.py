"""CloudFormation resource types moto lacks or drops, added through its own extension point.

Each class is a direct ``CloudFormationModel`` subclass: moto's ``parsing.get_model_map`` maps a
type to the last such subclass defined, so these replace moto's own for the same type once
``harness.aws_state.cloudformation.install()`` has cleared its caches. Each creates its resource
through moto's backends, so the APIs (GetFunction, GetRestApi...) and the harness's data planes
see it as if a client had made it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from moto.apigateway.models import apigateway_backends
from moto.awslambda.models import LambdaFunction, get_backend
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel
from moto.s3.models import s3_backends

# AWS::Lambda::Function properties passed to CreateFunction as they are; moto's own model
# keeps only the first seven and drops the rest (Layers and Architectures among them).
_FUNCTION_PROPERTIES = (
    "Description", "MemorySize", "Publish", "Timeout", "VpcConfig", "Environment",
    "ReservedConcurrentExecutions", "Layers", "Architectures", "PackageType", "ImageConfig",
    "EphemeralStorage", "TracingConfig", "DeadLetterConfig", "KMSKeyArn", "FileSystemConfigs",
    "LoggingConfig", "SnapStart", "Tags",
)


class PropertyError(Exception):
    """A resource's properties are invalid; the message is CloudFormation's reason for it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _require(properties: dict[str, Any], *names: str) -> None:
    missing = [name for name in names if properties.get(name) in (None, "", {})]
    if missing:
        raise PropertyError("Properties validation failed: required key(s) "
                            f"[{', '.join(missing)}] not found")


def _tags(value: Any) -> dict[str, str]:
    if isinstance(value, list):  # CloudFormation's [{Key, Value}] into CreateFunction's map
        return {str(tag.get("Key")): str(tag.get("Value")) for tag in value}
    return dict(value or {})


def _code(code: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's Code as CreateFunction takes it: inline source zipped as index.py."""
    code = dict(code)
    if "ZipFile" in code:
        zipped = LambdaFunction._create_zipfile_from_plaintext_code(code["ZipFile"])
        code["ZipFile"] = base64.b64encode(zipped)
    return code


class Function(CloudFormationModel):
    """AWS::Lambda::Function with every property CreateFunction takes; returns moto's function."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "FunctionName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Function"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Arn",)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> LambdaFunction:
        properties = cloudformation_json["Properties"]
        _require(properties, "Code", "Role")
        if properties.get("PackageType", "Zip") == "Zip":
            _require(properties, "Handler", "Runtime")
        spec: dict[str, Any] = {"Code": _code(properties["Code"]), "FunctionName": resource_name,
                                "Handler": properties.get("Handler"), "Role": properties["Role"],
                                "Runtime": properties.get("Runtime")}
        for name in _FUNCTION_PROPERTIES:
            if name in properties:
                spec[name] = properties[name]
        if "Tags" in spec:
            spec["Tags"] = _tags(spec["Tags"])
        return get_backend(account_id, region_name).create_function(spec)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: LambdaFunction, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> LambdaFunction:
        properties = dict(cloudformation_json["Properties"])
        properties["Code"] = _code(properties.get("Code") or {})
        return LambdaFunction.update_from_cloudformation_json(
            original_resource, new_resource_name, {**cloudformation_json, "Properties": properties},
            account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str,
    ) -> None:
        get_backend(account_id, region_name).delete_function(resource_name)


def _rest_api_body(properties: dict[str, Any]) -> dict[str, Any] | None:
    body = properties.get("Body")
    if body is not None and not isinstance(body, dict):
        raise ValueError("Body must be an OpenAPI or Swagger object")
    return body


def _operations(path_doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(HTTP method, operation) pairs of one OpenAPI path item; ANY is API Gateway's extension."""
    found = []
    for key, operation in path_doc.items():
        method = "ANY" if key == "x-amazon-apigateway-any-method" else key.upper()
        if method in ("ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
            found.append((method, operation or {}))
    return found


def _resource_for(backend: Any, api: Any, path: str) -> Any:
    """The API's resource for ``path``, made with its missing ancestors."""
    resource = api.get_resource_for_path("/")
    walked = ""
    for part in [p for p in path.split("/") if p]:
        walked += "/" + part
        child = api.get_resource_for_path(walked)
        if child is None:
            child = backend.create_resource(api.id, resource.id, part)
        resource = child
    return resource


def import_openapi(backend: Any, api: Any, body: dict[str, Any]) -> None:
    """Resources, methods and integrations of an OpenAPI 3 or Swagger 2 ``body`` into ``api``.

    moto's PutRestApi refuses Swagger 2.0, which is what SAM generates, and ANY methods.
    """
    for path, path_doc in sorted((body.get("paths") or {}).items()):
        resource = _resource_for(backend, api, path)
        for method, operation in _operations(path_doc or {}):
            backend.put_method(api.id, resource.id, method, "NONE")
            integration = operation.get("x-amazon-apigateway-integration")
            if not integration:
                continue
            backend.put_integration(
                function_id=api.id, resource_id=resource.id, method_type=method,
                integration_type=str(integration.get("type", "")).upper(),
                uri=integration.get("uri"),
                integration_method=integration.get("httpMethod", "POST"),
                timeout_in_millis=integration.get("timeoutInMillis"))
    binary = body.get("x-amazon-apigateway-binary-media-types")
    if binary:
        api.binaryMediaTypes = list(binary)


class RestApi(CloudFormationModel):
    """AWS::ApiGateway::RestApi, its inline OpenAPI ``Body`` imported (moto ignores it)."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::RestApi"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("RootResourceId", "RestApiId")

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json["Properties"]
        body = _rest_api_body(properties)
        info = (body or {}).get("info") or {}
        name = properties.get("Name") or info.get("title") or resource_name
        backend = apigateway_backends[account_id][region_name]
        api = backend.create_rest_api(
            name=str(name), description=properties.get("Description", ""),
            endpoint_configuration=properties.get("EndpointConfiguration"))
        try:
            if body:
                import_openapi(backend, api, body)
            if properties.get("BinaryMediaTypes"):
                api.binaryMediaTypes = list(properties["BinaryMediaTypes"])
        except Exception:
            backend.delete_rest_api(api.id)  # nothing half-made is left for the rollback
            raise
        return api

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Any, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> Any:
        backend = apigateway_backends[account_id][region_name]
        api = original_resource
        body = _rest_api_body(cloudformation_json["Properties"])
        root = api.get_resource_for_path("/")
        api.resources = {root.id: root}  # a new Body replaces the routes, as PutRestApi does
        root.resource_methods = {}
        if body:
            import_openapi(backend, api, body)
        return api

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str,
    ) -> None:
        apigateway_backends[account_id][region_name].apis.pop(resource_name, None)


class ApiStage(CloudFormationModel):
    """AWS::ApiGateway::Stage (moto has stages, but no CloudFormation type for them)."""

    def __init__(self, api_id: str, name: str, account_id: str, region: str) -> None:
        self.api_id = api_id
        self.name = name
        self.account_id = account_id
        self.region = region

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "StageName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::Stage"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> ApiStage:
        properties = cloudformation_json["Properties"]
        api_id = properties["RestApiId"]
        name = properties.get("StageName") or resource_name
        backend = apigateway_backends[account_id][region_name]
        backend.create_stage(
            api_id, name, properties.get("DeploymentId", ""),
            variables=properties.get("Variables") or {},
            description=properties.get("Description", ""),
            tags=_tags(properties.get("Tags")) or None,
            tracing_enabled=properties.get("TracingEnabled"))
        return cls(api_id, name, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: ApiStage, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> ApiStage:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str,
    ) -> None:
        api_id = cloudformation_json["Properties"]["RestApiId"]
        cls(api_id, resource_name, account_id, region_name).delete(account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        api = apigateway_backends[account_id][region_name].apis.get(self.api_id)
        if api is not None:
            api.stages.pop(self.name, None)


class FunctionUrl(CloudFormationModel):
    """AWS::Lambda::Url: a function URL config in moto's Lambda; ``GetAtt FunctionUrl``."""

    def __init__(self, function_name: str, url: str, function_arn: str) -> None:
        self.function_name = function_name
        self.url = url
        self.function_arn = function_arn

    @property
    def physical_resource_id(self) -> str:
        return self.function_arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Url"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("FunctionUrl", "FunctionArn")

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "FunctionUrl":
            return self.url + "/"
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
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: FunctionUrl, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> FunctionUrl:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name)

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


class Permission(CloudFormationModel):
    """AWS::Lambda::Permission: a statement in the function's policy, removed on delete.

    moto's own adds the statement without an id and never removes it.
    """

    def __init__(self, function_name: str, statement_id: str) -> None:
        self.function_name = function_name
        self.statement_id = statement_id

    @property
    def physical_resource_id(self) -> str:
        return self.statement_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Permission"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

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
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Permission, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> Permission:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name)

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


class Deployment(CloudFormationModel):
    """AWS::ApiGateway::Deployment as moto makes it, with its id as physical id, deletable."""

    def __init__(self, api_id: str, deployment_id: str) -> None:
        self.api_id = api_id
        self.id = deployment_id

    @property
    def physical_resource_id(self) -> str:
        return self.id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::Deployment"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "DeploymentId"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "DeploymentId":
            return self.id
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> Deployment:
        properties = cloudformation_json["Properties"]
        backend = apigateway_backends[account_id][region_name]
        made = backend.create_deployment(
            function_id=properties["RestApiId"], name=properties.get("StageName"),
            description=properties.get("Description", ""))
        return cls(properties["RestApiId"], made.id)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Deployment, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> Deployment:
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str,
    ) -> None:
        raise NotImplementedError("deleted through the instance's delete()")

    def delete(self, account_id: str, region_name: str) -> None:
        api = apigateway_backends[account_id][region_name].apis.get(self.api_id)
        if api is not None:
            api.deployments.pop(self.id, None)


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
        _require(properties, "Bucket", "PolicyDocument")
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


MODELS: tuple[type[CloudFormationModel], ...] = (
    Function, RestApi, ApiStage, Deployment, FunctionUrl, Permission, BucketPolicy)
