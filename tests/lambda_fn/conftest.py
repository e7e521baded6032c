"""Fixtures for the example function: a real moto S3 server, a trained model, fresh handlers.

The function's modules are top-level modules (they sit at the root of the deployment package),
so they are imported with ``lambda_fn/function`` put on ``sys.path`` only for the import.
``handler`` reads its environment and creates its S3 client at import, so `load_handler`
imports it afresh after setting the environment a test asks for.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import json
import logging
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import numpy as np
import pytest
from moto.server import ThreadedMotoServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FUNCTION_DIR = PROJECT_ROOT / "lambda_fn" / "function"
FUNCTION_MODULES = tuple(sorted(path.stem for path in FUNCTION_DIR.glob("*.py")))
LIBRARY_MODULES = tuple(name for name in FUNCTION_MODULES if name != "handler")
BUCKET = "features-bucket"
FUNCTION_ENV = (
    "MODEL_DIR",
    "ALLOWED_BUCKETS",
    "MAX_OBJECT_BYTES",
    "MAX_ROWS",
    "ALLOW_PICKLE_FEATURES",
    "INPUT_PREFIX",
    "OUTPUT_PREFIX",
)
HANDLER_ENV = (
    *FUNCTION_ENV,
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
)

if importlib.util.find_spec("lambda_fn") is None:  # running from a checkout, not installed
    sys.path.insert(0, str(PROJECT_ROOT))

from lambda_fn.train import TrainResult, train  # noqa: E402


@contextmanager
def function_on_path() -> Iterator[None]:
    """Make the function's top-level modules importable, as at the root of /var/task."""
    sys.path.insert(0, str(FUNCTION_DIR))
    try:
        yield
    finally:
        sys.path.remove(str(FUNCTION_DIR))


def _forget_function_modules(names: tuple[str, ...]) -> None:
    for name in names:
        module = sys.modules.get(name)
        if module is not None and Path(module.__file__ or "").parent == FUNCTION_DIR:
            del sys.modules[name]


@pytest.fixture(scope="session")
def fn() -> Iterator[SimpleNamespace]:
    """The function's library modules (everything but handler), imported once."""
    # Another test may have imported an unrelated module under one of these generic names.
    shadowed = {name: sys.modules.pop(name) for name in FUNCTION_MODULES if name in sys.modules}
    with function_on_path():
        modules = {name: importlib.import_module(name) for name in LIBRARY_MODULES}
    yield SimpleNamespace(errors=modules["function_errors"], **modules)
    _forget_function_modules(FUNCTION_MODULES)
    sys.modules.update(shadowed)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server on a free loopback port, for the whole session."""
    werkzeug_logger = logging.getLogger("werkzeug")
    old_level = werkzeug_logger.level
    werkzeug_logger.setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        werkzeug_logger.setLevel(old_level)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """The example model, trained once per session."""
    return train(tmp_path_factory.mktemp("trained"), seed=0)


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Point boto3 (ours and the handler's) at the moto server, and clear the function's env."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", *FUNCTION_ENV):
        monkeypatch.delenv(name, raising=False)
    return moto_endpoint


@pytest.fixture(scope="session")
def _test_session(moto_endpoint: str) -> boto3.session.Session:
    # Built once and explicitly, not from the environment: clients cost ~0.1 s each.
    return boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )


@pytest.fixture(scope="session")
def _test_s3_client(_test_session: boto3.session.Session, moto_endpoint: str) -> Any:
    return _test_session.client("s3", endpoint_url=moto_endpoint)


@pytest.fixture
def aws_client(_test_session: boto3.session.Session, moto_endpoint: str) -> Callable[[str], Any]:
    """Make a test-side client for any service on the moto server."""
    return lambda service: _test_session.client(service, endpoint_url=moto_endpoint)


@pytest.fixture
def s3(aws_env: str, _test_s3_client: Any) -> Any:
    """A test-side client with the allowed bucket created, empty. Not moto's reset: its state is
    process-wide, and a reset would wipe the session emulator's stacks under other tests."""
    for name in (BUCKET, *_SCRATCH_BUCKETS):
        _delete_bucket(_test_s3_client, name)
    _test_s3_client.create_bucket(Bucket=BUCKET)
    return _test_s3_client


_SCRATCH_BUCKETS = ("second-bucket",)  # what tests here make besides BUCKET


