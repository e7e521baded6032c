"""The scenario file schema, as data, and the validator that checks a parsed file against it.

The schema is built from a handful of shapes (`Scalar`, `ListOf`, `MapOf`, `Obj`, `Either`,
`StepUnion`). `validate` walks the parsed YAML and returns every problem with its line, so one
run shows all the mistakes in a file. docs/scenarios.md is the prose version of `SCENARIO`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from harness.features import FORMATS
from harness.scenario.source import line_of
from harness.scenario.variables import is_single_reference

# -- the shapes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (line, dotted path) and what."""

    line: int | None
    where: str
    message: str

    @property
    def text(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def render(self, path: str) -> str:
        at = f"{path}:{self.line}" if self.line is not None else path
        return f"{at}: {self.text}"


class Shape:
    """What a value must look like."""

    def describe(self) -> str:
        raise NotImplementedError

    def check(self, value: Any, where: str, line: int | None, out: list[Problem]) -> None:
        raise NotImplementedError


_TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
               type(None): "null", list: "a list", dict: "a mapping"}


def type_name(value: Any) -> str:
    for kind, name in _TYPE_NAMES.items():
        if type(value) is kind or (kind in (list, dict) and isinstance(value, kind)):
            return name
    return type(value).__name__


@dataclass(frozen=True)
class Scalar(Shape):
    """A single value of one of ``types``; a whole-value ``${...}`` reference is checked later."""

    name: str
    types: tuple[type, ...]
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None

    def describe(self) -> str:
        if self.choices:
            return "one of " + ", ".join(str(c) for c in self.choices)
        return self.name

    def _type_ok(self, value: Any) -> bool:
        if isinstance(value, bool):
            return bool in self.types
        if isinstance(value, int) and float in self.types:
            return True
        return isinstance(value, self.types)

    def check(self, value: Any, where: str, line: int | None, out: list[Problem]) -> None:
        if isinstance(value, str) and str not in self.types and is_single_reference(value):
            return  # the type of a reference's value is checked when the step runs
        if not self._type_ok(value):
            out.append(Problem(line, where, f"expected {self.describe()}, got {type_name(value)}"
                               f" ({_short(value)})"))
            return
        if self.choices and value not in self.choices:
            hint = _did_you_mean(str(value), [str(c) for c in self.choices])
            out.append(Problem(line, where, f"expected {self.describe()}, got {_short(value)}"
                               + hint))
        elif self.minimum is not None and isinstance(value, int | float) and value < self.minimum:
            out.append(Problem(line, where, f"must be at least {self.minimum:g}, got {value}"))
        elif self.maximum is not None and isinstance(value, int | float) and value > self.maximum:
            out.append(Problem(line, where, f"must be at most {self.maximum:g}, got {value}"))
        elif (self.pattern is not None and isinstance(value, str)
              and not re.fullmatch(self.pattern, value) and not is_single_reference(value)):
            out.append(Problem(line, where, f"expected {self.describe()}, got {_short(value)}"))


@dataclass(frozen=True)
class AnyValue(Shape):
    """Anything YAML can hold (JSON bodies, events, expected values)."""

    name: str = "any value"

    def describe(self) -> str:
        return self.name

    def check(self, value: Any, where: str, line: int | None, out: list[Problem]) -> None:
        return


@dataclass(frozen=True)
class ListOf(Shape):
    item: Shape
    min_items: int = 0

    def describe(self) -> str:
        return f"a list of {self.item.describe()}"

    def check(self, value: Any, where: str, line: int | None, out: list[Problem]) -> None:
        if not isinstance(value, list):
            out.append(Problem(line, where, f"expected {self.describe()}, got {type_name(value)}"))
            return
        if len(value) < self.min_items:
            out.append(Problem(line, where, f"needs at least {self.min_items} item(s)"))
        for index, item in enumerate(value):
            self.item.check(item, f"{where}[{index}]", line_of(value, index) or line, out)


@dataclass(frozen=True)
class MapOf(Shape):
    """A mapping from string keys to values of one shape (env vars, headers, vars)."""

    value: Shape

    def describe(self) -> str:
        return f"a mapping of names to {self.value.describe()}"

    def check(self, value: Any, where: str, line: int | None, out: list[Problem]) -> None:
        if not isinstance(value, dict):
            out.append(Problem(line, where, f"expected {self.describe()}, got {type_name(value)}"))
            return
        for key, item in value.items():
            if not isinstance(key, str):
                out.append(Problem(line_of(value, key) or line, where,
                                   f"keys must be strings, got {_short(key)}"))
            self.value.check(item, f"{where}.{key}", line_of(value, key) or line, out)


