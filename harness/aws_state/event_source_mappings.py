"""moto's Lambda event source mappings to SQS, as the harness's pollers read and report them.

moto keeps the mappings (CreateEventSourceMapping over HTTP and AWS::Lambda::EventSourceMapping
in CloudFormation both end in its backend's ``create_event_source_mapping``) but runs them by
invoking the function synchronously inside every SendMessage, one message at a time. Here:

- a queue never learns of a mapping (``Queue.lambda_event_source_mappings`` stays empty), so
  moto's per-send path is never taken: the triggers room's pollers do the work;
- the backend's create/update/delete are checked first (AWS's validation, given by the room)
  and tell the room afterwards, so it starts, changes or stops a poller at once;
- a mapping's ``State`` is the one its poller reports (Creating, Enabled, Disabled...), and the
  create/update/delete responses say what AWS's say (Creating, Updating/Enabling/Disabling,
  Deleting; 202), with AWS's 404 for an unknown UUID.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from moto.awslambda.models import EventSourceMapping, LambdaBackend, lambda_backends
from moto.awslambda.responses import LambdaResponse
from moto.core.exceptions import JsonRESTError
from moto.sqs.models import Queue

from harness.aws_state.sqs_queues import QueueFacts, queue_facts
from harness.errors import AwsError

STATE = "harness_state"
"""Attribute on moto's mapping: the state its poller reports."""
REPLY_STATE = "harness_reply_state"
"""Attribute on moto's mapping: the state the response to the call that changed it reports."""


@dataclass(frozen=True)
class MappingConfig:
    """One SQS event source mapping, as its poller needs it (equal configs: nothing changed)."""

    uuid: str
    arn: str
    function_arn: str
    queue_arn: str
    account_id: str
    region: str
    enabled: bool
    batch_size: int
    window_s: float
    filters: tuple[str, ...]
    """The FilterCriteria patterns (JSON text); empty: every message."""
    report_item_failures: bool
    maximum_concurrency: int | None


@dataclass(frozen=True)
class MappingRequest:
    """A create or update, merged with what the mapping already has, for AWS's checks."""

    creating: bool
    queue_arn: str
    queue: QueueFacts | None
    function_name: str
    function_arn: str
    function_timeout_s: int
    batch_size: Any
    window_s: Any
    filter_criteria: Any
    scaling_config: Any
    duplicate_of: str | None
    """UUID of another mapping of the same queue and function (create only)."""


Checker = Callable[[MappingRequest], None]
"""Raises ``AwsError`` (AWS's code, status and message) when the request is refused."""


def _enabled(value: Any) -> bool:
    # CloudFormation may hand over "false" as text.
    return value.strip().lower() != "false" if isinstance(value, str) else bool(value)


def _is_sqs(arn: Any) -> bool:
    return isinstance(arn, str) and arn.startswith("arn:") and arn.split(":")[2:3] == ["sqs"]


def _config(esm: EventSourceMapping) -> MappingConfig:
    filters = tuple(str(f.get("Pattern")) for f in
                    ((esm.filter_criteria or {}).get("Filters") or []) if isinstance(f, dict))
    scaling = esm.scaling_config or {}
    concurrency = scaling.get("MaximumConcurrency") if isinstance(scaling, dict) else None
    return MappingConfig(
        uuid=esm.uuid, arn=esm.arn, function_arn=esm.function_arn,
        queue_arn=esm.event_source_arn, account_id=esm.account_id, region=esm.region,
        enabled=_enabled(esm.enabled), batch_size=int(esm.batch_size),
        window_s=float(esm.max_batch_window or 0), filters=filters,
        report_item_failures="ReportBatchItemFailures" in (esm.function_response_types or []),
        maximum_concurrency=int(concurrency) if concurrency is not None else None)


def _backends() -> Iterator[LambdaBackend]:
    # dict's own views: moto's lazy __getitem__ would make a backend for every region.
    for regions in list(dict.values(lambda_backends)):
        yield from list(dict.values(regions))


def _mappings() -> Iterator[EventSourceMapping]:
    for backend in _backends():
        yield from list(backend._event_source_mappings.values())


def sqs_mappings() -> list[MappingConfig]:
    """Every SQS event source mapping in every account and region."""
    return [_config(esm) for esm in _mappings() if _is_sqs(esm.event_source_arn)]


