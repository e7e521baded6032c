"""Image functions' build Metadata read as ``sam build`` reads it, and the one-line errors of a
deploy that cannot build: no Docker engine, or an endpoint that is not on this machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.templates.images import ImageBuild, image_builds, set_image_uri

SAM_IMAGE_FUNCTION = {
    "Type": "AWS::Serverless::Function",
    "Properties": {"PackageType": "Image"},
    "Metadata": {"Dockerfile": "Dockerfile", "DockerContext": "./image", "DockerTag": "v2",
                 "DockerBuildArgs": {"PIP_INDEX": "none", "N": 3},
                 "DockerBuildTarget": "runtime"},
}
TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  ImageFn:
    Type: AWS::Serverless::Function
    Properties: {PackageType: Image}
    Metadata: {Dockerfile: Dockerfile, DockerContext: ./image}
"""


def _context(root: Path) -> Path:
    (root / "image").mkdir(parents=True)
    (root / "image" / "Dockerfile").write_text("FROM scratch\n")
    return root


def test_metadata_becomes_a_build_named_as_sam_build_names_it(tmp_path: Path) -> None:
    template = {"Resources": {
        "ImageFn": SAM_IMAGE_FUNCTION,
        "Plain": {"Type": "AWS::Lambda::Function",
                  "Properties": {"PackageType": "Image", "Code": {}},
                  "Metadata": {"Dockerfile": "Dockerfile", "DockerContext": "image"}},
        "ZipFn": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "src/"},
                  "Metadata": {"Dockerfile": "Dockerfile", "DockerContext": "image"}},
    }}
    builds = image_builds(template, _context(tmp_path))
    assert builds == [
        ImageBuild("ImageFn", tmp_path / "image", "Dockerfile", "imagefn:v2",
                   (("N", "3"), ("PIP_INDEX", "none")), "runtime"),
        ImageBuild("Plain", tmp_path / "image", "Dockerfile", "plain:latest"),
    ]
    set_image_uri(template, "ImageFn", "imagefn:v2-abc")
    set_image_uri(template, "Plain", "plain:latest-abc")
    assert template["Resources"]["ImageFn"]["Properties"]["ImageUri"] == "imagefn:v2-abc"
    assert template["Resources"]["Plain"]["Properties"]["Code"] == {"ImageUri": "plain:latest-abc"}


@pytest.mark.parametrize(("metadata", "says"), [
    ({"Dockerfile": "Dockerfile"}, "ImageFn: Metadata needs Dockerfile and DockerContext"),
    ({"Dockerfile": "Dockerfile", "DockerContext": "nowhere"},
     "ImageFn: DockerContext nowhere is not a directory"),
    ({"Dockerfile": "Other", "DockerContext": "image"},
     "ImageFn: Dockerfile Other is not in its DockerContext"),
])
def test_metadata_that_cannot_build_names_the_function(tmp_path: Path, metadata: dict[str, str],
                                                       says: str) -> None:
    template = {"Resources": {"ImageFn": {**SAM_IMAGE_FUNCTION, "Metadata": metadata}}}
    with pytest.raises(UsageError, match=says):
        image_builds(template, _context(tmp_path))


def _deploy(tmp_path: Path, endpoint: str, **env: str) -> subprocess.CompletedProcess[str]:
    (_context(tmp_path) / "template.yaml").write_text(TEMPLATE)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCKER_"))}
    environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", **env)
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "deploy", "--endpoint-url", endpoint,
         "--template", str(tmp_path / "template.yaml")],
        env=environ, text=True, capture_output=True, timeout=120, check=False)


def test_without_a_docker_engine_the_deploy_fails_in_one_line_naming_the_function(
        tmp_path: Path) -> None:
    # Nothing listens at the endpoint either: the build is refused before any call is made.
    done = _deploy(tmp_path, "http://127.0.0.1:9",
                   DOCKER_HOST=f"unix://{tmp_path}/no-docker.sock")
    assert done.returncode == 2
    error = _error_line(done.stderr)
    assert error.startswith("ImageFn: its PackageType Image is built from Dockerfile with "
                            f"Docker, and no Docker engine is reachable at unix://{tmp_path}/"
                            "no-docker.sock")


def test_an_endpoint_elsewhere_needs_the_image_pushed(tmp_path: Path) -> None:
    done = _deploy(tmp_path, "http://emulator.invalid:4566")
    assert done.returncode == 2
    assert _error_line(done.stderr).startswith(
        "ImageFn: a PackageType Image function is built from its Metadata only for an emulator "
        "on this machine")


def _error_line(stderr: str) -> str:
    """The error, which must be the last line and one line, after the deploy's progress."""
    _, said, error = stderr.partition("harness deploy: error: ")
    assert said and error.count("\n") == 1 and error.endswith("\n"), stderr
    return error
