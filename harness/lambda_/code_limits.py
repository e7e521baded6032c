"""Lambda's limits on a function's code and layers, with AWS's own errors (pure functions).

https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html : five layers a
function; 250 MB (262,144,000 bytes) unzipped for the code and all its layers; 50 MB zipped for
a package sent in the request itself (larger ones go through S3). The messages are AWS's words.
harness.aws_state.lambda_layers applies these wherever moto makes or changes a function or a
layer version; harness.emulator.lambda_routes refuses an oversized upload before moto reads it.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.errors import AwsError, InvalidParameterError, RequestTooLargeError

MAX_LAYERS = 5
MAX_UNZIPPED_BYTES = 262_144_000
MAX_DIRECT_REQUEST_BYTES = 69_905_067
"""A 50 MB zip, base64-encoded in the JSON request: AWS's limit on the request's size."""
_ARN_PATTERN = (r"(arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:"
                r"\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|"
                r"(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)")
_LAYER_ARN = re.compile(r"^arn:[a-zA-Z0-9-]+:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
                        r"layer:(?P<name>[a-zA-Z0-9-_]+):(?P<version>[0-9]+)$")


@dataclass(frozen=True)
class LayerRef:
    """One entry of a function's ``Layers``: a layer version's ARN, in its parts."""

    arn: str
    region: str
    account: str
    name: str
    version: int

    @property
    def layer_arn(self) -> str:
        """The layer's ARN (without the version)."""
        return self.arn.rsplit(":", 1)[0]


def layer_refs(arns: Sequence[str]) -> list[LayerRef]:
    """A function's ``Layers`` parsed; more than five, or an ARN that is not a layer version's,
    is refused as Lambda refuses it."""
    if len(arns) > MAX_LAYERS:
        raise InvalidParameterError(f"Cannot reference more than {MAX_LAYERS} layers.")
    refs = []
    for arn in arns:
        match = _LAYER_ARN.match(str(arn))
        if match is None:
            raise AwsError(
                f"1 validation error detected: Value '[{arn}]' at 'layers' failed to satisfy "
                "constraint: Member must satisfy constraint: [Member must have length less "
                "than or equal to 2048, Member must have length greater than or equal to 1, "
                f"Member must satisfy regular expression pattern: {_ARN_PATTERN}, Member must "
                "not be null]", code="ValidationException", status=400)
        refs.append(LayerRef(str(arn), match["region"], match["account"], match["name"],
                             int(match["version"])))
    return refs


def check_layers(refs: Sequence[LayerRef], region: str,
                 exists: Callable[[LayerRef], bool]) -> None:
    """Each layer in the function's region and existing; no two versions of one layer."""
    seen: dict[str, str] = {}
    for ref in refs:
        if ref.region != region:
            raise InvalidParameterError(
                "Layers are not in the same region as the function. Layers are expected to "
                f"be in region {region}.")
        if not exists(ref):
            raise InvalidParameterError(f"Layer version {ref.arn} does not exist.")
        other = seen.setdefault(ref.layer_arn, ref.arn)
        if other != ref.arn:
            raise InvalidParameterError(
                "Two different versions of the same layer are not allowed to be referenced in "
                f"the same function. {other} and {ref.arn} are versions of the same layer.")


def unzipped_size(zipped: bytes) -> int:
    """The size of a package's files once unzipped (read from the zip's directory only);
    what is not a zip counts as its own size."""
    if not zipped:
        return 0
    try:
        with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
            return sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        return len(zipped)


def check_unzipped(code_bytes: int, layer_bytes: Sequence[int] = ()) -> None:
    """The code alone, then the code with its layers, within 262,144,000 bytes unzipped."""
    if code_bytes >= MAX_UNZIPPED_BYTES:
        raise InvalidParameterError(
            f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes")
    total = code_bytes + sum(layer_bytes)
    if layer_bytes and total > MAX_UNZIPPED_BYTES:
        raise InvalidParameterError(
            "Function code combined with layers exceeds the maximum allowed size of "
            f"{MAX_UNZIPPED_BYTES} bytes. The actual size is {total} bytes.")


def check_request_size(operation: str, length: int) -> None:
    """A package sent in the request (CreateFunction, UpdateFunctionCode, PublishLayerVersion)
    is refused above 50 MB zipped, before it is read."""
    if length > MAX_DIRECT_REQUEST_BYTES:
        raise RequestTooLargeError(f"Request must be smaller than {MAX_DIRECT_REQUEST_BYTES} "
                                   f"bytes for the {operation} operation")
