"""Asynchronous (Event) invocation as Lambda runs it: an internal queue, retries of a function
error after about 1 and 2 minutes, throttles retried with backoff without using an attempt, the
event's maximum age, then the record to the OnSuccess or OnFailure destination and the event to
the dead-letter queue. https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html

Every wait is a timer on the harness's clock (`harness.clock.Clock`), never a sleeping thread:
a test advances the clock a minute and the retry runs at once. Runs happen on a small pool,
each through ``LambdaService.invoke``, so limits, concurrency, logs and faults apply.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from harness.aws_state import destinations, lambda_async
from harness.clock import Clock, Timer
from harness.errors import AwsError, HarnessError, ResourceNotFoundError, TooManyRequestsError
from harness.lambda_.event_config import AsyncSettings, arn_service
from harness.lambda_.invoke_params import parse_function_name
from harness.lambda_.service import InvokeRequest, LambdaService, fast_uuid
from harness.lambda_.spec import FunctionSpec
from harness.triggers.async_records import (
    EVENT_AGE_EXCEEDED,
    RETRIES_EXHAUSTED,
    SUCCESS,
    ZERO_RESERVED_CONCURRENCY,
    Attempt,
    dead_letter_attributes,
    destination_record,
    event_detail_type,
    failure_object_key,
    may_retry_within,
    record_text,
    retry_delay,
    throttle_delay,
)

log = logging.getLogger("harness.triggers.async")
WORKERS = 4


@dataclass(eq=False)
class AsyncEvent:
    """One accepted event, from its queueing to its last delivery."""

    request: InvokeRequest
    request_id: str
    """Kept by every run of the event, as AWS keeps it."""
    account: str
    region: str
    name: str
    qualifier: str
    """The version or alias invoked ($LATEST when none): its event invoke config applies."""
    enqueued_at: float
    """Harness clock seconds; the event's age counts from here."""
    attempts: int = 0
    """Runs of the function (throttles are not attempts)."""
    throttles: int = 0
    """Refusals in a row since the last run (the backoff's exponent)."""
    last: Attempt | None = None
    last_throttled: bool = False
    due: float | None = None
    """When it waits on the clock: when its next try is due."""
    timer: Timer | None = None

    @property
    def function_arn(self) -> str:
        """The qualified ARN the records name (``...:$LATEST`` for an unqualified invoke)."""
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}:{self.qualifier}"


@dataclass(frozen=True)
class PendingEvent:
    request_id: str
    function: str
    attempts: int
    due: float | None
    """Harness clock seconds of its next try; None while it runs or is about to."""


AsyncObserver = Callable[[str, "AsyncEvent", float], None]
"""``observer(metric, event, value)``: AsyncEventsReceived, AsyncEventAge (ms),
AsyncEventsDropped, DeadLetterErrors, DestinationDeliveryFailures, as Lambda counts them."""


