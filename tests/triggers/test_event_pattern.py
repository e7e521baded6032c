"""EventBridge's pattern matcher and PutRule's checks, as pure functions (no emulator)."""

from __future__ import annotations

import json

import pytest

from harness.triggers.event_errors import InvalidEventPatternError
from harness.triggers.event_pattern import matches, parse_pattern

EVENT = {
    "version": "0", "id": "e-1", "detail-type": "Order Placed", "source": "shop.orders",
    "account": "123456789012", "time": "2026-12-04T10:15:00Z", "region": "eu-west-1",
    "resources": ["arn:aws:s3:::bucket-a", "arn:aws:s3:::bucket-b"],
    "detail": {
        "order": 42, "amount": 150.5, "state": "PAID", "coupon": None, "express": True,
        "customer": {"email": "Ann@Example.com", "ip": "10.1.2.3"},
        "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}],
        "tags": ["gift", "eu"], "path": "in/2026/report.csv",
    },
}


def match(pattern: dict) -> bool:
    """Through the same door as PutRule: the pattern is checked first."""
    return matches(parse_pattern(json.dumps(pattern)), EVENT)


@pytest.mark.parametrize("pattern", [
    {"source": ["shop.orders"]},
    {"source": ["other", "shop.orders"], "detail-type": ["Order Placed"]},
    {"detail": {"order": [42]}},
    {"detail": {"order": [42.0]}},  # numbers compare by value
    {"detail": {"coupon": [None]}},
    {"detail": {"express": [True]}},
    {"resources": ["arn:aws:s3:::bucket-b"]},  # any element of an array
    {"detail": {"items": {"sku": ["B-7"]}}},  # a field inside an array of objects
    {"detail.customer.email": [{"suffix": "@Example.com"}]},  # dotted names join as on AWS
    {"detail": {"state": [{"prefix": "PA"}]}},
    {"detail": {"state": [{"prefix": {"equals-ignore-case": "pa"}}]}},
    {"detail": {"path": [{"suffix": ".csv"}]}},
    {"detail": {"customer": {"email": [{"suffix": {"equals-ignore-case": "@EXAMPLE.COM"}}]}}},
    {"detail": {"customer": {"email": [{"equals-ignore-case": "ann@example.com"}]}}},
    {"detail": {"state": [{"anything-but": "FAILED"}]}},
    {"detail": {"state": [{"anything-but": ["FAILED", "NEW"]}]}},
    {"detail": {"state": [{"anything-but": {"prefix": "FAIL"}}]}},
    {"detail": {"state": [{"anything-but": {"suffix": "ED"}}]}},
    {"detail": {"state": [{"anything-but": {"equals-ignore-case": ["failed", "new"]}}]}},
    {"detail": {"path": [{"anything-but": {"wildcard": "out/*"}}]}},
    {"detail": {"coupon": [{"anything-but": "X"}]}},  # null is "anything but X"
    {"detail": {"amount": [{"numeric": [">", 100, "<=", 150.5]}]}},
    {"detail": {"order": [{"numeric": ["=", 42]}]}},
    {"detail": {"customer": {"phone": [{"exists": False}]}}},
    {"detail": {"coupon": [{"exists": True}]}},  # a null field exists
    {"detail": {"path": [{"wildcard": "in/*/report.csv"}]}},
    {"detail": {"customer": {"ip": [{"cidr": "10.0.0.0/8"}]}}},
    {"$or": [{"source": ["nope"]}, {"detail": {"order": [42]}}]},
    {"detail": {"$or": [{"state": ["NEW"]}, {"tags": ["gift"]}]}},
])
def test_pattern_matches(pattern: dict) -> None:
    assert match(pattern)


