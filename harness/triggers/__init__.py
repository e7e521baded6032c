"""Every way a function is triggered besides a direct Invoke and API Gateway, one module each.

Each source turns an outside event into ``LambdaService.invoke(...)`` and owns nothing else, so
limits, concurrency, logs, REPORT lines and faults apply to every delivery:

    room.py    Triggers: owns the sources; starts, resets and stops them with the emulator;
               takes over moto's own invoke path (aws_state.moto_invoke) so it never reaches Docker
    sqs.py     SQS event source mappings: pollers per mapping (batches, windows, partial batch
               failures, FIFO groups, filters, scaling, states); sqs_records.py (the event, pure)
               and sqs_rules.py (AWS's checks at Create/UpdateEventSourceMapping, pure)
    recursion.py  recursive loop detection: the trace header's Lineage, the stop after 16
               invocations, Put/GetFunctionRecursionConfig
"""

from harness.triggers.room import Source, Triggers

__all__ = ["Source", "Triggers"]
