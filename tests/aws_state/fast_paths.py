"""What the fast paths' conformance tests share (s3_objects, sqs_calls): an emulator whose
requests all go through moto's app, and plain boto3 clients that never retry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from harness.config import EmulatorConfig
from harness.emulator import Emulator


@contextmanager
def moto_path(state_dir: Path, *, s3_fast_reads: bool = True,
              sqs_fast_calls: bool = True) -> Iterator[Emulator]:
    """An emulator with the fast paths set False here off: it shares the process's moto state
    with the session's emulator, which has them all on."""
    config = EmulatorConfig(port=0, state_dir=state_dir, s3_fast_reads=s3_fast_reads,
                            sqs_fast_calls=sqs_fast_calls)
    with Emulator(config) as emulator:
        yield emulator


def client(service: str, url: str, key: str = "test", secret: str = "test") -> Any:
    """A boto3 client of ``url`` that never retries (an error is seen as it came)."""
    return boto3.session.Session().client(
        service, region_name="us-east-1", endpoint_url=url, aws_access_key_id=key,
        aws_secret_access_key=secret, config=Config(retries={"total_max_attempts": 1}))
