"""Helpers for the EventBridge and schedule tests: what a function saw, rules that clean up
after themselves, and waiting for a schedule's due occurrences to have fired."""

from __future__ import annotations

import json
import time
from typing import Any

from harness.clock import Clock


def seen_events(logs: Any, function_name: str) -> list[Any]:
    """The events the test function (tests.conftest.TRIVIAL) logged, oldest first."""
    try:
        found = logs.filter_log_events(logGroupName=f"/aws/lambda/{function_name}")["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [json.loads(e["message"][len("event "):]) for e in found
            if e["message"].startswith("event ")]


def all_delivered(emulator: Any) -> bool:
    """Wait until every asynchronous invocation queued so far (and its retries) has ended."""
    return bool(emulator.lambdas.wait_for_events(timeout=120))


def settled(clock: Clock, rule_arn: str, deadline_s: float = 30) -> bool:
    """True once the rule's next occurrence lies in the future: every due one has fired (the
    schedule re-arms its clock timer only after delivering an occurrence)."""
    name = f"schedule {rule_arn}"
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        timers = [t for t in clock.pending() if t.name == name]
        if timers and all(t.when > clock.now() for t in timers):
            return True
        time.sleep(0.002)
    return False


def armed(clock: Clock, rule_arn: str) -> bool:
    """Whether the rule has a clock timer (an enabled scheduled rule does)."""
    return any(t.name == f"schedule {rule_arn}" for t in clock.pending())


def grant_events(lambda_client: Any, function: str, rule_arn: str) -> None:
    """Lets the rule invoke the function: the resource-based policy EventBridge needs."""
    lambda_client.add_permission(
        FunctionName=function, StatementId=f"events-{rule_arn.rsplit('/', 1)[-1]}"[:100],
        Action="lambda:InvokeFunction", Principal="events.amazonaws.com", SourceArn=rule_arn)


class Rules:
    """Makes rules and removes them (targets first) when the test ends: the session emulator
    is shared, and a forgotten schedule would fire in another test's clock advance."""

    def __init__(self, events: Any, lambda_client: Any) -> None:
        self.events = events
        self._lambda = lambda_client
        self._made: list[tuple[str, str]] = []
        self._arns: dict[tuple[str, str], str] = {}

    def put(self, name: str, bus: str = "default", **kwargs: Any) -> str:
        arn = self.events.put_rule(Name=name, EventBusName=bus, **kwargs)["RuleArn"]
        self._made.append((name, bus))
        self._arns[(name, bus)] = str(arn)
        return str(arn)

    def target(self, name: str, *targets: dict[str, Any], bus: str = "default",
               grant: bool = True) -> None:
        """PutTargets; with ``grant``, each function target lets the rule invoke it, as the
        console and SAM do (EventBridge cannot invoke a function without that)."""
        answer = self.events.put_targets(Rule=name, EventBusName=bus, Targets=list(targets))
        assert answer["FailedEntryCount"] == 0, answer
        for target in targets if grant else ():
            if ":lambda:" in str(target["Arn"]):
                grant_events(self._lambda, str(target["Arn"]), self._arns[(name, bus)])

    def remove_all(self) -> None:
        for name, bus in self._made:
            try:
                targets = self.events.list_targets_by_rule(Rule=name, EventBusName=bus)
                ids = [t["Id"] for t in targets["Targets"]]
                if ids:
                    self.events.remove_targets(Rule=name, EventBusName=bus, Ids=ids)
                self.events.delete_rule(Name=name, EventBusName=bus)
            except self.events.exceptions.ResourceNotFoundException:
                pass  # the test deleted it, or its bus
