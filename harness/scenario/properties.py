"""The property run: hypothesis generates inputs, each is sent through the deployed API, and the
invariants are checked for every one. A failure is shrunk, printed, and made reproducible.

Invariants: a valid input gives 200, one prediction per row, each among the model's classes;
an invalid input gives a 4xx with a message; nothing gives a 5xx; and after every input a
known-good request still gives 200 (the environment survived).
"""

from __future__ import annotations

import hashlib
import json
import random
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import interrupts
from harness.errors import HarnessError, UsageError
from harness.features import encode_features
from harness.scenario.examples import (
    BodyExample,
    Example,
    FeaturesExample,
    KeyExample,
    example_to_text,
)
from harness.scenario.http_client import parse_body
from harness.scenario.model import PropertySection
from harness.scenario.steps import StepContext

KNOWN_GOOD_KEY = "property/known-good.npy"
OTHER_BUCKET = "harness-not-allowed"
INLINE_LIMIT = 2000  # longer examples are written to a file for the reproduce command
FAILURES_DIR = Path(".harness") / "failures"


@dataclass(frozen=True)
class PropertyOptions:
    """How to search: from the command line or the environment, over the file's section."""

    ci: bool = False
    """Derandomise when the file gives no seed (the same examples on every run)."""
    seed: int | None = None
    """Overrides the file's seed."""
    only_example: str | None = None
    """Replay this one example (JSON) instead of searching."""
    examples: int | None = None
    """Overrides the file's example count."""


@dataclass(frozen=True)
class PropertyFailure:
    example: Example
    problems: tuple[str, ...]
    reproduce: tuple[str, ...]
    """Commands that replay the failure."""

    def render(self) -> list[str]:
        lines = [f"falsifying example (shrunk): {self.example.describe()}"]
        lines += [f"  - {problem}" for problem in self.problems]
        lines += [f"reproduce: {command}" for command in self.reproduce]
        return lines


@dataclass(frozen=True)
class PropertyResult:
    examples: int
    """Examples sent (shrinking included)."""
    seed: int | None
    derandomized: bool
    duration_s: float
    failure: PropertyFailure | None = None
    error: str | None = None
    """The run could not start (the known-good request failed, say)."""

    @property
    def passed(self) -> bool:
        return self.failure is None and self.error is None


