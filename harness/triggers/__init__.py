"""Every way a function is triggered besides a direct Invoke and API Gateway, one module each.

Each source turns an outside event into ``LambdaService.invoke(...)`` and owns nothing else, so
limits, concurrency, logs, REPORT lines and faults apply to every delivery:

    room.py    Triggers: owns the sources; starts, resets and stops them with the emulator;
               takes over moto's own invoke path (aws_state.moto_invoke) so it never reaches Docker
    s3.py      S3 event notifications: S3's record to functions, queues and topics; test events
    sns.py     SNS to Lambda subscriptions: SNS's record, after the subscription's filter policy
    function_urls.py     <url-id>.lambda-url.<region>.localhost.localstack.cloud: HTTP to a
                         synchronous invoke (function_url_http: the formats; function_url_auth:
                         SigV4 and the resource policy)
    eventbridge.py  EventBridge rules: PutEvents on any bus, targets with Input, InputPath and
               InputTransformer (event_input.py), patterns (event_pattern.py), PutEvents'
               checks and the events' shape (event_entries.py)
    schedules.py  scheduled rules on the harness's clock (schedule_expressions.py: rate, cron)
    async_invoke.py  Lambda's asynchronous queue: Event invocations' retries on the harness's
               clock, event age, throttle backoff, destinations and dead-letter queue
               (async_records.py: the records and delays, pure)
    sqs.py     SQS event source mappings: pollers per mapping (batches, windows, partial batch
               failures, FIFO groups, filters, scaling, states); sqs_records.py (the event, pure)
               and sqs_rules.py (AWS's checks at Create/UpdateEventSourceMapping, pure)
    recursion.py  recursive loop detection: the trace header's Lineage, the stop after 16
               invocations, Put/GetFunctionRecursionConfig
"""

from harness.triggers.room import Source, Triggers

__all__ = ["Source", "Triggers"]
