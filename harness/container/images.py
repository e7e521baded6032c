"""Builds the stand-in Lambda base image and the example function's image, offline and cached.

    rootfs tarball (debootstrap)  --docker import-->  harness/debian-rootfs:<suite>-<key>
      + base/Dockerfile (awslambdaric, RIE, entrypoint)  ->  harness/lambda-python:3.11-local
      + lambda_fn/Dockerfile (wheels, code, model)       ->  harness/ml-fn:latest

Every image the harness builds carries a label with a hash of its inputs; a build whose image
already exists with the same hash is skipped, and that check needs neither pip nor the network.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.container.engine import INPUTS_LABEL, EngineUnavailable, connect
from harness.container.rootfs import RootfsSpec, rootfs_tarball
from harness.container.wheels import (
    SAM_CLI_VERSION,
    copy_wheels,
    download_wheels,
    runtime_interface_emulator,
)
from harness.errors import UsageError
from harness.templates.images import ImageBuild

BASE_ASSETS = Path(__file__).resolve().parent / "base"
LAMBDA_FN = Path(__file__).resolve().parent.parent.parent / "lambda_fn"
BASE_TAG = "harness/lambda-python:3.11-local"
FUNCTION_TAG = "harness/ml-fn:latest"
PYTHON_LABEL = "harness.python"
"""On a base image: the major.minor version of its Python, for picking wheels."""

Progress = Callable[[str], None]


def base_assets() -> list[Path]:
    """The files of ``base/`` that go into the base image (a stray __pycache__ does not)."""
    return sorted(path for path in BASE_ASSETS.iterdir() if path.is_file())


def _host_version(distribution: str) -> str:
    return importlib.metadata.version(distribution)


def _runtime_pins() -> tuple[str, ...]:
    """The runtime client the harness itself runs, and pip: the base gets the same versions."""
    return tuple(f"{name}=={_host_version(name)}"
                 for name in ("pip", "awslambdaric", "simplejson", "snapshot-restore-py"))


@dataclass(frozen=True)
class BaseImageSpec:
    """The stand-in base image: what goes in, and its name."""

    tag: str = BASE_TAG
    rootfs: RootfsSpec = field(default_factory=RootfsSpec)
    python_version: str = "3.11"
    """The Python of ``rootfs.suite`` (bookworm: 3.11); wheels are fetched for it."""
    requirements: tuple[str, ...] = field(default_factory=_runtime_pins)
    sam_cli_version: str = SAM_CLI_VERSION

    def inputs_hash(self) -> str:
        assets = [(p.name, p.read_bytes().hex()) for p in base_assets()]
        blob = json.dumps([asdict(self), assets], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class FunctionImageSpec:
    """The example function's image, from lambda_fn/Dockerfile."""

    tag: str = FUNCTION_TAG
    base_image: str = BASE_TAG
    python_version: str | None = None
    """Python of the base image; None reads it from the base's label (3.12 for AWS's image)."""
    source: Path = LAMBDA_FN


@dataclass(frozen=True)
class BuildResult:
    tag: str
    image_id: str
    seconds: float
    cached: bool
    """True when an image with the same inputs existed and nothing was built."""


def _existing(client: Any, tag: str, inputs: str) -> str | None:
    """The id of ``tag`` when it was built from the same inputs."""
    import docker.errors

    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return None
    labels = (image.attrs.get("Config") or {}).get("Labels") or {}
    return str(image.id) if labels.get(INPUTS_LABEL) == inputs else None