def _delete_bucket(s3: Any, name: str) -> None:
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                s3.delete_object(Bucket=name, Key=item["Key"], VersionId=item["VersionId"])
        s3.delete_bucket(Bucket=name)
    except s3.exceptions.NoSuchBucket:
        pass


@pytest.fixture(scope="session")
def _handlers_by_env() -> dict[tuple[tuple[str, str | None], ...], ModuleType]:
    # A handler module is immutable after init, so one imported under an identical
    # environment can be reused; this saves ~0.1 s (its S3 client) per test.
    return {}


@pytest.fixture
def load_handler(
    fn: SimpleNamespace,
    s3: Any,
    trained: TrainResult,
    monkeypatch: pytest.MonkeyPatch,
    _handlers_by_env: dict[tuple[tuple[str, str | None], ...], ModuleType],
) -> Iterator[Callable[..., ModuleType]]:
    """Import ``handler`` under the given env (None unsets); defaults allow BUCKET."""

    def load(**env: str | None) -> ModuleType:
        settings: dict[str, str | None] = {
            "MODEL_DIR": str(trained.model_dir),
            "ALLOWED_BUCKETS": BUCKET,
            **env,
        }
        for name, value in settings.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        key = tuple((name, os.environ.get(name)) for name in HANDLER_ENV)
        if key not in _handlers_by_env:
            sys.modules.pop("handler", None)
            with function_on_path():
                _handlers_by_env[key] = importlib.import_module("handler")
            sys.modules.pop("handler", None)
        return _handlers_by_env[key]

    yield load
    _forget_function_modules(("handler",))


@pytest.fixture
def handler(load_handler: Callable[..., ModuleType]) -> ModuleType:
    """The handler module under default settings."""
    return load_handler()


def proxy_event(body: Any, *, raw: bool = False, base64_body: bool = False) -> dict[str, Any]:
    """An API Gateway REST (payload format 1.0) event for POST /predict."""
    import base64

    text = body if raw or body is None else json.dumps(body)
    if base64_body and text is not None:
        text = base64.b64encode(text.encode()).decode()
    request_id = str(uuid.uuid4())
    return {
        "resource": "/predict",
        "path": "/predict",
        "httpMethod": "POST",
        "headers": {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Host": "abc123.execute-api.us-east-1.amazonaws.com",
            "User-Agent": "pytest",
            "X-Forwarded-For": "203.0.113.7",
        },
        "multiValueHeaders": {"Content-Type": ["application/json"], "User-Agent": ["pytest"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "a1b2c3",
            "resourcePath": "/predict",
            "httpMethod": "POST",
            "extendedRequestId": "Zx1=",
            "requestTime": "24/Nov/2026:05:00:00 +0000",
            "path": "/prod/predict",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "prod",
            "domainPrefix": "abc123",
            "requestTimeEpoch": 1795410000000,
            "requestId": request_id,
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "pytest"},
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "apiId": "abc123",
        },
        "body": text,
        "isBase64Encoded": base64_body,
    }


def lambda_context() -> SimpleNamespace:
    """The attributes of a Lambda context object that the handler reads."""
    return SimpleNamespace(
        aws_request_id=str(uuid.uuid4()),
        function_name="ml-predict",
        memory_limit_in_mb=512,
        get_remaining_time_in_millis=lambda: 3000,
    )


@pytest.fixture
def invoke(handler: ModuleType) -> Callable[..., tuple[int, Any]]:
    """POST ``body`` through the default handler; return (status, decoded body)."""
    return lambda body, **kwargs: call(handler, proxy_event(body, **kwargs))


def call(handler: ModuleType, event: Any) -> tuple[int, Any]:
    """Invoke the handler like the runtime does and check the proxy-result shape."""
    result = handler.lambda_handler(event, lambda_context())
    assert result["headers"]["Content-Type"] == "application/json"
    assert isinstance(result["body"], str)
    return result["statusCode"], json.loads(result["body"])


@pytest.fixture
def helpers() -> SimpleNamespace:
    """Helpers test modules share (conftest functions are not importable from tests)."""
    return SimpleNamespace(
        proxy_event=proxy_event,
        call=call,
        npy_bytes=npy_bytes,
        bucket=BUCKET,
        function_on_path=function_on_path,
    )


def npy_bytes(array: Any) -> bytes:
    """``array`` saved as .npy bytes (pickles allowed, to build hostile inputs)."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=True)
    return buffer.getvalue()
