"""Scheduled rules fire on the harness's clock: a test advances it an hour and sees an hourly
rule fire once, in milliseconds of wall time. Through the session emulator with plain boto3,
and the schedule keeper alone on a clock of its own."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from harness.aws_state.events_rules import RuleView
from harness.clock import Clock
from harness.triggers.schedules import MAX_CATCH_UP, Schedules
from tests.triggers.events_support import Rules, all_delivered, armed, seen_events, settled

# Generous for what takes milliseconds here, against the 3600 s the schedule takes on AWS.
WALL_BOUND_S = 5.0


@pytest.fixture(scope="module")
def events(harness_client):
    return harness_client("events")


@pytest.fixture(scope="module")
def logs(harness_client):
    return harness_client("logs")


@pytest.fixture
def rules(events, lambda_client) -> Rules:
    made = Rules(events, lambda_client)
    yield made
    made.remove_all()


def scheduled_function(lambda_client, create_function, rules: Rules, expression: str,
                       prefix: str) -> tuple[str, str]:
    """A function and an enabled rule with ``expression`` targeting it: (function, rule ARN)."""
    name = create_function()
    arn = lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    rule_arn = rules.put(f"{prefix}-{name}", ScheduleExpression=expression)
    rules.target(f"{prefix}-{name}", {"Id": "fn", "Arn": arn})
    return name, rule_arn


def parse_time(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def advance_over_http(endpoint: str, seconds: float) -> None:
    request = urllib.request.Request(f"{endpoint}/_harness/clock", method="POST",
                                     data=json.dumps({"advance": seconds}).encode())
    with urllib.request.urlopen(request) as response:
        assert response.status == 200


def test_hourly_rate_fires_once_when_the_clock_moves_an_hour(
        lambda_client, harness_endpoint, harness_emulator, create_function, logs, rules) -> None:
    name, rule_arn = scheduled_function(lambda_client, create_function, rules, "rate(1 hour)",
                                        "hourly")
    created = harness_emulator.clock.now()
    started = time.monotonic()
    advance_over_http(harness_endpoint, 3600)
    assert settled(harness_emulator.clock, rule_arn)
    fired_after = time.monotonic() - started
    assert fired_after < WALL_BOUND_S, f"the hour's occurrence took {fired_after:.3f} s"
    assert all_delivered(harness_emulator)
    seen = seen_events(logs, name)
    assert len(seen) == 1, seen
    event = seen[0]
    assert {k: event[k] for k in ("version", "detail-type", "source", "resources", "detail",
                                  "account", "region")} == {
        "version": "0", "detail-type": "Scheduled Event", "source": "aws.events",
        "resources": [rule_arn], "detail": {}, "account": "123456789012",
        "region": "us-east-1"}
    assert abs(parse_time(event["time"]) - (created + 3600)) <= 2  # the occurrence's time


def test_five_minute_rate_advanced_sixteen_minutes_fires_each_occurrence_in_order(
        lambda_client, harness_emulator, create_function, logs, rules) -> None:
    name, rule_arn = scheduled_function(lambda_client, create_function, rules,
                                        "rate(5 minutes)", "five")
    harness_emulator.clock.advance(16 * 60)
    assert settled(harness_emulator.clock, rule_arn)
    assert all_delivered(harness_emulator)
    times = sorted(parse_time(e["time"]) for e in seen_events(logs, name))
    assert len(times) == 3
    assert [round(b - a) for a, b in zip(times, times[1:])] == [300, 300]


def test_cron_rule_fires_at_its_minute(
        lambda_client, harness_emulator, create_function, logs, rules) -> None:
    name, rule_arn = scheduled_function(lambda_client, create_function, rules,
                                        "cron(0 * * * ? *)", "cron")
    harness_emulator.clock.advance(3600)
    assert settled(harness_emulator.clock, rule_arn)
    assert all_delivered(harness_emulator)
    seen = seen_events(logs, name)
    assert len(seen) == 1 and seen[0]["time"].endswith(":00:00Z"), seen


def test_disable_and_delete_cancel_the_schedule(
        lambda_client, harness_emulator, create_function, events, logs, rules) -> None:
    clock = harness_emulator.clock
    name, rule_arn = scheduled_function(lambda_client, create_function, rules,
                                        "rate(1 minute)", "toggled")
    rule = rule_arn.rsplit("/", 1)[1]
    assert armed(clock, rule_arn)
    events.disable_rule(Name=rule)
    assert not armed(clock, rule_arn)  # nothing left that could fire
    clock.advance(120)
    events.enable_rule(Name=rule)
    clock.advance(60)
    assert settled(clock, rule_arn)
    events.remove_targets(Rule=rule, Ids=["fn"])
    events.delete_rule(Name=rule)
    assert not armed(clock, rule_arn)
    assert all_delivered(harness_emulator)
    assert len(seen_events(logs, name)) == 1  # only while enabled


@pytest.mark.parametrize("expression", [
    "rate(1 minutes)", "rate(0 hours)", "rate(5 seconds)", "cron(0 12 * * * *)",
    "cron(61 * * * ? *)", "cron(0 12 * *)", "at(2026-01-01T00:00:00)",
])
def test_invalid_schedule_expression_is_refused(events, expression: str) -> None:
    with pytest.raises(ClientError) as refused:
        events.put_rule(Name="never-made", ScheduleExpression=expression)
    assert refused.value.response["Error"] == {
        "Code": "ValidationException", "Message": "Parameter ScheduleExpression is not valid."}


def test_cloudformation_scheduled_rule_fires(
        harness_client, lambda_client, harness_emulator, create_function, events, logs) -> None:
    name = create_function()
    arn = lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    cfn, stack = harness_client("cloudformation"), f"schedule-{name}"
    template = {"Resources": {"Hourly": {"Type": "AWS::Events::Rule", "Properties": {
        "ScheduleExpression": "rate(1 hour)", "Targets": [{"Id": "fn", "Arn": arn}]}},
        "Invoke": {"Type": "AWS::Lambda::Permission", "Properties": {  # as SAM's Schedule adds
            "FunctionName": name, "Action": "lambda:InvokeFunction",
            "Principal": "events.amazonaws.com",
            "SourceArn": {"Fn::GetAtt": ["Hourly", "Arn"]}}}}}
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(template))
    try:
        cfn.get_waiter("stack_create_complete").wait(
            StackName=stack, WaiterConfig={"Delay": 0.2, "MaxAttempts": 300})
        rule = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Hourly")[
            "StackResourceDetail"]["PhysicalResourceId"]
        rule_arn = events.describe_rule(Name=rule)["Arn"]
        assert armed(harness_emulator.clock, rule_arn)
        harness_emulator.clock.advance(3600)
        assert settled(harness_emulator.clock, rule_arn)
        assert all_delivered(harness_emulator)
        assert [e["resources"] for e in seen_events(logs, name)] == [
            [rule_arn]]
    finally:
        cfn.delete_stack(StackName=stack)
        cfn.get_waiter("stack_delete_complete").wait(
            StackName=stack, WaiterConfig={"Delay": 0.2, "MaxAttempts": 300})
    assert not armed(harness_emulator.clock, rule_arn)


# -- the schedule keeper alone, on a clock of its own ---------------------------------------------

class FakeRules:
    """Rules as the moto adapter would return them (only what the keeper reads)."""

    def __init__(self) -> None:
        self.rules: dict[tuple[str, str, str, str], RuleView] = {}

    def add(self, name: str, expression: str, state: str = "ENABLED") -> RuleView:
        rule = RuleView("123456789012", "us-east-1", "default", name,
                        f"arn:aws:events:us-east-1:123456789012:rule/{name}", state, None,
                        expression, ())
        self.rules[rule.key] = rule
        return rule

    def lookup(self, account: str, region: str, bus: str, name: str) -> RuleView | None:
        return self.rules.get((account, region, bus, name))


def test_keeper_fires_every_overdue_occurrence_then_skips_past_the_cap() -> None:
    fired: list[tuple[str, float]] = []
    store = FakeRules()
    with Clock() as clock:
        keeper = Schedules(clock, store.lookup, lambda rule, when: fired.append((rule.name, when)))
        every_minute = store.add("every-minute", "rate(1 minute)")
        start = clock.now()
        keeper.rescan([every_minute])
        clock.advance(2 * MAX_CATCH_UP * 60 + 30)  # two caps' worth of minutes
        assert settled(clock, every_minute.arn)
        keeper.close()
    assert len(fired) == MAX_CATCH_UP  # then the rest up to now were skipped
    assert [round(w - start) for _, w in fired[:3]] == [60, 120, 180]
    assert all(b > a for (_, a), (_, b) in zip(fired, fired[1:]))


def test_keeper_keeps_phase_on_a_repeated_put_and_restarts_on_a_new_expression() -> None:
    store = FakeRules()
    with Clock() as clock:
        keeper = Schedules(clock, store.lookup, lambda rule, when: None)
        rule = store.add("r", "rate(5 minutes)")
        keeper.rule_changed(*rule.key)
        first = [t.when for t in clock.pending()]
        keeper.rule_changed(*rule.key)  # PutTargets, or the same PutRule again
        assert [t.when for t in clock.pending()] == first
        store.add("r", "rate(1 hour)")
        keeper.rule_changed(*rule.key)
        assert [round(t.when - first[0]) for t in clock.pending()] == [3600 - 300]
        store.add("r", "rate(1 hour)", state="DISABLED")
        keeper.rule_changed(*rule.key)
        assert clock.pending() == [] and keeper.armed() == []
        keeper.close()
