"""Lambda entry point ``handler.lambda_handler``: predict on features read from S3.

Init (this module's import) reads the configuration, loads the model and creates the S3 client
once; a broken model fails here, before any request. Each request is then parse -> read from
S3 -> gunzip (``.gz`` keys only) -> decode -> check -> predict -> respond, and logs one JSON line.
An S3 notification instead predicts on each uploaded object under INPUT_PREFIX and writes the
answer under OUTPUT_PREFIX (``s3_trigger``).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import decompression
import event_parsing
import feature_checks
import feature_formats
import model_store
import proxy_results
import s3_objects
import s3_trigger
from function_config import FunctionConfig
from function_errors import ModelLoadError, ModelNotFound, ModelVersionMismatch, RequestError

__all__ = [
    "ModelLoadError",
    "ModelNotFound",
    "ModelVersionMismatch",
    "handle",
    "lambda_handler",
]

logger = logging.getLogger(__name__)

CONFIG = FunctionConfig.from_env(os.environ, default_model_dir=Path(__file__).parent / "model")
MODEL = model_store.load_model(CONFIG.model_dir)
S3 = s3_objects.make_client()


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """The function's handler: answers a request with a proxy result, and an S3 notification
    by writing each upload's predictions next to it."""
    if s3_trigger.is_s3_event(event):
        return handle_uploads(event, context, config=CONFIG, model=MODEL, s3=S3)
    return handle(event, context, config=CONFIG, model=MODEL, s3=S3)


def handle_uploads(
    event: dict[str, Any],
    context: Any = None,
    *,
    config: FunctionConfig,
    model: model_store.LoadedModel,
    s3: Any,
) -> dict[str, Any]:
    """Predict on every upload the notification names; each answer (the proxy result's body,
    an error's included) is put at its output key. An unexpected error raises, so Lambda retries
    the event and, when retries run out, sends it to the function's dead-letter queue."""
    written = []
    for upload in s3_trigger.uploads(event):
        target = s3_trigger.output_key(upload.key, config.input_prefix, config.output_prefix)
        if target is None:
            print(json.dumps({"skipped": upload.key, "why": "outside INPUT_PREFIX"}))
            continue
        request = {"bucket": upload.bucket, "key": upload.key}
        result = handle(request, context, config=config, model=model, s3=s3)
        if result["statusCode"] >= 500:
            raise RuntimeError(f"predicting on s3://{upload.bucket}/{upload.key} failed")
        s3.put_object(Bucket=upload.bucket, Key=target, Body=result["body"].encode(),
                      ContentType="application/json")
        written.append({"source": upload.key, "predictions": target,
                        "status": result["statusCode"]})
    return {"written": written}


def handle(
    event: Any,
    context: Any = None,
    *,
    config: FunctionConfig,
    model: model_store.LoadedModel,
    s3: Any,
) -> dict[str, Any]:
    """Answer one event with explicit dependencies (what tests and other wirings call)."""
    started = time.perf_counter()
    record: dict[str, Any] = {"requestId": getattr(context, "aws_request_id", None)}
    try:
        result = _predict(event, config, model, s3, record)
    except RequestError as exc:
        record["error"] = exc.code
        result = proxy_results.error_result(exc)
    except Exception:
        logger.exception("unexpected error (requestId %s)", record["requestId"])
        record["error"] = "InternalError"
        result = proxy_results.internal_error_result()
    record["status"] = result["statusCode"]
    record["ms"] = round((time.perf_counter() - started) * 1000, 2)
    print(json.dumps(record))
    return result


def _predict(
    event: Any,
    config: FunctionConfig,
    model: model_store.LoadedModel,
    s3: Any,
    record: dict[str, Any],
) -> dict[str, Any]:
    request = event_parsing.parse_request(event, config.allowed_buckets)
    record.update(bucket=request.bucket, key=request.key)
    fmt = feature_formats.format_for_key(request.key, allow_pickle=config.allow_pickle_features)
    data = s3_objects.read_object(
        s3, request.bucket, request.key, max_bytes=config.max_object_bytes
    )
    if decompression.is_gzipped(request.key):
        data = decompression.gunzip(data, max_bytes=config.max_object_bytes, key=request.key)
    limits = {"n_features": model.n_features, "max_rows": config.max_rows}
    raw = feature_formats.read_features(data, fmt, **limits)
    matrix = feature_checks.check_matrix(raw, **limits)
    record["rows"] = len(matrix)
    predictions = model.estimator.predict(matrix).tolist()
    return proxy_results.prediction_result(predictions, model.summary())
