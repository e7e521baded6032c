"""A function's resource-based policy deciding whether a service may invoke it: pure functions
over the statements AddPermission writes (no emulator)."""

from __future__ import annotations

import shlex

from harness.iam.resource_policy import (
    INVOKE_FUNCTION_URL,
    add_permission_command,
    decide_invoke,
)

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:predict"
API = "arn:aws:execute-api:us-east-1:123456789012:abc123"


def statement(principal, source_arn=None, source_account=None, **extra) -> dict:
    """A statement as moto stores AddPermission's (SourceArn as ArnLike, Principal as Service)."""
    out = {"Sid": "sid-1", "Effect": "Allow", "Principal": principal,
           "Action": "lambda:InvokeFunction", "Resource": FUNCTION, **extra}
    condition = {}
    if source_arn:
        condition["ArnLike"] = {"AWS:SourceArn": source_arn}
    if source_account:
        condition["StringEquals"] = {"AWS:SourceAccount": source_account}
    if condition:
        out["Condition"] = condition
    return out


def doc(*statements) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def decide(policy, principal="apigateway.amazonaws.com", source_arn=f"{API}/dev/POST/predict",
           **kwargs):
    return decide_invoke(policy, function_arn=FUNCTION, principal=principal,
                         source_arn=source_arn, source_account="123456789012", **kwargs)


def test_no_policy_refuses_every_service():
    decision = decide(None)
    assert not decision.allowed
    assert "has no resource-based policy" in decision.reason


def test_the_service_and_source_arn_must_match():
    policy = doc(statement({"Service": "apigateway.amazonaws.com"}, f"{API}/*/POST/predict"))
    assert decide(policy).allowed
    assert not decide(policy, source_arn=f"{API}/dev/GET/predict").allowed
    assert not decide(policy, source_arn="arn:aws:execute-api:us-east-1:123456789012:other/dev/"
                                         "POST/predict").allowed
    refused = decide(policy, principal="s3.amazonaws.com")
    assert not refused.allowed
    assert "allows s3.amazonaws.com" in refused.reason


def test_source_account_condition():
    policy = doc(statement({"Service": "s3.amazonaws.com"}, "arn:aws:s3:::uploads",
                           "123456789012"))
    assert decide(policy, principal="s3.amazonaws.com", source_arn="arn:aws:s3:::uploads").allowed
    assert not decide_invoke(policy, function_arn=FUNCTION, principal="s3.amazonaws.com",
                             source_arn="arn:aws:s3:::uploads",
                             source_account="999999999999").allowed


def test_a_statement_on_another_version_does_not_apply():
    policy = doc(statement({"Service": "apigateway.amazonaws.com"}, Resource=f"{FUNCTION}:live"))
    assert not decide(policy).allowed
    assert decide_invoke(policy, function_arn=f"{FUNCTION}:live",
                         principal="apigateway.amazonaws.com").allowed


def test_deny_statement_wins():
    policy = doc(statement("*"), {**statement({"Service": "sns.amazonaws.com"}), "Sid": "no-sns",
                                  "Effect": "Deny"})
    decision = decide(policy, principal="sns.amazonaws.com", source_arn=None)
    assert not decision.allowed
    assert "'no-sns'" in decision.reason


def test_public_function_url_needs_its_auth_type():
    public = doc({"Sid": "url", "Effect": "Allow", "Principal": "*",
                  "Action": INVOKE_FUNCTION_URL, "Resource": FUNCTION,
                  "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}})
    assert decide(public, principal="*", source_arn=None, action=INVOKE_FUNCTION_URL,
                  context={"lambda:FunctionUrlAuthType": "NONE"}).allowed
    assert not decide(public, principal="*", source_arn=None, action=INVOKE_FUNCTION_URL,
                      context={"lambda:FunctionUrlAuthType": "AWS_IAM"}).allowed
    assert not decide(public, principal="*", source_arn=None).allowed  # not InvokeFunction


def test_the_fix_is_a_cli_call_that_parses():
    command = add_permission_command("predict", "apigateway.amazonaws.com", f"{API}/*",
                                     region="us-east-1")
    words = shlex.split(command)
    assert words[:3] == ["aws", "lambda", "add-permission"]
    assert words[words.index("--principal") + 1] == "apigateway.amazonaws.com"
    assert words[words.index("--source-arn") + 1] == f"{API}/*"
