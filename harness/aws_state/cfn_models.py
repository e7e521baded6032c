"""CloudFormation resource types moto lacks or drops, added through its own extension point.

Each class is a direct ``CloudFormationModel`` subclass: moto's ``parsing.get_model_map`` maps a
type to the last such subclass defined, so these replace moto's own for the same type once
``harness.aws_state.cloudformation.install()`` has cleared its caches. Each creates its resource
through moto's backends, so the APIs (GetFunction, GetRestApi...) and the harness's data planes
see it as if a client had made it.
"""

from __future__ import annotations

from moto.core.common_models import CloudFormationModel

from harness.aws_state.cfn_apigateway import ApiStage, Deployment, RestApi
from harness.aws_state.cfn_apigatewayv2 import HttpApi, HttpIntegration, HttpRoute, HttpStage
from harness.aws_state.cfn_event_invoke import EventInvokeConfig
from harness.aws_state.cfn_event_sources import QueuePolicy, Schedule, Subscription
from harness.aws_state.cfn_iam import Role
from harness.aws_state.cfn_lambda import Function, FunctionUrl, LayerVersion, Permission
from harness.aws_state.cfn_s3 import Bucket, BucketPolicy

MODELS: tuple[type[CloudFormationModel], ...] = (
    Function, RestApi, ApiStage, Deployment, FunctionUrl, Permission, BucketPolicy,
    LayerVersion, HttpApi, HttpStage, Bucket, HttpIntegration, HttpRoute, EventInvokeConfig,
    Subscription, QueuePolicy, Schedule, Role)
