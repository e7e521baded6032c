"""Every way a function is triggered besides a direct Invoke and API Gateway, one module each.

Each source turns an outside event into ``LambdaService.invoke(...)`` and owns nothing else, so
limits, concurrency, logs, REPORT lines and faults apply to every delivery:

    room.py    Triggers: owns the sources; starts, resets and stops them with the emulator;
               takes over moto's own invoke path (aws_state.moto_invoke) so it never reaches Docker
    async_invoke.py  Lambda's asynchronous queue: Event invocations' retries on the harness's
               clock, event age, throttle backoff, destinations and dead-letter queue
               (async_records.py: the records and delays, pure)
"""

from harness.triggers.room import Source, Triggers

__all__ = ["Source", "Triggers"]
