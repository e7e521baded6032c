"""The event invoke config and DeadLetterConfig as AWS checks them (pure)."""

from __future__ import annotations

import pytest

from harness.errors import AwsError
from harness.lambda_.event_config import (
    check_dead_letter,
    check_event_invoke_config,
    merged,
    settings_from,
)

FN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:q"


def test_defaults_are_awss() -> None:
    settings = settings_from(None, None, None)
    assert (settings.max_retries, settings.max_age_s) == (2, 21600)
    assert settings.on_success is settings.on_failure is settings.dead_letter is None


def test_a_config_is_normalised_and_an_update_keeps_what_it_does_not_give() -> None:
    stored = check_event_invoke_config(
        {"MaximumRetryAttempts": 1, "DestinationConfig": {"OnFailure": {"Destination": QUEUE}}},
        f"{FN}:$LATEST")
    assert stored == {"MaximumRetryAttempts": 1, "DestinationConfig": {
        "OnSuccess": {}, "OnFailure": {"Destination": QUEUE}}}
    body = {"MaximumEventAgeInSeconds": 60}
    assert merged(stored, body, check_event_invoke_config(body, FN)) == {
        **stored, "MaximumEventAgeInSeconds": 60}


@pytest.mark.parametrize(("body", "code"), [
    ({"MaximumRetryAttempts": True}, "ValidationException"),
    ({"MaximumRetryAttempts": "1"}, "ValidationException"),
    ({"DestinationConfig": {"OnSuccess": "q"}}, "ValidationException"),
    ({"DestinationConfig": {"OnFailure": {"Destination": f"{FN}:live"}}},
     "InvalidParameterValueException"),
    ([], "ValidationException"),
])
def test_malformed_configs_are_refused(body, code) -> None:
    with pytest.raises(AwsError) as caught:
        check_event_invoke_config(body, f"{FN}:$LATEST")
    assert caught.value.code == code and caught.value.status == 400


def test_a_dead_letter_target_is_an_sqs_queue_or_an_sns_topic() -> None:
    assert check_dead_letter({"TargetArn": QUEUE}) == QUEUE
    assert check_dead_letter({"TargetArn": ""}) is None and check_dead_letter(None) is None
    with pytest.raises(AwsError, match="ARNs must start with 'arn:'"):
        check_dead_letter({"TargetArn": "q"})
    with pytest.raises(AwsError, match="an Amazon SQS queue or an Amazon SNS topic"):
        check_dead_letter({"TargetArn": "arn:aws:events:us-east-1:123456789012:event-bus/b"})