@dataclass(frozen=True)
class Field:
    shape: Shape
    required: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Obj(Shape):
    """A mapping with known keys; ``exactly_one``/``at_most_one`` name groups of keys."""

    fields: dict[str, Field]
    name: str = "a mapping"
    exactly_one: tuple[tuple[str, ...], ...] = ()
    at_most_one: tuple[tuple[str, ...], ...] = ()

    def describe(self) -> str:
        return self.name

    def check(self, value: Any, where: str, line: int | None, out: list[Problem]) -> None:
        if not isinstance(value, dict):
            out.append(Problem(line, where, f"expected {self.describe()} with keys "
                               f"{', '.join(self.fields)}; got {type_name(value)}"))
            return
        own = getattr(value, "line", None) or line
        for key, item in value.items():
            at = line_of(value, key) or own
            spec = self.fields.get(key)
            if spec is None:
                out.append(Problem(at, _join(where, str(key)), "unknown key"
                                   + _did_you_mean(str(key), list(self.fields))
                                   + f" (allowed here: {', '.join(self.fields)})"))
            else:
                spec.shape.check(item, _join(where, str(key)), at, out)
        for key, spec in self.fields.items():
            if spec.required and key not in value:
                out.append(Problem(own, where, f"missing required key '{key}'"))
        for group in self.exactly_one:
            given = [key for key in group if key in value]
            if len(given) != 1:
                got = "none" if not given else " and ".join(given)
                out.append(Problem(own, where, f"give exactly one of {', '.join(group)} "
                                   f"(got {got})"))
        for group in self.at_most_one:
            given = [key for key in group if key in value]
            if len(given) > 1:
                out.append(Problem(own, where, f"give at most one of {', '.join(group)} "
                                   f"(got {' and '.join(given)})"))


@dataclass(frozen=True)
class Either(Shape):
    """One of several shapes; the first whose check passes wins."""

    options: tuple[Shape, ...]
    name: str

    def describe(self) -> str:
        return self.name

    def check(self, value: Any, where: str, line: int | None, out: list[Problem]) -> None:
        for option in self.options:
            trial: list[Problem] = []
            option.check(value, where, line, trial)
            if not trial:
                return
        out.append(Problem(line, where, f"expected {self.name}, got {_short(value)}"))


@dataclass(frozen=True)
class StepKind:
    params: Obj
    expect: Obj | None
    doc: str = ""
    shorthand: str | None = None
    """The parameter a bare value stands for (``advance_clock: 3600`` is ``{seconds: 3600}``)."""

    def params_of(self, given: Any) -> Any:
        """The step's parameters as a mapping, a bare value read through ``shorthand``."""
        if given is None:
            return {}
        if self.shorthand is not None and not isinstance(given, dict):
            return {self.shorthand: given}
        return given


@dataclass(frozen=True)
class StepUnion(Shape):
    """A step: exactly one action key (``upload: {...}``) plus the common keys."""

    kinds: dict[str, StepKind]
    common: dict[str, Field] = field(default_factory=dict)

    def describe(self) -> str:
        return "a step (" + ", ".join(self.kinds) + ")"

    def check(self, value: Any, where: str, line: int | None, out: list[Problem]) -> None:
        if not isinstance(value, dict):
            out.append(Problem(line, where, f"expected {self.describe()}, got {type_name(value)}"))
            return
        own = getattr(value, "line", None) or line
        actions = [key for key in value if key in self.kinds]
        for key in value:
            if key in self.kinds or key in self.common:
                continue
            if actions:
                message = (f"unknown key in a {actions[0]} step"
                           + _did_you_mean(str(key), list(self.common))
                           + f" (allowed: {', '.join(self.common)})")
            else:
                message = (f"unknown step '{key}'" + _did_you_mean(str(key), list(self.kinds))
                           + f"; steps are: {', '.join(self.kinds)}")
            out.append(Problem(line_of(value, key) or own, _join(where, str(key)), message))
        if len(actions) > 1:
            out.append(Problem(own, where, "one action per step: found "
                               + " and ".join(actions) + "; put each in its own list item"))
        if not actions:
            if all(key in self.common for key in value):
                out.append(Problem(own, where, "a step needs one of: " + ", ".join(self.kinds)))
            return
        kind = self.kinds[actions[0]]
        params = value[actions[0]]
        kind.params.check(kind.params_of(params), _join(where, actions[0]),
                          line_of(value, actions[0]) or own, out)
        for key, spec in self.common.items():
            if key not in value:
                continue
            at = line_of(value, key) or own
            if key == "expect":
                if kind.expect is None:
                    out.append(Problem(at, _join(where, key),
                                       f"{_article(actions[0])} {actions[0]} step takes "
                                       "no expect"))
                else:
                    kind.expect.check(value[key], _join(where, key), at, out)
            else:
                spec.shape.check(value[key], _join(where, key), at, out)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- the scenario schema -----------------------------------------------------------------------

