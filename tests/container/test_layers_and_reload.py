"""Layers at /opt and code used in place, in containers: a layer's module imports and its bin/
tool runs from PATH, as on Lambda; a saved change to a hot-reload directory (code or layer)
reaches the next invocation in a new container."""

from __future__ import annotations

import io
import itertools
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from harness.container.images import PYTHON_LABEL
from tests.container.conftest import ROLE

RELOAD_DEADLINE_S = 60.0  # generous: a reload is a container cold start on a loaded machine
_names = itertools.count()

LAYER_USER = '''
import os, subprocess
import shared, only_first, mine
def handler(event, context):
    try:
        open("/opt/written-by-the-function", "w").close()
        opt_writable = True
    except OSError:
        opt_writable = False
    return {"shared": shared.VALUE, "only_first": only_first.VALUE, "mine": mine.VALUE,
            "tool": subprocess.run(["layer-tool"], capture_output=True, text=True).stdout,
            "ld_library_path": os.environ.get("LD_LIBRARY_PATH", "").split(":"),
            "opt_writable": opt_writable}
'''
RELOADED = '''
import words
def handler(event, context):
    return {{"said": words.WORD + {text!r}}}
'''


def _zip(files: dict[str, str], executable: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3  # Unix, so the mode below is read as Lambda reads it
            info.external_attr = (0o755 if name in executable else 0o644) << 16
            archive.writestr(info, text)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def site_packages(docker_client: Any, base_image: str) -> str:
    """A layer's python/lib/pythonX.Y/site-packages for the base image's Python."""
    labels = docker_client.images.get(base_image).attrs["Config"].get("Labels") or {}
    return f"python/lib/python{labels[PYTHON_LABEL]}/site-packages"


def _layer(aws: Any, content: dict[str, Any]) -> str:
    answer = aws("lambda").publish_layer_version(LayerName=f"layer-{next(_names)}",
                                                 Content=content)
    return str(answer["LayerVersionArn"])


def _invoke(aws: Any, name: str) -> dict[str, Any]:
    answer = aws("lambda").invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, body
    return dict(body)


def test_layers_are_at_opt_in_order_under_the_functions_own_code(aws: Any,
                                                                  site_packages: str) -> None:
    first = _layer(aws, {"ZipFile": _zip({
        "python/shared.py": "VALUE = 'first'\n", "python/only_first.py": "VALUE = 'first'\n",
        "python/mine.py": "VALUE = 'layer'\n",
        "bin/layer-tool": "#!/bin/sh\necho tool of the first layer\n"},
        executable=("bin/layer-tool",))})
    second = _layer(aws, {"ZipFile": _zip({f"{site_packages}/shared.py": "VALUE = 'second'\n"})})
    aws("lambda").create_function(
        FunctionName="layered", Role=ROLE, Runtime="python3.11", Handler="app.handler",
        Code={"ZipFile": _zip({"app.py": LAYER_USER, "mine.py": "VALUE = 'function'\n"})},
        Layers=[first, second])

    body = _invoke(aws, "layered")

    assert (body["shared"], body["only_first"], body["mine"]) == ("second", "first", "function")
    assert body["tool"] == "tool of the first layer\n"
    assert "/opt/lib" in body["ld_library_path"]
    assert body["opt_writable"] is False  # mounted read-only, as Lambda's /opt is


def _said(aws: Any, name: str) -> str:
    return str(_invoke(aws, name)["said"])


def _wait_for(aws: Any, name: str, expected: str) -> None:
    start, seen = time.monotonic(), None
    while time.monotonic() - start < RELOAD_DEADLINE_S:
        seen = _said(aws, name)
        if seen == expected:
            return
    pytest.fail(f"{name} still answers {seen!r}, not {expected!r}, {RELOAD_DEADLINE_S} s on")


@pytest.mark.parametrize("with_zip_layer", [False, True], ids=["one-layer", "merged-layers"])
def test_edits_to_code_and_layer_directories_reach_the_next_container(
        aws: Any, tmp_path: Path, with_zip_layer: bool) -> None:
    code, layer = tmp_path / "code", tmp_path / "layer"
    (layer / "python").mkdir(parents=True)
    (layer / "python" / "words.py").write_text("WORD = 'layer one, '\n")
    code.mkdir()
    (code / "app.py").write_text(RELOADED.format(text="code one"))
    layers = [_layer(aws, {"S3Bucket": "hot-reload", "S3Key": str(layer)})]
    if with_zip_layer:  # under the directory: the two are merged into one /opt
        layers.insert(0, _layer(aws, {"ZipFile": _zip({"python/words.py": "WORD = 'zip'\n"})}))
    name = f"reloaded-{next(_names)}"
    aws("lambda").create_function(
        FunctionName=name, Role=ROLE, Runtime="python3.11", Handler="app.handler",
        Code={"S3Bucket": "hot-reload", "S3Key": str(code)}, Layers=layers)
    assert _said(aws, name) == "layer one, code one"

    (code / "app.py").write_text(RELOADED.format(text="code two"))
    _wait_for(aws, name, "layer one, code two")
    (layer / "python" / "words.py").write_text("WORD = 'layer two, '\n")
    _wait_for(aws, name, "layer two, code two")
