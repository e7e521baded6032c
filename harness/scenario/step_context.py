"""What the steps of one scenario share, and what a step returns."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from harness.deploy import Stack
from harness.scenario.expectations import Observed
from harness.scenario.http_client import HttpHelper
from harness.scenario.model import Scenario
from harness.scenario.session import Made, ScenarioSession
from harness.scenario.template_stack import TemplateStack


@dataclass
class StepContext:
    """What the steps of one scenario share."""

    session: ScenarioSession
    stack: Stack
    scenario: Scenario
    made: Made = field(default_factory=Made)
    seen_reports: set[str] = field(default_factory=set)
    http: HttpHelper = field(default_factory=HttpHelper)
    template: TemplateStack | None = None
    """The user's template stack, when the scenario deploys one: steps name its logical ids."""
    started_ms: int = field(default_factory=lambda: int(time.time() * 1000) - 1)
    """When the scenario's steps began: ``wait_for`` counts invocations from here."""


@dataclass(frozen=True)
class StepOutcome:
    output: dict[str, Any]
    """What ``${steps.<id>.<field>}`` reads."""
    observed: Observed
    summary: str
    """One line for the progress display."""
    s3_step: bool = False
