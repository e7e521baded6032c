"""The embedded emulator: one HTTP server (harness.http_core) serving every API the loop needs."""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from harness.clock import Clock
from harness.config import EmulatorConfig
from harness.errors import UsageError
from harness.faults import FaultInjector
from harness.http_core import HttpCore, Limits, Request, Response, wsgi_handler
from harness.http_guard import RequestGuard
from harness.lambda_.cloudwatch import LogBounds, LogWriter
from harness.lambda_.executors import ExecutorSelector
from harness.lambda_.service import LambdaService
from harness.ledger import RequestLedger, ledger_middleware

if TYPE_CHECKING:  # moto is imported when an emulator starts, not with the package: a Locust
    # worker imports the CLI, and moto's requests must not be loaded before gevent patches ssl
    from harness.iam.room import Iam
    from harness.metrics import Metrics
    from harness.triggers import Triggers


def _moto_app():  # type: ignore[no-untyped-def]
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from harness.aws_state import (
        hot_reload,
        lambda_layers,
        moto_dispatch,
        s3_list_params,
        s3_listing,
        sns_signing,
    )
    from harness.templates.endpoint import CloudFormationMiddleware

    moto_dispatch.install()  # moto's service list read once, not on every request
    hot_reload.install()  # Code {S3Bucket: hot-reload, S3Key: /dir}: LocalStack's convention
    lambda_layers.install()  # Lambda's limits on code and layers, which moto does not check
    sns_signing.install()  # one certificate per subscription, not one per message
    s3_listing.install()  # ListObjects(V2) written without moto's generic serializer
    s3_list_params.install()  # max-keys and continuation tokens refused as S3 refuses them
    # CloudFormation's write actions get the SAM transform and rollbacks before moto.
    return CloudFormationMiddleware(DomainDispatcherApplication(create_backend_app))


def _shortcuts(config: EmulatorConfig) -> tuple[Callable[..., Any], ...]:
    """The calls answered from moto's state without moto's app, as configured."""
    from harness.aws_state import s3_objects, sqs_calls

    return ((s3_objects.answer,) if config.s3_fast_reads else ()) + (
        (sqs_calls.answer,) if config.sqs_fast_calls else ())