def _find(uuid: str) -> EventSourceMapping | None:
    for backend in _backends():
        found = backend._event_source_mappings.get(uuid)
        if found is not None:
            return found
    return None


def set_state(uuid: str, state: str) -> None:
    """What ListEventSourceMappings and GetEventSourceMapping report for the mapping."""
    esm = _find(uuid)
    if esm is not None:
        setattr(esm, STATE, state)


def state_of(uuid: str) -> str | None:
    esm = _find(uuid)
    return getattr(esm, STATE, None) if esm is not None else None


# -- AWS's checks, before moto changes anything ------------------------------------------------
def _function(backend: LambdaBackend, name: str) -> Any:
    """moto's function (UnknownFunctionException, AWS's 404, when there is none)."""
    return backend.get_function(name)


def _request(backend: LambdaBackend, spec: dict[str, Any],
             esm: EventSourceMapping | None) -> MappingRequest:
    queue_arn = str(spec.get("EventSourceArn") or (esm.event_source_arn if esm else ""))
    name = str(spec.get("FunctionName") or (esm.function_arn if esm else ""))
    fn = _function(backend, name)
    duplicate = None
    if esm is None:
        duplicate = next((other.uuid for other in backend._event_source_mappings.values()
                          if other.event_source_arn == queue_arn
                          and other.function_arn == fn.function_arn), None)

    return MappingRequest(
        creating=esm is None, queue_arn=queue_arn, queue=queue_facts(queue_arn),
        function_name=name.split(":function:")[-1], function_arn=fn.function_arn,
        function_timeout_s=int(fn.timeout or 3),
        batch_size=spec.get("BatchSize", esm.batch_size if esm else None),
        window_s=spec.get("MaximumBatchingWindowInSeconds", esm.max_batch_window if esm else None),
        filter_criteria=spec.get("FilterCriteria", esm.filter_criteria if esm else None),
        scaling_config=spec.get("ScalingConfig", esm.scaling_config if esm else None),
        duplicate_of=duplicate)


def _moto_error(error: AwsError) -> JsonRESTError:
    refused = JsonRESTError(error.code, error.message)
    refused.code = error.status
    return refused


def _checked(checker: Checker, request: MappingRequest) -> None:
    try:
        checker(request)
    except AwsError as error:  # in moto's error shape: its HTTP layer and CloudFormation's
        raise _moto_error(error) from None


# -- the hooks ---------------------------------------------------------------------------------
@dataclass
class _Hooks:
    on_change: Callable[[], None]
    checker: Checker


_hooks: list[_Hooks] = []
_lock = threading.Lock()
_originals: dict[str, Any] = {}


def _current() -> _Hooks | None:
    with _lock:
        return _hooks[-1] if _hooks else None


def _create(self: LambdaBackend, spec: dict[str, Any]) -> EventSourceMapping:
    hooks = _current()
    sqs = _is_sqs(spec.get("EventSourceArn"))
    if hooks is not None and sqs:
        _checked(hooks.checker, _request(self, spec, None))
    esm = _originals["create"](self, spec)
    if sqs:
        # AWS answers a disabled mapping's creation with "Disabled" straight away.
        state = "Creating" if _enabled(esm.enabled) else "Disabled"
        setattr(esm, STATE, state)
        setattr(esm, REPLY_STATE, state)
        if hooks is not None:
            hooks.on_change()
    return esm


def _transition(esm: EventSourceMapping, spec: dict[str, Any]) -> str:
    """The state an update's response reports, as AWS's does."""
    if "Enabled" in spec:
        wanted, now = _enabled(spec["Enabled"]), getattr(esm, STATE, "Enabled")
        if wanted and now != "Enabled":
            return "Enabling"
        if not wanted and now == "Enabled":
            return "Disabling"
    return "Updating"


def _update(self: LambdaBackend, uuid: str, spec: dict[str, Any]) -> EventSourceMapping | None:
    hooks = _current()
    esm = self.get_event_source_mapping(uuid)
    sqs = esm is not None and _is_sqs(esm.event_source_arn)
    if hooks is not None and esm is not None and sqs:
        _checked(hooks.checker, _request(self, spec, esm))
    reply = _transition(esm, spec) if esm is not None and sqs else None
    updated = _originals["update"](self, uuid, spec)
    if updated is not None and reply is not None:
        setattr(updated, REPLY_STATE, reply)
        if hooks is not None:
            hooks.on_change()
    return updated