STRING = Scalar("a string", (str,))
BOOL = Scalar("true or false", (bool,))
INT = Scalar("an integer", (int,))
NUMBER = Scalar("a number", (int, float))
ANY = AnyValue()
NAME = Scalar("a name of letters, digits, '_' and '-'", (str,), pattern=r"[A-Za-z_][\w-]*")
DTYPES = ("float64", "float32", "float16", "int64", "int32", "uint8", "bool")
JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object", "null")
STEP_KINDS = ("create_bucket", "upload", "list", "post", "invoke", "wait", "advance_clock",
              "send_message", "publish", "put_events", "wait_for")
INPUT_KINDS = ("features", "keys", "bodies")


def _bound(name: str) -> Shape:
    return Either((NUMBER, Obj({"min": Field(NUMBER), "max": Field(NUMBER)})),
                  f"a number or {{min: ..., max: ...}} for {name}")


FUNCTION = Obj({
    "dir": Field(STRING, doc="directory (relative to the scenario file) whose files are added"),
    "files": Field(MapOf(STRING), doc="inline files: name -> source text"),
    "handler": Field(STRING, doc="module.function of the handler"),
    "base": Field(Scalar("example or none", (str,), choices=("example", "none")),
                  doc="start from the example function's files (default) or from nothing"),
}, name="a function (dir, files, handler, base)", at_most_one=())

STACK = Obj({
    "region": Field(STRING),
    "bucket": Field(STRING),
    "allow_pickle_features": Field(BOOL),
    "upload_trigger": Field(BOOL, doc="uploads under features/ trigger the function"),
    "allowed_buckets": Field(ListOf(STRING)),
    "readable_buckets": Field(ListOf(STRING), doc="buckets besides the stack's whose objects "
                              "the function's role may read (IAM)"),
    "memory_mb": Field(Scalar("an integer", (int,), minimum=128, maximum=10240)),
    "timeout_s": Field(Scalar("an integer", (int,), minimum=1, maximum=900)),
    "env": Field(MapOf(Scalar("a string or number", (str, int, float, bool)))),
    "function": Field(FUNCTION),
    "template": Field(STRING, doc="your SAM or CloudFormation template, relative to this file"),
    "parameters": Field(MapOf(Scalar("a string or number", (str, int, float, bool))),
                        doc="the template's parameters"),
    "name": Field(STRING, doc="the template stack's name"),
}, name="the stack to deploy")

GENERATOR = Obj({
    "kind": Field(Scalar("uniform or constant", (str,), choices=("uniform", "constant"))),
    "rows": Field(Scalar("an integer", (int,), minimum=0), required=True),
    "columns": Field(Scalar("an integer", (int,), minimum=0)),
    "seed": Field(INT),
    "low": Field(NUMBER),
    "high": Field(NUMBER),
    "value": Field(NUMBER),
}, name="a generator")

DATA = Obj({
    "dataset": Field(Scalar("iris_holdout or iris", (str,), choices=("iris_holdout", "iris"))),
    "generator": Field(GENERATOR),
    "rows": Field(ListOf(ANY)),
    "file": Field(STRING),
    "text": Field(STRING),
    "limit": Field(Scalar("an integer", (int,), minimum=0)),
    "dtype": Field(Scalar("a dtype", (str,), choices=DTYPES)),
}, name="data (dataset, generator, rows, file or text)",
    exactly_one=(("dataset", "generator", "rows", "file", "text"),))

JSON_CHECK = Obj({
    "path": Field(STRING, required=True),
    "equals": Field(ANY),
    "contains": Field(ANY),
    "length": Field(Scalar("an integer", (int,), minimum=0)),
    "type": Field(Scalar("a JSON type", (str,), choices=JSON_TYPES)),
    "exists": Field(BOOL),
}, name="a JSON check", exactly_one=(("equals", "contains", "length", "type", "exists"),))

