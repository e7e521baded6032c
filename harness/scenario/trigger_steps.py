"""Steps that feed the event sources and wait for what they cause: send_message, publish,
put_events and wait_for (a function's invocations, an object, a queue's messages).

Names may be a template stack's logical ids; everything goes through boto3, so the steps work on
any target. A ``wait_for`` polls until its condition holds or its deadline passes (an error
``Timeout`` the step's expectations may name).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from harness.scenario.expectations import Observed
from harness.scenario.model import Step, StepError
from harness.scenario.session import count_reports
from harness.scenario.step_context import StepContext, StepOutcome

POLL_S = 0.1
DEFAULT_WAIT_S = 30.0


def _outcome(output: dict[str, Any], observed: Observed, summary: str) -> StepOutcome:
    # Errors fail the step unless it expects them, as S3 steps do; json checks read the output.
    if observed.document is None:
        observed = replace(observed, document=output)
    return StepOutcome(output, observed, summary, s3_step=True)


def _physical(ctx: StepContext, given: str) -> str:
    """A template stack's logical id -> its physical id; anything else as given."""
    if ctx.template is not None:
        return ctx.template.physical_ids.get(given, given)
    return given


def _text(params: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = params.get(name, default)
    if not isinstance(value, str):
        raise StepError(f"{name} must be a string, got {json.dumps(value, default=str)}")
    return value


def _body(params: Mapping[str, Any], text_field: str) -> str:
    if "json" in params:
        return json.dumps(params["json"])
    return _text(params, text_field)


def _error(exc: Exception) -> tuple[str, str]:
    error = getattr(exc, "response", {}).get("Error", {})
    return str(error.get("Code", type(exc).__name__)), str(error.get("Message", exc))


def _call(call: Callable[[], Any]) -> tuple[Any, Observed]:
    from botocore.exceptions import BotoCoreError, ClientError

    started = time.perf_counter()
    try:
        result = call()
    except (ClientError, BotoCoreError) as exc:
        code, message = _error(exc)
        return None, Observed(error=code, error_message=message,
                              latency_ms=(time.perf_counter() - started) * 1000)
    return result, Observed(latency_ms=(time.perf_counter() - started) * 1000)


def queue_url(ctx: StepContext, given: str) -> str:
    """A queue URL from a URL, a name, an ARN or a logical id."""
    given = _physical(ctx, given)
    if given.startswith(("http://", "https://")):
        return given
    name = given.rsplit(":", 1)[-1] if given.startswith("arn:") else given
    sqs = ctx.session.client("sqs", ctx.stack.region)
    try:
        return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except Exception as exc:  # noqa: BLE001 - any failure names the queue
        code, message = _error(exc)
        raise StepError(f"queue {given!r}: {code}: {message}") from None


def send_message(step: Step, params: Mapping[str, Any], ctx: StepContext) -> StepOutcome:
    url = queue_url(ctx, _text(params, "queue"))
    kwargs: dict[str, Any] = {"QueueUrl": url, "MessageBody": _body(params, "body")}
    attributes = params.get("attributes") or {}
    if attributes:
        kwargs["MessageAttributes"] = {str(k): {"DataType": "String", "StringValue": str(v)}
                                       for k, v in attributes.items()}
    if "group_id" in params:
        kwargs["MessageGroupId"] = _text(params, "group_id")
    if "deduplication_id" in params:
        kwargs["MessageDeduplicationId"] = _text(params, "deduplication_id")
    sqs = ctx.session.client("sqs", ctx.stack.region)
    result, observed = _call(lambda: sqs.send_message(**kwargs))
    message_id = result["MessageId"] if result else None
    summary = f"{url.rsplit('/', 1)[-1]}: " + (observed.error or f"message {message_id}")
    return _outcome({"queue_url": url, "message_id": message_id}, observed, summary)


def topic_arn(ctx: StepContext, given: str) -> str:
    given = _physical(ctx, given)
    if given.startswith("arn:"):
        return given
    sns = ctx.session.client("sns", ctx.stack.region)
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page.get("Topics", []):
            if topic["TopicArn"].rsplit(":", 1)[-1] == given:
                return str(topic["TopicArn"])
    raise StepError(f"no topic named {given!r} in {ctx.stack.region}")


def publish(step: Step, params: Mapping[str, Any], ctx: StepContext) -> StepOutcome:
    arn = topic_arn(ctx, _text(params, "topic"))
    kwargs: dict[str, Any] = {"TopicArn": arn, "Message": _body(params, "message")}
    if "subject" in params:
        kwargs["Subject"] = _text(params, "subject")
    attributes = params.get("attributes") or {}
    if attributes:
        kwargs["MessageAttributes"] = {str(k): {"DataType": "String", "StringValue": str(v)}
                                       for k, v in attributes.items()}
    sns = ctx.session.client("sns", ctx.stack.region)
    result, observed = _call(lambda: sns.publish(**kwargs))
    message_id = result["MessageId"] if result else None
    summary = f"{arn.rsplit(':', 1)[-1]}: " + (observed.error or f"message {message_id}")
    return _outcome({"topic_arn": arn, "message_id": message_id}, observed, summary)


def put_events(step: Step, params: Mapping[str, Any], ctx: StepContext) -> StepOutcome:
    entries = params.get("entries")
    if entries is None:
        entries = [{key: params[key] for key in ("source", "detail_type", "detail", "bus",
                                                 "resources") if key in params}]
    boto_entries = []
    for entry in entries:
        detail = entry.get("detail", {})
        item: dict[str, Any] = {
            "Source": entry.get("source", "harness.scenario"),
            "DetailType": entry.get("detail_type", "Scenario Event"),
            "Detail": detail if isinstance(detail, str) else json.dumps(detail)}
        if "bus" in entry:
            item["EventBusName"] = _physical(ctx, str(entry["bus"]))
        if "resources" in entry:
            item["Resources"] = [str(r) for r in entry["resources"]]
        boto_entries.append(item)
    events = ctx.session.client("events", ctx.stack.region)
    result, observed = _call(lambda: events.put_events(Entries=boto_entries))
    failed = int(result.get("FailedEntryCount", 0)) if result else len(boto_entries)
    ids = [e.get("EventId") for e in result.get("Entries", [])] if result else []
    if result and failed:
        reasons = [f"{e.get('ErrorCode')}: {e.get('ErrorMessage')}"
                   for e in result.get("Entries", []) if e.get("ErrorCode")]
        observed = Observed(error="FailedEntry", error_message="; ".join(reasons),
                            latency_ms=observed.latency_ms)
    summary = observed.error or f"{len(boto_entries) - failed} event(s) put"
    return _outcome({"failed_entry_count": failed, "event_ids": ids}, observed, summary)


# -- wait_for ------------------------------------------------------------------------------------

def wait_for(step: Step, params: Mapping[str, Any], ctx: StepContext) -> StepOutcome:
    timeout = float(params.get("timeout_s", DEFAULT_WAIT_S))
    if "function" in params:
        check, what = _invocations(params, ctx)
    elif "object" in params:
        check, what = _object(params, ctx)
    elif "queue" in params:
        check, what = _messages(params, ctx)
    else:
        raise StepError("wait_for needs one of: function, object, queue")
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    while True:
        done, output = check()
        if done or time.monotonic() >= deadline:
            break
        time.sleep(POLL_S)  # a poll against the deadline
    latency = (time.perf_counter() - started) * 1000
    if done:
        observed = Observed(document=output, latency_ms=latency)
        return _outcome(output, observed, f"{what} after {latency:.0f} ms")
    observed = Observed(document=output, error="Timeout", latency_ms=latency,
                        error_message=f"{what} did not happen within {timeout:g} s "
                                      f"(saw {json.dumps(output, default=str)[:200]})")
    return _outcome(output, observed, f"timed out waiting for {what}")


Check = Callable[[], tuple[bool, dict[str, Any]]]


def _invocations(params: Mapping[str, Any], ctx: StepContext) -> tuple[Check, str]:
    given = _text(params, "function")
    function = ctx.template.function(given) if ctx.template is not None else given
    wanted = int(params.get("invocations", 1))
    logs = ctx.session.client("logs", ctx.stack.region)
    since = ctx.started_ms

    def check() -> tuple[bool, dict[str, Any]]:
        count = count_reports(logs, function.rsplit(":", 1)[-1], since)
        return count >= wanted, {"function": function, "invocations": count}
    return check, f"{wanted} invocation(s) of {function}"


def _object(params: Mapping[str, Any], ctx: StepContext) -> tuple[Check, str]:
    where = params["object"]
    if not isinstance(where, Mapping) or "key" not in where:
        raise StepError("wait_for object takes {bucket: ..., key: ...}")
    bucket = _physical(ctx, str(where.get("bucket", ctx.stack.bucket)))
    key = str(where["key"])
    s3 = ctx.session.client("s3", ctx.stack.region)

    def check() -> tuple[bool, dict[str, Any]]:
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:  # noqa: BLE001 - not there yet (NoSuchKey) is the usual answer
            return False, {"bucket": bucket, "key": key, "error": _error(exc)[0]}
        try:
            document: Any = json.loads(body)
        except ValueError:
            document = body.decode("utf-8", "replace")
        return True, {"bucket": bucket, "key": key, "bytes": len(body), "body": document}
    return check, f"s3://{bucket}/{key}"


def _messages(params: Mapping[str, Any], ctx: StepContext) -> tuple[Check, str]:
    url = queue_url(ctx, _text(params, "queue"))
    wanted = int(params.get("messages", 1))
    sqs = ctx.session.client("sqs", ctx.stack.region)

    def check() -> tuple[bool, dict[str, Any]]:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        count = int(attributes.get("ApproximateNumberOfMessages", 0))
        output: dict[str, Any] = {"queue_url": url, "count": count, "messages": []}
        if count >= wanted:
            # Looked at, not taken: visible again at once for the function or the next step.
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(10, count),
                                      VisibilityTimeout=0, MessageAttributeNames=["All"])
            output["messages"] = [_parsed(m["Body"]) for m in got.get("Messages", [])]
        return count >= wanted, output
    return check, f"{wanted} message(s) in {url.rsplit('/', 1)[-1]}"


def _parsed(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body
