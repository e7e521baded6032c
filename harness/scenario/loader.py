"""Turns a scenario file into a `Scenario`: parse, validate against the schema, cross-check.

Every mistake is reported with the file and line; a file with several mistakes reports them all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ScenarioError, UsageError
from harness.faults.model import parse_rule
from harness.scenario import schema
from harness.scenario.model import (
    DEFAULT_REGION,
    STACK_FIELDS,
    STEP_OUTPUTS,
    TEMPLATE_STACK_FIELDS,
    FunctionSource,
    PropertySection,
    Scenario,
    StackRequest,
    Step,
    TemplateSource,
)
from harness.scenario.schema import _did_you_mean
from harness.scenario.source import line_of, read_yaml
from harness.scenario.template_stack import (
    API_TYPES,
    FUNCTION_TYPES,
    TemplateFacts,
    read_facts,
    stack_name_problem,
    template_error,
)
from harness.scenario.variables import VariableError, parse_path, references
from harness.templates.errors import TemplateError


class ScenarioInvalid(ScenarioError):
    """A scenario file with one or more problems; ``problems`` lists them all."""

    def __init__(self, path: str, problems: list[schema.Problem]) -> None:
        super().__init__(problems[0].text, path=path, line=problems[0].line)
        self.problems = problems
        self.message = "\n".join(problem.render(path) for problem in problems)
        self.args = (self.message,)


def load_scenario(path: Path | str, shown: str | None = None) -> Scenario:
    """Read, validate and build the scenario in ``path``; ScenarioInvalid lists every problem."""
    path = Path(path)
    name = shown if shown is not None else str(path)
    document = read_yaml(path, name)
    problems = schema.validate(document)
    if not problems:
        problems = cross_check(document, path.parent, name)
    if problems:
        raise ScenarioInvalid(name, problems)
    return build(document, path, name)


def load_all(paths: list[str]) -> list[Scenario]:
    """Load every file, then raise one error listing the problems of every bad file."""
    scenarios: list[Scenario] = []
    errors: list[str] = []
    for shown in paths:
        try:
            scenarios.append(load_scenario(Path(shown), shown))
        except ScenarioError as error:
            errors.append(error.message)
    if errors:
        raise ScenarioError("\n".join(errors))
    return scenarios


# -- checks the schema cannot express ----------------------------------------------------------

def cross_check(document: Mapping[str, Any], base_dir: Path,
                shown: str = "") -> list[schema.Problem]:
    problems: list[schema.Problem] = []
    stack = document.get("stack") or {}
    template = _StackNames(False, None)
    if stack.get("template") is not None:
        found, facts = _check_template(stack, base_dir)
        problems += found
        template = _StackNames(True, facts)
        problems += _check_template_steps(document, facts)
    problems += _check_steps(document, template)
    problems += _check_stack(stack, base_dir)
    problems += _check_property(document)
    problems += _check_load(document, shown)
    problems += _check_faults(document, template)
    return sorted(problems, key=lambda p: p.line or 0)


@dataclass(frozen=True)
class _StackNames:
    """What ``${stack.*}`` may name: the example stack's fields, or a template's outputs."""

    template: bool
    facts: TemplateFacts | None
    """None when there is no template, or it could not be read (reported already)."""


_EXAMPLE_ONLY = ("bucket", "allow_pickle_features", "upload_trigger", "allowed_buckets",
                 "readable_buckets", "memory_mb", "timeout_s", "env", "function")


def _check_template(stack: Mapping[str, Any],
                    base_dir: Path) -> tuple[list[schema.Problem], TemplateFacts | None]:
    """The template exists and reads; its parameters are declared; no example-stack keys."""
    line = line_of(stack, "template")
    problems = [schema.Problem(line_of(stack, key) or line, f"stack.{key}",
                               "applies to the example stack, not to a template's stack")
                for key in _EXAMPLE_ONLY if key in stack]
    name = stack.get("name")
    if name is not None and stack_name_problem(str(name)):
        problems.append(schema.Problem(line_of(stack, "name") or line, "stack.name",
                                       str(stack_name_problem(str(name)))))
    path = base_dir / str(stack["template"])
    parameters = {str(k): _env_text(v) for k, v in (stack.get("parameters") or {}).items()}
    try:
        facts = read_facts(path, parameters, str(stack.get("region", DEFAULT_REGION)))
    except (TemplateError, OSError) as error:
        return problems + [schema.Problem(line, "stack.template",
                                          template_error(error, path))], None
    for key in parameters:
        if key not in facts.parameters:
            problems.append(schema.Problem(
                line_of(stack["parameters"], key) or line, f"stack.parameters.{key}",
                f"the template has no parameter {key!r}"
                + _did_you_mean(key, list(facts.parameters))
                + f" (its parameters: {', '.join(facts.parameters) or 'none'})"))
    return problems, facts


def _check_template_steps(document: Mapping[str, Any],
                          facts: TemplateFacts | None) -> list[schema.Problem]:
    """Logical ids named by invoke and post steps exist in the template, with the right type."""
    problems: list[schema.Problem] = []
    steps = document.get("steps") or []
    for index, step in enumerate(steps):
        kind = next(key for key in step if key in schema.STEP.kinds)
        params = step.get(kind) or {}
        where, line = f"steps[{index}].{kind}", line_of(steps, index)
        if kind == "post" and "route" in params:
            problems.append(schema.Problem(line_of(params, "route") or line, f"{where}.route",
                                           "a template's stack: give api and path, not route"))
        checks = {"invoke": ("function", FUNCTION_TYPES, "functions"),
                  "post": ("api", API_TYPES, "APIs")}.get(kind)
        if facts is None or checks is None:
            continue
        key, types, plural = checks
        given = params.get(key)
        ids = facts.ids_of(types)
        if isinstance(given, str) and "${" not in given and not given.startswith("arn:") \
                and given not in ids:
            problems.append(schema.Problem(
                line_of(params, key) or line, f"{where}.{key}",
                f"no {key} {given!r} in the template" + _did_you_mean(given, ids)
                + f" (its {plural}: {', '.join(ids) or 'none'})"))
    return problems


def _check_load(document: Mapping[str, Any], shown: str) -> list[schema.Problem]:
    """A ``load:`` section belongs to ``harness load``; its own parser checks it."""
    if document.get("load") is None:
        return []
    try:
        from harness.load.spec import parse_load_section
    except ImportError:  # pragma: no cover - the load tier is optional
        return []
    try:
        parse_load_section(document["load"], shown, line_of(document, "load"))
    except ScenarioError as error:
        message = error.message.split(": ", 1)[1] if error.message.startswith(shown) \
            else error.message
        return [schema.Problem(error.line, "", message)]
    return []


def _check_faults(document: Mapping[str, Any], template: _StackNames) -> list[schema.Problem]:
    """Each fault rule, top-level or a step's, as the emulator would check it."""
    problems: list[schema.Problem] = []
    sections: list[tuple[str, Any, Any]] = [("faults", document.get("faults"), document)]
    for index, step in enumerate(document.get("steps") or []):
        if isinstance(step, dict) and step.get("faults") is not None:
            sections.append((f"steps[{index}].faults", step["faults"], step))
    variables = document.get("vars") or {}
    for where, rules, owner in sections:
        if not isinstance(rules, list):
            continue  # the schema said so already
        for index, rule in enumerate(rules):
            line = line_of(rules, index) or line_of(owner, "faults")
            try:
                parse_rule(plain(rule))
            except UsageError as error:
                problems.append(schema.Problem(line, f"{where}[{index}]", error.message))
            if where == "faults":  # a step's own strings are checked with the step
                for text, at in _strings(rule, line):
                    for expression in _expressions(text):
                        message = _reference_problem(expression, {}, variables, template)
                        if message:
                            problems.append(schema.Problem(at, f"{where}[{index}]", message))
    return problems


