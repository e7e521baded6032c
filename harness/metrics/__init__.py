"""CloudWatch as AWS fills it: the harness emits the metrics AWS services emit, evaluates alarms
and publishes usage and cost.

    store.py           points aggregated per minute (harness clock), raw values for percentiles
    lambda_metrics.py  the AWS/Lambda points of an invocation or a throttle (pure)
    apigw_metrics.py   the AWS/ApiGateway points of an answered request (pure)
    alarms.py          a metric alarm's state from its latest periods (pure)
    alarm_engine.py    evaluates every alarm on the harness clock; SNS actions, history
    emitter.py         Metrics: hears the Lambda service and the gateway and writes the store,
                       which moto's CloudWatch reads (aws_state.cloudwatch_metrics)
"""

from harness.metrics.emitter import Metrics
from harness.metrics.store import MetricStore, SeriesKey

__all__ = ["MetricStore", "Metrics", "SeriesKey"]
