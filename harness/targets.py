"""Where scenarios and tests run: the embedded emulator, an endpoint already running, LocalStack's
S3 next to the harness (``localstack``, ``compose``) or real AWS. `open_target` is the one place
that turns a choice into endpoints.

- ``embedded``: an emulator started here (or ``endpoint_url``, one already running).
- ``localstack``: the same, with S3 served by LocalStack at ``s3_endpoint_url`` (default
  http://127.0.0.1:4566): functions and APIs run in the harness, buckets and objects live there.
- ``compose``: what ``docker compose up`` runs (docker-compose.yml): the harness at
  http://127.0.0.1:4567, LocalStack's S3 at http://127.0.0.1:4566; both must answer their health.
- ``aws``: no endpoint at all; boto3 resolves every service as usual (``AWS_ENDPOINT_URL``
  included, which is how that path is tested against an emulator).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.config import EmulatorConfig
from harness.errors import UsageError

if TYPE_CHECKING:
    from harness.emulator import Emulator

TARGETS = ("embedded", "localstack", "compose", "aws")
DEFAULT_TARGET = "embedded"
FIXTURE_TARGETS = ("embedded",)
"""What the pytest fixtures can run on so far; ``harness run`` takes every one of TARGETS."""
LOCALSTACK_URL = "http://127.0.0.1:4566"
"""LocalStack's S3: docker-compose.yml publishes it here, and so does a LocalStack of one's own."""
COMPOSE_HARNESS_URL = "http://127.0.0.1:4567"
"""The harness service of docker-compose.yml (HARNESS_PORT 4567 on the host's network)."""
_COMPOSE_FIX = "start it with `docker compose up -d --build --wait`"


@dataclass(frozen=True)
class Endpoint:
    """A target that is up: the URL every AWS client uses, and the emulator when we own it."""

    kind: str
    url: str
    """Empty for real AWS, where boto3 resolves each service's endpoint itself."""
    emulator: Emulator | None = None
    """The embedded emulator, when this process started it (its listeners are then usable)."""
    s3_url: str | None = None
    """S3 served elsewhere (LocalStack): buckets and objects go there, not to ``url``."""

    @property
    def endpoint_url(self) -> str | None:
        """``url`` for boto3's ``endpoint_url``: None for real AWS."""
        return self.url or None


def check_target(kind: str, supported: Collection[str] = FIXTURE_TARGETS) -> str:
    """``kind`` when it is one of ``supported`` (``harness run`` passes TARGETS); UsageError
    otherwise."""
    if kind not in TARGETS:
        raise UsageError(f"unknown target {kind!r}; use one of {', '.join(TARGETS)}")
    if kind not in supported:
        raise UsageError(
            f"target {kind!r} is not supported yet here: use the default (embedded), or "
            "--endpoint-url URL for an emulator that is already running (harness up)")
    return kind


def docker_problem() -> str | None:
    """Why no Docker engine can be used, or None when one answers."""
    try:
        from harness.container.engine import engine_problem
    except ImportError:  # pragma: no cover - the container tier is optional
        return "the container tier is not installed (pip install 'harness[container]')"
    return engine_problem()


def aws_credentials_problem() -> str | None:
    """Why no AWS credentials can be found, or None when boto3 finds some."""
    import boto3

    if boto3.session.Session().get_credentials() is None:
        return ("none found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "or run where an instance role applies)")
    return None


def unmet_requirement(requires: tuple[str, ...] | list[str]) -> str | None:
    """The first of ``docker``/``aws`` that this machine cannot provide, said as a skip reason."""
    for need in requires:
        if need == "docker" and (problem := docker_problem()):
            return f"needs a Docker engine: {problem}"
        if need == "aws" and (problem := aws_credentials_problem()):
            return f"needs AWS credentials: {problem}"
    return None


def health_problem(url: str, path: str, service: str | None = None) -> str | None:
    """Why ``url + path`` does not answer as a healthy endpoint (with ``service`` running when
    its reply lists services), or None when it does."""
    import json
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    try:
        with opener.open(f"{url}{path}", timeout=5) as reply:
            body = json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return f"{url}{path} answered HTTP {exc.code}"
    except urllib.error.URLError as exc:
        reason = getattr(exc.reason, "strerror", None) or exc.reason
        return f"nothing answers {url}{path} ({reason})"
    except (OSError, ValueError) as exc:
        return f"{url}{path} did not answer with health JSON ({exc})"
    services = body.get("services") if isinstance(body, dict) else None
    if service and isinstance(services, dict) and \
            services.get(service) not in ("available", "running"):
        return f"{url}{path} says {service} is {services.get(service) or 'not enabled'}"
    return None


def _require(problem: str | None, what: str, fix: str) -> None:
    if problem:
        raise UsageError(f"{what}: {problem}; {fix}")


@contextmanager
def open_target(kind: str = DEFAULT_TARGET, endpoint_url: str | None = None,
                config: EmulatorConfig | None = None, s3_endpoint_url: str | None = None,
                supported: Collection[str] = FIXTURE_TARGETS) -> Iterator[Endpoint]:
    """Yield the endpoints for ``kind``: given URLs as they are (checked for compose and
    LocalStack), or an embedded emulator started here for the harness side."""
    check_target(kind, supported)
    endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
    s3_url = (s3_endpoint_url or LOCALSTACK_URL).rstrip("/") \
        if kind in ("localstack", "compose") else None
    if kind == "aws":
        yield Endpoint(kind, "")
        return
    if kind == "compose":
        endpoint_url = endpoint_url or COMPOSE_HARNESS_URL
        _require(health_problem(endpoint_url, "/_harness/health"),
                 "--target compose: the harness service is not up", _COMPOSE_FIX +
                 " (or pass --endpoint-url)")
    if s3_url is not None:
        fix = _COMPOSE_FIX if kind == "compose" else \
            "start LocalStack there (docker compose up -d localstack), or pass --s3-endpoint-url"
        _require(health_problem(s3_url, "/_localstack/health", "s3"),
                 f"--target {kind}: LocalStack's S3 is not up", fix)
    if endpoint_url:
        yield Endpoint(kind, endpoint_url, s3_url=s3_url)
        return
    from harness.emulator import Emulator

    config = config or EmulatorConfig.from_env().with_overrides(port=0, host="127.0.0.1")
    with Emulator(config) as emulator:
        yield Endpoint(kind, emulator.url, emulator, s3_url=s3_url)