class _Violation(Exception):
    def __init__(self, example: Example, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.example = example
        self.problems = problems


def invariant_problems(valid: bool, rows: int, status: int, document: Any,
                       classes: tuple[Any, ...]) -> list[str]:
    """What the answer to one input breaks; pure."""
    shown = _show(document)
    if status >= 500:
        return [f"no input may give a 5xx: got {status} {shown}"]
    if not valid:
        if not 400 <= status < 500:
            return [f"an invalid input must give a 4xx, got {status} {shown}"]
        message = document.get("message") if isinstance(document, Mapping) else None
        if not isinstance(message, str) or not message.strip():
            return [f"a 4xx must carry a message, got {shown}"]
        return []
    if status != 200:
        return [f"a valid input must give 200, got {status} {shown}"]
    predictions = document.get("predictions") if isinstance(document, Mapping) else None
    if not isinstance(predictions, list):
        return [f"a 200 must carry a predictions list, got {shown}"]
    problems = []
    if len(predictions) != rows:
        problems.append(f"{rows} row(s) must give {rows} prediction(s), got {len(predictions)}")
    strays = [p for p in predictions if p not in classes or isinstance(p, bool)]
    if strays:
        problems.append(f"predictions must be among the classes {list(classes)}, "
                        f"got {strays[:5]}")
    return problems


class PropertyRun:
    """Sends examples through one deployed stack and checks the invariants."""

    def __init__(self, section: PropertySection, ctx: StepContext, *, n_features: int,
                 classes: tuple[Any, ...]) -> None:
        self.section = section
        self.ctx = ctx
        self.n_features = n_features
        self.classes = classes
        self.url = section.url or ctx.stack.invoke_url
        self.bucket = section.bucket or ctx.stack.bucket
        pickles = ctx.scenario.stack.allow_pickle_features
        self.formats = section.formats or (("npy", "csv", "json")
                                           + (("joblib",) if pickles else ()))
        self.sent = 0

    # -- one example ---------------------------------------------------------------------------
    def check(self, example: Example) -> list[str]:
        """Send one example; every invariant it breaks (empty when it holds)."""
        self.sent += 1
        try:
            status, document = self._send(example)
        except HarnessError as error:
            return [f"the API did not answer: {error.message}"]
        problems = invariant_problems(example.is_valid(self.n_features), example.rows, status,
                                      document, self.classes)
        problems += self._survived()
        return problems

    def _send(self, example: Example) -> tuple[int, Any]:
        s3 = self.ctx.session.client("s3", self.ctx.stack.region)
        uploaded: tuple[str, str] | None = None
        if isinstance(example, FeaturesExample):
            body = encode_features(example.array(), example.fmt)
            uploaded = (self.bucket, example.key)
        elif isinstance(example, KeyExample) and example.upload:
            body = encode_features([[5.1, 3.5, 1.4, 0.2]], _format_of(example.key))
            uploaded = (example.bucket, example.key)
        try:
            if uploaded is not None:
                s3.put_object(Bucket=uploaded[0], Key=uploaded[1], Body=body)
            return self._post(example, uploaded)
        finally:
            if uploaded is not None:
                try:
                    s3.delete_object(Bucket=uploaded[0], Key=uploaded[1])
                except Exception:  # noqa: BLE001, S110 - the stack bucket is emptied later
                    pass

    def _post(self, example: Example, uploaded: tuple[str, str] | None) -> tuple[int, Any]:
        if isinstance(example, BodyExample):
            raw, content_type = example.body, example.content_type
        else:
            bucket, key = uploaded or (self.bucket, example.key)
            if isinstance(example, KeyExample):
                bucket = example.bucket
            raw = json.dumps({"bucket": bucket, "key": key}).encode()
            content_type = "application/json"
        status, _headers, answer = self.ctx.http.request(
            "POST", self.url, raw, {"Content-Type": content_type}, timeout=60)
        return status, parse_body(answer)

    def prepare(self) -> str | None:
        """Upload the known-good object; an error message when the stack does not answer."""
        s3 = self.ctx.session.client("s3", self.ctx.stack.region)
        s3.put_object(Bucket=self.bucket, Key=KNOWN_GOOD_KEY,
                      Body=encode_features([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], "npy"))
        self.ctx.made.objects.append((self.bucket, KNOWN_GOOD_KEY, self.ctx.stack.region))
        problems = self._survived()
        return problems[0].replace("the environment did not survive", "the stack is not ready",
                                   1) if problems else None

    def _survived(self) -> list[str]:
        try:
            status, _headers, answer = self.ctx.http.request(
                "POST", self.url, json.dumps({"bucket": self.bucket, "key": KNOWN_GOOD_KEY})
                .encode(), {"Content-Type": "application/json"}, timeout=60)
        except HarnessError as error:
            return [f"the environment did not survive: {error.message}"]
        if status != 200:
            return [f"the environment did not survive: the known-good request then got "
                    f"{status} {_show(parse_body(answer))}"]
        return []

    # -- searching -----------------------------------------------------------------------------
    def search(self, options: PropertyOptions,
               reproduce: Callable[[Example, int | None, bool], tuple[str, ...]]
               ) -> PropertyResult:
        """Search each input family in turn with its share of the examples; stop at the first
        family that breaks an invariant. (One search over all families would spend most of
        the examples on the family with the most distinct values.)"""
        try:
            from harness.scenario import strategies
        except ImportError as exc:
            raise UsageError(f"a property section needs hypothesis and numpy ({exc.name} is "
                             "missing): pip install 'harness[test]'") from None

        started = time.perf_counter()
        seed = options.seed if options.seed is not None else self.section.seed
        derandomize = seed is None and (options.ci or self.section.derandomize)
        if seed is None and not derandomize:
            seed = random.SystemRandom().getrandbits(32)  # printed, so the run can be repeated
        total = options.examples or self.section.examples
        families = self.section.inputs
        violation = None
        for index, family in enumerate(families):
            budget = total // len(families) + (1 if index < total % len(families) else 0)
            strategy = strategies.examples(
                (family,), formats=self.formats, max_rows=self.section.max_rows,
                n_features=self.n_features, bucket=self.bucket, other_bucket=OTHER_BUCKET)
            violation = self._search_one(strategy, max(1, budget), seed, derandomize)
            if violation is not None:
                break
        return PropertyResult(
            self.sent, seed, derandomize, time.perf_counter() - started,
            None if violation is None else PropertyFailure(
                violation.example, tuple(violation.problems),
                reproduce(violation.example, seed, derandomize)))

    def _search_one(self, strategy: Any, examples: int, seed: int | None,
                    derandomize: bool) -> _Violation | None:
        from hypothesis import HealthCheck, Verbosity, given, settings
        from hypothesis import seed as use_seed

        @settings(max_examples=examples, derandomize=derandomize, database=None, deadline=None,
                  verbosity=Verbosity.quiet, report_multiple_bugs=False, print_blob=False,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                         HealthCheck.data_too_large,
                                         HealthCheck.large_base_example])
        @given(strategy)
        def holds_for(example: Example) -> None:
            interrupts.check()  # hypothesis's gc callback may have swallowed a Ctrl-C
            problems = self.check(example)
            if problems:
                raise _Violation(example, problems)

        test = use_seed(seed)(holds_for) if seed is not None else holds_for
        try:
            test()
        except _Violation as violation:
            return violation
        except BaseExceptionGroup as group:  # hypothesis's Flaky: the failure did not repeat
            found = _first_violation(group)
            if found is None:
                raise
            return found
        return None

    def replay(self, example: Example, reproduce: Callable[[Example, int | None, bool],
                                                           tuple[str, ...]]) -> PropertyResult:
        started = time.perf_counter()
        problems = self.check(example)
        failure = PropertyFailure(example, tuple(problems), reproduce(example, None, False)) \
            if problems else None
        return PropertyResult(self.sent, None, False, time.perf_counter() - started, failure)


