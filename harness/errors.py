"""The one error root of the harness and its typed subclasses.

    HarnessError                    root: a one-line message, an exit code for the CLI
    ├── UsageError                  a mistake of the user's (arguments, config, files); exit 2
    │   └── ScenarioError           a scenario file is wrong; names the file and line
    ├── DeployError                 the stack could not be deployed
    └── AwsError                    serialised to the caller as AWS serialises it
        ├── AccessDeniedError       403 AccessDeniedException (IAM refused the caller)
        ├── ResourceNotFoundError   404 ResourceNotFoundException
        ├── InvalidParameterError   400 InvalidParameterValueException
        ├── InvalidRequestContentError 400 InvalidRequestContentException
        ├── RequestTooLargeError    413 RequestEntityTooLargeException
        ├── TooManyRequestsError    429 TooManyRequestsException
        └── ServiceError            500 ServiceException

AWS errors are turned into HTTP responses in one place, ``harness.emulator.errors``.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Root of every error the harness raises on purpose."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(HarnessError):
    """The user asked for something that cannot work (bad argument, file, config)."""

    exit_code = 2


class ScenarioError(UsageError):
    """A scenario file is malformed; the message names the file and line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


class DeployError(HarnessError):
    """Deploying the example stack failed."""


class AwsError(HarnessError):
    """An error the emulator returns to an AWS client, with AWS's code and HTTP status."""

    code = "ServiceException"
    status = 500
    error_type = "Service"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.reason = reason


class AccessDeniedError(AwsError):
    code = "AccessDeniedException"
    status = 403
    error_type = "User"


class ResourceNotFoundError(AwsError):
    code = "ResourceNotFoundException"
    status = 404
    error_type = "User"


class InvalidParameterError(AwsError):
    code = "InvalidParameterValueException"
    status = 400
    error_type = "User"


class InvalidRequestContentError(AwsError):
    code = "InvalidRequestContentException"
    status = 400
    error_type = "User"


class RequestTooLargeError(AwsError):
    code = "RequestEntityTooLargeException"
    status = 413
    error_type = "User"


class TooManyRequestsError(AwsError):
    code = "TooManyRequestsException"
    status = 429
    error_type = "User"


class ServiceError(AwsError):
    code = "ServiceException"
    status = 500
    error_type = "Service"
