"""IAM's policy language and evaluation logic, as pure functions (no emulator)."""

from __future__ import annotations

import json

import pytest

from harness.iam.conditions import arn_like, condition_holds, glob_matches
from harness.iam.decision import access_denied_message
from harness.iam.identity import Identity, authorize
from harness.iam.policy import Effect, Principal, Request, evaluate, parse_policy

SESSION = "arn:aws:sts::123456789012:assumed-role/fn-role/fn"
ROLE = "arn:aws:iam::123456789012:role/fn-role"
OBJECT = "arn:aws:s3:::data/features/x.npy"


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def role(*documents: str, boundary: str | None = None) -> Identity:
    return Identity(arn=SESSION, principal=Principal(arns=frozenset({SESSION, ROLE}),
                                                    account="123456789012"),
                    policies=tuple(parse_policy(d) for d in documents),
                    boundary=parse_policy(boundary) if boundary else None,
                    context={"aws:principalarn": (ROLE,)})


def test_a_role_without_policies_is_refused_in_aws_words():
    decision = authorize(role(), "s3:GetObject", OBJECT, {})
    assert not decision.allowed
    assert access_denied_message(SESSION, "s3:GetObject", OBJECT, decision,
                                 quote_resource=True) == (
        f'User: {SESSION} is not authorized to perform: s3:GetObject on resource: "{OBJECT}" '
        "because no identity-based policy allows the s3:GetObject action")


@pytest.mark.parametrize(("action", "resource", "allowed"), [
    ("s3:GetObject", OBJECT, True),
    ("S3:getobject", OBJECT, True),  # actions are case-insensitive
    ("s3:GetObject", "arn:aws:s3:::data/other/x.npy", False),
    ("s3:PutObject", OBJECT, False),
    ("s3:GetObject", "arn:aws:s3:::DATA/features/x.npy", False),  # resources are not
])
def test_action_and_resource_wildcards(action, resource, allowed):
    identity = role(policy(allow("s3:Get*", "arn:aws:s3:::data/features/*")))
    assert authorize(identity, action, resource, {}).allowed is allowed


def test_explicit_deny_wins_wherever_it_is():
    identity = role(policy(allow("s3:*")), policy(deny("s3:GetObject", OBJECT)))
    decision = authorize(identity, "s3:GetObject", OBJECT, {})
    assert (decision.allowed, decision.reason) == (
        False, "with an explicit deny in an identity-based policy")
    bucket = parse_policy(policy(deny("s3:GetObject", OBJECT, Principal="*")))
    decision = authorize(role(policy(allow("s3:*"))), "s3:GetObject", OBJECT, {}, bucket)
    assert decision.reason == "with an explicit deny in a resource-based policy"


def test_a_bucket_policy_naming_the_role_grants_without_an_identity_policy():
    bucket = parse_policy(policy(allow("s3:GetObject", OBJECT, Principal={"AWS": ROLE})))
    assert authorize(role(), "s3:GetObject", OBJECT, {}, bucket).allowed
    # Naming the account only delegates to the account's own (identity-based) policies.
    account = parse_policy(policy(allow("s3:GetObject", OBJECT,
                                        Principal={"AWS": "arn:aws:iam::123456789012:root"})))
    assert not authorize(role(), "s3:GetObject", OBJECT, {}, account).allowed


def test_not_action_and_not_resource():
    identity = role(policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
                           {"Effect": "Deny", "Action": "s3:*",
                            "NotResource": "arn:aws:s3:::data/*"}))
    assert authorize(identity, "sqs:SendMessage", None, {}).allowed
    assert not authorize(identity, "iam:ListRoles", None, {}).allowed
    assert authorize(identity, "s3:GetObject", OBJECT, {}).allowed
    assert not authorize(identity, "s3:GetObject", "arn:aws:s3:::elsewhere/k", {}).allowed


def test_an_unknown_resource_is_allowed_by_any_allow_and_denied_only_by_a_deny_on_star():
    narrow = role(policy(allow("dynamodb:ListTables", "arn:aws:dynamodb:*:*:table/t"),
                         deny("dynamodb:ListTables", "arn:aws:dynamodb:*:*:table/other")))
    assert authorize(narrow, "dynamodb:ListTables", None, {}).allowed
    everywhere = role(policy(allow("dynamodb:*"), deny("dynamodb:ListTables")))
    assert not authorize(everywhere, "dynamodb:ListTables", None, {}).allowed


def test_permissions_boundary_limits_what_the_role_allows():
    identity = role(policy(allow("s3:*")), boundary=policy(allow("s3:GetObject")))
    assert authorize(identity, "s3:GetObject", OBJECT, {}).allowed
    decision = authorize(identity, "s3:PutObject", OBJECT, {})
    assert decision.reason == "because no permissions boundary allows the s3:PutObject action"


