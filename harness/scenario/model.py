"""A parsed, validated scenario as frozen values; the runner reads nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_REGION = "eu-west-2"  # the seed's region
DEFAULT_EXAMPLES = 50
DEFAULT_MAX_ROWS = 20


class StepError(Exception):
    """A step could not be carried out (bad data, unresolvable reference); the message says why."""


@dataclass(frozen=True)
class FunctionSource:
    """Code to deploy instead of the example function as is."""

    files: tuple[tuple[str, str], ...] = ()
    """(name, text) pairs: inline files, and the files read from ``dir``."""
    handler: str | None = None
    """module.function; None keeps the example's ``handler.lambda_handler``."""
    base: str = "example"
    """``example``: the files go on top of the example function; ``none``: only the files."""


@dataclass(frozen=True)
class TemplateSource:
    """The template a scenario deploys, and how."""

    path: Path
    """Absolute path of the template file."""
    parameters: tuple[tuple[str, str], ...] = ()
    name: str | None = None
    """The stack's name; None: one made of the template's directory (and the request's hash)."""


@dataclass(frozen=True)
class StackRequest:
    """What a scenario needs deployed; the runner reuses a stack when two requests are equal."""

    region: str = DEFAULT_REGION
    bucket: str | None = None
    """None: a bucket named after the stack."""
    allow_pickle_features: bool = False
    upload_trigger: bool = False
    """Uploads under features/ trigger the function (predictions under predictions/)."""
    allowed_buckets: tuple[str, ...] = ()
    """Buckets the function accepts besides the stack's own (ALLOWED_BUCKETS)."""
    readable_buckets: tuple[str, ...] = ()
    """Buckets besides the stack's own whose objects the function's role may read."""
    memory_mb: int = 512
    timeout_s: int = 30
    env: tuple[tuple[str, str], ...] = ()
    function: FunctionSource | None = None
    template: TemplateSource | None = None
    """The user's own template, deployed instead of the example stack (``region`` applies)."""


@dataclass(frozen=True)
class Step:
    """One step: its kind (``upload``, ``post``, ...), parameters and expectations, unresolved."""

    index: int
    """1-based position in the file."""
    kind: str
    params: Mapping[str, Any]
    expect: Mapping[str, Any] | None
    line: int
    id: str | None = None
    name: str | None = None
    faults: tuple[Mapping[str, Any], ...] = ()
    """Fault rules (unresolved) in force while this step runs."""

    @property
    def title(self) -> str:
        """How reports name the step: ``2 upload`` or ``2 upload (features)``."""
        label = self.name or self.id
        return f"{self.index} {self.kind}" + (f" ({label})" if label else "")


@dataclass(frozen=True)
class PropertySection:
    """How many generated inputs to try, from which families, with which seed."""

    line: int
    examples: int = DEFAULT_EXAMPLES
    seed: int | None = None
    derandomize: bool = False
    inputs: tuple[str, ...] = ("features", "keys", "bodies")
    formats: tuple[str, ...] | None = None
    """None: npy, csv, json, and joblib when the stack allows pickled features."""
    max_rows: int = DEFAULT_MAX_ROWS
    classes: tuple[Any, ...] | None = None
    """None: the classes the function reports in its answers."""
    url: str | None = None
    bucket: str | None = None


@dataclass(frozen=True)
class Scenario:
    path: Path
    shown_path: str
    """The path as the user gave it; messages and reproduce commands use it."""
    name: str
    steps: tuple[Step, ...]
    stack: StackRequest = field(default_factory=StackRequest)
    description: str = ""
    variables: Mapping[str, Any] = field(default_factory=dict)
    properties: PropertySection | None = None
    requires: tuple[str, ...] = ()
    has_load: bool = False
    """The file also has a ``load:`` section (run by ``harness load``, not here)."""
    faults: tuple[Mapping[str, Any], ...] = ()
    """Fault rules (unresolved) in force while the steps and the property section run."""

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def runnable(self) -> bool:
        """Whether ``harness run`` has anything to do: steps or a property section."""
        return bool(self.steps) or self.properties is not None


STACK_FIELDS = ("invoke_url", "api_url", "bucket", "function_name", "function_arn", "api_id",
                "stage", "region", "endpoint_url")
"""What ``${stack.<field>}`` can name."""


TEMPLATE_STACK_FIELDS = ("outputs", "name", "region")
"""What ``${stack.<field>}`` can name when the scenario deploys a template."""


def stack_scope(stack: Any, template: Any = None) -> dict[str, Any]:
    """The ``stack`` variables of a deployed `harness.deploy.Stack`, or of a template's stack
    (a `harness.scenario.template_stack.TemplateStack`)."""
    from dataclasses import asdict

    if template is not None:
        return {"outputs": dict(template.outputs), "name": template.name,
                "region": template.region}
    values = asdict(stack)
    values["api_url"] = stack.invoke_url.rsplit("/", 1)[0]
    return {name: values.get(name) for name in STACK_FIELDS}


STEP_OUTPUTS: dict[str, tuple[str, ...]] = {
    "create_bucket": ("bucket", "region"),
    "upload": ("bucket", "key", "format", "rows", "bytes"),
    "list": ("bucket", "keys", "count", "objects"),
    "post": ("url", "status", "body", "headers", "latency_ms", "report"),
    "invoke": ("function", "status", "function_error", "payload", "body", "latency_ms",
               "report"),
    "wait": ("seconds",),
    "advance_clock": ("seconds", "now"),
    "send_message": ("queue_url", "message_id"),
    "publish": ("topic_arn", "message_id"),
    "put_events": ("failed_entry_count", "event_ids"),
    "wait_for": ("function", "invocations", "bucket", "key", "bytes", "body", "error",
                 "queue_url", "count", "messages"),
}
"""What ``${steps.<id>.<field>}`` can name, per step kind."""
