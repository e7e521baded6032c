"""API Gateway v2 (HTTP APIs) CloudFormation types, which moto lacks: Api with its OpenAPI Body
(what SAM's HttpApi events make), Stage, and the Integration and Route written by hand."""

from __future__ import annotations

import json
import re
from typing import Any

from moto.apigatewayv2.models import apigatewayv2_backends
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel

from harness.aws_state.cfn_common import Declared, ReplacedOnUpdate, require, tags_map

_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "any")


def normalised_body(body: dict[str, Any]) -> dict[str, Any]:
    """The Body as moto's import reads it: operations only, ANY named so, types in capitals."""
    paths: dict[str, Any] = {}
    for path, item in (body.get("paths") or {}).items():
        operations = {}
        for key, operation in (item or {}).items():
            method = "any" if key == "x-amazon-apigateway-any-method" else key.lower()
            if method not in _METHODS or not isinstance(operation, dict):
                continue
            operation = dict(operation)
            integration = operation.get("x-amazon-apigateway-integration")
            if isinstance(integration, dict):
                operation["x-amazon-apigateway-integration"] = {
                    **integration, "type": str(integration.get("type", "")).upper()}
            operations[method] = operation
        paths[path] = operations
    return {**body, "paths": paths}


class HttpApi(Declared, CloudFormationModel):
    """AWS::ApiGatewayV2::Api: an HTTP API, its routes and integrations from an inline Body."""

    TYPE = "AWS::ApiGatewayV2::Api"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = frozenset({"ApiEndpoint", "ApiId"})

    def __init__(self, api_id: str, region: str) -> None:
        self.api_id = api_id
        self._region = region

    @property
    def physical_resource_id(self) -> str:
        return self.api_id

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "ApiId":
            return self.api_id
        if attribute_name == "ApiEndpoint":
            return f"https://{self.api_id}.execute-api.{self._region}.amazonaws.com"
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> HttpApi:
        properties = cloudformation_json["Properties"]
        body = properties.get("Body")
        if body is None:
            require(properties, "Name", "ProtocolType")
        backend = apigatewayv2_backends[account_id][region_name]
        info = (body or {}).get("info") or {}
        api = backend.create_api(
            api_key_selection_expression=properties.get("ApiKeySelectionExpression"),
            cors_configuration=properties.get("CorsConfiguration"),
            description=properties.get("Description"),
            disable_schema_validation=properties.get("DisableSchemaValidation"),
            disable_execute_api_endpoint=properties.get("DisableExecuteApiEndpoint"),
            name=str(properties.get("Name") or info.get("title") or resource_name),
            protocol_type=properties.get("ProtocolType", "HTTP"),
            route_selection_expression=properties.get("RouteSelectionExpression"),
            tags=tags_map(properties.get("Tags")), version=properties.get("Version"))
        if body:
            try:
                api.import_api(json.dumps(normalised_body(body)), fail_on_warnings=False)
            except Exception:
                backend.delete_api(api.api_id)  # nothing half-made is left for the rollback
                raise
        return cls(api.api_id, region_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: HttpApi, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> HttpApi:
        body = cloudformation_json["Properties"].get("Body")
        if body:
            api = apigatewayv2_backends[account_id][region_name].get_api(original_resource.api_id)
            api.import_api(json.dumps(normalised_body(body)), fail_on_warnings=False)
        return original_resource


    def delete(self, account_id: str, region_name: str) -> None:
        apigatewayv2_backends[account_id][region_name].delete_api(self.api_id)


class HttpStage(Declared, ReplacedOnUpdate, CloudFormationModel):
    """AWS::ApiGatewayV2::Stage ($default with AutoDeploy, as SAM makes it)."""

    TYPE = "AWS::ApiGatewayV2::Stage"
    NAME_PROPERTY = "StageName"

    def __init__(self, api_id: str, name: str) -> None:
        self.api_id = api_id
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> HttpStage:
        properties = cloudformation_json["Properties"]
        require(properties, "ApiId", "StageName")
        config = {"stageName": properties["StageName"],
                  "autoDeploy": properties.get("AutoDeploy"),
                  "description": properties.get("Description"),
                  "stageVariables": properties.get("StageVariables") or {},
                  "tags": tags_map(properties.get("Tags"))}
        apigatewayv2_backends[account_id][region_name].create_stage(properties["ApiId"], config)
        return cls(properties["ApiId"], properties["StageName"])


    def delete(self, account_id: str, region_name: str) -> None:
        try:
            apigatewayv2_backends[account_id][region_name].delete_stage(self.api_id, self.name)
        except Exception:  # the API went first, its stages with it
            pass


_INTEGRATION_PROPERTIES = (
    "ConnectionId", "ConnectionType", "ContentHandlingStrategy", "CredentialsArn", "Description",
    "IntegrationMethod", "IntegrationSubtype", "IntegrationType", "IntegrationUri",
    "PassthroughBehavior", "PayloadFormatVersion", "RequestParameters", "RequestTemplates",
    "ResponseParameters", "TemplateSelectionExpression", "TimeoutInMillis", "TlsConfig")
_ROUTE_PROPERTIES = (
    "ApiKeyRequired", "AuthorizationScopes", "AuthorizationType", "AuthorizerId",
    "ModelSelectionExpression", "OperationName", "RequestModels", "RequestParameters",
    "RouteKey", "RouteResponseSelectionExpression", "Target")
_WORD = re.compile(r"(?<!^)(?=[A-Z])")


def _arguments(properties: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """moto's keyword arguments (snake_case) for CloudFormation's properties; absent ones None."""
    return {_WORD.sub("_", name).lower(): properties.get(name) for name in names}


class HttpIntegration(Declared, CloudFormationModel):
    """AWS::ApiGatewayV2::Integration, written by hand (SAM puts its own in the Api's Body)."""

    TYPE = "AWS::ApiGatewayV2::Integration"
    ATTRIBUTES = frozenset({"IntegrationId"})

    def __init__(self, api_id: str, integration_id: str) -> None:
        self.api_id = api_id
        self.integration_id = integration_id

    @property
    def physical_resource_id(self) -> str:
        return self.integration_id

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "IntegrationId":
            return self.integration_id
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> HttpIntegration:
        properties = cloudformation_json["Properties"]
        require(properties, "ApiId", "IntegrationType")
        made = apigatewayv2_backends[account_id][region_name].create_integration(
            api_id=properties["ApiId"], **_arguments(properties, _INTEGRATION_PROPERTIES))
        return cls(properties["ApiId"], made.id)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: HttpIntegration, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> HttpIntegration:
        properties = cloudformation_json["Properties"]
        if properties.get("ApiId") != original_resource.api_id:  # a new API: a new integration
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name)
        apigatewayv2_backends[account_id][region_name].update_integration(
            api_id=original_resource.api_id, integration_id=original_resource.integration_id,
            **_arguments(properties, _INTEGRATION_PROPERTIES))
        return original_resource


    def delete(self, account_id: str, region_name: str) -> None:
        try:
            apigatewayv2_backends[account_id][region_name].delete_integration(
                self.api_id, self.integration_id)
        except Exception:  # the API went first, its integrations with it
            pass


class HttpRoute(Declared, CloudFormationModel):
    """AWS::ApiGatewayV2::Route, written by hand; its Target is ``integrations/{id}``."""

    TYPE = "AWS::ApiGatewayV2::Route"
    ATTRIBUTES = frozenset({"RouteId"})

    def __init__(self, api_id: str, route_id: str) -> None:
        self.api_id = api_id
        self.route_id = route_id

    @property
    def physical_resource_id(self) -> str:
        return self.route_id

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "RouteId":
            return self.route_id
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> HttpRoute:
        properties = cloudformation_json["Properties"]
        require(properties, "ApiId", "RouteKey")
        made = apigatewayv2_backends[account_id][region_name].create_route(
            api_id=properties["ApiId"], **_arguments(properties, _ROUTE_PROPERTIES))
        return cls(properties["ApiId"], made.route_id)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: HttpRoute, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> HttpRoute:
        properties = cloudformation_json["Properties"]
        if properties.get("ApiId") != original_resource.api_id:  # a new API: a new route
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name)
        apigatewayv2_backends[account_id][region_name].update_route(
            api_id=original_resource.api_id, route_id=original_resource.route_id,
            **_arguments(properties, _ROUTE_PROPERTIES))
        return original_resource


    def delete(self, account_id: str, region_name: str) -> None:
        try:
            apigatewayv2_backends[account_id][region_name].delete_route(self.api_id,
                                                                        self.route_id)
        except Exception:  # the API went first, its routes with it
            pass