@pytest.mark.parametrize("pattern", [
    {"source": ["shop"]},
    {"detail": {"order": ["42"]}},  # a string is not a number
    {"detail": {"express": [1]}},  # nor is true
    {"detail": {"items": {"sku": ["C-9"]}}},
    {"detail": {"state": [{"prefix": "pa"}]}},  # prefix is case-sensitive
    {"detail": {"state": [{"anything-but": ["PAID"]}]}},
    {"detail": {"missing": [{"anything-but": "X"}]}},  # anything-but needs the field
    {"detail": {"amount": [{"numeric": [">", 200]}]}},
    {"detail": {"state": [{"numeric": [">", 0]}]}},  # numeric needs a number
    {"detail": {"customer": {"email": [{"exists": False}]}}},
    {"detail": {"customer": [{"exists": True}]}},  # exists works on leaves only
    {"detail": {"path": [{"wildcard": "out/*"}]}},
    {"detail": {"customer": {"ip": [{"cidr": "192.168.0.0/16"}]}}},
    {"$or": [{"source": ["nope"]}, {"detail": {"order": [7]}}]},
    {"detail": {"customer.email": {"email": ["Ann@Example.com"]}}},
])
def test_pattern_does_not_match(pattern: dict) -> None:
    assert not match(pattern)


@pytest.mark.parametrize(("pattern", "reason"), [
    ({"source": "shop"}, '"source" must be an object or an array'),
    ({"source": []}, "Empty arrays are not allowed"),
    ({"source": [{"EXISTS": True}]}, "Unrecognized match type EXISTS"),
    ({"source": [{"prefix": 1}]}, "prefix match pattern must be a string"),
    ({"source": [{"prefix": "a", "suffix": "b"}]}, "Only one key allowed in match expression"),
    ({"n": [{"numeric": 5}]}, "Value of numeric must be an array."),
    ({"n": [{"numeric": [">", 0, ">", 5]}]}, "Bad numeric range operator: >"),
    ({"n": [{"numeric": ["<", "x"]}]}, "Value of < must be numeric"),
    ({"n": [{"numeric": [">", 5, "<", 1]}]}, "Bottom must be less than top"),
    ({"s": [{"anything-but": None}]},
     "Value of anything-but must be an array or single string/number value."),
    ({"s": [{"anything-but": ["a", None]}]},
     "Inside anything but list, start|null|boolean is not supported."),
    ({"s": [{"anything-but": {"prefix": ""}}]}, "Null prefix/suffix not allowed"),
    ({"s": [{"anything-but": {"numeric": [">", 1]}}]},
     "Unsupported anything-but pattern: numeric"),
    ({"s": [{"wildcard": "a**b"}]}, "Consecutive wildcard characters at pos 2"),
    ({"s": [{"exists": "yes"}]}, "exists match pattern must be either true or false."),
    ({"ip": [{"cidr": "10.0.0.0"}]}, "Malformed CIDR, one '/' required"),
    ({"ip": [{"cidr": "10.x.0.0/8"}]}, "Nonstandard IP address: 10.x.0.0"),
])
def test_bad_pattern_is_refused_with_aws_reason(pattern: dict, reason: str) -> None:
    with pytest.raises(InvalidEventPatternError) as refused:
        parse_pattern(json.dumps(pattern))
    assert refused.value.message == f"Event pattern is not valid. Reason: {reason}"
    assert refused.value.code == "InvalidEventPatternException"


def test_pattern_that_is_not_a_json_object_is_refused() -> None:
    for text in ("not json", "[1, 2]"):
        with pytest.raises(InvalidEventPatternError):
            parse_pattern(text)


def test_wildcard_escapes_and_empty_runs() -> None:
    event = {"key": "a*b\\c"}
    assert matches({"key": [{"wildcard": "a\\*b\\\\c"}]}, event)
    assert matches({"key": [{"wildcard": "a*"}]}, event)
    assert matches({"key": [{"wildcard": "a*b*c"}]}, {"key": "abc"})  # a star may match nothing
    assert not matches({"key": [{"wildcard": "a\\*"}]}, {"key": "ab"})