class AsyncInvoker:
    """Lambda's asynchronous queue: ``LambdaService`` hands it every Event invocation."""

    def __init__(self, lambdas: LambdaService, clock: Clock, workers: int = WORKERS) -> None:
        lambda_async.install()
        self._lambdas = lambdas
        self._clock = clock
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lambda-event")
        self._cond = threading.Condition()
        self._events: dict[str, AsyncEvent] = {}
        self._closing = False
        self._observers: list[AsyncObserver] = []
        lambdas.set_event_queue(self)

    def add_observer(self, observer: AsyncObserver) -> None:
        self._observers.append(observer)

    def _tell(self, metric: str, event: AsyncEvent, value: float = 1.0) -> None:
        for observer in self._observers:
            observer(metric, event, value)

    # -- the queue -----------------------------------------------------------------------------
    def enqueue(self, spec: FunctionSpec, request: InvokeRequest) -> str:
        named = parse_function_name(request.function)
        event = AsyncEvent(request=request, request_id=fast_uuid(), account=spec.account_id,
                           region=spec.region, name=spec.name,
                           qualifier=request.qualifier or named.qualifier or "$LATEST",
                           enqueued_at=self._clock.now())
        with self._cond:
            if self._closing:
                raise AwsError("the emulator is shutting down", code="ServiceException")
            self._events[event.request_id] = event
            self._pool.submit(self._run, event)
        self._tell("AsyncEventsReceived", event)
        return event.request_id

    def pending(self) -> list[PendingEvent]:
        """Events not ended yet, those waiting on the clock with their due time."""
        with self._cond:
            return [PendingEvent(e.request_id, e.name, e.attempts, e.due)
                    for e in self._events.values()]

    def wait_for_events(self, timeout: float) -> bool:
        """Whether every event accepted so far ended (its records delivered) within
        ``timeout`` seconds; one waiting on the clock for a retry has not."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._events, timeout)

    def wait_until_settled(self, timeout: float) -> bool:
        """Whether, within ``timeout`` seconds, nothing runs and nothing is due: every event
        left waits on the clock for a time still to come."""
        with self._cond:
            return self._cond.wait_for(self._settled, timeout)

    def _settled(self) -> bool:
        now = self._clock.now()
        return all(e.due is not None and e.due > now for e in self._events.values())

    # -- one try -------------------------------------------------------------------------------
    def _run(self, event: AsyncEvent) -> None:
        with self._cond:
            if self._events.get(event.request_id) is not event:
                return  # reset meanwhile
        try:
            self._try(event)
        except Exception:  # a bug must not lose the event silently nor kill the worker
            log.exception("asynchronous event %s of %s failed", event.request_id, event.name)
            self._forget(event)

    def _try(self, event: AsyncEvent) -> None:
        settings = lambda_async.async_settings(event.account, event.region, event.name,
                                               event.qualifier)
        if settings is None:
            log.warning("%s:%s is gone: its event %s is dropped", event.name, event.qualifier,
                        event.request_id)
            return self._forget(event)
        if self._clock.now() >= event.enqueued_at + settings.max_age_s:
            return self._finish(event, settings, EVENT_AGE_EXCEEDED)
        self._tell("AsyncEventAge", event, (self._clock.now() - event.enqueued_at) * 1000)
        try:
            result = self._lambdas.invoke(replace(
                event.request, invocation_type="RequestResponse", log_type="None",
                request_id=event.request_id))
        except TooManyRequestsError:
            return self._throttled(event, settings)
        except ResourceNotFoundError:
            log.warning("%s is gone: its event %s is dropped", event.name, event.request_id)
            return self._forget(event)
        except AwsError as error:
            if error.status < 500:
                log.warning("event %s of %s refused: %s", event.request_id, event.name,
                            error.message)
                return self._forget(event)
            return self._throttled(event, settings)  # system errors: retried as throttles
        event.attempts, event.throttles, event.last_throttled = event.attempts + 1, 0, False
        event.last = Attempt(result.payload, result.executed_version or "$LATEST",
                             result.function_error)
        self._after_run(event, settings)

    def _after_run(self, event: AsyncEvent, settings: AsyncSettings) -> None:
        assert event.last is not None
        if event.last.function_error is None:
            return self._finish(event, settings, SUCCESS)
        if event.attempts > settings.max_retries:
            return self._finish(event, settings, RETRIES_EXHAUSTED)
        delay = retry_delay(event.attempts)
        elapsed = self._clock.now() - event.enqueued_at
        if not may_retry_within(elapsed, delay, settings.max_age_s):
            return self._finish(event, settings, EVENT_AGE_EXCEEDED)
        self._wait(event, self._clock.now() + delay)

    def _throttled(self, event: AsyncEvent, settings: AsyncSettings) -> None:
        """No concurrency: tried again after a backoff, without using an attempt, until the
        event's age runs out; with reserved concurrency 0, given up at once, unrun (AWS's note
        in invocation-async-retain-records.html)."""
        if settings.reserved_concurrency == 0:
            return self._finish(event, settings, ZERO_RESERVED_CONCURRENCY)
        event.throttles += 1
        event.last_throttled = True
        deadline = event.enqueued_at + settings.max_age_s
        self._wait(event, min(self._clock.now() + throttle_delay(event.throttles), deadline))

    def _wait(self, event: AsyncEvent, due: float) -> None:
        with self._cond:
            if self._events.get(event.request_id) is not event:
                return  # reset or closed meanwhile
            try:
                event.timer = self._clock.call_at(due, lambda: self._due(event),
                                                  name=f"async event {event.request_id}")
            except RuntimeError:  # the clock is closed: the emulator is stopping
                self._events.pop(event.request_id, None)
            else:
                event.due = due
            self._cond.notify_all()

    def _due(self, event: AsyncEvent) -> None:
        """On the clock's thread: hand the try to the pool (quickly)."""
        with self._cond:
            if self._events.get(event.request_id) is not event or self._closing:
                return
            event.due, event.timer = None, None
            self._pool.submit(self._run, event)
            self._cond.notify_all()

    def _forget(self, event: AsyncEvent) -> None:
        with self._cond:
            if self._events.get(event.request_id) is event:
                del self._events[event.request_id]
            self._cond.notify_all()

    # -- the end of an event -------------------------------------------------------------------
    def _finish(self, event: AsyncEvent, settings: AsyncSettings, condition: str) -> None:
        with self._cond:
            if self._events.get(event.request_id) is not event:
                return  # reset meanwhile: its records are not sent
        log.info("event %s of %s: %s after %d run(s)", event.request_id, event.function_arn,
                 condition, event.attempts)
        record = destination_record(
            request_id=event.request_id, function_arn=event.function_arn, condition=condition,
            invoke_count=event.attempts, request_payload=event.request.payload,
            attempt=event.last if condition != ZERO_RESERVED_CONCURRENCY else None,
            when=self._clock.now())
        target = settings.on_success if condition == SUCCESS else settings.on_failure
        if condition != SUCCESS:
            self._tell("AsyncEventsDropped", event)
        try:
            if target:
                self._deliver(target, record_text(record), condition, event)
            if condition != SUCCESS and settings.dead_letter:
                self._dead_letter(settings.dead_letter, event, condition)
        finally:
            self._forget(event)

    def _deliver(self, target: str, text: str, condition: str, event: AsyncEvent) -> None:
        """The record to a destination; a refusal is logged (AWS counts it in the
        DestinationDeliveryFailures metric), the event still ends."""
        service = arn_service(target)
        try:
            if service == "sqs":
                destinations.send_to_queue(target, text)
            elif service == "sns":
                destinations.publish_to_topic(target, text)
            elif service == "events":
                destinations.put_event(target, "lambda", event_detail_type(condition), text,
                                       [target, event.function_arn])
            elif service == "s3":
                key = failure_object_key(event.name, self._clock.now(), str(uuid.uuid4()))
                destinations.put_object(target, key, text.encode(), event.account)
            elif service == "lambda":
                self._lambdas.invoke(InvokeRequest(function=target, payload=text.encode(),
                                                   invocation_type="Event"))
        except HarnessError as error:
            log.warning("the %s record of event %s could not go to %s: %s", condition,
                        event.request_id, target, error.message)
            self._tell("DestinationDeliveryFailures", event)

    def _dead_letter(self, target: str, event: AsyncEvent, condition: str) -> None:
        """The event, unchanged, with RequestID, ErrorCode and ErrorMessage attributes."""
        attributes = dead_letter_attributes(event.request_id, condition, event.last,
                                            event.last_throttled)
        body = (event.request.payload or b"{}").decode("utf-8", "replace")
        try:
            if arn_service(target) == "sns":
                destinations.publish_to_topic(target, body, attributes)
            else:
                destinations.send_to_queue(target, body, attributes)
        except HarnessError as error:
            log.warning("event %s could not go to its dead-letter queue %s: %s",
                        event.request_id, target, error.message)
            self._tell("DeadLetterErrors", event)

    # -- lifecycle -----------------------------------------------------------------------------
    def _drop_all(self) -> None:
        with self._cond:
            for event in self._events.values():
                if event.timer is not None:
                    event.timer.cancel()
            self._events.clear()
            self._cond.notify_all()

    def reset(self) -> None:
        """Forget every event: waiting ones never run again, running ones send nothing."""
        self._drop_all()

    def close(self) -> None:
        """Refuse new events and drop the queued ones; ``join`` waits for the running ones."""
        with self._cond:
            self._closing = True
        self._drop_all()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def join(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