def test_get_caller_identity_needs_no_permission():
    identity = role(policy(deny("*")))
    assert authorize(identity, "sts:GetCallerIdentity", None, {}).allowed


def test_policy_variables_fill_in_from_the_request():
    identity = role(policy(allow("s3:GetObject", "arn:aws:s3:::data/${aws:PrincipalArn}/*")))
    assert authorize(identity, "s3:GetObject", f"arn:aws:s3:::data/{ROLE}/k", {}).allowed
    assert not authorize(identity, "s3:GetObject", "arn:aws:s3:::data/other/k", {}).allowed
    literal = role(json.dumps({"Version": "2008-10-17", "Statement": [
        allow("s3:GetObject", "arn:aws:s3:::data/${aws:PrincipalArn}")]}))
    assert not authorize(literal, "s3:GetObject", f"arn:aws:s3:::data/{ROLE}", {}).allowed


@pytest.mark.parametrize(("operator", "expected", "context", "holds"), [
    ("StringEquals", ["a"], {"k": ("a",)}, True),
    ("StringEquals", ["a"], {}, False),  # a missing key fails a positive operator
    ("StringNotEquals", ["a"], {}, True),  # and passes a negated one
    ("StringEqualsIfExists", ["a"], {}, True),
    ("StringLike", ["fe*/x?"], {"k": ("features/x1",)}, True),
    ("StringEqualsIgnoreCase", ["ABC"], {"k": ("abc",)}, True),
    ("NumericLessThan", ["10"], {"k": ("9",)}, True),
    ("NumericLessThan", ["10"], {"k": ("ten",)}, False),
    ("DateGreaterThan", ["2020-01-01T00:00:00Z"], {"k": ("2024-05-01T10:00:00Z",)}, True),
    ("Bool", ["true"], {"k": ("false",)}, False),
    ("IpAddress", ["127.0.0.0/8"], {"k": ("127.0.0.1",)}, True),
    ("NotIpAddress", ["10.0.0.0/8"], {"k": ("127.0.0.1",)}, True),
    ("ArnLike", ["arn:aws:execute-api:*:*:api1/*"],
     {"k": ("arn:aws:execute-api:us-east-1:1:api1/dev/GET/a/b",)}, True),
    ("ArnLike", ["arn:aws:execute-api:*:*:api1/*"],
     {"k": ("arn:aws:execute-api:us-east-1:1:api2/dev/GET/",)}, False),
    ("Null", ["true"], {}, True),
    ("Null", ["false"], {}, False),
    ("ForAllValues:StringEquals", ["a", "b"], {"k": ("a", "b")}, True),
    ("ForAllValues:StringEquals", ["a"], {"k": ("a", "c")}, False),
    ("ForAnyValue:StringEquals", ["c"], {"k": ("a", "c")}, True),
    ("StringSoundsLike", ["a"], {"k": ("a",)}, False),  # IAM has no such operator
])
def test_condition_operators(operator, expected, context, holds):
    assert condition_holds(operator, "K", expected, context) is holds


def test_wildcards():
    assert glob_matches("a*c?", "abbbcd")
    assert not glob_matches("a*c?", "abbbc")
    assert glob_matches("*", "anything:at/all")
    assert arn_like("arn:aws:s3:::*", "arn:aws:s3:::bucket/key")
    assert not arn_like("arn:aws:sns:*:*:t", "arn:aws:s3:::t")


def test_conditions_on_the_caller_and_request():
    identity = role(policy(allow("s3:ListBucket", "arn:aws:s3:::data",
                                 Condition={"StringLike": {"s3:prefix": "features/*"}})))
    bucket = "arn:aws:s3:::data"
    assert authorize(identity, "s3:ListBucket", bucket, {"s3:prefix": ("features/a",)}).allowed
    assert not authorize(identity, "s3:ListBucket", bucket, {"s3:prefix": ("raw/",)}).allowed
    assert not authorize(identity, "s3:ListBucket", bucket, {}).allowed


def test_a_malformed_statement_is_left_out_not_fatal():
    parsed = parse_policy(policy({"Effect": "Maybe", "Action": "*", "Resource": "*"},
                                 allow("s3:GetObject")))
    assert len(parsed.statements) == 1
    assert parse_policy("not json").statements == ()
    request = Request("s3:GetObject", OBJECT, {})
    assert evaluate(parsed, request).effect is Effect.ALLOW


def test_a_condition_on_the_time():
    identity = role(policy(allow("s3:GetObject", Condition={
        "DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})))
    assert identity.policies[0].uses_time
    now = {"aws:currenttime": ("2024-01-01T00:00:00Z",)}
    assert not authorize(identity, "s3:GetObject", OBJECT, now).allowed
    assert authorize(identity, "s3:GetObject", OBJECT,
                     {"aws:currenttime": ("2019-06-01T00:00:00Z",)}).allowed
