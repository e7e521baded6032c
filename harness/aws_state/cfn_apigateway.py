"""API Gateway's CloudFormation types: a RestApi with its inline OpenAPI Body, Stage, Deployment."""

from __future__ import annotations

from typing import Any

from moto.apigateway.models import apigateway_backends
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel

from harness.aws_state.cfn_common import Declared, ReplacedOnUpdate, tags_map


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


def _endpoint_configuration(properties: dict[str, Any]) -> Any:
    """CloudFormation's ``EndpointConfiguration`` in the API's casing (moto keeps it as given,
    and GetRestApi's ``types`` then reads nothing). Any: moto's hint says str, it keeps a dict."""
    given = properties.get("EndpointConfiguration")
    if not isinstance(given, dict):
        return None
    found = {"types": given.get("Types"), "vpcEndpointIds": given.get("VpcEndpointIds")}
    return {key: value for key, value in found.items() if value is not None} or None


class RestApi(Declared, CloudFormationModel):
    """AWS::ApiGateway::RestApi, its inline OpenAPI ``Body`` imported (moto ignores it)."""

    TYPE = "AWS::ApiGateway::RestApi"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = frozenset({"RootResourceId", "RestApiId"})

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
            endpoint_configuration=_endpoint_configuration(properties))
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


class ApiStage(Declared, ReplacedOnUpdate, CloudFormationModel):
    """AWS::ApiGateway::Stage (moto has stages, but no CloudFormation type for them)."""

    TYPE = "AWS::ApiGateway::Stage"
    NAME_PROPERTY = "StageName"

    def __init__(self, api_id: str, name: str, account_id: str, region: str) -> None:
        self.api_id = api_id
        self.name = name
        self.account_id = account_id
        self.region = region

    @property
    def physical_resource_id(self) -> str:
        return self.name

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
            tags=tags_map(properties.get("Tags")) or None,
            tracing_enabled=properties.get("TracingEnabled"))
        return cls(api_id, name, account_id, region_name)

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


class Deployment(Declared, CloudFormationModel):
    """AWS::ApiGateway::Deployment as moto makes it, with its id as physical id, deletable."""

    TYPE = "AWS::ApiGateway::Deployment"
    ATTRIBUTES = frozenset({"DeploymentId"})

    def __init__(self, api_id: str, deployment_id: str) -> None:
        self.api_id = api_id
        self.id = deployment_id

    @property
    def physical_resource_id(self) -> str:
        return self.id

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


    def delete(self, account_id: str, region_name: str) -> None:
        api = apigateway_backends[account_id][region_name].apis.get(self.api_id)
        if api is not None:
            api.deployments.pop(self.id, None)
