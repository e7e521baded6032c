"""Fixtures of the load tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def load_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One state dir for every load run of the session: the model is trained once."""
    env = dict(os.environ)
    env.update(HARNESS_STATE_DIR=str(tmp_path_factory.mktemp("load-state")),
               AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", PYTHONUNBUFFERED="1")
    env.pop("AWS_PROFILE", None)
    return env