def reset_moto() -> None:
    """Clear every moto backend (what POST /moto-api/reset does)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def _listen(host: str, port: int) -> socket.socket:
    family, kind, proto, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


# Largest request body the emulator reads (S3 single PUTs included); larger ones get 413 unread.
MAX_BODY = 128 * 1024 * 1024
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
_NOT_ALLOWED = Response(405, [("Allow", ", ".join(METHODS)), ("Content-Type", "application/json")],
                        b'{"message":"method not allowed"}', close=True)


def _methods(request: Request) -> Response | None:
    """Any other method is a client mistake, answered before its body is read: 405."""
    return None if request.method in METHODS else _NOT_ALLOWED


def serve(listener: socket.socket, app: Callable[..., Iterable[bytes]]) -> HttpCore:
    """The emulator's HTTP server: ``app`` (WSGI) on the one HTTP core, a thread per
    connection (a function's call back into the emulator, an S3 read, must never wait for a
    pooled thread its own invocation holds); not started."""
    return HttpCore(listener, wsgi_handler(app, listener.getsockname()),
                    limits=Limits(max_body=MAX_BODY), screen=_methods, name="emulator-http")


class Emulator:
    """Start with ``with Emulator(config) as emu:``; ``emu.url`` is the endpoint."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self._server: HttpCore | None = None
        self._port = 0
        self.lambdas: LambdaService | None = None
        self.faults = FaultInjector()
        self.ledger = RequestLedger(self.config.ledger_max_entries)
        self.clock = Clock()
        """The harness's time: schedules, retry delays and event ages; tests advance it."""
        self.triggers: Triggers | None = None
        self.metrics: Metrics | None = None
        self.iam: Iam | None = None
        """Execution-role credentials and the IAM checks (imported at start: moto's IAM)."""
        self._launcher: ExecutorSelector | None = None
        self._gateway: Any = None  # harness.apigw.gateway.ExecuteApiGateway, once started
        self._url = ""

    @property
    def url(self) -> str:
        if not self._url:
            raise UsageError("the emulator is not running")
        return self._url

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._port

    def _served_port(self) -> int | None:
        return self.port if self._server is not None else None

    def start(self) -> Emulator:
        from harness.apigw.gateway import ExecuteApiGateway
        from harness.emulator.app import EmulatorApp
        from harness.iam.room import Iam
        from harness.metrics import Metrics
        from harness.triggers import Triggers
        from harness.triggers.function_urls import FunctionUrls

        guard = self._guard()  # a bad name or origin is refused before anything starts
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        writer = LogWriter(echo=sys.stderr if self.config.log_to_console else None,
                           bounds=LogBounds(self.config.log_events_per_stream,
                                            self.config.log_bytes_per_stream,
                                            self.config.log_streams_per_group))
        iam = self.iam = Iam(self.config.iam)
        self._launcher = ExecutorSelector(lambda: self.url, self.config.lambda_,
                                          self.config.state_dir,
                                          credentials=iam.credentials_for)
        self.lambdas = LambdaService(self.config, self._launcher, writer, faults=self.faults)
        self.lambdas.watch_publishes()
        self._gateway = ExecuteApiGateway(self.lambdas, self.config)
        self.triggers = Triggers(self.lambdas, self.clock, self.config)
        self.metrics = Metrics(self.lambdas, self.clock, self._gateway)
        self.triggers.async_events.add_observer(self.metrics.async_point)
        self.triggers.sqs.add_stop_observer(self.metrics.recursion_point)
        # Served by the app, owned (reset, closed) by the room; its URLs name this port.
        urls = FunctionUrls(self.lambdas, port=self._served_port)
        self.triggers.add(urls)
        app = ledger_middleware(EmulatorApp(_moto_app(), self.lambdas, self._gateway,
                                            self.reset, faults=self.faults,
                                            guard=guard, clock=self.clock,
                                            usage=self.metrics.usage_json,
                                            function_urls=urls, iam=iam,
                                            shortcuts=_shortcuts(self.config)), self.ledger)
        try:
            listener = _listen(self.config.host, self.config.port)
        except OSError as exc:
            self.triggers.close()
            self.metrics.close()
            self.lambdas.close()
            iam.close()
            self.iam = None
            raise UsageError(
                f"cannot listen on {self.config.host}:{self.config.port}: {exc.strerror or exc}"
                " (is another emulator running? use --port 0 for a free port)") from None
        self._port = int(listener.getsockname()[1])
        self._server = serve(listener, app).start()
        host = self.config.host
        shown = f"[{host}]" if ":" in host else host
        self._url = f"http://{shown}:{self.port}"
        return self

    def _guard(self) -> RequestGuard:
        try:
            return RequestGuard.for_listener(self.config.host, self.config.allowed_hosts,
                                             self.config.allowed_origins)
        except ValueError as exc:
            raise UsageError(f"bad allowed host or origin: {exc}") from None

    def reset(self) -> None:
        """Forget every bucket, function, API and log; stop every environment."""
        if self.triggers is not None:
            self.triggers.reset()
        self.clock.reset()
        if self.metrics is not None:
            self.metrics.reset()
        if self.lambdas is not None:
            self.lambdas.reset()
        if self.iam is not None:
            self.iam.reset()
        self.faults.clear()
        self.ledger.clear()
        reset_moto()

    def stop(self) -> None:
        """Stop event sources and environments, then the HTTP server and its threads. Safe to
        call twice."""
        if self.triggers is not None:
            self.triggers.close()  # first: no source delivers into a closing Lambda service
            self.triggers = None
        if self.metrics is not None:
            self.metrics.close()
            self.metrics = None
        self.clock.close()
        self.clock = Clock()  # a stopped emulator can start again
        if self.lambdas is not None:
            self.lambdas.close()
        if self._launcher is not None:
            self._launcher.close()
        if self.iam is not None:
            self.iam.close()
            self.iam = None
        if self._server is not None:
            self._server.close()  # idle keep-alives cut at once, a busy request gets a second
        self._server = None
        self._url = ""

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
