"""The error a template or a CloudFormation request gets: AWS's ValidationError (400)."""

from __future__ import annotations

from harness.errors import AwsError


class TemplateError(AwsError):
    """A template or a CloudFormation request is wrong; serialised as CloudFormation's XML error."""

    code = "ValidationError"
    status = 400
    error_type = "Sender"
