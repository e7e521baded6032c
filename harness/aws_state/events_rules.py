"""moto's EventBridge, taken over where it falls short. moto keeps every bus, rule and target;
the harness (``triggers.eventbridge``) answers PutEvents and delivers what a rule matched (moto's
``Rule.send_to_targets`` raises for Lambda targets and never fires schedules), checks PutRule and
PutTargets as AWS does before moto stores them, and hears of every rule change (its schedules).

The hooks are process-wide, as moto's state is: the emulator started last receives them; while
none runs, moto's own methods run. CloudFormation's ``AWS::Events::Rule`` goes through the same
backend methods, so its rules are seen too.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from moto.core.exceptions import JsonRESTError
from moto.events.models import EventPattern, EventsBackend, Rule, events_backends
from moto.logs.models import logs_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends

from harness.errors import AwsError


@dataclass(frozen=True)
class RuleView:
    """A rule as the harness reads it: a snapshot, safe to keep while moto changes."""

    account: str
    region: str
    bus: str
    name: str
    arn: str
    state: str
    event_pattern: str | None
    """The pattern's JSON text; None for a rule with only a schedule."""
    schedule: str | None
    targets: tuple[dict[str, Any], ...]
    handle: Any = field(default=None, compare=False, repr=False)
    """moto's ``Rule``, for the targets moto delivers itself (archives, API destinations)."""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.account, self.region, self.bus, self.name)

    @property
    def enabled(self) -> bool:
        return self.state.startswith("ENABLED")  # ENABLED_WITH_ALL_CLOUDTRAIL_... included


class EventsSink(Protocol):
    """What the hooks hand over to the harness."""

    def put_events(self, account: str, region: str,
                   entries: list[dict[str, Any]]) -> list[dict[str, Any]]: ...
    def from_moto(self, rule: RuleView, event: dict[str, Any]) -> None: ...
    def check_rule(self, schedule: str | None, event_pattern: str | None) -> None: ...
    def check_targets(self, targets: list[dict[str, Any]]) -> None: ...
    def rule_changed(self, account: str, region: str, bus: str, name: str) -> None: ...


_sinks: list[EventsSink] = []
_lock = threading.Lock()
_originals: dict[str, Any] = {}


def install(sink: EventsSink) -> Callable[[], None]:
    """Route moto's EventBridge through ``sink``; returns the call that takes it away again."""
    with _lock:
        if not _originals:
            for name, hook in _BACKEND_HOOKS.items():
                _originals[name] = getattr(EventsBackend, name)
                setattr(EventsBackend, name, hook)
            _originals["send_to_targets"] = Rule.send_to_targets
            Rule.send_to_targets = _send_to_targets  # type: ignore[method-assign,assignment]
        _sinks.append(sink)

    def uninstall() -> None:
        with _lock:
            if sink in _sinks:
                _sinks.remove(sink)

    return uninstall


def _sink() -> EventsSink | None:
    with _lock:
        return _sinks[-1] if _sinks else None


def _as_moto(error: AwsError) -> JsonRESTError:
    """moto's JSON error shape for one of ours (the client sees AWS's code and message)."""
    moto_error = JsonRESTError(error.code, error.message)
    moto_error.code = error.status
    return moto_error


def _checked(check: Callable[..., None], *args: Any) -> None:
    try:
        check(*args)
    except AwsError as error:
        raise _as_moto(error) from None


# -- the hooks ----------------------------------------------------------------------------------