STATUS = Either((Scalar("an HTTP status", (int,), minimum=100, maximum=599),
                 ListOf(Scalar("an HTTP status", (int,), minimum=100, maximum=599), min_items=1),
                 Scalar("a status class", (str,), pattern=r"[1-5]xx")),
                "an HTTP status (200), a list of them ([400, 404]) or a class ('4xx')")

REPORT = Obj({
    "cold": Field(BOOL),
    "billed_duration_ms": Field(_bound("billed_duration_ms")),
    "duration_ms": Field(_bound("duration_ms")),
    "init_duration_ms": Field(_bound("init_duration_ms")),
    "max_memory_used_mb": Field(_bound("max_memory_used_mb")),
}, name="REPORT expectations")

PREDICTIONS = Obj({
    "count": Field(Scalar("an integer", (int,), minimum=0)),
    "among": Field(ListOf(ANY)),
}, name="prediction expectations")

_S3_EXPECT = {"error": Field(STRING), "max_latency_ms": Field(NUMBER)}
_RESPONSE_EXPECT = {
    "status": Field(STATUS),
    "error": Field(STRING),
    "json": Field(ListOf(JSON_CHECK)),
    "predictions": Field(PREDICTIONS),
    "max_latency_ms": Field(NUMBER),
    "report": Field(REPORT),
}

EVENT_ENTRY = Obj({
    "source": Field(STRING),
    "detail_type": Field(STRING),
    "detail": Field(ANY),
    "bus": Field(STRING),
    "resources": Field(ListOf(STRING)),
}, name="an event (source, detail_type, detail, bus, resources)")
MAX_CLOCK_ADVANCE_S = 10 * 365 * 86400
"""What /_harness/clock takes in one call: ten years."""

FAULTS = ListOf(AnyValue("fault rules (mappings)"))
"""Fault rules, as the emulator's /_harness/faults takes them; the loader checks each one."""

