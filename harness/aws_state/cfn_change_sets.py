"""ExecuteChangeSet over moto's: a CREATE change set fails as CreateStack does (ROLLBACK_COMPLETE,
everything made deleted), an UPDATE one as UpdateStack does (UPDATE_ROLLBACK_COMPLETE, the
previous template and parameters back); what ``sam deploy`` and ``aws cloudformation deploy`` do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.cloudformation.models import cloudformation_backends

from harness.aws_state.cfn_update import run_update
from harness.aws_state.cloudformation import (
    describe_error,
    fail_create,
    failing_resource,
    made_here,
    refuse_cycle,
    resource_events,
    unsupported_reason,
    unsupported_resource,
)
from harness.templates.errors import TemplateError


def execute_change_set(account_id: str, region: str, change_set: str,
                       stack_name: str | None) -> None:
    """Execute a change set; a failure rolls the stack back, outputs are refreshed."""
    backend = cloudformation_backends[account_id][region]
    try:
        found = backend.describe_change_set(change_set)
    except Exception:
        found = None
    if found is None:
        raise TemplateError(f"ChangeSet [{change_set}] does not exist",
                            code="ChangeSetNotFound", status=404)
    if found.execution_status != "AVAILABLE":
        raise TemplateError(f"ChangeSet [{found.change_set_id}] cannot be executed in its "
                            f"current execution status of [{found.execution_status}]",
                            code="InvalidChangeSetStatus")
    refuse_cycle(found.template_dict)

    def apply() -> None:
        backend.execute_change_set(change_set_name=change_set, stack_name=stack_name)

    if found.change_set_type == "CREATE":
        done = _create(found, lambda: _create_in_order(found))
    else:
        done = run_update(found.stack, found.template_dict, apply)
    found.execution_status = "EXECUTE_COMPLETE" if done else "EXECUTE_FAILED"
    if done:
        _refresh(found)


def _create(change_set: Any, apply: Callable[[], None]) -> bool:
    """Apply a CREATE change set; a failure, or a type the harness cannot make, rolls back."""
    stack = change_set.stack
    unsupported = unsupported_resource(change_set.template_dict)
    try:
        apply()
    except Exception as error:
        failure = unsupported or failing_resource(error.__traceback__, change_set.template_dict)
        reason = unsupported_reason(unsupported) if unsupported else describe_error(error)
        _fail_create(change_set, failure, reason)
        return False
    if unsupported and made_here(change_set.template_dict, stack, unsupported):
        _fail_create(change_set, unsupported, unsupported_reason(unsupported))
        return False
    resource_events(stack)
    return True


def _create_in_order(change_set: Any) -> None:
    """What moto's execute does for a CREATE change set, but in dependency order (DependsOn
    included), as CreateStack makes resources: moto's change set adds them in template order,
    so a bucket whose notification needs a permission (SAM's S3 event) came before it."""
    stack, template = change_set.stack, change_set.template_dict
    stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
    resources = stack.resource_map
    resources._template = template
    resources._resource_json_map = template.get("Resources") or {}
    if change_set.parameters:
        resources.input_parameters = change_set.parameters
    resources.load()
    resources.create(template)
    stack.template = change_set.template
    stack.status = "CREATE_COMPLETE"
    stack._add_stack_event("CREATE_COMPLETE")


def _fail_create(change_set: Any, failed: tuple[str, str] | None, reason: str) -> None:
    stack = change_set.stack
    if stack.events and stack.events[-1].resource_status == "CREATE_COMPLETE":
        stack.events.pop()  # moto declared it complete before the failure was seen
    stack.template_dict = change_set.template_dict
    stack.resource_map._resource_json_map = change_set.template_dict.get("Resources", {})
    fail_create(stack, failed, reason, rollback=True)


def _refresh(change_set: Any) -> None:
    """moto applies the resources but keeps the template's outputs, parameters and
    description of the stack as it was before."""
    stack = change_set.stack
    stack._parse_template()
    stack.parameters = dict(change_set.parameters)
    stack.output_map = stack._create_output_map()
    stack.description = stack.template_dict.get("Description")

