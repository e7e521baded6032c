"""Fault rules and the injector's decisions, without sockets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import UsageError
from harness.faults import FaultInjector, parse_rule, parse_rules
from harness.faults.s3 import classify, error_response, signed_service


def test_parse_rule_fills_defaults_and_an_id():
    rule = parse_rule({"target": "s3", "kind": "error", "error": "SlowDown"})
    assert rule.rate == 1.0 and rule.calls == () and rule.id


@pytest.mark.parametrize("raw, message", [
    ({"target": "ec2", "kind": "error"}, "target must be one of"),
    ({"target": "s3", "kind": "crash"}, "s3 fault kind must be one of"),
    ({"target": "s3", "kind": "error", "error": "Oops"}, "s3 error must be one of"),
    ({"target": "s3", "kind": "latency"}, "latency_ms > 0"),
    ({"target": "s3", "kind": "error", "error": "SlowDown", "rate": 2}, "between 0.0 and 1.0"),
    ({"target": "s3", "kind": "error", "error": "SlowDown", "calls": [0]}, "from 1"),
    ({"target": "lambda", "kind": "throttle", "tims": 2}, "unknown fault field(s): tims"),
    ("SlowDown", "must be a mapping"),
])
def test_bad_rules_are_refused_with_the_field_named(raw, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_rule(raw)


@pytest.mark.parametrize("raw, message", [
    ({"target": [], "kind": "throttle"}, "target must be one of"),
    ({"target": "lambda", "kind": "latency", "latency_ms": float("nan")}, "between"),
    ({"rules": {}}, "must be a list"),
    ({"rules": [], "extra": 1}, "beside rules: extra"),
    (5, "must be a list"),
])
def test_bad_rule_payloads_are_usage_errors_never_crashes(raw, message):
    with pytest.raises(UsageError, match=message):
        parse_rules(raw)


def test_rules_come_one_as_a_list_or_under_rules():
    one = {"target": "lambda", "kind": "throttle"}
    assert [len(parse_rules(p)) for p in (one, [one, one], {"rules": [one]})] == [1, 2, 1]


def test_calls_hit_exactly_the_named_matching_calls():
    injector = FaultInjector()
    injector.add(parse_rule({"target": "s3", "kind": "error", "error": "InternalError",
                             "operations": ["GetObject"], "calls": [2, 4]}))
    hits = [injector.decide("s3", operation="GetObject", bucket="b", key="k") is not None
            for _ in range(5)]
    assert hits == [False, True, False, True, False]
    assert injector.decide("s3", operation="PutObject", bucket="b", key="k") is None


def test_times_caps_the_number_of_hits():
    injector = FaultInjector()
    injector.add(parse_rule({"target": "lambda", "kind": "throttle", "times": 2}))
    assert [injector.decide("lambda", function="f") is not None for _ in range(4)] == [
        True, True, False, False]


def test_globs_select_buckets_keys_and_functions():
    injector = FaultInjector()
    injector.add(parse_rule({"target": "s3", "kind": "error", "error": "NoSuchKey",
                             "bucket": "data-*", "key": "validation/*"}))
    assert injector.decide("s3", operation="GetObject", bucket="data-1", key="validation/x")
    assert not injector.decide("s3", operation="GetObject", bucket="other", key="validation/x")
    assert not injector.decide("s3", operation="GetObject", bucket="data-1", key="train/x")


@given(seed=st.integers(0, 10_000), rate=st.floats(0.05, 0.95))
def test_rates_are_repeatable_for_a_seed_and_near_the_rate(seed, rate):
    def run() -> list[bool]:
        injector = FaultInjector(seed=seed)
        injector.add(parse_rule({"target": "s3", "kind": "error", "error": "SlowDown",
                                 "rate": rate, "id": "r"}))
        return [injector.decide("s3", operation="GetObject") is not None for _ in range(400)]

    first = run()
    assert first == run()
    assert abs(sum(first) / 400 - rate) < 0.15


def test_report_counts_matches_and_hits():
    injector = FaultInjector()
    injector.add(parse_rule({"target": "s3", "kind": "error", "error": "SlowDown",
                             "calls": [1], "id": "x"}))
    for _ in range(3):
        injector.decide("s3", operation="GetObject")
    [entry] = injector.report()
    assert (entry["matched"], entry["hits"], entry["hit_calls"]) == (3, 1, [1])


@pytest.mark.parametrize("method, path, query, host, expected", [
    ("GET", "/b/k/x.npy", "", "127.0.0.1:4566", ("GetObject", "b", "k/x.npy")),
    ("PUT", "/b/k", "", "localhost", ("PutObject", "b", "k")),
    ("HEAD", "/b/k", "", "localhost", ("HeadObject", "b", "k")),
    ("GET", "/b", "list-type=2", "localhost", ("ListObjectsV2", "b", None)),
    ("GET", "/b/", "", "localhost", ("ListObjects", "b", None)),
    ("PUT", "/b", "", "localhost", ("CreateBucket", "b", None)),
    ("GET", "/", "", "localhost", ("ListBuckets", None, None)),
    ("GET", "/k", "", "bkt.s3.localhost.localstack.cloud:4566", ("GetObject", "bkt", "k")),
    ("POST", "/b/k", "uploads", "localhost", ("CreateMultipartUpload", "b", "k")),
])
def test_s3_calls_are_classified(method, path, query, host, expected):
    call = classify(method, path, query, host)
    assert (call.operation, call.bucket, call.key) == expected


def test_s3_error_documents_carry_code_status_and_key():
    response = error_response("NoSuchKey", classify("GET", "/b/a&b", "", "h"))
    assert response.status == 404
    assert b"<Code>NoSuchKey</Code>" in response.body and b"<Key>a&amp;b</Key>" in response.body
    assert error_response("SlowDown", classify("GET", "/b/k", "", "h")).status == 503


def test_signed_service_reads_the_credential_scope():
    auth = ("AWS4-HMAC-SHA256 Credential=test/20261124/eu-west-2/s3/aws4_request, "
            "SignedHeaders=host, Signature=abc")
    assert signed_service(auth) == "s3"
    assert signed_service("") is None
