"""The payload mix: drawn from hypothesis with a seed, repeatable, with an exact invalid share."""

from __future__ import annotations

import io
import json

import numpy as np

from harness.load.payloads import INVALID_KINDS, draw_here, draw_payloads
from harness.load.spec import PayloadMix

MIX = PayloadMix(distinct=40, rows=(1, 30), formats=("npy", "csv", "json"), invalid_share=0.25)


def test_the_same_seed_draws_the_same_requests_and_files() -> None:
    # Drawn in a fresh interpreter each time: what this test process has imported (hypothesis
    # mixes literals of loaded project modules into its draws) makes no difference.
    first = draw_payloads(MIX, 11, "bucket-a", 4)
    import harness.cli.main  # noqa: F401 - more project modules loaded here, none there
    again = draw_payloads(MIX, 11, "bucket-a", 4)
    other = draw_payloads(MIX, 12, "bucket-a", 4)
    assert first.fingerprint == again.fingerprint
    assert [r.body for r in first.requests] == [r.body for r in again.requests]
    assert [f.body for f in first.files] == [f.body for f in again.files]
    assert first.fingerprint != other.fingerprint


def test_the_invalid_share_is_exact_and_invalid_requests_expect_4xx() -> None:
    payloads = draw_here(MIX, 3, "bucket-a", 4)
    invalid = [r for r in payloads.requests if r.kind != "valid"]
    assert len(payloads.requests) == 40 and len(invalid) == 10
    assert {r.kind.split(":")[0] for r in invalid} <= set(INVALID_KINDS)
    assert all(r.expect == "4xx" for r in invalid)
    assert all(r.expect == "2xx" for r in payloads.requests if r.kind == "valid")


def test_valid_requests_point_at_uploaded_files_of_the_right_shape() -> None:
    payloads = draw_here(MIX, 5, "bucket-a", 4)
    files = {f.key: f for f in payloads.files}
    for request in payloads.requests:
        if request.kind != "valid":
            continue
        body = json.loads(request.body)
        item = files[body["key"]]
        assert body["bucket"] == "bucket-a" and 1 <= item.rows <= 30
        assert item.fmt in MIX.formats and request.s3_reads == 1
        if item.fmt == "npy":
            assert np.load(io.BytesIO(item.body)).shape == (item.rows, 4)


def test_no_invalid_share_means_only_valid_requests() -> None:
    payloads = draw_here(PayloadMix(distinct=5), 0, "b-b-b", 4)
    assert [r.kind for r in payloads.requests] == ["valid"] * 5
