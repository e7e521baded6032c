"""``harness demo``: the main job — the seed's loop end to end on the embedded emulator."""

from __future__ import annotations

import argparse
import json
import sys

from harness.config import EmulatorConfig
from harness.demo import run_loop
from harness.deploy import StackSpec, Target, deploy
from harness.emulator import Emulator
from harness.features import FORMATS
from harness.package import build_package


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "demo", help="run the whole loop once, offline: upload, list, POST, predict",
        description="Start the embedded emulator, deploy the example stack, upload held-out "
                    "test features to S3, list the bucket, POST {bucket, key} to /predict, print "
                    "the predictions, their accuracy and the function's START/END/REPORT lines, "
                    "then stop everything.")
    parser.add_argument("--format", choices=FORMATS, default="npy",
                        help="how the features are uploaded (default npy; joblib is how the "
                             "seed does it and turns on the function's pickle opt-in)")
    parser.add_argument("--image-uri", default=None,
                        help="run the function from this container image (PackageType=Image, "
                             "e.g. harness/ml-fn:latest from `harness image build`) instead of "
                             "its zip package; needs a Docker engine")
    parser.add_argument("--port", type=int, default=0,
                        help="emulator port (default 0: a free one)")
    parser.set_defaults(run=run)


def _say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    config = EmulatorConfig.from_env().with_overrides(port=args.port, host="127.0.0.1")
    _say("building the function package (training the model if needed)")
    package = build_package(config.state_dir / "build")
    features = np.load(package.holdout_features, allow_pickle=False)
    labels = np.load(package.holdout_labels, allow_pickle=False).tolist()
    with Emulator(config) as emulator:
        _say(f"embedded emulator on {emulator.url}")
        spec = StackSpec(allow_pickle_features=args.format == "joblib", image_uri=args.image_uri)
        stack = deploy(Target(endpoint_url=emulator.url), spec, package,
                       progress=lambda msg: _say(f"deploy {msg}"))
        result = run_loop(stack, features, labels, args.format, say=_say)
    print(f"predictions ({len(result.predictions)} rows, HTTP {result.status}, "
          f"{result.latency_ms:.0f} ms incl. cold start):")
    print("  " + json.dumps(result.predictions))
    if result.accuracy is not None:
        correct = round(result.accuracy * len(result.predictions))
        print(f"accuracy against held-out labels: {result.accuracy:.3f} "
              f"({correct}/{len(result.predictions)})")
    print("function log (CloudWatch Logs /aws/lambda/" + stack.function_name + "):")
    for line in result.log_lines:
        if line.startswith(("START", "END", "REPORT")):
            print("  " + line.replace("\t", "  "))
    return 0

