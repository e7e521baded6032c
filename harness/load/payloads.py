"""The payload mix of a load run, drawn from hypothesis strategies before the run, with a seed.

Valid requests point at feature files of various sizes and formats, uploaded to S3 before the
run; invalid ones are requests the function must refuse with a 4xx (malformed bodies from the
scenario runner's strategies, a bucket it may not read, a key that does not exist, a file with
the wrong number of features, an unsupported format). The same seed (and harness version)
gives the same requests and files, byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.load.spec import PayloadMix

INVALID_KINDS = ("body", "bucket_not_allowed", "missing_key", "wrong_features",
                 "unsupported_format")
MAX_BODY = 4096  # malformed bodies stay small: this is a load mix, not a payload-size test
# Kinds whose request makes the function read S3 (a GET, answered or 404).
_READS_S3 = {"valid": 1, "missing_key": 1, "wrong_features": 1}


@dataclass(frozen=True)
class FeatureFile:
    key: str
    body: bytes
    fmt: str
    rows: int


@dataclass(frozen=True)
class PlannedRequest:
    """One request body of the mix, what it should get back, and whether it reads S3."""

    kind: str
    body: str
    expect: str
    """The status class the function must answer with: ``2xx`` or ``4xx``."""
    s3_reads: int

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "body": self.body, "expect": self.expect,
                "s3_reads": self.s3_reads}


@dataclass(frozen=True)
class PayloadSet:
    requests: tuple[PlannedRequest, ...]
    files: tuple[FeatureFile, ...]
    seed: int

    @property
    def fingerprint(self) -> str:
        """sha256 over every request body and file: equal seeds give equal fingerprints."""
        digest = hashlib.sha256()
        for request in self.requests:
            digest.update(request.body.encode() + b"\0" + request.expect.encode() + b"\0")
        for item in self.files:
            digest.update(item.key.encode() + b"\0" + item.body + b"\0")
        return digest.hexdigest()

    def shares(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for request in self.requests:
            counts[request.kind] = counts.get(request.kind, 0) + 1
        return counts


# -- drawing -------------------------------------------------------------------------------------
def draw_examples(strategy: Any, count: int, seed: int) -> list[Any]:
    """``count`` examples of ``strategy``, the same ones for the same seed (no database)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as seeded

    found: list[Any] = []

    @seeded(seed)
    @settings(max_examples=count, phases=[Phase.generate], database=None, deadline=None,
              suppress_health_check=list(HealthCheck), derandomize=False, print_blob=False)
    @given(strategy)
    def collect(value: Any) -> None:
        if len(found) < count:
            found.append(value)

    collect()
    if not found:
        raise RuntimeError("hypothesis drew no examples")
    # A small search space can run out before ``count``: cycle what was found.
    return [found[i % len(found)] for i in range(count)]


def matrices(rows: tuple[int, int], columns: int) -> Any:
    """Finite float64 feature matrices with a row count in ``rows``."""
    import numpy as np
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    values = st.floats(min_value=-50.0, max_value=50.0, allow_nan=False, allow_infinity=False)
    return st.integers(rows[0], rows[1]).flatmap(
        lambda n: arrays(np.float64, (n, columns), elements=values))


def valid_drafts(mix: PayloadMix, n_features: int) -> Any:
    from hypothesis import strategies as st

    return st.tuples(st.just("valid"), matrices(mix.rows, n_features), st.sampled_from(mix.formats))


