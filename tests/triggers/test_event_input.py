"""What a rule's target receives (Input, InputPath, InputTransformer) and PutTargets' checks,
as pure functions; the expected texts are AWS's documented outputs."""

from __future__ import annotations

import json

import pytest

from harness.triggers.event_errors import EventsValidationError
from harness.triggers.event_input import check_targets, json_path, target_input

EVENT = {
    "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
    "account": "123456789012", "time": "2015-11-11T21:29:54Z", "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING",
               "owner": {"team": "ml", "id": 7}, "zones": ["a", "b"]},
}
PATHS = {"instance": "$.detail.instance-id", "state": "$.detail.state",
         "owner": "$.detail.owner", "zones": "$.detail.zones", "resource": "$.resources[0]",
         "missing": "$.detail.nothing-here"}
RULE = {"rule_name": "example",
        "rule_arn": "arn:aws:events:us-east-1:123456789012:rule/example",
        "ingestion_time": "2015-11-11T21:29:55Z"}


def transformed(template: str) -> str | None:
    target = {"Id": "t", "InputTransformer": {"InputPathsMap": PATHS, "InputTemplate": template}}
    check_targets([target])
    return target_input(target, EVENT, **RULE)


def test_no_input_setting_sends_the_event_itself() -> None:
    assert json.loads(target_input({"Id": "t"}, EVENT, **RULE) or "") == EVENT


def test_input_is_sent_as_given() -> None:
    assert target_input({"Id": "t", "Input": '{"fixed": [1, 2]}'}, EVENT, **RULE) == \
        '{"fixed": [1, 2]}'


def test_input_path_sends_that_part_of_the_event() -> None:
    part = target_input({"Id": "t", "InputPath": "$.detail.owner"}, EVENT, **RULE)
    assert json.loads(part or "") == {"team": "ml", "id": 7}
    assert target_input({"Id": "t", "InputPath": "$.detail.state"}, EVENT, **RULE) == \
        '"RUNNING"'
    assert target_input({"Id": "t", "InputPath": "$.detail.nope"}, EVENT, **RULE) is None


@pytest.mark.parametrize(("template", "expected"), [
    ('"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'),
    ('{"instance": <instance>, "state": [9, <state>, true]}',
     '{"instance": "i-0123456789", "state": [9, "RUNNING", true]}'),
    ('{"status": "instance <instance> is in <state>"}',
     '{"status": "instance i-0123456789 is in RUNNING"}'),
    ('{"owner": <owner>, "zones": <zones>, "first": <resource>}',
     '{"owner": {"team": "ml", "id": 7}, "zones": ["a", "b"], '
     '"first": "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"}'),
    ('"owner <owner> in <zones>"', '"owner {team:ml,id:7} in [a,b]"'),
    ('{"gone": <missing>, "text": "x<missing>y"}', '{"gone": "", "text": "xy"}'),
    ('"<aws.events.rule-name> triggered by <aws.events.rule-arn> at '
     '<aws.events.event.ingestion-time>"',
     '"example triggered by arn:aws:events:us-east-1:123456789012:rule/example at '
     '2015-11-11T21:29:55Z"'),
])
def test_input_transformer_fills_the_template(template: str, expected: str) -> None:
    assert transformed(template) == expected


def test_predefined_event_placeholders() -> None:
    out = json.loads(transformed(
        '{"event": <aws.events.event>, "all": <aws.events.event.json>}') or "")
    assert out["all"] == EVENT
    assert "detail" not in out["event"] and out["event"]["detailType"] == EVENT["detail-type"]


def test_json_template_that_breaks_json_delivers_nothing() -> None:
    # an object inside a JSON string is put in unescaped, so the result is not JSON: AWS drops it
    assert transformed('{"owner": "<owner>"}') is None


@pytest.mark.parametrize(("target", "message"), [
    ({"Id": "t1", "Input": "{}", "InputPath": "$.detail"},
     "Only one of Input, InputPath, or InputTransformer must be provided for target t1."),
    ({"Id": "t2", "InputTransformer": {"InputPathsMap": {"a": "$.a"},
                                       "InputTemplate": '"<a> and <b>"'}},
     "InputTemplate for target t2 contains invalid placeholder b."),
    ({"Id": "t3", "Input": "not json"}, "Input for target t3 is not a valid JSON text."),
])
def test_put_targets_checks(target: dict, message: str) -> None:
    with pytest.raises(EventsValidationError) as refused:
        check_targets([target])
    assert refused.value.message == message


def test_json_path_forms() -> None:
    assert json_path(EVENT, "$.detail.owner.team") == "ml"
    assert json_path(EVENT, "$.detail.zones[1]") == "b"
    assert json_path(EVENT, "$['detail']['instance-id']") == "i-0123456789"
    assert json_path(EVENT, "$.detail.zones[*]") == ["a", "b"]
    assert json_path(EVENT, "$") == EVENT
