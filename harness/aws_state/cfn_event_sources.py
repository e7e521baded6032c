"""CloudFormation types that SAM's event sources emit and moto lacks: a topic's Subscription (an
SNS event), a QueuePolicy (an SNS event's SqsSubscription, a rule's dead-letter queue) and an
EventBridge Scheduler Schedule (a ScheduleV2 event)."""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel
from moto.scheduler.models import scheduler_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends

from harness.aws_state.cfn_common import Declared, ReplacedOnUpdate, require

# Subscription properties kept as the subscription's attributes; the scope goes first: moto
# checks a FilterPolicy against the scope already set.
_ATTRIBUTES = ("FilterPolicyScope", "FilterPolicy", "RawMessageDelivery", "RedrivePolicy",
               "DeliveryPolicy", "SubscriptionRoleArn")
# Changing one of these makes a new subscription; the attributes change in place.
_IDENTITY = ("TopicArn", "Protocol", "Endpoint")


def _attribute(value: Any) -> str:
    """A property's value as SetSubscriptionAttributes takes it: JSON text, or true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


class Subscription(Declared, CloudFormationModel):
    """AWS::SNS::Subscription with its filter policy and delivery attributes; Ref is its ARN."""

    TYPE = "AWS::SNS::Subscription"

    def __init__(self, arn: str, account_id: str, region: str,
                 properties: dict[str, Any]) -> None:
        self.arn = arn
        self._where = (account_id, region)
        self.identity = tuple(properties.get(key) for key in _IDENTITY)

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> Subscription:
        properties = cloudformation_json["Properties"]
        require(properties, "TopicArn", "Protocol")
        region = str(properties["TopicArn"]).split(":")[3] or region_name  # the topic's own
        backend = sns_backends[account_id][region]
        made = backend.subscribe(properties["TopicArn"], properties.get("Endpoint") or "",
                                 properties["Protocol"])
        try:
            cls._set_attributes(backend, made.arn, properties)
        except Exception:
            backend.unsubscribe(made.arn)  # nothing half-made is left for the rollback
            raise
        return cls(made.arn, account_id, region, properties)

    @staticmethod
    def _set_attributes(backend: Any, arn: str, properties: dict[str, Any]) -> None:
        for name in _ATTRIBUTES:
            if properties.get(name) is not None:
                backend.set_subscription_attributes(arn, name, _attribute(properties[name]))

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Subscription, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> Subscription:
        properties = cloudformation_json["Properties"]
        if tuple(properties.get(key) for key in _IDENTITY) != original_resource.identity:
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name)
        account, region = original_resource._where
        cls._set_attributes(sns_backends[account][region], original_resource.arn, properties)
        return original_resource


    def delete(self, account_id: str, region_name: str) -> None:
        account, region = self._where
        sns_backends[account][region].unsubscribe(self.arn)


class QueuePolicy(Declared, ReplacedOnUpdate, CloudFormationModel):
    """AWS::SQS::QueuePolicy: the policy of each queue (by URL) of ``Queues``."""

    TYPE = "AWS::SQS::QueuePolicy"

    def __init__(self, name: str, queues: list[str], account_id: str, region: str) -> None:
        self.name = name
        self.queues = queues
        self._where = (account_id, region)

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> QueuePolicy:
        properties = cloudformation_json["Properties"]
        require(properties, "PolicyDocument", "Queues")
        document = _attribute(properties["PolicyDocument"])
        made = cls(resource_name, [str(url) for url in properties["Queues"]], account_id,
                   region_name)
        for queue in made._queues():
            queue.policy = document
        return made

    def _queues(self) -> list[Any]:
        backend = sqs_backends[self._where[0]][self._where[1]]
        return [backend.get_queue(url.rstrip("/").rsplit("/", 1)[-1]) for url in self.queues]


    def delete(self, account_id: str, region_name: str) -> None:
        backend = sqs_backends[self._where[0]][self._where[1]]
        for url in self.queues:
            queue = backend.queues.get(url.rstrip("/").rsplit("/", 1)[-1])
            if queue is not None:  # a queue deleted first took its policy with it
                queue.policy = None


_SCHEDULE_PROPERTIES = ("Description", "EndDate", "FlexibleTimeWindow", "KmsKeyArn",
                        "ScheduleExpression", "ScheduleExpressionTimezone", "StartDate", "Target")


class Schedule(Declared, CloudFormationModel):
    """AWS::Scheduler::Schedule in its group (``default`` unless named); Ref is its name."""

    TYPE = "AWS::Scheduler::Schedule"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = frozenset({"Arn"})

    def __init__(self, name: str, group: str, arn: str) -> None:
        self.name = name
        self.group = group
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Arn":
            return self.arn
        raise UnformattedGetAttTemplateException()

    @staticmethod
    def _arguments(properties: dict[str, Any]) -> dict[str, Any]:
        found = {key: properties.get(key) for key in _SCHEDULE_PROPERTIES}
        return {"description": found["Description"], "end_date": found["EndDate"],
                "flexible_time_window": found["FlexibleTimeWindow"],
                "kms_key_arn": found["KmsKeyArn"],
                "schedule_expression": found["ScheduleExpression"],
                "schedule_expression_timezone": found["ScheduleExpressionTimezone"],
                "start_date": found["StartDate"], "target": found["Target"],
                "state": properties.get("State") or "ENABLED"}

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> Schedule:
        properties = cloudformation_json["Properties"]
        require(properties, "ScheduleExpression", "FlexibleTimeWindow", "Target")
        made = scheduler_backends[account_id][region_name].create_schedule(
            name=properties.get("Name") or resource_name, group_name=properties.get("GroupName"),
            action_after_completion=None, **cls._arguments(properties))
        return cls(made.name, made.group_name, made.arn)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Schedule, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> Schedule:
        properties = cloudformation_json["Properties"]
        if (properties.get("Name") or original_resource.name,
                properties.get("GroupName") or "default") != (original_resource.name,
                                                              original_resource.group):
            original_resource.delete(account_id, region_name)  # a new name: a new schedule
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name)
        scheduler_backends[account_id][region_name].update_schedule(
            name=original_resource.name, group_name=original_resource.group,
            **cls._arguments(properties))
        return original_resource


    def delete(self, account_id: str, region_name: str) -> None:
        region = self.arn.split(":")[3]
        try:
            scheduler_backends[account_id][region].delete_schedule(self.group, self.name)
        except Exception:  # already gone with its group
            pass