def _put_events(backend: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sink = _sink()
    if sink is None:
        return _originals["put_events"](backend, events)  # type: ignore[no-any-return]
    try:
        return sink.put_events(backend.account_id, backend.region_name, list(events or []))
    except AwsError as error:
        raise _as_moto(error) from None


def _put_rule(backend: Any, name: str, description: str | None = None,
              event_bus_arn: str | None = None, event_pattern: str | None = None,
              role_arn: str | None = None, scheduled_expression: str | None = None,
              state: str | None = None, managed_by: str | None = None,
              tags: list[dict[str, str]] | None = None) -> Any:
    sink = _sink()
    if sink is not None:
        _checked(sink.check_rule, scheduled_expression, event_pattern)
    rule = _originals["put_rule"](
        backend, name, description=description, event_bus_arn=event_bus_arn,
        event_pattern=event_pattern, role_arn=role_arn, scheduled_expression=scheduled_expression,
        state=state, managed_by=managed_by, tags=tags)
    if sink is not None:
        sink.rule_changed(backend.account_id, backend.region_name, rule.event_bus_name, name)
    return rule


def _put_targets(backend: Any, name: str, event_bus_arn: str | None,
                 targets: list[dict[str, Any]]) -> None:
    sink = _sink()
    if sink is not None:
        _checked(sink.check_targets, list(targets or []))
    _originals["put_targets"](backend, name, event_bus_arn, targets)


def _changing(method: str) -> Callable[..., Any]:
    """A backend method that changes one rule (delete, enable, disable), told to the sink."""
    def hook(backend: Any, name: str, event_bus_arn: str | None, *args: Any) -> Any:
        result = _originals[method](backend, name, event_bus_arn, *args)
        sink = _sink()
        if sink is not None:
            bus = backend._normalize_event_bus_arn(event_bus_arn)
            sink.rule_changed(backend.account_id, backend.region_name, bus, name)
        return result
    hook.__name__ = method
    return hook


_BACKEND_HOOKS: dict[str, Callable[..., Any]] = {
    "put_events": _put_events, "put_rule": _put_rule, "put_targets": _put_targets,
    "delete_rule": _changing("delete_rule"), "enable_rule": _changing("enable_rule"),
    "disable_rule": _changing("disable_rule"),
}


def _send_to_targets(rule: Any, original_event: Any, transform_input: bool = True) -> None:
    """moto's own events (S3's EventBridge notifications, replays) reach the harness too."""
    sink = _sink()
    if sink is None:
        _originals["send_to_targets"](rule, original_event, transform_input)
        return
    sink.from_moto(_view(rule), dict(original_event))


# -- reading rules ------------------------------------------------------------------------------

def _view(rule: Any) -> RuleView:
    return RuleView(account=rule.account_id, region=rule.region_name, bus=rule.event_bus_name,
                    name=rule.name, arn=rule.arn, state=rule.state or "ENABLED",
                    event_pattern=rule.event_pattern.dump(),
                    schedule=rule.scheduled_expression or None,
                    targets=tuple(copy.deepcopy(t) for t in rule.targets), handle=rule)


def _existing_backend(account: str, region: str) -> Any:
    """The backend if moto has made it (no lookup creates one)."""
    regional = dict.get(events_backends, account)
    return None if regional is None else dict.get(regional, region)


def find_rule(account: str, region: str, bus: str, name: str) -> RuleView | None:
    backend = _existing_backend(account, region)
    found = backend.event_buses.get(bus) if backend is not None else None
    rule = found.rules.get(name) if found is not None else None
    return None if rule is None else _view(rule)


def bus_rules(account: str, region: str, bus: str) -> list[RuleView] | None:
    """The rules of an event bus, in creation order; None when the bus does not exist."""
    found = events_backends[account][region].event_buses.get(bus)
    return None if found is None else [_view(rule) for rule in list(found.rules.values())]


def all_rules() -> list[RuleView]:
    """Every rule of every bus moto holds."""
    found: list[RuleView] = []
    for regional in list(dict.values(events_backends)):
        for backend in list(dict.values(regional)):
            for bus in list(backend.event_buses.values()):
                found.extend(_view(rule) for rule in list(bus.rules.values()))
    return found


# -- the targets moto's other services receive --------------------------------------------------

def _arn_parts(arn: str) -> tuple[str, str, str]:
    """(region, account, resource) of an ARN."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        raise ValueError(f"{arn} is not an ARN")
    return parts[3], parts[4], parts[5]


def send_to_queue(queue_arn: str, body: str, group_id: str | None = None) -> None:
    """A message into a queue (a FIFO queue needs content-based deduplication, as on AWS)."""
    region, account, name = _arn_parts(queue_arn)
    sqs_backends[account][region].send_message(queue_name=name, message_body=body,
                                               group_id=group_id or None)


def publish_to_topic(topic_arn: str, message: str) -> None:
    region, account, _name = _arn_parts(topic_arn)
    sns_backends[account][region].publish(message, arn=topic_arn)


def write_to_log_group(log_group_arn: str, message: str, timestamp_ms: int) -> None:
    """One log event in a new stream of the group, as EventBridge writes it."""
    region, account, resource = _arn_parts(log_group_arn)
    group = resource.split(":", 1)[1].removesuffix(":*")  # log-group:NAME[:*]
    backend = logs_backends[account][region]
    stream = str(uuid.uuid4())
    backend.create_log_stream(group, stream)
    backend.put_log_events(group, stream, [{"timestamp": timestamp_ms, "message": message}])


def send_with_moto(rule: RuleView, target: dict[str, Any], event: dict[str, Any],
                   now: float) -> None:
    """moto's own sender for a target the harness does not deliver itself (an archive, an API
    destination); raises NotImplementedError for the types moto has none for."""
    clone = copy.copy(rule.handle)
    clone.targets = [target]
    clone.event_pattern = EventPattern(None, {})  # matched already
    _originals["send_to_targets"](clone, _moto_event(event, now), True)


def _moto_event(event: dict[str, Any], now: float) -> dict[str, Any]:
    """An AWS-shaped event as moto's senders read it (times as epoch seconds)."""
    shaped = dict(event)
    time = shaped.get("time")
    if isinstance(time, str):
        shaped["time"] = datetime.fromisoformat(time.replace("Z", "+00:00")).timestamp()
    shaped["ingestion-time"] = now
    return shaped