def invalid_drafts(mix: PayloadMix, n_features: int, bucket: str) -> Any:
    """Requests the function must refuse. Malformed bodies come from the scenario runner's
    property strategies (`harness.scenario.strategies.body_examples`), kept small and UTF-8;
    the others need files in S3 and are drawn here."""
    from hypothesis import strategies as st

    from harness.scenario.strategies import body_examples

    wrong_width = st.sampled_from([1, n_features + 1, n_features + 3])
    bodies = body_examples(bucket).filter(lambda e: len(e.body) <= MAX_BODY and _utf8(e.body))
    return st.one_of(
        st.tuples(st.just("body"), bodies, st.just("")),
        st.tuples(st.sampled_from(("bucket_not_allowed", "missing_key")), st.none(),
                  st.sampled_from(mix.formats)),
        st.tuples(st.just("wrong_features"),
                  wrong_width.flatmap(lambda width: matrices(mix.rows, width)),
                  st.sampled_from(mix.formats)),
        st.tuples(st.just("unsupported_format"), st.none(), st.sampled_from(["txt", "parquet"])),
    )


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def draw_payloads(mix: PayloadMix, seed: int, bucket: str, n_features: int,
                  prefix: str = "load") -> PayloadSet:
    """The whole mix, drawn in a fresh interpreter.

    Hypothesis mixes literals from the project's modules that happen to be loaded into what it
    draws (its "local constants"), so the same seed could draw differently in a process that
    has loaded more of the harness. A fresh ``python -m harness.load.payloads`` always loads
    the same modules: same seed and same harness version, same payloads.
    """
    import subprocess
    import sys
    from dataclasses import asdict

    from harness.errors import HarnessError

    args = json.dumps({"mix": asdict(mix), "seed": seed, "bucket": bucket,
                       "n_features": n_features, "prefix": prefix})
    done = subprocess.run([sys.executable, "-m", "harness.load.payloads", args],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise HarnessError(f"drawing the payload mix failed: {done.stderr.strip()[-2000:]}")
    return payloads_from_json(done.stdout)


def payloads_to_json(payloads: PayloadSet) -> str:
    return json.dumps({
        "seed": payloads.seed,
        "requests": [r.to_dict() for r in payloads.requests],
        "files": [{"key": f.key, "body": base64.b64encode(f.body).decode(), "fmt": f.fmt,
                   "rows": f.rows} for f in payloads.files]})


def payloads_from_json(text: str) -> PayloadSet:
    data = json.loads(text)
    return PayloadSet(
        tuple(PlannedRequest(r["kind"], r["body"], r["expect"], int(r["s3_reads"]))
              for r in data["requests"]),
        tuple(FeatureFile(f["key"], base64.b64decode(f["body"]), f["fmt"], int(f["rows"]))
              for f in data["files"]),
        int(data["seed"]))


def draw_here(mix: PayloadMix, seed: int, bucket: str, n_features: int,
              prefix: str = "load") -> PayloadSet:
    """The mix drawn in this process: ``mix.distinct`` requests, ``round(distinct x
    invalid_share)`` of them invalid."""
    n_invalid = round(mix.distinct * mix.invalid_share)
    drafts = draw_examples(valid_drafts(mix, n_features), mix.distinct - n_invalid, seed) \
        if mix.distinct > n_invalid else []
    if n_invalid:
        drafts += draw_examples(invalid_drafts(mix, n_features, bucket), n_invalid, seed + 1)
    random.Random(seed).shuffle(drafts)  # invalid requests spread through the cycle
    requests: list[PlannedRequest] = []
    files: list[FeatureFile] = []
    for index, (kind, drawn, fmt) in enumerate(drafts):
        if kind == "body":
            requests.append(PlannedRequest(f"body: {drawn.label}", drawn.body.decode("utf-8"),
                                           "4xx", 0))
            continue
        key = f"{prefix}/{seed}/{index:05d}-{kind}.{fmt}"
        requests.append(_request(kind, key, bucket, fmt, drawn, files))
    return PayloadSet(tuple(requests), tuple(files), seed)


def _request(kind: str, key: str, bucket: str, fmt: str, matrix: Any,
             files: list[FeatureFile]) -> PlannedRequest:
    from harness.features import encode_features

    if matrix is not None:
        files.append(FeatureFile(key, encode_features(matrix, fmt), fmt, len(matrix)))
    bodies: dict[str, Callable[[], str]] = {
        "valid": lambda: json.dumps({"bucket": bucket, "key": key}),
        "wrong_features": lambda: json.dumps({"bucket": bucket, "key": key}),
        "missing_key": lambda: json.dumps({"bucket": bucket, "key": key + ".absent"}),
        "bucket_not_allowed": lambda: json.dumps({"bucket": "not-" + bucket, "key": key}),
        "unsupported_format": lambda: json.dumps({"bucket": bucket, "key": key}),
    }
    return PlannedRequest(kind, bodies[kind](), "2xx" if kind == "valid" else "4xx",
                          _READS_S3.get(kind, 0))


def upload(payloads: PayloadSet, s3: Any, bucket: str) -> int:
    """PUT every feature file; returns how many PUTs were made."""
    for item in payloads.files:
        s3.put_object(Bucket=bucket, Key=item.key, Body=item.body)
    return len(payloads.files)


def n_features_of(model_dir: Any) -> int:
    """How many features the example model takes (its model.json says)."""
    from pathlib import Path

    meta = json.loads((Path(model_dir) / "model.json").read_text())
    return int(meta["n_features"])


def _main(argv: list[str]) -> int:
    args = json.loads(argv[0])
    mix = args["mix"]
    mix = PayloadMix(distinct=mix["distinct"], rows=tuple(mix["rows"]),  # type: ignore[arg-type]
                     formats=tuple(mix["formats"]), invalid_share=mix["invalid_share"])
    print(payloads_to_json(draw_here(mix, args["seed"], args["bucket"], args["n_features"],
                                     args["prefix"])))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_main(sys.argv[1:]))