def build_base_image(client: Any, spec: BaseImageSpec, cache_dir: Path,
                     progress: Progress = lambda _m: None) -> BuildResult:
    """Build the stand-in base image unless an identical one exists."""
    started = time.perf_counter()
    inputs = spec.inputs_hash()
    found = _existing(client, spec.tag, inputs)
    if found:
        return BuildResult(spec.tag, found, time.perf_counter() - started, cached=True)
    progress(f"root filesystem: debootstrap {spec.rootfs.suite} ({', '.join(spec.rootfs.packages)})"
             " - about a minute the first time, cached after")
    rootfs_tag = _import_rootfs(client, spec.rootfs, cache_dir, progress)
    progress(f"wheels for Python {spec.python_version}: {', '.join(spec.requirements)}")
    wheels = download_wheels(spec.requirements, spec.python_version, cache_dir)
    progress(f"Runtime Interface Emulator from aws-sam-cli {spec.sam_cli_version}")
    rie = runtime_interface_emulator(cache_dir, spec.sam_cli_version)
    with tempfile.TemporaryDirectory(prefix="harness-base-") as tmp:
        context = Path(tmp)
        for asset in base_assets():
            shutil.copy2(asset, context / asset.name)
        (context / "lambda-entrypoint.sh").chmod(0o755)
        shutil.copy2(rie, context / "aws-lambda-rie")
        copy_wheels(wheels, context / "wheels")
        (context / "wheels" / "requirements.txt").write_text("\n".join(spec.requirements) + "\n")
        image_id = _build(client, context, spec.tag, {"ROOTFS_IMAGE": rootfs_tag},
                          {INPUTS_LABEL: inputs, PYTHON_LABEL: spec.python_version}, progress)
    return BuildResult(spec.tag, image_id, time.perf_counter() - started, cached=False)


def _import_rootfs(client: Any, rootfs: RootfsSpec, cache_dir: Path, progress: Progress) -> str:
    import docker.errors

    repository, tag = "harness/debian-rootfs", f"{rootfs.suite}-{rootfs.key}"
    try:
        client.images.get(f"{repository}:{tag}")
        return f"{repository}:{tag}"
    except docker.errors.ImageNotFound:
        pass
    tarball = rootfs_tarball(rootfs, cache_dir)
    progress(f"docker import {tarball.name} ({tarball.stat().st_size // (1024 * 1024)} MB)")
    client.api.import_image_from_file(str(tarball), repository=repository, tag=tag)
    return f"{repository}:{tag}"


def _build(client: Any, context: Path, tag: str, buildargs: dict[str, str],
           labels: dict[str, str], progress: Progress, *, dockerfile: str | None = None,
           target: str | None = None, network_mode: str | None = None) -> str:
    """``docker build`` through the engine's API; returns the image id."""
    output: list[str] = []
    stream = client.api.build(path=str(context), tag=tag, buildargs=buildargs, labels=labels,
                              rm=True, forcerm=True, pull=False, decode=True,
                              dockerfile=dockerfile, target=target, network_mode=network_mode)
    for chunk in stream:
        if "error" in chunk:
            tail = "".join(output[-8:]).strip()
            raise UsageError(f"docker build of {tag} failed: {chunk['error'].strip()}\n{tail}")
        text = chunk.get("stream", "")
        output.append(text)
        if text.startswith("Step "):
            progress(f"  {text.strip()[:110]}")
    return str(client.images.get(tag).id)


