"""Every way a function is triggered besides a direct Invoke and API Gateway, one module each.

Each source turns an outside event into ``LambdaService.invoke(...)`` and owns nothing else, so
limits, concurrency, logs, REPORT lines and faults apply to every delivery:

    room.py    Triggers: owns the sources; starts, resets and stops them with the emulator;
               takes over moto's own invoke path (aws_state.moto_invoke) so it never reaches Docker
    eventbridge.py  EventBridge rules: PutEvents on any bus, targets with Input, InputPath and
               InputTransformer (event_input.py), patterns (event_pattern.py), PutEvents'
               checks and the events' shape (event_entries.py)
    schedules.py  scheduled rules on the harness's clock (schedule_expressions.py: rate, cron)
"""

from harness.triggers.room import Source, Triggers

__all__ = ["Source", "Triggers"]
