"""Turns harness errors into the HTTP responses AWS clients expect (one place for all routes)."""

from __future__ import annotations

from harness.errors import AwsError
from harness.http import HttpResponse


def lambda_error_response(error: AwsError) -> HttpResponse:
    """Lambda's REST-JSON error shape: x-amzn-ErrorType header plus {Type, message}.

    https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html
    """
    body: dict[str, object] = {"Type": error.error_type, "message": error.message}
    if error.reason:
        body["Reason"] = error.reason
    return HttpResponse.json(error.status, body, (("x-amzn-ErrorType", error.code),))