def requirement_pins(requirements: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements file, by lower-case name."""
    pins = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def _requirement_lines(requirements: Path) -> list[str]:
    return [line.split("#", 1)[0].strip() for line in requirements.read_text().splitlines()
            if line.split("#", 1)[0].strip()]


def _check_model_matches(model_dir: Path, requirements: Path) -> None:
    trained = json.loads((model_dir / "model.json").read_text())["sklearn_version"]
    pinned = requirement_pins(requirements).get("scikit-learn")
    if pinned != trained:
        raise UsageError(
            f"the model was trained with scikit-learn {trained} but {requirements} pins "
            f"{pinned}; the function refuses a mismatched model. Pin scikit-learn=={trained} "
            "there (or install the pinned version here and retrain)")


def _tree_digest(paths: Iterable[tuple[str, Path]]) -> str:
    digest = hashlib.sha256()
    for name, root in paths:
        for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"{name}/{path.relative_to(root) if root.is_dir() else ''}".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def base_python(client: Any, base_image: str) -> str:
    """The Python version a base image runs, from its label (AWS's tags name it instead)."""
    import docker.errors

    try:
        labels = (client.images.get(base_image).attrs.get("Config") or {}).get("Labels") or {}
    except docker.errors.ImageNotFound:
        raise UsageError(f"base image {base_image} is not in the Docker engine: build it with "
                         "`harness image build-base`, or pass --base an image you have") from None
    if labels.get(PYTHON_LABEL):
        return str(labels[PYTHON_LABEL])
    tail = base_image.rsplit(":", 1)[-1]
    return tail if tail.replace(".", "").isdigit() else "3.12"


def build_function_image(client: Any, spec: FunctionImageSpec, model_dir: Path, cache_dir: Path,
                         progress: Progress = lambda _m: None) -> BuildResult:
    """Build the function image from lambda_fn/Dockerfile with a context assembled here."""
    started = time.perf_counter()
    requirements = spec.source / "requirements.txt"
    _check_model_matches(model_dir, requirements)
    python = spec.python_version or base_python(client, spec.base_image)
    base_id = str(client.images.get(spec.base_image).id)
    inputs = hashlib.sha256(json.dumps([
        base_id, python, _tree_digest([("function", spec.source / "function"),
                                       ("model", model_dir), ("requirements", requirements),
                                       ("Dockerfile", spec.source / "Dockerfile")]),
    ]).encode()).hexdigest()[:16]
    found = _existing(client, spec.tag, inputs)
    if found:
        return BuildResult(spec.tag, found, time.perf_counter() - started, cached=True)
    progress(f"wheels of {requirements.name} for Python {python}")
    wheels = download_wheels(_requirement_lines(requirements), python, cache_dir)
    with tempfile.TemporaryDirectory(prefix="harness-fn-") as tmp:
        context = Path(tmp)
        shutil.copy2(spec.source / "Dockerfile", context / "Dockerfile")
        shutil.copy2(requirements, context / "requirements.txt")
        shutil.copytree(spec.source / "function", context / "function",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copytree(model_dir, context / "model")
        copy_wheels(wheels, context / "wheels")
        progress(f"docker build -f lambda_fn/Dockerfile --build-arg BASE_IMAGE={spec.base_image}")
        image_id = _build(client, context, spec.tag, {"BASE_IMAGE": spec.base_image},
                          {INPUTS_LABEL: inputs}, progress)
    return BuildResult(spec.tag, image_id, time.perf_counter() - started, cached=False)


def build_template_image(client: Any, build: ImageBuild,
                         progress: Progress = lambda _m: None) -> str:
    """Build a template's Image function as ``sam build`` does (tagged ``build.tag``); returns
    the ImageUri to deploy: that tag with the image id's first 12 digits added, also a tag of
    the image (``sam deploy`` pushes one of that kind), so a changed image is a changed function
    and the warm environments of the old one retire. RUN steps use the host's network, as the
    function's containers do: an engine without a bridge network (``--bridge=none``) still
    lets a Dockerfile's ``pip install`` reach an index."""
    try:
        image_id = _build(client, build.context, build.tag, dict(build.build_args), {},
                          progress, dockerfile=build.dockerfile, target=build.target,
                          network_mode="host")
    except UsageError as error:
        raise UsageError(f"{build.logical_id}: {error.message}") from None
    repository, _, tag = build.tag.rpartition(":")
    unique = f"{tag}-{image_id.split(':')[-1][:12]}"
    client.images.get(image_id).tag(repository, unique)
    return f"{repository}:{unique}"


class EngineImageBuilder:
    """Builds templates' images on the Docker engine the container executor uses
    (``DOCKER_HOST``), connected at the first build; ``close()`` lets it go."""

    def __init__(self, progress: Progress = lambda _m: None) -> None:
        self._progress = progress
        self._client: Any = None

    def __call__(self, build: ImageBuild) -> str:
        if self._client is None:
            try:
                self._client = connect()
            except EngineUnavailable as error:
                raise UsageError(f"{build.logical_id}: its PackageType Image is built from "
                                 f"{build.dockerfile} with Docker, and {error.message}") from None
        return build_template_image(self._client, build, self._progress)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
