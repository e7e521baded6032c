"""DeleteStack over moto's: a bucket that still holds objects is not deleted (S3 refuses), so the
stack ends DELETE_FAILED naming it, as CloudFormation does, instead of DELETE_COMPLETE with the
bucket silently left; a retry with ``RetainResources`` keeps it and deletes the rest."""

from __future__ import annotations

from typing import Any

from moto.cloudformation.models import Stack, cloudformation_backends
from moto.s3.models import s3_backends

from harness.aws_state.cloudformation import add_event

NOT_EMPTY = "The bucket you tried to delete is not empty (Service: S3, Status Code: 409)"


def delete_stack(account_id: str, region: str, name_or_id: str,
                 retain: tuple[str, ...] = ()) -> None:
    backend = cloudformation_backends[account_id][region]
    stack = _live_stack(backend, name_or_id)
    if stack is None:
        return  # AWS answers a delete of a stack that is gone with success
    full = [logical_id for logical_id, bucket in _buckets(stack, account_id)
            if logical_id not in retain and _holds_objects(bucket)]
    if full:
        _fail(stack, full)
        return
    parsed = stack.resource_map._parsed_resources
    for logical_id in retain:
        parsed.pop(logical_id, None)  # moto deletes what it parsed; a retained one stays
    backend.delete_stack(stack.stack_id)


def _live_stack(backend: Any, name_or_id: str) -> Stack | None:
    for stack in backend.stacks.values():
        if name_or_id in (stack.name, stack.stack_id):
            return stack
    return None


def _buckets(stack: Stack, account_id: str) -> list[tuple[str, Any]]:
    found = []
    resources = stack.resource_map
    for logical_id, resource in list(resources._parsed_resources.items()):
        kind = ((resources._resource_json_map or {}).get(logical_id) or {}).get("Type")
        if kind != "AWS::S3::Bucket" or resource is None:
            continue
        bucket = s3_backends[account_id]["aws"].buckets.get(getattr(resource, "name", ""))
        if bucket is not None:
            found.append((logical_id, bucket))
    return found


def _holds_objects(bucket: Any) -> bool:
    return len(bucket.keys) > 0  # a key of a versioned bucket holds its versions


def _fail(stack: Stack, full: list[str]) -> None:
    stack._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
    for logical_id in full:
        physical = getattr(stack.resource_map._parsed_resources[logical_id], "name", "")
        add_event(stack, logical_id, "AWS::S3::Bucket", "DELETE_FAILED", NOT_EMPTY, physical)
    reason = f"The following resource(s) failed to delete: [{', '.join(full)}]. "
    stack._add_stack_event("DELETE_FAILED", resource_status_reason=reason)
    stack.status = "DELETE_FAILED"
