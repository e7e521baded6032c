"""Carries out each kind of step against a deployed stack, through boto3 and HTTP only.

A step gets its parameters with every reference already resolved, and returns what it saw
(`Observed`, for the expectations) and what later steps may reference (``output``).
"""

from __future__ import annotations

import base64
import difflib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from harness.clock_client import ClockClient
from harness.lambda_.logs import Report, parse_report_line
from harness.scenario import trigger_steps
from harness.scenario.data import build_payload
from harness.scenario.expectations import Observed
from harness.scenario.http_client import parse_body
from harness.scenario.model import Step, StepError
from harness.scenario.step_context import StepContext, StepOutcome

Executor = Callable[[Step, Mapping[str, Any], StepContext], StepOutcome]


def execute(step: Step, params: Mapping[str, Any], ctx: StepContext) -> StepOutcome:
    return EXECUTORS[step.kind](step, params, ctx)


def _text(params: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = params.get(name, default)
    if not isinstance(value, str):
        raise StepError(f"{name} must be a string, got {json.dumps(value, default=str)}")
    return value


def _s3_error(exc: Exception) -> tuple[str, str]:
    error = getattr(exc, "response", {}).get("Error", {})
    return str(error.get("Code", type(exc).__name__)), str(error.get("Message", exc))


def _bucket_hint(bucket: str, ctx: StepContext) -> str:
    """For a missing bucket: the bucket asked for, and a near miss this scenario knows."""
    known = {b: "created by this scenario" for b, _r in ctx.made.buckets}
    known.setdefault(ctx.stack.bucket, "the stack's bucket")
    close = difflib.get_close_matches(bucket, list(known), n=1, cutoff=0.8)
    hint = f"; did you mean '{close[0]}' ({known[close[0]]})?" if close else ""
    return f"bucket '{bucket}' does not exist{hint}"


def _timed(call: Callable[[], Any]) -> tuple[Any, Exception | None, float]:
    started = time.perf_counter()
    try:
        result, error = call(), None
    except Exception as exc:  # noqa: BLE001 - botocore errors become observations
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(exc, ClientError | BotoCoreError):
            raise
        result, error = None, exc
    return result, error, (time.perf_counter() - started) * 1000


def _s3_observed(error: Exception | None, latency_ms: float, bucket: str,
                 ctx: StepContext, document: Any = None) -> Observed:
    if error is None:
        return Observed(latency_ms=latency_ms, document=document)
    code, message = _s3_error(error)
    if code == "NoSuchBucket":
        message = f"{message} ({_bucket_hint(bucket, ctx)})"
    return Observed(error=code, error_message=message, latency_ms=latency_ms)


# -- S3 steps ------------------------------------------------------------------------------------

def create_bucket(step: Step, params: Mapping[str, Any], ctx: StepContext) -> StepOutcome:
    bucket = _text(params, "bucket")
    region = _text(params, "region", ctx.stack.region)
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if params.get("location_constraint", region != "us-east-1"):
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3 = ctx.session.client("s3", region)
    _result, error, latency = _timed(lambda: s3.create_bucket(**kwargs))
    if error is None:
        ctx.made.buckets.append((bucket, region))
    observed = _s3_observed(error, latency, bucket, ctx)
    summary = f"{bucket} in {region}" + (f": {observed.error}" if observed.error else "")
    return StepOutcome({"bucket": bucket, "region": region}, observed, summary, s3_step=True)


def upload(step: Step, params: Mapping[str, Any], ctx: StepContext) -> StepOutcome:
    bucket = _text(params, "bucket", ctx.stack.bucket)
    key = _text(params, "key")
    region = _text(params, "region", ctx.stack.region)
    payload = build_payload(params["data"], key, params.get("format"), ctx.scenario.base_dir,
                            ctx.session.dataset)
    s3 = ctx.session.client("s3", region)
    _result, error, latency = _timed(
        lambda: s3.put_object(Bucket=bucket, Key=key, Body=payload.body))
    if error is None:
        ctx.made.objects.append((bucket, key, region))
    observed = _s3_observed(error, latency, bucket, ctx)
    rows = f"{payload.rows} rows, " if payload.rows is not None else ""
    summary = f"s3://{bucket}/{key} ({rows}{len(payload.body)} B)" + (
        f": {observed.error}" if observed.error else "")
    output = {"bucket": bucket, "key": key, "format": payload.fmt, "rows": payload.rows,
              "bytes": len(payload.body)}
    return StepOutcome(output, observed, summary, s3_step=True)


def list_objects(step: Step, params: Mapping[str, Any], ctx: StepContext) -> StepOutcome:
    bucket = _text(params, "bucket", ctx.stack.bucket)
    region = _text(params, "region", ctx.stack.region)
    prefix = _text(params, "prefix", "")
    s3 = ctx.session.client("s3", region)

    def listing() -> list[dict[str, Any]]:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [{"key": item["Key"], "size": int(item["Size"])}
                for page in pages for item in page.get("Contents", [])]

    objects, error, latency = _timed(listing)
    objects = objects or []
    output = {"bucket": bucket, "keys": [o["key"] for o in objects], "count": len(objects),
              "objects": objects}
    observed = _s3_observed(error, latency, bucket, ctx, document=output)
    summary = f"s3://{bucket}/{prefix}: " + (
        observed.error if observed.error else f"{len(objects)} object(s)")
    return StepOutcome(output, observed, summary, s3_step=True)


# -- the API and the function --------------------------------------------------------------------

def _post_url(params: Mapping[str, Any], ctx: StepContext) -> str:
    if "url" in params:
        return _text(params, "url")
    if ctx.template is not None:
        api = _text(params, "api") if "api" in params else None
        stage = _text(params, "stage") if "stage" in params else None
        served_by = str(ctx.session.client("apigateway", ctx.stack.region).meta.endpoint_url)
        return ctx.template.api_url(api, _text(params, "path", "/"), stage, served_by)
    if "api" in params or "path" in params:
        raise StepError("api and path name an API of a template stack (stack: {template: ...}); "
                        "use route for the example stack")
    if "route" in params:
        return ctx.stack.invoke_url.rsplit("/", 1)[0] + "/" + _text(params, "route").lstrip("/")
    return ctx.stack.invoke_url


def post(step: Step, params: Mapping[str, Any], ctx: StepContext) -> StepOutcome:
    url = _post_url(params, ctx)
    headers = {str(k): str(v) for k, v in (params.get("headers") or {}).items()}
    body = b""
    if "json" in params:
        body = json.dumps(params["json"]).encode()
        headers.setdefault("Content-Type", "application/json")
    elif "body" in params:
        body = _text(params, "body").encode("utf-8")
    since_ms = int(time.time() * 1000) - 1
    started = time.perf_counter()
    status, response_headers, raw = ctx.http.request(
        "POST", url, body, headers, float(params.get("timeout_s", 60)))
    latency = (time.perf_counter() - started) * 1000
    document = parse_body(raw)
    report = None
    if step.expect and "report" in step.expect:
        report = ctx.session.next_report(ctx.stack, ctx.stack.function_name, since_ms,
                                         ctx.seen_reports)
    observed = _response_observed(status, document, latency, report)
    output = {"url": url, "status": status, "body": document, "headers": response_headers,
              "latency_ms": round(latency, 3), "report": _report_dict(report)}
    return StepOutcome(output, observed, f"{status} {_describe(document)} in {latency:.0f} ms")


def invoke(step: Step, params: Mapping[str, Any], ctx: StepContext) -> StepOutcome:
    if ctx.template is not None:
        function = ctx.template.function(_text(params, "function") if "function" in params
                                         else None)
    else:
        function = _text(params, "function", ctx.stack.function_name)
    kind = _text(params, "invocation_type", "RequestResponse")
    event = params.get("event", {})
    lam = ctx.session.client("lambda", ctx.stack.region)
    started = time.perf_counter()
    response = lam.invoke(FunctionName=function, InvocationType=kind, LogType="Tail",
                          Payload=json.dumps(event).encode())
    latency = (time.perf_counter() - started) * 1000
    payload = parse_body(response["Payload"].read()) if "Payload" in response else None
    status, body = int(response["StatusCode"]), payload
    if isinstance(payload, dict) and isinstance(payload.get("statusCode"), int):
        status = payload["statusCode"]  # a proxy result: look at what API Gateway would send
        raw_body = payload.get("body")
        body = parse_body(raw_body.encode()) if isinstance(raw_body, str) else raw_body
    report = _tail_report(response.get("LogResult"))
    function_error = response.get("FunctionError")
    observed = _response_observed(status, body, latency, report, function_error)
    output = {"function": function, "status": status, "function_error": function_error,
              "payload": payload, "body": body, "latency_ms": round(latency, 3),
              "report": _report_dict(report)}
    summary = f"{function}: {status}" + (f" {function_error}" if function_error else "") + \
        f" {_describe(body)} in {latency:.0f} ms"
    return StepOutcome(output, observed, summary)


def wait(step: Step, params: Mapping[str, Any], ctx: StepContext) -> StepOutcome:
    seconds = params["seconds"]
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise StepError(f"seconds must be a number of seconds, got {seconds!r}")
    time.sleep(float(seconds))
    return StepOutcome({"seconds": seconds}, Observed(), f"{seconds:g} s")


def advance_clock(step: Step, params: Mapping[str, Any], ctx: StepContext) -> StepOutcome:
    """Move the emulator's clock forward: retries, event ages and schedules due by then fire."""
    seconds = params["seconds"]
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise StepError(f"seconds must be a number of seconds >= 0, got {seconds!r}")
    if ctx.session.endpoint_url is None:
        raise StepError("advance_clock needs the harness emulator's clock; real AWS has none")
    now = ClockClient(ctx.session.endpoint_url).advance(float(seconds))
    shown = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    return StepOutcome({"seconds": seconds, "now": now}, Observed(),
                       f"+{seconds:g} s (harness time {shown})")


def _response_observed(status: int, document: Any, latency: float, report: Report | None,
                       function_error: str | None = None) -> Observed:
    error = message = None
    if isinstance(document, dict):
        error = document.get("error") if isinstance(document.get("error"), str) else None
        message = document.get("message") if isinstance(document.get("message"), str) else None
    return Observed(status=status, document=document, error=error, error_message=message,
                    latency_ms=latency, report=report, function_error=function_error)


def _tail_report(log_result: str | None) -> Report | None:
    if not log_result:
        return None
    text = base64.b64decode(log_result).decode("utf-8", "replace")
    reports = [parse_report_line(line) for line in text.splitlines()]
    found = [report for report in reports if report is not None]
    return found[-1] if found else None


def _report_dict(report: Report | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {**asdict(report), "cold": report.cold}


def _describe(document: Any) -> str:
    if isinstance(document, dict):
        if isinstance(document.get("predictions"), list):
            return f"{len(document['predictions'])} predictions"
        if "error" in document:
            return str(document["error"])
    text = json.dumps(document, default=str) if not isinstance(document, str) else document
    return text if len(text) <= 60 else text[:57] + "..."


EXECUTORS: dict[str, Executor] = {
    "create_bucket": create_bucket,
    "upload": upload,
    "list": list_objects,
    "post": post,
    "invoke": invoke,
    "wait": wait,
    "send_message": trigger_steps.send_message,
    "publish": trigger_steps.publish,
    "put_events": trigger_steps.put_events,
    "wait_for": trigger_steps.wait_for,
    "advance_clock": advance_clock,
}
