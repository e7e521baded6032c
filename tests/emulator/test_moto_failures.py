"""A 5xx that moto answers without raising is logged with its body: an SDK shows the caller no
more than "(500) Internal Server Error" for a body it cannot parse."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


def test_a_moto_5xx_is_logged_with_its_body(harness_client: Any, monkeypatch: pytest.MonkeyPatch,
                                            caplog: pytest.LogCaptureFixture) -> None:
    from moto.s3.responses import S3Response

    monkeypatch.setattr(S3Response, "all_buckets",
                        lambda self: (500, {}, "<p>moto's own failure page</p>"))
    s3 = harness_client("s3", config=Config(retries={"max_attempts": 1}))
    with caplog.at_level(logging.WARNING, logger="harness.emulator"), \
            pytest.raises(ClientError) as failed:
        s3.list_buckets()
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    lines = [r.getMessage() for r in caplog.records if r.name == "harness.emulator"]
    assert any(line.startswith("moto answered GET / with 500")
               and "moto's own failure page" in line for line in lines), lines


def test_a_moto_success_is_not_logged(harness_client: Any,
                                      caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="harness.emulator"):
        harness_client("s3").list_buckets()
    assert not [r for r in caplog.records if r.getMessage().startswith("moto answered")]
