"""A malicious pickle in the features bucket never runs unless pickles are explicitly allowed."""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest

BUCKET = "features-bucket"


class _Exploit:
    """Unpickling this calls ``Path(marker).touch()``: arbitrary code, as any pickle can run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path(self.marker).touch, ())


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


@pytest.fixture
def exploit_joblib(marker: Path) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(_Exploit(marker), buffer)
    return buffer.getvalue()


def test_exploit_really_runs_when_loaded_with_joblib(exploit_joblib, marker, tmp_path) -> None:
    # Proves the test below could fail: loading these bytes does create the marker.
    path = tmp_path / "evil.joblib"
    path.write_bytes(exploit_joblib)
    subprocess.run(
        [sys.executable, "-c", "import joblib, sys; joblib.load(sys.argv[1])", str(path)],
        check=True,
        timeout=60,
    )
    assert marker.exists()


@pytest.mark.parametrize("key", ["evil.joblib", "evil.pkl", "evil.pickle"])
def test_malicious_pickle_is_never_executed_by_default(s3, invoke, exploit_joblib, marker, key):
    s3.put_object(Bucket=BUCKET, Key=key, Body=exploit_joblib)
    status, body = invoke({"bucket": BUCKET, "key": key})
    assert (status, body["error"]) == (415, "PickleNotAllowed")
    assert not marker.exists()


def test_pickle_smuggled_into_npy_is_never_executed(s3, invoke, helpers, marker) -> None:
    smuggled = helpers.npy_bytes(np.array([_Exploit(marker)] * 4, dtype=object).reshape(1, 4))
    assert b"touch" in smuggled
    s3.put_object(Bucket=BUCKET, Key="evil.npy", Body=smuggled)
    status, body = invoke({"bucket": BUCKET, "key": "evil.npy"})
    assert (status, body["error"]) == (400, "WrongDtype")
    assert not marker.exists()


@pytest.mark.parametrize("key", ["evil.json", "evil.csv"])
def test_pickle_bytes_under_text_suffixes_are_never_executed(s3, invoke, marker, key) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=pickle.dumps(_Exploit(marker)))
    status, _ = invoke({"bucket": BUCKET, "key": key})
    assert status == 400
    assert not marker.exists()


def test_allowing_pickles_really_runs_their_code(
    s3, load_handler, helpers, exploit_joblib, marker
) -> None:
    # Documents why ALLOW_PICKLE_FEATURES is off by default: turning it on trusts the bucket.
    s3.put_object(Bucket=BUCKET, Key="evil.joblib", Body=exploit_joblib)
    handler = load_handler(ALLOW_PICKLE_FEATURES="1")
    status, body = helpers.call(
        handler, helpers.proxy_event({"bucket": BUCKET, "key": "evil.joblib"})
    )
    assert marker.exists()
    assert (status, body["error"]) == (400, "WrongDtype")
