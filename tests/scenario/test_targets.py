"""Target selection: embedded, a running endpoint, and the targets still to come."""

from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.targets import TARGETS, check_target, open_target


def test_embedded_is_supported():
    assert check_target("embedded") == "embedded"


@pytest.mark.parametrize("kind", ["localstack", "compose", "aws"])
def test_the_fixtures_refuse_the_other_targets_clearly(kind):
    with pytest.raises(UsageError, match=f"target '{kind}' is not supported yet"):
        check_target(kind)


@pytest.mark.parametrize("kind", TARGETS)
def test_harness_run_takes_every_target(kind):
    assert check_target(kind, TARGETS) == kind


def test_an_unknown_target_lists_the_known_ones():
    with pytest.raises(UsageError, match="use one of embedded, localstack, compose, aws"):
        check_target("gcp", TARGETS)


def test_aws_has_no_endpoint():
    with open_target("aws", supported=TARGETS) as endpoint:
        assert endpoint.endpoint_url is None and endpoint.s3_url is None


def test_compose_checks_both_health_endpoints_before_anything():
    opened = open_target("compose", "http://127.0.0.1:1", supported=TARGETS)
    with pytest.raises(UsageError, match=r"harness service is not up: nothing answers "
                                         r"http://127.0.0.1:1/_harness/health .*docker compose"):
        opened.__enter__()


def test_a_given_endpoint_is_used_as_is():
    with open_target("embedded", "http://127.0.0.1:4566/") as endpoint:
        assert endpoint.url == "http://127.0.0.1:4566" and endpoint.emulator is None