def _delete(self: LambdaBackend, uuid: str) -> EventSourceMapping | None:
    gone = _originals["delete"](self, uuid)
    hooks = _current()
    if gone is not None and hooks is not None and _is_sqs(gone.event_source_arn):
        setattr(gone, STATE, "Deleting")
        hooks.on_change()
    return gone


def _get_configuration(self: EventSourceMapping) -> dict[str, Any]:
    config: dict[str, Any] = _originals["get_configuration"](self)
    if _is_sqs(self.event_source_arn):
        config["State"] = getattr(self, STATE, config.get("State"))
        config["StateTransitionReason"] = "USER_INITIATED"
        config.setdefault("MaximumBatchingWindowInSeconds", 0)
        config.setdefault("FunctionResponseTypes", [])
    return config


_NOT_FOUND = (404, {"x-amzn-errortype": "ResourceNotFoundException", "status": 404,
                    "content-type": "application/json"},
              json.dumps({"Type": "User", "Message": "The resource you requested does not exist."}))


def _replying(action: str) -> Callable[[LambdaResponse], Any]:
    """moto's response to Create/Update/DeleteEventSourceMapping, with AWS's state and status."""
    def respond(self: LambdaResponse) -> Any:
        status, headers, body = _originals[action](self)
        if status == 404:
            return _NOT_FOUND
        config = json.loads(body)
        if not _is_sqs(config.get("EventSourceArn")):
            return status, headers, body
        esm = _find(str(config.get("UUID")))
        reply = getattr(esm, REPLY_STATE, None) if esm is not None else None
        if reply is not None:
            config["State"] = reply
            setattr(esm, REPLY_STATE, None)
        return 202, {**headers, "status": 202}, json.dumps(config)
    return respond


def _no_mappings_on_queues() -> property:
    """``Queue.lambda_event_source_mappings`` that forgets what is put in it: moto's SendMessage
    then never invokes a function itself."""
    return property(lambda self: {}, lambda self, value: None)


class Installation:
    """One room's hooks. Only the newest installation is ``active`` (moto's state is
    process-wide): an older one is told (``on_change``) when it stops or starts being so."""

    def __init__(self, hooks: _Hooks) -> None:
        self._hooks = hooks

    @property
    def active(self) -> bool:
        return _current() is self._hooks

    def uninstall(self) -> None:
        with _lock:
            was_active = bool(_hooks) and _hooks[-1] is self._hooks
            if self._hooks in _hooks:
                _hooks.remove(self._hooks)
            resumed = _hooks[-1] if was_active and _hooks else None
        if resumed is not None:
            resumed.on_change()


def _patch() -> None:
    """Put the hooks in moto's classes (once; the caller holds ``_lock``)."""
    if _originals:
        return
    _originals.update(
        create=LambdaBackend.create_event_source_mapping,
        update=LambdaBackend.update_event_source_mapping,
        delete=LambdaBackend.delete_event_source_mapping,
        get_configuration=EventSourceMapping.get_configuration,
        create_event_source_mapping=LambdaResponse.create_event_source_mapping,
        update_event_source_mapping=LambdaResponse.update_event_source_mapping,
        delete_event_source_mapping=LambdaResponse.delete_event_source_mapping)
    LambdaBackend.create_event_source_mapping = _create  # type: ignore[method-assign]
    LambdaBackend.update_event_source_mapping = _update  # type: ignore[method-assign]
    LambdaBackend.delete_event_source_mapping = _delete  # type: ignore[method-assign]
    EventSourceMapping.get_configuration = _get_configuration  # type: ignore[method-assign]
    for action in ("create_event_source_mapping", "update_event_source_mapping",
                   "delete_event_source_mapping"):
        setattr(LambdaResponse, action, _replying(action))
    Queue.lambda_event_source_mappings = _no_mappings_on_queues()  # type: ignore


def install(on_change: Callable[[], None], checker: Checker) -> Installation:
    """Check SQS mappings with ``checker`` and call ``on_change()`` after each change (the
    patches stay after ``uninstall()``: without hooks they only report state). The room
    installed before this one hears ``on_change()`` too: it is no longer active."""
    with _lock:
        _patch()
        paused = _hooks[-1] if _hooks else None
        hooks = _Hooks(on_change, checker)
        _hooks.append(hooks)
    if paused is not None:
        paused.on_change()
    return Installation(hooks)
