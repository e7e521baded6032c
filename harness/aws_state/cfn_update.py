"""Stack updates over moto's, by UpdateStack or by an UPDATE change set: what depends on a
replaced resource is updated too, and a failed update rolls back to the previous template and
parameters (UPDATE_ROLLBACK_COMPLETE), the failing resource's reason in the events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.cloudformation.models import Stack, cloudformation_backends

from harness.aws_state.cfn_dependents import propagate, snapshot
from harness.aws_state.cloudformation import (
    add_event,
    as_template_error,
    describe_error,
    failing_resource,
    made_here,
    refuse_cycle,
    unsupported_reason,
    unsupported_resource,
)
from harness.templates.errors import TemplateError

_NOT_UPDATABLE = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_COMPLETE",
                  "REVIEW_IN_PROGRESS")


@dataclass(frozen=True)
class _Before:
    """What the stack was before the update: what a rollback restores."""

    template: Any
    parameters: dict[str, str]  # as the stack lists them
    inputs: dict[str, Any]  # every parameter's value, defaults included, as moto takes them
    resources: frozenset[str]  # logical ids of the template's resources
    refs: dict[str, str]  # logical id -> what a Ref to it resolved to


def _before(stack: Stack) -> _Before:
    given = stack.resource_map.input_parameters
    # All of them: moto keeps the update's values for any parameter not given again.
    inputs = {name: given[name] if name in given else (slot or {}).get("Default")
              for name, slot in (stack.template_dict.get("Parameters") or {}).items()}
    return _Before(stack.template, dict(stack.parameters),
                   {name: value for name, value in inputs.items() if value is not None},
                   frozenset(stack.resource_map._resource_json_map), snapshot(stack))


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
    refuse_cycle(template)
    run_update(stack, template, lambda: backend.update_stack(
        name=name, template=template_text, role_arn=role_arn, parameters=parameters, tags=tags))
    return str(stack.stack_id)


def run_update(stack: Stack, template: dict[str, Any], apply: Callable[[], object]) -> bool:
    """Run ``apply`` (moto's update of ``stack`` to ``template``) and update what depends on
    the resources it replaced. A failure, or a resource of a type the harness cannot make,
    rolls the stack back to what it was. Whether the update stands."""
    before = _before(stack)
    unsupported = unsupported_resource(template)
    _align(stack, template)
    try:
        apply()
        propagate(stack, before.refs)
    except Exception as error:
        failed = unsupported or failing_resource(error.__traceback__, template)
        reason = unsupported_reason(unsupported) if unsupported else describe_error(error)
        _roll_back(stack, before, failed, reason)
        return False
    if unsupported and made_here(template, stack, unsupported):
        if stack.events and stack.events[-1].resource_status == "UPDATE_COMPLETE":
            stack.events.pop()  # moto declared it complete without the skipped resource
        _roll_back(stack, before, unsupported, unsupported_reason(unsupported))
        return False
    return True


def _align(stack: Stack, template: dict[str, Any]) -> None:
    """Drop the empty Properties moto added to each resource written without any, where
    ``template`` writes it without any too: else moto sees it changed, and replaces it (an SNS
    topic, its subscriptions with it) on every update."""
    wanted = template.get("Resources") or {}
    for logical_id, resource in stack.resource_map._resource_json_map.items():
        new = wanted.get(logical_id)
        if isinstance(new, dict) and "Properties" not in new and resource.get("Properties") == {}:
            del resource["Properties"]


def _roll_back(stack: Stack, before: _Before, failed: tuple[str, str] | None,
               reason: str) -> None:
    """The resource's failure, then moto's own update back to the previous template."""
    if failed is None:
        summary = reason
    else:
        # A resource the update added failed to be created; one it had, to be updated.
        verb = "update" if failed[0] in before.resources else "create"
        add_event(stack, failed[0], failed[1], f"{verb.upper()}_FAILED", reason)
        summary = f"The following resource(s) failed to {verb}: [{failed[0]}]. "
    stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=summary)
    mark = len(stack.events)
    try:
        now = snapshot(stack)
        old = before.template
        _align(stack, stack.parse_template(old) if isinstance(old, str) else old)
        stack.update(old, parameters=before.inputs)
        propagate(stack, now)
    except Exception as again:
        del stack.events[mark:]
        stack._add_stack_event("UPDATE_ROLLBACK_FAILED",
                               resource_status_reason=describe_error(again))
        stack.status = "UPDATE_ROLLBACK_FAILED"
        return
    del stack.events[mark:]  # moto's own UPDATE_IN_PROGRESS/COMPLETE of the restoring update
    stack.parameters = before.parameters
    stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
    stack.status = "UPDATE_ROLLBACK_COMPLETE"
