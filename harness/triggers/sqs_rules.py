"""AWS's checks of an SQS event source mapping (CreateEventSourceMapping and its updates), with
AWS's own error codes and messages (as recorded against AWS in LocalStack's snapshots and in users'
reports): pure, given what the adapter found about the queue and the function.
"""

from __future__ import annotations

from typing import Any

from harness.aws_state.event_patterns import compile_pattern
from harness.aws_state.event_source_mappings import MappingRequest
from harness.errors import AwsError, InvalidParameterError

MAX_BATCH_SIZE = 10_000
MAX_BATCH_WITHOUT_WINDOW = 10
MAX_WINDOW_S = 300
CONCURRENCY_RANGE = (2, 1000)
MAX_FILTERS = 5


def _validation(value: Any, where: str, constraint: str) -> AwsError:
    return InvalidParameterError(
        f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
        f"constraint: Member must {constraint}", code="ValidationException")


def _integer(value: Any, where: str, low: int, high: int) -> int:
    """``value`` as an int within [low, high], else AWS's ValidationException."""
    try:
        number = int(value)
        if number != float(value):
            raise ValueError(value)
    except (TypeError, ValueError):
        raise _validation(value, where, "be an integer") from None
    if number < low:
        raise _validation(value, where, f"have value greater than or equal to {low}")
    if number > high:
        raise _validation(value, where, f"have value less than or equal to {high}")
    return number


def _check_batching(request: MappingRequest) -> None:
    size = (_integer(request.batch_size, "batchSize", 1, MAX_BATCH_SIZE)
            if request.batch_size is not None else MAX_BATCH_WITHOUT_WINDOW)
    window = (_integer(request.window_s, "maximumBatchingWindowInSeconds", 0, MAX_WINDOW_S)
              if request.window_s is not None else 0)
    if request.queue is not None and request.queue.fifo and window > 0:
        raise InvalidParameterError("Batching window is not supported for FIFO queues")
    if size > MAX_BATCH_WITHOUT_WINDOW and window == 0:
        raise InvalidParameterError("Maximum batch window in seconds must be greater than 0 if "
                                    "maximum batch size is greater than 10")


def _check_scaling(scaling: Any) -> None:
    if scaling is None:
        return
    if not isinstance(scaling, dict):
        raise _validation(scaling, "scalingConfig", "be a structure")
    if scaling.get("MaximumConcurrency") is not None:
        _integer(scaling["MaximumConcurrency"], "scalingConfig.maximumConcurrency",
                 *CONCURRENCY_RANGE)


def _check_filters(criteria: Any) -> None:
    if criteria is None:
        return
    filters = criteria.get("Filters") if isinstance(criteria, dict) else None
    if filters is None:
        return
    if not isinstance(filters, list) or len(filters) > MAX_FILTERS:
        raise InvalidParameterError("Invalid filter pattern definition.")
    for entry in filters:
        try:
            compile_pattern(entry.get("Pattern") if isinstance(entry, dict) else None)
        except ValueError:
            raise InvalidParameterError("Invalid filter pattern definition.") from None


def check_mapping(request: MappingRequest) -> None:
    """Raise AWS's error for the first thing wrong with ``request``."""
    queue = request.queue
    if queue is None:
        raise InvalidParameterError(
            "Error occurred while ReceiveMessage. SQS Error Code: "
            "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: "
            "The specified queue does not exist.")
    _check_batching(request)
    _check_scaling(request.scaling_config)
    _check_filters(request.filter_criteria)
    if queue.visibility_timeout_s < request.function_timeout_s:
        raise InvalidParameterError(
            f"Queue visibility timeout: {queue.visibility_timeout_s} seconds is less than "
            f"Function timeout: {request.function_timeout_s} seconds")
    if request.creating and request.duplicate_of is not None:
        raise AwsError(
            f'An event source mapping with SQS arn (" {request.queue_arn} ") and function '
            f'(" {request.function_name} ") already exists. Please update or delete the '
            f"existing mapping with UUID {request.duplicate_of}",
            code="ResourceConflictException", status=409)
