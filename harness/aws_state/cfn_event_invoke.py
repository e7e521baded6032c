"""AWS::Lambda::EventInvokeConfig, which moto lacks (SAM's ``EventInvokeConfig`` and
``Destinations`` become one): the config stored as PutFunctionEventInvokeConfig stores it."""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel

from harness.aws_state import lambda_async
from harness.aws_state.cfn_common import Declared, PropertyError, ReplacedOnUpdate, require
from harness.errors import AwsError

_BODY = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")


class EventInvokeConfig(Declared, ReplacedOnUpdate, CloudFormationModel):
    TYPE = "AWS::Lambda::EventInvokeConfig"

    def __init__(self, function: str, qualifier: str) -> None:
        self.function = function
        self.qualifier = qualifier

    @property
    def physical_resource_id(self) -> str:
        return f"{self.function}:{self.qualifier}"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> EventInvokeConfig:
        properties = cloudformation_json["Properties"]
        require(properties, "FunctionName", "Qualifier")
        body = {key: properties[key] for key in _BODY if key in properties}
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if isinstance(body.get(key), str) and body[key].isdigit():
                body[key] = int(body[key])  # a template's numbers may come as strings
        function, qualifier = str(properties["FunctionName"]), str(properties["Qualifier"])
        try:
            lambda_async.put_event_invoke_config(account_id, region_name, function, qualifier,
                                                 body)
        except AwsError as error:
            raise PropertyError(error.message) from None
        return cls(function, qualifier)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str,
    ) -> None:
        properties = cloudformation_json["Properties"]
        cls(str(properties["FunctionName"]), str(properties["Qualifier"])).delete(
            account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        lambda_async.delete_event_invoke_config(account_id, region_name, self.function,
                                                self.qualifier)