def _check_steps(document: Mapping[str, Any], template: _StackNames) -> list[schema.Problem]:
    problems: list[schema.Problem] = []
    steps = document.get("steps") or []
    known: dict[str, str] = {}
    variables = document.get("vars") or {}
    for index, step in enumerate(steps):
        where = f"steps[{index}]"
        kind = next(key for key in step if key in schema.STEP.kinds)
        for text, line in _strings(step, line_of(steps, index)):
            for expression in _expressions(text):
                message = _reference_problem(expression, known, variables, template)
                if message:
                    problems.append(schema.Problem(line, where, message))
        step_id = step.get("id")
        if step_id is not None:
            if step_id in known:
                problems.append(schema.Problem(line_of(step, "id"), f"{where}.id",
                                               f"duplicate step id '{step_id}'"))
            known[step_id] = kind
    return problems


def _expressions(text: str) -> Iterator[str]:
    try:
        yield from references(text)
    except VariableError:
        return


def _reference_problem(expression: str, known: Mapping[str, str],
                       variables: Mapping[str, Any], template: _StackNames) -> str | None:
    try:
        path = parse_path(expression)
    except VariableError as error:
        return str(error)
    if not path or not isinstance(path[0], str):
        return f"empty reference ${{{expression}}}"
    root, rest = path[0], path[1:]
    shown = f"${{{expression}}}"
    if root == "stack" and template.template:
        return _template_reference_problem(shown, rest, template.facts)
    if root == "stack":
        if not rest or rest[0] not in STACK_FIELDS:
            return f"{shown}: the stack has {', '.join(STACK_FIELDS)}"
    elif root == "steps":
        if not rest or not isinstance(rest[0], str) or rest[0] not in known:
            earlier = ", ".join(known) or "none with an id"
            return f"{shown}: no earlier step has that id (earlier steps: {earlier})"
        fields = STEP_OUTPUTS[known[rest[0]]]
        if len(rest) < 2 or rest[1] not in fields:
            return f"{shown}: a {known[rest[0]]} step gives {', '.join(fields)}"
    elif root == "vars":
        if not rest or rest[0] not in variables:
            return f"{shown}: no such entry in vars (vars: {', '.join(variables) or 'none'})"
    else:
        return f"{shown}: references start with stack., steps. or vars."
    return None


