"""A function's layers as moto keeps them, and Lambda's limits on code and layers
(harness.lambda_.code_limits) applied wherever moto makes or changes a function or a layer.

CreateFunction, UpdateFunctionConfiguration, UpdateFunctionCode and PublishLayerVersion reach
moto's models both from the Lambda API and from CloudFormation (``AWS::Lambda::Function``,
``AWS::Lambda::LayerVersion``), so the checks wrap those models' methods, once: a client and a
stack get the same error, a stack in its events. moto itself checks none of these limits and
answers a missing layer with a 404 Lambda does not give.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaFunction, LayerStorage, get_backend
from moto.s3.models import s3_backends

from harness.aws_state.hot_reload import HOT_RELOAD_BUCKET, hot_reload_dir
from harness.errors import AwsError, ResourceNotFoundError
from harness.lambda_.code_limits import (
    LayerRef,
    check_layers,
    check_unzipped,
    layer_refs,
    unzipped_size,
)

_installed = threading.Lock()
_done: list[bool] = []


def layer_packages(fn: Any) -> list[tuple[str, bytes, str | None]]:
    """(content hash, zip, local directory or None) of each of a moto ``LambdaFunction``'s
    ``Layers``: a hot-reload layer has a directory and no zip. A deleted layer version is an
    error. moto's lookup ignores the account and region in the ARN: it reads the function's own.
    """
    layers = getattr(fn, "layers", None)
    if not layers:  # most functions: no backend lookup on their invocations' path
        return []
    backend = get_backend(fn.account_id, fn.region)
    found = []
    for layer in layers:
        version = backend.layers_versions_by_arn(layer["Arn"])
        local = hot_reload_dir(version) if version is not None else None
        if version is None or not (version.code_bytes or local):
            raise ResourceNotFoundError(f"Layer version {layer['Arn']} does not exist")
        found.append((str(version.code_sha_256), bytes(version.code_bytes), local))
    return found


def install() -> None:
    """Wrap moto's Lambda models with the limits (idempotent)."""
    with _installed:
        if _done:
            return
        LambdaFunction._get_layers_data = _checked_layers(  # type: ignore[method-assign]
            LambdaFunction._get_layers_data)
        LambdaFunction.__init__ = _checked_init(LambdaFunction.__init__)  # type: ignore[method-assign]
        LambdaFunction.update_configuration = _checked_configuration(  # type: ignore[method-assign]
            LambdaFunction.update_configuration)
        LambdaFunction.update_function_code = _checked_code(  # type: ignore[method-assign]
            LambdaFunction.update_function_code)
        LayerStorage.put_layer_version = _checked_layer_version(  # type: ignore[method-assign]
            LayerStorage.put_layer_version)
        _done.append(True)


@contextmanager
def _as_moto_error() -> Iterator[None]:
    """A limit's error raised as moto's own Lambda error, which moto's HTTP layer answers in
    Lambda's shape (and CloudFormation reports as the resource's reason)."""
    try:
        yield
    except AwsError as error:
        refused = LambdaClientError(error.code, error.message)
        refused.code = error.status
        raise refused from None


def _version(ref: LayerRef) -> Any:
    return get_backend(ref.account, ref.region).layers_versions_by_arn(ref.arn)


def _layer_sizes(fn: Any, layers: list[dict[str, Any]]) -> list[int]:
    backend = get_backend(fn.account_id, fn.region)
    found = (backend.layers_versions_by_arn(layer["Arn"]) for layer in layers)
    return [unzipped_size(bytes(version.code_bytes)) for version in found if version is not None]


def _code_size(fn: Any) -> int:
    """The function's code unzipped; a directory used in place (hot reload) counts nothing."""
    if hot_reload_dir(fn) is not None:
        return 0
    return unzipped_size(bytes(getattr(fn, "code_bytes", b"") or b""))


def _new_code_size(fn: Any, code: dict[str, Any]) -> int:
    """What UpdateFunctionCode's ``code`` unzips to (0 when moto will refuse it anyway)."""
    if code.get("ZipFile"):
        try:
            return unzipped_size(base64.b64decode(code["ZipFile"]))
        except ValueError:
            return 0
    bucket, key = code.get("S3Bucket"), code.get("S3Key")
    if not bucket or not key or bucket == HOT_RELOAD_BUCKET:
        return 0
    try:
        obj = s3_backends[fn.account_id][fn.partition].get_object(bucket, key)
    except Exception:  # moto answers a missing bucket or key in Lambda's words itself
        return 0
    return unzipped_size(bytes(obj.value)) if obj is not None else 0


def _checked_layers(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_layers_data(fn: Any, arns: list[str]) -> Any:
        with _as_moto_error():
            check_layers(layer_refs(arns or []), fn.region, lambda ref: _version(ref) is not None)
        return original(fn, arns)
    return get_layers_data


def _checked_init(original: Callable[..., None]) -> Callable[..., None]:
    def init(fn: Any, *args: Any, **kwargs: Any) -> None:
        original(fn, *args, **kwargs)
        with _as_moto_error():
            check_unzipped(_code_size(fn), _layer_sizes(fn, fn.layers))
    return init


def _checked_configuration(original: Callable[..., Any]) -> Callable[..., Any]:
    def update_configuration(fn: Any, updates: dict[str, Any]) -> Any:
        if "Layers" in updates:  # checked before moto changes anything
            layers = fn._get_layers_data(updates["Layers"] or [])
            with _as_moto_error():
                check_unzipped(_code_size(fn), _layer_sizes(fn, layers))
        return original(fn, updates)
    return update_configuration


def _checked_code(original: Callable[..., Any]) -> Callable[..., Any]:
    def update_function_code(fn: Any, code: dict[str, Any]) -> Any:
        with _as_moto_error():
            check_unzipped(_new_code_size(fn, code), _layer_sizes(fn, fn.layers))
        return original(fn, code)
    return update_function_code


def _checked_layer_version(original: Callable[..., None]) -> Callable[..., None]:
    def put_layer_version(storage: Any, layer_version: Any) -> None:
        with _as_moto_error():
            check_unzipped(unzipped_size(bytes(layer_version.code_bytes)))
        original(storage, layer_version)
    return put_layer_version
