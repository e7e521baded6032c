"""The one adapter over moto's CloudFormation internals: stacks made, rolled back and removed.

moto creates a stack's resources synchronously inside ``create_stack``; when one fails, the
exception escapes with the stack left CREATE_IN_PROGRESS and half its resources made, and a type
it does not know is skipped with a log line. Here a failed create ends as AWS ends it: the
failing resource CREATE_FAILED with the reason, everything made deleted, ROLLBACK_COMPLETE.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import Event, Stack, cloudformation_backends
from moto.core.exceptions import ServiceException
from moto.iam.models import get_account_id_from
from moto.s3.models import s3_backends

from harness.aws_state.cfn_dependents import dependency_cycle
from harness.aws_state.cfn_models import MODELS
from harness.templates.errors import TemplateError

_installed = threading.Lock()
_ACCESS_KEY = re.compile(r"Credential=([^/,\s]+)/")
# moto answers these without creating anything; they are not "unsupported".
_NO_OP_TYPES = frozenset(parsing.NULL_MODELS)
# The frames in which moto makes one resource of a template (their local ``logical_id``).
_MAKING = (parsing.parse_and_create_resource.__code__, parsing.parse_and_update_resource.__code__)


def install() -> None:
    """Make moto's CloudFormation use the models of harness.aws_state.cfn_models, and list only
    the resources a stack made (idempotent)."""
    with _installed:
        assert all(model.cloudformation_type() for model in MODELS)
        parsing.get_model_list.cache_clear()
        parsing.get_model_map.cache_clear()
        parsing.get_name_type_map.cache_clear()
        Stack.stack_resources = property(_listed_resources)  # type: ignore[method-assign,assignment]
        if not getattr(parsing.clean_json, "drops_no_value", False):
            parsing.clean_json = _dropping_no_value(parsing.clean_json)


def _dropping_no_value(clean_json: Any) -> Any:
    """moto's clean_json, with an ``AWS::NoValue`` list item removed as CloudFormation removes
    it (moto keeps a None: a policy's ``!If [Cond, {Statement}, !Ref AWS::NoValue]`` became a
    null statement). Its recursive calls go through this wrapper (the module's global)."""

    def clean(resource_json: Any, resources_map: Any) -> Any:
        cleaned = clean_json(resource_json, resources_map)
        if isinstance(resource_json, list) and isinstance(cleaned, list):
            return [item for item in cleaned if item is not None]
        return cleaned

    clean.drops_no_value = True  # type: ignore[attr-defined]
    return clean


def _listed_resources(stack: Stack) -> list[Any]:
    """What DescribeStackResources, ListStackResources and DescribeStackResource see: moto's
    map holds None for a resource whose Condition is false, which it lists as an empty member
    (and DescribeStackResource fails on)."""
    return [resource for resource in stack.resource_map.values() if resource is not None]


def account_for(authorization: str, moto_account_header: str | None = None) -> str:
    """The account moto serves a request in: its x-moto-account-id, else its access key's."""
    if moto_account_header:
        return moto_account_header
    match = _ACCESS_KEY.search(authorization)
    return str(get_account_id_from(match.group(1) if match else ""))


def creatable(resource_type: str) -> bool:
    """Whether a stack can create a resource of this type here."""
    return (resource_type in parsing.get_model_map() or resource_type in _NO_OP_TYPES
            or resource_type.startswith("Custom::"))


def read_object(account_id: str, bucket: str, key: str) -> bytes:
    """An object of the emulator's own S3 (a TemplateURL's target)."""
    try:
        obj = s3_backends[account_id]["aws"].get_object(bucket, key)
    except ServiceException as error:
        raise TemplateError(f"TemplateURL s3://{bucket}/{key}: {error.message}") from None
    except Exception as error:  # moto's S3 raises its own (non-ServiceException) errors too
        raise TemplateError(f"TemplateURL s3://{bucket}/{key}: {describe_error(error)}") from None
    if obj is None:
        raise TemplateError(f"TemplateURL s3://{bucket}/{key}: no such object")
    return bytes(obj.value)


def template_of(account_id: str, region: str, name: str) -> str:
    """The template text a stack was last created or updated with (UsePreviousTemplate)."""
    try:
        stack = cloudformation_backends[account_id][region].get_stack(name)
    except Exception as error:
        raise as_template_error(error) from None
    template = stack.template
    return template if isinstance(template, str) else json.dumps(template)


@dataclass(frozen=True)
class NewStack:
    """What CreateStack asks for, the template already transformed."""

    name: str
    template_text: str
    template: dict[str, Any]
    parameters: dict[str, str]
    tags: dict[str, str]
    notification_arns: tuple[str, ...] = ()
    role_arn: str | None = None
    timeout_minutes: int | None = None
    rollback: bool = True


def refuse_cycle(template: dict[str, Any]) -> None:
    """CloudFormation's refusal of resources that depend on each other in a circle (moto would
    recurse until Python's stack runs out)."""
    circle = dependency_cycle(template)
    if circle:
        raise TemplateError(f"Circular dependency between resources: [{', '.join(circle)}]")


def create_stack(account_id: str, region: str, request: NewStack) -> str:
    """Create the stack; a failure rolls it back (or leaves CREATE_FAILED). Its id."""
    backend = cloudformation_backends[account_id][region]
    refuse_cycle(request.template)
    unsupported = unsupported_resource(request.template)
    # An unknown type is named as the cause even when moto, having skipped it, fails on a
    # reference to it first.
    unsupported_text = unsupported and unsupported_reason(unsupported)
    try:
        stack = backend.create_stack(
            name=request.name, template=request.template_text, parameters=request.parameters,
            notification_arns=list(request.notification_arns), tags=request.tags,
            role_arn=request.role_arn, timeout_in_mins=request.timeout_minutes)
    except Exception as error:
        half_made = _stack_named(backend, request.name)
        if half_made is None or half_made.status != "CREATE_IN_PROGRESS":
            raise as_template_error(error) from None  # refused before anything was made
        failed = unsupported or failing_resource(error.__traceback__, request.template)
        fail_create(half_made, failed, unsupported_text or describe_error(error),
                     request.rollback)
        return str(half_made.stack_id)
    unsupported = unsupported and made_here(request.template, stack, unsupported)
    if unsupported:
        if stack.events and stack.events[-1].resource_status == "CREATE_COMPLETE":
            stack.events.pop()  # moto declared it complete without the skipped resource
        fail_create(stack, unsupported, str(unsupported_text), request.rollback)
    else:
        resource_events(stack)
    return str(stack.stack_id)


def made_here(template: dict[str, Any], stack: Stack,
              resource: tuple[str, str]) -> tuple[str, str] | None:
    """``resource``, unless its Condition is false in the stack as moto made it from
    ``template`` (then CloudFormation does not make it)."""
    condition = ((template.get("Resources") or {}).get(resource[0]) or {}).get("Condition")
    if condition and not stack.resource_map.lazy_condition_map[condition]:
        return None
    return resource


def resource_events(stack: Stack) -> None:
    """CREATE_IN_PROGRESS and CREATE_COMPLETE of each resource made, before the stack's own
    CREATE_COMPLETE (moto records the stack's events only; sam deploy shows these)."""
    if not stack.events or stack.events[-1].resource_status != "CREATE_COMPLETE":
        return
    done = stack.events.pop()
    for logical_id, resource in _made_resources(stack).items():
        kind = getattr(resource, "cf_resource_type", "") or ""
        physical = str(getattr(resource, "physical_resource_id", "") or "")
        add_event(stack, logical_id, kind, "CREATE_IN_PROGRESS", None)
        add_event(stack, logical_id, kind, "CREATE_COMPLETE", None, physical)
    stack.events.append(done)


def unsupported_reason(unsupported: tuple[str, str]) -> str:
    return (f"Resource type {unsupported[1]} is not supported by the harness "
            f"(moto's CloudFormation has no model for it)")


def _stack_named(backend: Any, name: str) -> Stack | None:
    for stack in backend.stacks.values():
        if stack.name == name:
            return stack
    return None


def unsupported_resource(template: dict[str, Any]) -> tuple[str, str] | None:
    """The first resource (logical id, type) whose type cannot be created here."""
    for logical_id, resource in (template.get("Resources") or {}).items():
        kind = str((resource or {}).get("Type", ""))
        if not creatable(kind):
            return logical_id, kind
    return None


def _frames(tb: TracebackType | None) -> Iterator[Any]:
    while tb is not None:
        yield tb.tb_frame
        tb = tb.tb_next


def failing_resource(tb: TracebackType | None,
                      template: dict[str, Any]) -> tuple[str, str] | None:
    """The resource whose creation or update raised: the innermost frame of moto's
    parse_and_create_resource or parse_and_update_resource.

    moto creates a resource lazily when another refers to it, so the one that failed is the
    deepest one being made, not the one the loop was at.
    """
    found = None
    for frame in _frames(tb):
        if frame.f_code in _MAKING:
            found = str(frame.f_locals.get("logical_id"))
    if found is None:
        return None
    kind = ((template.get("Resources") or {}).get(found) or {}).get("Type", "")
    return found, str(kind)


def describe_error(error: BaseException) -> str:
    """One line, as CloudFormation words a resource's failure."""
    message = getattr(error, "message", None)
    # moto's REST errors keep the HTTP status in ``code`` and AWS's error code in ``error_type``.
    code = next((c for c in (getattr(error, "code", None), getattr(error, "error_type", None))
                 if isinstance(c, str) and c), None)
    if isinstance(message, str) and message:
        return f"{message} (Service: {code})" if code else message
    if isinstance(error, ValueError) and len(error.args) == 2 and str(error.args[0]).endswith(
            "Exception"):  # moto's ValueError(code, message), as its Lambda models raise
        return f"{error.args[1]} (Service: {error.args[0]})"
    if isinstance(error, KeyError):
        return f"Property validation failure: required property {error.args[0]!s} is missing"
    return f"{type(error).__name__}: {error}"


def as_template_error(error: BaseException) -> TemplateError:
    if isinstance(error, TemplateError):
        return error
    code = getattr(error, "code", None)
    failure = TemplateError(getattr(error, "message", None) or describe_error(error))
    if isinstance(code, str) and code:
        failure.code = code
    return failure


def add_event(stack: Stack, logical_id: str, kind: str, status: str, reason: str | None,
           physical_id: str = "") -> None:
    stack.events.append(Event(stack_id=stack.stack_id, stack_name=stack.name,
                              logical_resource_id=logical_id, physical_resource_id=physical_id,
                              resource_type=kind, resource_status=status,
                              resource_status_reason=reason, resource_properties=None))


def fail_create(stack: Stack, failed: tuple[str, str] | None, reason: str,
                 rollback: bool) -> None:
    """CREATE_FAILED for the resource, then ROLLBACK_COMPLETE with everything deleted."""
    made = _made_resources(stack)
    if failed is not None:
        add_event(stack, failed[0], failed[1], "CREATE_FAILED", reason)
        summary = f"The following resource(s) failed to create: [{failed[0]}]. "
    else:
        summary = f"Stack creation failed: {reason}. "
    if not rollback:
        stack._add_stack_event("CREATE_FAILED", resource_status_reason=summary.strip())
        stack.status = "CREATE_FAILED"
        return
    stack._add_stack_event("ROLLBACK_IN_PROGRESS",
                           resource_status_reason=summary + "Rollback requested by user.")
    leftover = _delete_made(stack, made)
    _forget_resources(stack)
    status = "ROLLBACK_FAILED" if leftover else "ROLLBACK_COMPLETE"
    stack._add_stack_event(status, resource_status_reason=(
        f"Could not delete: {', '.join(leftover)}" if leftover else None))
    stack.status = status


def _made_resources(stack: Stack) -> dict[str, Any]:
    """Logical id -> resource, of the resources moto has made so far."""
    parsed = stack.resource_map._parsed_resources
    return {logical_id: parsed[logical_id] for logical_id in stack.resource_map._resource_json_map
            if parsed.get(logical_id) is not None}


def _delete_made(stack: Stack, made: dict[str, Any]) -> list[str]:
    """Delete what was made (moto's own delete, retried in dependency passes); what is left."""
    try:
        stack.resource_map.delete()
    except Exception:
        pass  # reported below, resource by resource
    parsed = stack.resource_map._parsed_resources
    leftover = [logical_id for logical_id in made if parsed.get(logical_id) is not None]
    for logical_id, resource in made.items():
        if logical_id in leftover:
            continue
        kind = getattr(resource, "cf_resource_type", "") or ""
        physical = str(getattr(resource, "physical_resource_id", "") or "")
        add_event(stack, logical_id, kind, "DELETE_COMPLETE", None, physical)
    return leftover


def _forget_resources(stack: Stack) -> None:
    """moto's maps create a resource when it is read: a rolled-back stack must read nothing."""
    stack.resource_map._resource_json_map = {}
    stack.output_map._output_json_map = {}
    stack.output_map._parsed_outputs = {}
