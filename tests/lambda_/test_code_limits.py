"""Lambda's limits on code and layers, with AWS's errors: the pure checks, then CreateFunction,
UpdateFunctionConfiguration, UpdateFunctionCode and PublishLayerVersion through the emulator
with boto3 (a stack hitting them rolls back: tests/templates/test_layers.py)."""

from __future__ import annotations

import io
import itertools
import zipfile
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from harness.emulator.lambda_routes import upload_refusal
from harness.errors import InvalidParameterError, RequestTooLargeError
from harness.lambda_.code_limits import (
    MAX_DIRECT_REQUEST_BYTES,
    MAX_UNZIPPED_BYTES,
    check_request_size,
    check_unzipped,
    layer_refs,
    unzipped_size,
)
from tests.conftest import LOCAL_RUNTIME, build_zip

_names = itertools.count()
ACCOUNT = "123456789012"
CODE = build_zip({"app.py": "def handler(event, context):\n    return 1\n"})


def zeros_zip(size: int, name: str = "python/blob.bin") -> bytes:
    """A zip of one file of ``size`` zero bytes: small zipped, ``size`` unzipped."""
    buffer = io.BytesIO()
    chunk = bytes(4 << 20)
    with (zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
          archive.open(name, "w", force_zip64=True) as blob):
        for start in range(0, size, len(chunk)):
            blob.write(chunk[:min(len(chunk), size - start)])
    return buffer.getvalue()


# -- the pure checks ---------------------------------------------------------------------------

def test_unzipped_size_reads_the_zips_directory_and_counts_other_bytes_as_they_are() -> None:
    assert unzipped_size(build_zip({"a.py": "x" * 1000, "b/c.txt": "y" * 24})) == 1024
    assert unzipped_size(b"not a zip") == 9 and unzipped_size(b"") == 0


def test_unzipped_limit_for_the_code_alone_and_with_its_layers() -> None:
    check_unzipped(MAX_UNZIPPED_BYTES - 1)
    check_unzipped(100, [MAX_UNZIPPED_BYTES - 200, 100])  # exactly at the limit: allowed
    with pytest.raises(InvalidParameterError, match="^Unzipped size must be smaller than "
                                                    "262144000 bytes$"):
        check_unzipped(MAX_UNZIPPED_BYTES)
    with pytest.raises(InvalidParameterError) as caught:
        check_unzipped(100, [MAX_UNZIPPED_BYTES - 200, 101])
    assert caught.value.message == (
        "Function code combined with layers exceeds the maximum allowed size of 262144000 "
        "bytes. The actual size is 262144001 bytes.")


def test_request_size_limit_names_the_operation() -> None:
    check_request_size("CreateFunction", MAX_DIRECT_REQUEST_BYTES)
    with pytest.raises(RequestTooLargeError, match="^Request must be smaller than 69905067 "
                                                   "bytes for the UpdateFunctionCode operation$"):
        check_request_size("UpdateFunctionCode", MAX_DIRECT_REQUEST_BYTES + 1)


@pytest.mark.parametrize(("method", "path", "operation"), [
    ("POST", "/2015-03-31/functions", "CreateFunction"),
    ("PUT", "/2015-03-31/functions/fn/code", "UpdateFunctionCode"),
    ("POST", "/2018-10-31/layers/deps/versions", "PublishLayerVersion"),
])
def test_each_upload_operation_is_refused_over_the_limit(method: str, path: str,
                                                         operation: str) -> None:
    assert upload_refusal(method, path, str(MAX_DIRECT_REQUEST_BYTES)) is None
    error = upload_refusal(method, path, str(MAX_DIRECT_REQUEST_BYTES + 1))
    assert error is not None and error.status == 413
    assert error.message.endswith(f"for the {operation} operation")
    assert upload_refusal("GET", path, str(MAX_DIRECT_REQUEST_BYTES + 1)) is None


def test_layer_arns_are_parsed_and_more_than_five_refused() -> None:
    arn = f"arn:aws:lambda:eu-west-2:{ACCOUNT}:layer:deps:3"
    [ref] = layer_refs([arn])
    assert (ref.region, ref.account, ref.name, ref.version, ref.layer_arn) == (
        "eu-west-2", ACCOUNT, "deps", 3, arn[:-2])
    with pytest.raises(InvalidParameterError, match=r"^Cannot reference more than 5 layers\.$"):
        layer_refs([arn] * 6)


# -- through the emulator ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def lam(harness_client: Any) -> Any:
    # No client-side retries: each test looks at what one call answers.
    return harness_client("lambda", config=Config(retries={"total_max_attempts": 1}))


def publish(client: Any, content: bytes, name: str | None = None) -> str:
    name = name or f"layer-{next(_names)}"
    return str(client.publish_layer_version(
        LayerName=name, Content={"ZipFile": content})["LayerVersionArn"])


def create(lam: Any, role: str, code: bytes = CODE, **config: Any) -> str:
    name = f"limits-{next(_names)}"
    lam.create_function(FunctionName=name, Runtime=LOCAL_RUNTIME, Role=role,
                        Handler="app.handler", Code={"ZipFile": code}, **config)
    return name


