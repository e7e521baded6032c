"""Code used in place (LocalStack's ``hot-reload`` bucket): a saved change reaches the next
invocation without a redeploy, in real runtime processes of the session emulator."""

from __future__ import annotations

import itertools
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.lambda_.hot_reload import tree_fingerprint
from tests.conftest import LOCAL_RUNTIME

_names = itertools.count()
RELOAD_DEADLINE_S = 30.0  # generous: a reload is a cold start, slow on a loaded 2-core machine


def handler_source(text: str, extra_import: str = "") -> str:
    head = f"import {extra_import}\n" if extra_import else ""
    said = f"{extra_import}.WORD + " if extra_import else ""
    return f"{head}def handler(event, context):\n    return {{'said': {said}{text!r}}}\n"


@pytest.fixture
def hot_function(lambda_client: Any, iam_role: Callable[[], str],
                 tmp_path: Path) -> Iterator[tuple[str, Path]]:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(handler_source("v1"))
    name = f"hot-{next(_names)}"
    lambda_client.create_function(
        FunctionName=name, Runtime=LOCAL_RUNTIME, Role=iam_role(), Handler="app.handler",
        Code={"S3Bucket": "hot-reload", "S3Key": str(code)})
    yield name, code
    lambda_client.delete_function(FunctionName=name)


def said(lambda_client: Any, name: str) -> str:
    response = lambda_client.invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return str(body["said"])


def wait_for(lambda_client: Any, name: str, expected: str) -> float:
    """Seconds from now until an invocation answers ``expected``."""
    start = time.monotonic()
    seen = None
    while time.monotonic() - start < RELOAD_DEADLINE_S:
        seen = said(lambda_client, name)
        if seen == expected:
            return time.monotonic() - start
    pytest.fail(f"{name} still answers {seen!r}, not {expected!r}, {RELOAD_DEADLINE_S} s on")


def test_an_edited_handler_answers_at_the_next_invocation(lambda_client: Any,
                                                          hot_function: tuple[str, Path]) -> None:
    name, code = hot_function
    assert said(lambda_client, name) == "v1"
    delays = []
    for n in range(2, 7):
        (code / "app.py").write_text(handler_source(f"v{n}"))
        delays.append(wait_for(lambda_client, name, f"v{n}"))
    print(f"\nhot reload: save to new answer, median {statistics.median(delays) * 1000:.0f} ms "
          f"of {[round(d * 1000) for d in delays]} ms")


def test_a_module_added_to_the_directory_is_importable(lambda_client: Any,
                                                       hot_function: tuple[str, Path]) -> None:
    name, code = hot_function
    assert said(lambda_client, name) == "v1"
    (code / "words.py").write_text("WORD = 'new module, '\n")
    (code / "app.py").write_text(handler_source("v2", extra_import="words"))
    wait_for(lambda_client, name, "new module, v2")


def test_get_function_reports_the_directory_as_localstack_does(
        lambda_client: Any, hot_function: tuple[str, Path]) -> None:
    name, code = hot_function
    got = lambda_client.get_function(FunctionName=name)
    assert got["Configuration"]["CodeSha256"] == "hot-reloading-hash-not-available"
    assert got["Configuration"]["CodeSize"] == 0
    assert got["Code"]["Location"] == f"Code location: {code}"


def test_update_function_code_switches_between_a_directory_and_a_zip(
        lambda_client: Any, create_function: Callable[..., str], tmp_path: Path,
        make_zip: Callable[[dict[str, str]], bytes]) -> None:
    name = create_function({"app.py": handler_source("zipped")})
    assert said(lambda_client, name) == "zipped"
    (tmp_path / "app.py").write_text(handler_source("in place"))

    lambda_client.update_function_code(
        FunctionName=name, S3Bucket="hot-reload", S3Key=str(tmp_path))
    assert said(lambda_client, name) == "in place"

    lambda_client.update_function_code(
        FunctionName=name, ZipFile=make_zip({"app.py": handler_source("zipped again")}))
    assert said(lambda_client, name) == "zipped again"
    got = lambda_client.get_function(FunctionName=name)
    assert got["Configuration"]["CodeSha256"] != "hot-reloading-hash-not-available"


@pytest.mark.parametrize("key", ["relative/dir", "/nowhere/at/all"])
def test_a_key_that_is_no_absolute_directory_is_refused(
        lambda_client: Any, iam_role: Callable[[], str], key: str) -> None:
    with pytest.raises(ClientError) as refused:
        lambda_client.create_function(
            FunctionName=f"hot-bad-{next(_names)}", Runtime=LOCAL_RUNTIME, Role=iam_role(),
            Handler="app.handler", Code={"S3Bucket": "hot-reload", "S3Key": key})
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert key.split("/")[-1] in refused.value.response["Error"]["Message"]


def test_the_fingerprint_ignores_bytecode_and_sees_new_files(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x = 1\n")
    first = tree_fingerprint(str(tmp_path))
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    assert tree_fingerprint(str(tmp_path)) == first
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("")
    assert tree_fingerprint(str(tmp_path)) != first
    os.remove(tmp_path / "pkg" / "mod.py")
    assert tree_fingerprint(str(tmp_path)) == first


def test_an_edited_layer_directory_reaches_the_next_invocation(
        lambda_client: Any, create_function: Callable[..., str], tmp_path: Path) -> None:
    (tmp_path / "python").mkdir()
    (tmp_path / "python" / "words.py").write_text("WORD = 'layer one, '\n")
    layer = lambda_client.publish_layer_version(
        LayerName=f"hot-layer-{next(_names)}",
        Content={"S3Bucket": "hot-reload", "S3Key": str(tmp_path)})
    assert layer["Content"]["CodeSha256"] == "hot-reloading-hash-not-available"
    name = create_function({"app.py": handler_source("zip", extra_import="words")},
                           Layers=[layer["LayerVersionArn"]])
    assert said(lambda_client, name) == "layer one, zip"

    (tmp_path / "python" / "words.py").write_text("WORD = 'layer two, '\n")
    wait_for(lambda_client, name, "layer two, zip")