STEP = StepUnion(
    kinds={
        "create_bucket": StepKind(Obj({
            "bucket": Field(STRING, required=True),
            "region": Field(STRING),
            "location_constraint": Field(BOOL),
        }, name="create_bucket parameters"), Obj(dict(_S3_EXPECT), name="S3 expectations")),
        "upload": StepKind(Obj({
            "bucket": Field(STRING),
            "key": Field(STRING, required=True),
            "region": Field(STRING),
            "format": Field(Scalar("a format", (str,), choices=FORMATS)),
            "data": Field(DATA, required=True),
        }, name="upload parameters"), Obj(dict(_S3_EXPECT), name="S3 expectations")),
        "list": StepKind(Obj({
            "bucket": Field(STRING),
            "prefix": Field(STRING),
            "region": Field(STRING),
        }, name="list parameters"), Obj({**_S3_EXPECT, "json": Field(ListOf(JSON_CHECK))},
                                        name="list expectations")),
        "post": StepKind(Obj({
            "url": Field(STRING),
            "route": Field(STRING),
            "json": Field(ANY),
            "body": Field(STRING),
            "headers": Field(MapOf(STRING)),
            "timeout_s": Field(Scalar("a number", (int, float), minimum=0.1)),
            "api": Field(STRING, doc="logical id of an API of the template stack"),
            "path": Field(STRING, doc="a path on that API"),
            "stage": Field(STRING, doc="the API's stage (default: its only one)"),
        }, name="post parameters", at_most_one=(("url", "route", "api"), ("url", "path"),
                                                 ("route", "path"), ("json", "body"))),
            Obj(dict(_RESPONSE_EXPECT), name="response expectations")),
        "invoke": StepKind(Obj({
            "function": Field(STRING),
            "event": Field(ANY),
            "invocation_type": Field(Scalar("RequestResponse or Event", (str,),
                                            choices=("RequestResponse", "Event"))),
        }, name="invoke parameters"), Obj({
            **_RESPONSE_EXPECT,
            "function_error": Field(Scalar("a string or null", (str, type(None)))),
        }, name="invoke expectations")),
        "wait": StepKind(Obj({
            "seconds": Field(Scalar("a number", (int, float), minimum=0, maximum=900),
                             required=True),
        }, name="wait parameters"), None),
        "send_message": StepKind(Obj({
            "queue": Field(STRING, required=True, doc="a queue name, URL, ARN or logical id"),
            "body": Field(STRING),
            "json": Field(ANY),
            "attributes": Field(MapOf(Scalar("a string or number", (str, int, float)))),
            "group_id": Field(STRING),
            "deduplication_id": Field(STRING),
        }, name="send_message parameters", exactly_one=(("body", "json"),)),
            Obj({**_S3_EXPECT, "json": Field(ListOf(JSON_CHECK))},
                name="send_message expectations")),
        "publish": StepKind(Obj({
            "topic": Field(STRING, required=True, doc="a topic name, ARN or logical id"),
            "message": Field(STRING),
            "json": Field(ANY),
            "subject": Field(STRING),
            "attributes": Field(MapOf(Scalar("a string or number", (str, int, float)))),
        }, name="publish parameters", exactly_one=(("message", "json"),)),
            Obj({**_S3_EXPECT, "json": Field(ListOf(JSON_CHECK))},
                name="publish expectations")),
        "put_events": StepKind(Obj({
            "source": Field(STRING),
            "detail_type": Field(STRING),
            "detail": Field(ANY),
            "bus": Field(STRING),
            "resources": Field(ListOf(STRING)),
            "entries": Field(ListOf(EVENT_ENTRY, min_items=1)),
        }, name="put_events parameters", at_most_one=(("entries", "source"),
                                                      ("entries", "detail"))),
            Obj({**_S3_EXPECT, "json": Field(ListOf(JSON_CHECK))},
                name="put_events expectations")),
        "wait_for": StepKind(Obj({
            "function": Field(STRING, doc="until it has run `invocations` times (default 1)"),
            "invocations": Field(Scalar("an integer", (int,), minimum=1)),
            "object": Field(Obj({"bucket": Field(STRING), "key": Field(STRING, required=True)},
                                name="an object (bucket, key)")),
            "queue": Field(STRING, doc="until it holds `messages` messages (default 1)"),
            "messages": Field(Scalar("an integer", (int,), minimum=1)),
            "timeout_s": Field(Scalar("a number", (int, float), minimum=0, maximum=900)),
        }, name="wait_for parameters", exactly_one=(("function", "object", "queue"),)),
            Obj({**_S3_EXPECT, "json": Field(ListOf(JSON_CHECK))},
                name="wait_for expectations")),
        "advance_clock": StepKind(Obj({
            "seconds": Field(Scalar("a number of seconds", (int, float), minimum=0,
                                    maximum=MAX_CLOCK_ADVANCE_S), required=True),
        }, name="advance_clock parameters"), None, shorthand="seconds"),
    },
    common={"id": Field(NAME), "name": Field(STRING), "expect": Field(ANY),
            "faults": Field(FAULTS, doc="fault rules in force for this step only")},
)

PROPERTY = Obj({
    "examples": Field(Scalar("an integer", (int,), minimum=1, maximum=100_000)),
    "seed": Field(INT),
    "derandomize": Field(BOOL),
    "inputs": Field(ListOf(Scalar("an input kind", (str,), choices=INPUT_KINDS), min_items=1)),
    "formats": Field(ListOf(Scalar("a format", (str,), choices=FORMATS), min_items=1)),
    "max_rows": Field(Scalar("an integer", (int,), minimum=1, maximum=10_000)),
    "classes": Field(ListOf(ANY, min_items=1)),
    "url": Field(STRING),
    "bucket": Field(STRING),
}, name="a property section")

SCENARIO = Obj({
    "scenario": Field(STRING, required=True, doc="the name shown in reports"),
    "description": Field(STRING),
    "requires": Field(ListOf(Scalar("docker or aws", (str,), choices=("docker", "aws")))),
    "stack": Field(STACK),
    "vars": Field(MapOf(ANY)),
    "steps": Field(ListOf(STEP)),
    "faults": Field(FAULTS, doc="fault rules in force while the steps and property run"),
    "property": Field(PROPERTY),
    "load": Field(AnyValue("a load section"), doc="read by `harness load` (docs/load.md)"),
}, name="a scenario")


def validate(document: Any) -> list[Problem]:
    """Every problem in a parsed scenario file, in file order."""
    problems: list[Problem] = []
    SCENARIO.check(document, "", getattr(document, "line", 1), problems)
    if isinstance(document, dict) and not any(key in document
                                              for key in ("steps", "property", "load")):
        problems.append(Problem(getattr(document, "line", 1), "",
                                "a scenario needs steps, a property section or a load section"))
    return sorted(problems, key=lambda p: p.line or 0)
