"""Scenario steps that feed event sources and wait for what they cause, against a template
stack: send_message, publish, put_events and wait_for (invocations, objects, queue messages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.scenario.loader import load_scenario
from harness.scenario.properties import PropertyOptions
from harness.scenario.runner import ERROR, FAILED, PASSED, ScenarioRunner
from harness.scenario.schema import validate

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Inbox:
    Type: AWS::SQS::Queue
  Alerts:
    Type: AWS::SNS::Topic
  Data:
    Type: AWS::S3::Bucket
  Notify:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      InlineCode: |
        import json
        def handler(event, context):
            print("event", json.dumps(event))
            return {"ok": True}
      Events:  # SAM subscribes the function and lets the topic invoke it
        Alert: {Type: SNS, Properties: {Topic: !Ref Alerts}}
"""


@pytest.fixture(scope="module")
def runner(harness_scenario_session):
    return ScenarioRunner(harness_scenario_session, options=PropertyOptions(ci=True))


def write(tmp_path: Path, steps: str) -> Path:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    path = tmp_path / "triggers.yaml"
    path.write_text(f"scenario: triggers\nstack:\n  template: template.yaml\nsteps:\n{steps}")
    return path


def test_a_published_message_runs_the_subscribed_function_and_queues_hold_what_was_sent(
        runner, tmp_path) -> None:
    path = write(tmp_path, """\
  - publish: {topic: Alerts, json: {level: high}}
  - wait_for: {function: Notify, invocations: 1, timeout_s: 60}
    expect: {json: [{path: invocations, equals: 1}]}
  - send_message: {queue: Inbox, json: {n: 1}, attributes: {kind: test}}
  - send_message: {queue: Inbox, body: second}
  - wait_for: {queue: Inbox, messages: 2, timeout_s: 10}
    expect: {json: [{path: count, equals: 2}, {path: messages, contains: {n: 1}}]}
  - put_events: {source: my.app, detail_type: Thing, detail: {x: 1}}
    expect: {json: [{path: failed_entry_count, equals: 0}]}
""")
    result = runner.run(load_scenario(path))
    assert [s.outcome for s in result.steps] == [PASSED] * 6, [s.failures for s in result.steps]
    assert result.steps[2].output["message_id"]


def test_wait_for_times_out_naming_what_did_not_happen(runner, tmp_path) -> None:
    path = write(tmp_path, """\
  - wait_for: {object: {bucket: Data, key: never/there.json}, timeout_s: 0.3}
    expect: {error: Timeout}
  - send_message: {queue: NoSuchQueue, body: x}
""")
    result = runner.run(load_scenario(path))
    assert [s.outcome for s in result.steps] == [PASSED, ERROR]
    assert "NoSuchQueue" in result.steps[1].failures[0]
    path = write(tmp_path, """\
  - wait_for: {object: {bucket: Data, key: never/there.json}, timeout_s: 0.3}
""")
    result = runner.run(load_scenario(path))
    assert [s.outcome for s in result.steps] == [FAILED]
    assert "never/there.json did not happen within 0.3 s" in result.steps[0].failures[0]


def test_bad_trigger_steps_are_refused_before_anything_runs() -> None:
    problems = validate({"scenario": "x", "steps": [
        {"send_message": {"queue": "q"}},
        {"publish": {"topic": "t", "message": "m", "json": {}}},
        {"wait_for": {"timeout_s": 1}},
        {"put_events": {"entries": []}},
    ]})
    text = [p.message for p in problems]
    assert len(text) == 4, text