def _template_reference_problem(shown: str, rest: list[Any],
                                facts: TemplateFacts | None) -> str | None:
    if not rest or rest[0] not in TEMPLATE_STACK_FIELDS:
        return f"{shown}: a template's stack has {', '.join(TEMPLATE_STACK_FIELDS)}"
    if rest[0] != "outputs" or facts is None:
        return None
    if len(rest) < 2 or rest[1] not in facts.outputs:
        outputs = ", ".join(facts.outputs) or "none"
        return f"{shown}: the template has no such output (its outputs: {outputs})"
    return None


def _strings(value: Any, line: int | None) -> Iterator[tuple[str, int | None]]:
    if isinstance(value, str):
        yield value, line
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, line_of(value, index) or line)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, line_of(value, key) or line)


def _check_stack(stack: Mapping[str, Any], base_dir: Path) -> list[schema.Problem]:
    problems: list[schema.Problem] = []
    function = stack.get("function")
    if not function:
        return problems
    line = line_of(stack, "function")
    directory = function.get("dir")
    if directory is not None and not (base_dir / directory).is_dir():
        problems.append(schema.Problem(line_of(function, "dir") or line, "stack.function.dir",
                                       f"no such directory: {base_dir / directory}"))
    if function.get("base") == "none" and not function.get("handler"):
        problems.append(schema.Problem(line, "stack.function",
                                       "base: none needs a handler (module.function)"))
    if directory is None and not function.get("files"):
        problems.append(schema.Problem(line, "stack.function", "give dir, files, or both"))
    return problems


def _check_property(document: Mapping[str, Any]) -> list[schema.Problem]:
    section = document.get("property")
    if not section:
        return []
    pickles = bool((document.get("stack") or {}).get("allow_pickle_features"))
    if "joblib" in (section.get("formats") or []) and not pickles:
        return [schema.Problem(line_of(section, "formats"), "property.formats",
                               "joblib features need stack.allow_pickle_features: true "
                               "(the function refuses pickles otherwise)")]
    return []


