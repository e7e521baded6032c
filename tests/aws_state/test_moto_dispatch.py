"""moto's service list, read once (harness.aws_state.moto_dispatch), is the one moto lists."""

from __future__ import annotations

import os

import moto
from moto import backends

from harness.aws_state import moto_dispatch


def test_the_service_list_read_once_is_the_package_listing() -> None:
    moto_dispatch.install()
    root = os.path.dirname(moto.__file__)
    listed = sorted(name for name in os.listdir(root)
                    if os.path.isdir(os.path.join(root, name)) and not name.startswith("__"))
    assert list(backends.list_of_moto_modules()) == listed
    assert "sqs" in listed and "s3" in listed
