"""Build API Gateway Lambda-proxy results (statusCode, headers, body); pure."""

from __future__ import annotations

import json
from typing import Any

from function_errors import RequestError

JSON_HEADERS = {"Content-Type": "application/json"}


def json_result(status: int, payload: Any) -> dict[str, Any]:
    """A proxy result whose body is ``payload`` as JSON."""
    return {
        "statusCode": status,
        "headers": dict(JSON_HEADERS),
        "body": json.dumps(payload, allow_nan=False),
        "isBase64Encoded": False,
    }


def prediction_result(predictions: list[Any], model: dict[str, Any]) -> dict[str, Any]:
    """200 with the predictions (JSON-native values), the model summary and the row count."""
    return json_result(200, {"predictions": predictions, "model": model, "rows": len(predictions)})


def error_result(error: RequestError) -> dict[str, Any]:
    """The 4xx result for a refused request: its message and short error code."""
    return json_result(error.status, {"message": error.message, "error": error.code})


def internal_error_result() -> dict[str, Any]:
    """The 500 result; details stay in the function's log, never in the response."""
    return json_result(500, {"message": "internal error", "error": "InternalError"})
