"""``harness image``: build the offline stand-in base image and the function image."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harness.container.images import BASE_TAG, FUNCTION_TAG


def default_cache_dir() -> Path:
    """``$HARNESS_CACHE_DIR``, else ``$XDG_CACHE_HOME/harness``, else ``~/.cache/harness``."""
    if os.environ.get("HARNESS_CACHE_DIR"):
        return Path(os.environ["HARNESS_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "harness"


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "image", help="build the container images (stand-in Lambda base, function)",
        description="Build images for the container executor on a Docker engine that cannot "
                    "pull from a registry. Every build is skipped when an image with the same "
                    "inputs exists; downloads and the root filesystem are cached.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    base = actions.add_parser(
        "build-base", help=f"build {BASE_TAG}: debootstrap + awslambdaric + RIE",
        description="Build a Lambda-compatible Python base image from Debian's packages "
                    "(debootstrap, needs root the first time), awslambdaric from a wheel and "
                    "AWS's Runtime Interface Emulator from the aws-sam-cli wheel.")
    function = actions.add_parser(
        "build-function", help=f"build {FUNCTION_TAG} from lambda_fn/Dockerfile",
        description="Build the example function's image: lambda_fn/Dockerfile FROM the base, "
                    "with wheels fetched here so the build needs no network.")
    both = actions.add_parser("build", help="build-base, then build-function")
    for sub in (base, function, both):
        sub.add_argument("--cache-dir", type=Path, default=None,
                         help="where downloads and the root filesystem are cached "
                              "(default $HARNESS_CACHE_DIR or ~/.cache/harness)")
    for sub in (function, both):
        sub.add_argument("--base", default=BASE_TAG,
                         help=f"base image (default {BASE_TAG}; "
                              "public.ecr.aws/lambda/python:3.12 where it can be pulled)")
        sub.add_argument("--tag", default=FUNCTION_TAG, help=f"image name (default {FUNCTION_TAG})")
    base.set_defaults(run=run, steps=("base",))
    function.set_defaults(run=run, steps=("function",))
    both.set_defaults(run=run, steps=("base", "function"))


def _say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from harness.container.engine import connect
    from harness.container.images import (
        BaseImageSpec,
        FunctionImageSpec,
        build_base_image,
        build_function_image,
    )

    cache_dir = args.cache_dir or default_cache_dir()
    client = connect()
    try:
        if "base" in args.steps:
            result = build_base_image(client, BaseImageSpec(), cache_dir, progress=_say)
            _report(result.tag, result.image_id, result.seconds, result.cached)
        if "function" in args.steps:
            from harness.deploy import default_build_dir
            from harness.package import ensure_model

            model_dir = ensure_model(default_build_dir())
            spec = FunctionImageSpec(tag=args.tag, base_image=args.base)
            result = build_function_image(client, spec, model_dir, cache_dir, progress=_say)
            _report(result.tag, result.image_id, result.seconds, result.cached)
    finally:
        client.close()
    return 0


def _report(tag: str, image_id: str, seconds: float, cached: bool) -> None:
    how = "up to date (same inputs), nothing built" if cached else "built"
    print(f"{tag}  {image_id[7:19]}  {how} in {seconds:.1f} s", flush=True)
