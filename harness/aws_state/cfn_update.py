"""Stack updates over moto's: what depends on a replaced resource is updated too, and a failed
update rolls back to the previous template (UPDATE_ROLLBACK_COMPLETE).
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.models import Stack, cloudformation_backends

from harness.aws_state.cfn_dependents import dependency_cycle, propagate, snapshot
from harness.aws_state.cloudformation import (
    add_event,
    as_template_error,
    describe_error,
    failing_resource,
    unsupported_reason,
    unsupported_resource,
)
from harness.templates.errors import TemplateError

_NOT_UPDATABLE = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_COMPLETE",
                  "REVIEW_IN_PROGRESS")


def update_stack(account_id: str, region: str, name: str, template_text: str,
                 template: dict[str, Any], parameters: list[dict[str, Any]],
                 tags: dict[str, str] | None, role_arn: str | None) -> str:
    """UpdateStack: moto's update, the dependents of what it replaced, a rollback on failure."""
    backend = cloudformation_backends[account_id][region]
    try:
        stack = backend.get_stack(name)
    except Exception as error:
        raise as_template_error(error) from None
    if stack.status in _NOT_UPDATABLE:
        raise TemplateError(f"Stack:{stack.stack_id} is in {stack.status} state and can not "
                            "be updated.")
    resolved = backend._resolve_update_parameters(instance=stack, incoming_params=parameters)
    if stack.template == template_text and stack.parameters == resolved:
        raise TemplateError("No updates are to be performed.")
    circle = dependency_cycle(template)
    if circle:
        raise TemplateError(f"Circular dependency between resources: [{', '.join(circle)}]")
    unsupported = unsupported_resource(template)
    if unsupported is not None:
        raise TemplateError(unsupported_reason(unsupported))
    previous = (stack.template, dict(stack.parameters), snapshot(stack))
    try:
        backend.update_stack(name=name, template=template_text, role_arn=role_arn,
                             parameters=parameters, tags=tags)
        propagate(stack, previous[2])
    except Exception as error:
        _roll_back_update(stack, previous[0], previous[1], template, error)
    return str(stack.stack_id)


def _roll_back_update(stack: Stack, old_template: Any, old_parameters: dict[str, str],
                      template: dict[str, Any], error: BaseException) -> None:
    """UPDATE_FAILED for the resource, then moto's own update back to the old template."""
    failed = failing_resource(error.__traceback__, template)
    reason = describe_error(error)
    if failed is not None:
        add_event(stack, failed[0], failed[1], "UPDATE_FAILED", reason)
    stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=(
        f"The following resource(s) failed to update: [{failed[0]}]. " if failed else reason))
    mark = len(stack.events)
    try:
        before = snapshot(stack)
        stack.update(old_template, parameters=old_parameters)
        propagate(stack, before)
    except Exception as again:
        del stack.events[mark:]
        stack._add_stack_event("UPDATE_ROLLBACK_FAILED",
                               resource_status_reason=describe_error(again))
        stack.status = "UPDATE_ROLLBACK_FAILED"
        return
    del stack.events[mark:]  # moto's own UPDATE_IN_PROGRESS/COMPLETE of the restoring update
    stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
    stack.status = "UPDATE_ROLLBACK_COMPLETE"