# -- building the model ------------------------------------------------------------------------

def plain(value: Any) -> Any:
    """``value`` with the line-tracking containers turned into plain dicts and lists."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def build(document: Mapping[str, Any], path: Path, shown: str) -> Scenario:
    steps = document.get("steps") or []
    return Scenario(
        path=path, shown_path=shown, name=str(document["scenario"]),
        description=str(document.get("description", "")),
        steps=tuple(_build_step(index, step, line_of(steps, index) or 0)
                    for index, step in enumerate(steps)),
        stack=_build_stack(document.get("stack") or {}, path.parent),
        variables=plain(document.get("vars") or {}),
        properties=_build_property(document.get("property"), line_of(document, "property")),
        requires=tuple(document.get("requires") or ()),
        has_load=document.get("load") is not None,
        faults=tuple(plain(document.get("faults") or ())),
    )


def _build_step(index: int, step: Mapping[str, Any], line: int) -> Step:
    kind = next(key for key in step if key in schema.STEP.kinds)
    expect = step.get("expect")
    params = schema.STEP.kinds[kind].params_of(step[kind])
    return Step(index=index + 1, kind=kind, params=plain(params),
                expect=plain(expect) if expect is not None else None, line=line,
                id=step.get("id"), name=step.get("name"),
                faults=tuple(plain(step.get("faults") or ())))


def _build_stack(stack: Mapping[str, Any], base_dir: Path) -> StackRequest:
    defaults = StackRequest()
    function = stack.get("function")
    return StackRequest(
        region=stack.get("region", defaults.region),
        bucket=stack.get("bucket"),
        allow_pickle_features=bool(stack.get("allow_pickle_features", False)),
        upload_trigger=bool(stack.get("upload_trigger", False)),
        allowed_buckets=tuple(stack.get("allowed_buckets") or ()),
        readable_buckets=tuple(stack.get("readable_buckets") or ()),
        memory_mb=int(stack.get("memory_mb", defaults.memory_mb)),
        timeout_s=int(stack.get("timeout_s", defaults.timeout_s)),
        env=tuple(sorted((str(k), _env_text(v)) for k, v in (stack.get("env") or {}).items())),
        function=_build_function(function, base_dir) if function else None,
        template=_build_template(stack, base_dir),
    )


def _build_template(stack: Mapping[str, Any], base_dir: Path) -> TemplateSource | None:
    if stack.get("template") is None:
        return None
    parameters = tuple(sorted((str(k), _env_text(v))
                              for k, v in (stack.get("parameters") or {}).items()))
    return TemplateSource(path=(base_dir / str(stack["template"])).resolve(),
                          parameters=parameters, name=stack.get("name"))


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _build_function(function: Mapping[str, Any], base_dir: Path) -> FunctionSource:
    files: dict[str, str] = {}
    if function.get("dir") is not None:
        root = base_dir / function["dir"]
        for item in sorted(root.rglob("*")):
            if item.is_file() and "__pycache__" not in item.parts:
                files[item.relative_to(root).as_posix()] = item.read_text(encoding="utf-8")
    files.update(function.get("files") or {})
    return FunctionSource(files=tuple(sorted(files.items())), handler=function.get("handler"),
                          base=function.get("base", "example"))


def _build_property(section: Mapping[str, Any] | None, line: int | None) -> PropertySection | None:
    if section is None:
        return None
    defaults = PropertySection(line=line or 0)
    formats = section.get("formats")
    classes = section.get("classes")
    return PropertySection(
        line=line or 0,
        examples=int(section.get("examples", defaults.examples)),
        seed=section.get("seed"),
        derandomize=bool(section.get("derandomize", False)),
        inputs=tuple(section.get("inputs") or defaults.inputs),
        formats=tuple(formats) if formats else None,
        max_rows=int(section.get("max_rows", defaults.max_rows)),
        classes=tuple(plain(classes)) if classes else None,
        url=section.get("url"),
        bucket=section.get("bucket"),
    )