def refused(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return (response["Error"]["Code"], response["Error"]["Message"],
            response["ResponseMetadata"]["HTTPStatusCode"])


def names_of(lam: Any) -> set[str]:
    return {f["FunctionName"] for f in lam.list_functions()["Functions"]}


def test_layer_references_are_refused_in_lambdas_words(lam: Any, iam_role: Any,
                                                       harness_client: Any) -> None:
    role = iam_role()
    small = build_zip({"python/m.py": "X = 1\n"})
    six = [publish(lam, small) for _ in range(6)]
    missing = six[0].rsplit(":", 1)[0] + ":9"
    far = publish(harness_client("lambda", region_name="eu-west-2"), small)
    newer = publish(lam, small, name=six[0].split(":")[-2])
    before = names_of(lam)

    def create_with(layers: list[str]) -> tuple[str, str, int]:
        return refused(lam.create_function, FunctionName=f"limits-{next(_names)}",
                       Runtime=LOCAL_RUNTIME, Role=role, Handler="app.handler",
                       Code={"ZipFile": CODE}, Layers=layers)

    assert create_with(six) == ("InvalidParameterValueException",
                                "Cannot reference more than 5 layers.", 400)
    assert create_with([missing]) == ("InvalidParameterValueException",
                                      f"Layer version {missing} does not exist.", 400)
    assert create_with([far]) == (
        "InvalidParameterValueException", "Layers are not in the same region as the function. "
        "Layers are expected to be in region us-east-1.", 400)
    assert create_with([six[0], newer]) == (
        "InvalidParameterValueException", "Two different versions of the same layer are not "
        f"allowed to be referenced in the same function. {six[0]} and {newer} are versions "
        "of the same layer.", 400)
    code, message, status = create_with([six[0].rsplit(":", 1)[0]])  # no version
    assert (code, status) == ("ValidationException", 400) and "at 'layers'" in message
    assert names_of(lam) == before  # nothing was made

    name = create(lam, role, Layers=six[:5])
    assert [layer["Arn"] for layer in lam.get_function_configuration(
        FunctionName=name)["Layers"]] == six[:5]
    assert refused(lam.update_function_configuration, FunctionName=name,
                   Layers=six)[:2] == ("InvalidParameterValueException",
                                       "Cannot reference more than 5 layers.")
    lam.delete_function(FunctionName=name)


def test_code_and_layers_over_250_mb_unzipped_are_refused(lam: Any, iam_role: Any) -> None:
    role = iam_role()
    big = zeros_zip(140_000_000)  # two of them are 280,000,000 bytes unzipped
    first, second = publish(lam, big), publish(lam, big)
    expected = ("InvalidParameterValueException",
                "Function code combined with layers exceeds the maximum allowed size of "
                f"262144000 bytes. The actual size is {280_000_000 + unzipped_size(CODE)} "
                "bytes.", 400)
    before = names_of(lam)
    assert refused(lam.create_function, FunctionName=f"limits-{next(_names)}",
                   Runtime=LOCAL_RUNTIME, Role=role, Handler="app.handler",
                   Code={"ZipFile": CODE}, Layers=[first, second]) == expected
    assert names_of(lam) == before

    name = create(lam, role, Layers=[first])
    assert refused(lam.update_function_configuration, FunctionName=name,
                   Layers=[first, second]) == expected
    # Refused before anything changed.
    config = lam.get_function_configuration(FunctionName=name)
    assert [layer["Arn"] for layer in config["Layers"]] == [first]

    bigger_code = zeros_zip(130_000_000, name="data.bin")
    code, message, _ = refused(lam.update_function_code, FunctionName=name,
                               ZipFile=bigger_code)
    assert code == "InvalidParameterValueException"
    assert message.endswith(f"The actual size is {270_000_000} bytes.")
    assert lam.get_function_configuration(FunctionName=name)["CodeSha256"] == (
        config["CodeSha256"])
    lam.delete_function(FunctionName=name)


def test_a_layer_over_250_mb_unzipped_is_not_published(lam: Any) -> None:
    name = f"huge-{next(_names)}"
    assert refused(lam.publish_layer_version, LayerName=name,
                   Content={"ZipFile": zeros_zip(MAX_UNZIPPED_BYTES)}) == (
        "InvalidParameterValueException", "Unzipped size must be smaller than 262144000 bytes",
        400)
    assert lam.list_layer_versions(LayerName=name)["LayerVersions"] == []


def test_a_package_over_50_mb_in_the_request_is_too_large(lam: Any, iam_role: Any) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("blob.bin", bytes(52_500_000))  # stored: 52.5 MB zipped
    name = f"limits-{next(_names)}"
    assert refused(lam.create_function, FunctionName=name, Runtime=LOCAL_RUNTIME,
                   Role=iam_role(), Handler="app.handler",
                   Code={"ZipFile": buffer.getvalue()}) == (
        "RequestEntityTooLargeException",
        "Request must be smaller than 69905067 bytes for the CreateFunction operation", 413)
    assert name not in names_of(lam)
