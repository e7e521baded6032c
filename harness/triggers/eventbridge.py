"""EventBridge rules deliver to their targets: PutEvents on the default and custom buses, the
events moto makes itself (S3's EventBridge notifications, replays) and scheduled rules
(``schedules.py``, on the harness's clock).

What a target receives is what its ``Input``, ``InputPath`` or ``InputTransformer`` makes of
the event (``event_input.py``). A Lambda target gets an asynchronous invoke through the Lambda
data plane; SQS, SNS, CloudWatch Logs and event-bus targets are written into moto; archives and
API destinations go to moto's own senders. A failed delivery is logged and never fails the
PutEvents that caused it, as on AWS. Patterns are matched by ``event_pattern.py``, not moto.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from typing import Any

from harness.aws_state import events_rules
from harness.aws_state.events_rules import RuleView
from harness.clock import Clock
from harness.errors import AwsError
from harness.triggers.event_entries import (
    aws_event,
    bus_address,
    check_request,
    entry_error,
    event_of,
    iso_time,
    scheduled_event,
)
from harness.triggers.event_input import check_targets, target_input
from harness.triggers.event_pattern import Pattern, matches, parse_pattern
from harness.triggers.schedule_expressions import parse_schedule
from harness.triggers.schedules import Schedules

log = logging.getLogger("harness.triggers")

InvokeAsync = Callable[..., bool]  # Triggers.invoke_async(function, payload, *, source, ...)
MAX_BUS_HOPS = 5  # bus-to-bus forwarding stops here (a rule forwarding to its own bus loops)


@functools.lru_cache(maxsize=1024)
def _pattern(text: str) -> Pattern:
    return parse_pattern(text)


class EventBridge:
    """The EventBridge event source: owns the moto hooks and the schedules."""

    def __init__(self, invoke_async: InvokeAsync, clock: Clock) -> None:
        self._invoke_async = invoke_async
        self._clock = clock
        self.schedules = Schedules(clock, events_rules.find_rule, self._scheduled)
        self._uninstall = events_rules.install(self)
        self.schedules.rescan(events_rules.all_rules())

    # -- what moto's hooks hand over (events_rules.EventsSink) -----------------------------------
    def put_events(self, account: str, region: str,
                   entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """PutEvents: one result entry per entry, in order; the matched targets are sent to
        before it answers (a Lambda target's invoke is queued, not awaited)."""
        check_request(entries)
        return [self._put_one(account, region, entry) for entry in entries]

    def _put_one(self, account: str, region: str, entry: dict[str, Any]) -> dict[str, Any]:
        error = entry_error(entry)
        if error is not None:
            return error
        event_id = str(uuid.uuid4())
        bus_account, bus_region, bus = bus_address(entry.get("EventBusName"), account, region)
        event = event_of(entry, event_id=event_id, account=account, region=bus_region,
                         now=self._clock.now())
        rules = events_rules.bus_rules(bus_account, bus_region, bus)
        if rules is None:  # AWS answers with an EventId and drops the event
            log.info("PutEvents: event bus %s does not exist; event %s dropped", bus, event_id)
        else:
            for rule in rules:
                self.deliver(rule, event)
        return {"EventId": event_id}

    def from_moto(self, rule: RuleView, event: dict[str, Any]) -> None:
        self.deliver(rule, aws_event(event))

    def check_rule(self, schedule: str | None, event_pattern: str | None) -> None:
        if schedule:
            parse_schedule(schedule)
        if event_pattern:
            _pattern(event_pattern)

    def check_targets(self, targets: list[dict[str, Any]]) -> None:
        check_targets(targets)

    def rule_changed(self, account: str, region: str, bus: str, name: str) -> None:
        self.schedules.rule_changed(account, region, bus, name)

    # -- delivery -------------------------------------------------------------------------------
    def deliver(self, rule: RuleView, event: dict[str, Any], hops: int = 0) -> None:
        """Send ``event`` to the rule's targets if the rule is enabled and its pattern matches
        (a rule with only a schedule matches no event)."""
        if not rule.enabled or not rule.event_pattern:
            return
        try:
            pattern = _pattern(rule.event_pattern)
        except AwsError as error:
            log.warning("rule %s has a pattern the harness cannot read: %s", rule.arn,
                        error.message)
            return
        if matches(pattern, event):
            self._send_all(rule, event, hops)

    def _scheduled(self, rule: RuleView, when: float) -> None:
        """One occurrence of a scheduled rule (on the clock's thread)."""
        event = scheduled_event(event_id=str(uuid.uuid4()), account=rule.account,
                                region=rule.region, rule_arn=rule.arn, when=when)
        self._send_all(rule, event, hops=0)

    def _send_all(self, rule: RuleView, event: dict[str, Any], hops: int) -> None:
        ingestion_time = iso_time(self._clock.now())
        for target in rule.targets:
            payload = target_input(target, event, rule_name=rule.name, rule_arn=rule.arn,
                                   ingestion_time=ingestion_time)
            if payload is None:
                log.warning("rule %s: target %s gets nothing (its InputPath is not in the "
                            "event, or its JSON template did not come out as JSON)", rule.arn,
                            target.get("Id"))
                continue
            try:
                self._send(rule, target, payload, event, hops)
            except Exception as error:  # a target's failure is the target's, as on AWS
                log.warning("rule %s: delivery to %s failed: %s", rule.arn, target.get("Arn"),
                            error)

    def _send(self, rule: RuleView, target: dict[str, Any], payload: str,
              event: dict[str, Any], hops: int) -> None:
        arn = str(target.get("Arn", ""))
        service = arn.split(":")[2] if arn.count(":") >= 5 else ""
        if service == "lambda":
            self._invoke_async(arn, payload.encode(), source=f"EventBridge rule {rule.name}",
                               principal="events.amazonaws.com", source_arn=rule.arn,
                               source_account=rule.account)
        elif service == "sqs":
            group = (target.get("SqsParameters") or {}).get("MessageGroupId")
            events_rules.send_to_queue(arn, payload, group)
        elif service == "sns":
            events_rules.publish_to_topic(arn, payload)
        elif service == "logs":
            events_rules.write_to_log_group(arn, payload, self._clock.now_ms())
        elif service == "events" and ":event-bus/" in arn:
            self._to_bus(rule, arn, event, hops)
        else:
            events_rules.send_with_moto(rule, target, event, self._clock.now())

    def _to_bus(self, rule: RuleView, bus_arn: str, event: dict[str, Any], hops: int) -> None:
        """An event-bus target: the event, unchanged, on that bus."""
        if hops >= MAX_BUS_HOPS:
            log.warning("rule %s: event %s dropped after %d bus-to-bus hops", rule.arn,
                        event.get("id"), hops)
            return
        account, region, bus = bus_address(bus_arn, rule.account, rule.region)
        for target_rule in events_rules.bus_rules(account, region, bus) or []:
            self.deliver(target_rule, event, hops + 1)

    # -- lifecycle ------------------------------------------------------------------------------
    def reset(self) -> None:
        self.schedules.reset()

    def close(self) -> None:
        self._uninstall()
        self.schedules.close()