def reproduce_commands(shown_path: str) -> Callable[[Example, int | None, bool], tuple[str, ...]]:
    """Builds the commands printed with a failure: replay the shrunk example exactly, and
    repeat the whole search (same seed, or --ci for a derandomised run)."""

    def commands(example: Example, seed: int | None, derandomized: bool) -> tuple[str, ...]:
        text = example_to_text(example)
        if len(text) > INLINE_LIMIT:
            FAILURES_DIR.mkdir(parents=True, exist_ok=True)
            saved = FAILURES_DIR / f"{hashlib.sha256(text.encode()).hexdigest()[:12]}.json"
            saved.write_text(text + "\n", encoding="utf-8")
            argument = "@" + str(saved)
        else:
            argument = text
        found = [f"harness run {shlex.quote(shown_path)} --only-example {shlex.quote(argument)}"]
        if seed is not None:
            found.append(f"harness run {shlex.quote(shown_path)} --seed {seed}")
        elif derandomized:
            found.append(f"harness run {shlex.quote(shown_path)} --ci")
        return tuple(found)

    return commands


def _first_violation(group: BaseExceptionGroup) -> _Violation | None:
    for inner in group.exceptions:
        if isinstance(inner, _Violation):
            return inner
        if isinstance(inner, BaseExceptionGroup):
            found = _first_violation(inner)
            if found is not None:
                return found
    return None


def _format_of(key: str) -> str:
    return {".csv": "csv", ".json": "json"}.get(Path(key).suffix.lower(), "npy")


def _show(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str | bytes) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
