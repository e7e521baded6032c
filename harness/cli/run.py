"""``harness run``: run scenario files against the embedded emulator (or a running endpoint)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from harness.cli.main import EXIT_INTERRUPTED
from harness.cli.options import endpoint_url
from harness.errors import UsageError
from harness.targets import COMPOSE_HARNESS_URL, DEFAULT_TARGET, LOCALSTACK_URL, TARGETS

if TYPE_CHECKING:
    from harness.scenario.properties import PropertyOptions
    from harness.scenario.runner import ScenarioResult

_TRUE = {"1", "true", "yes", "on"}
T = TypeVar("T")


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "run", help="run scenario files (scenarios/*.yaml) and report; non-zero on any failure",
        description="Validate the scenario files, start the embedded emulator once (or use "
                    "--endpoint-url), deploy the stacks they need, run their steps and property "
                    "sections, print a summary table and exit 1 if anything failed (2 for a "
                    "malformed file; 130 on Ctrl-C or SIGTERM, after stopping everything and "
                    "writing the reports with what got done). See docs/scenarios.md for the "
                    "file format.")
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="scenario files, or directories of them")
    parser.add_argument("--target", choices=TARGETS, default=None,
                        help=f"where to run (default {DEFAULT_TARGET}, or $HARNESS_TARGET): "
                             "embedded; localstack (S3 from LocalStack at --s3-endpoint-url, "
                             "the function and API in the embedded emulator); compose (what "
                             f"`docker compose up` runs: the harness at {COMPOSE_HARNESS_URL}, "
                             f"LocalStack's S3 at {LOCALSTACK_URL}); aws (real AWS, after the "
                             "plan and account are shown and confirmed)")
    parser.add_argument("--endpoint-url", type=endpoint_url, default=None,
                        help="use an emulator already running here (harness up) instead of "
                             "starting one (default $HARNESS_ENDPOINT_URL); with --target "
                             f"compose, the harness service (default {COMPOSE_HARNESS_URL})")
    parser.add_argument("--s3-endpoint-url", type=endpoint_url, default=None,
                        help="with --target localstack or compose: LocalStack's S3 (default "
                             f"{LOCALSTACK_URL}); buckets and objects go there and the "
                             "function reads from it")
    parser.add_argument("--profile", default=None, help="AWS profile to use with --target aws")
    parser.add_argument("--yes", action="store_true",
                        help="with --target aws: go ahead without typing the account id (for "
                             "scripts), as harness deploy --aws --yes")
    parser.add_argument("--junit", type=Path, default=None, metavar="PATH",
                        help="write JUnit XML here (one testcase per step and property run)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="write the results as JSON here")
    parser.add_argument("--ci", action="store_true", default=None,
                        help="derandomise property runs that give no seed (default on when "
                             "$CI is true)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed for the property runs (overrides the files' seeds)")
    parser.add_argument("--examples", type=int, default=None, metavar="N",
                        help="generated inputs per property run (overrides the files)")
    parser.add_argument("--only-example", default=None, metavar="JSON|@FILE",
                        help="replay one property example (as printed with a failure) instead "
                             "of searching; needs exactly one file")
    parser.set_defaults(run=run)


def expand(paths: list[str]) -> list[str]:
    """Files as given; a directory stands for the .yaml/.yml files directly in it."""
    found: list[str] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
            if not inside:
                raise UsageError(f"{given}: no .yaml files in this directory")
            found += [str(p) for p in inside]
        else:
            found.append(given)
    return found


def _only_example(value: str | None) -> str | None:
    if value is None or not value.startswith("@"):
        return value
    try:
        return Path(value[1:]).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--only-example {value}: {exc.strerror or exc}") from None


def settings_from(args: argparse.Namespace,
                  environ: Mapping[str, str] | None = None) -> tuple[str, str | None, bool]:
    """Target, endpoint and CI mode: flags first, then HARNESS_TARGET, HARNESS_ENDPOINT_URL, CI."""
    env = os.environ if environ is None else environ
    target = args.target or env.get("HARNESS_TARGET") or DEFAULT_TARGET
    endpoint = args.endpoint_url or env.get("HARNESS_ENDPOINT_URL") or None
    ci = args.ci if args.ci is not None else env.get("CI", "").strip().lower() in _TRUE
    return target, endpoint, ci


def _checked_example(value: str | None, scenarios: list[Any]) -> str | None:
    """The --only-example JSON (read from @FILE), when it can be used with these files."""
    only = _only_example(value)
    if only is None:
        return None
    if len(scenarios) != 1 or scenarios[0].properties is None:
        raise UsageError("--only-example needs exactly one file, with a property section")
    try:
        json.loads(only)
    except ValueError as exc:
        raise UsageError(f"--only-example is not JSON: {exc}") from None
    return only


def run(args: argparse.Namespace) -> int:
    from harness.interrupts import describe
    from harness.scenario.loader import load_all
    from harness.scenario.properties import PropertyOptions
    from harness.scenario.reporting import summary_table, write_json, write_junit
    from harness.scenario.runner import ScenarioResult
    from harness.targets import check_target

    target, endpoint, ci = settings_from(args)
    check_target(target, TARGETS)
    s3_endpoint = getattr(args, "s3_endpoint_url", None)
    _check_combination(target, endpoint, s3_endpoint)
    scenarios = load_all(expand(args.files))
    only = _checked_example(args.only_example, scenarios)
    options = PropertyOptions(ci=ci, seed=args.seed, only_example=only, examples=args.examples)
    results: list[ScenarioResult] = []
    interrupted = None
    try:
        _run_all(args, (target, endpoint, s3_endpoint), scenarios, options, results)
    except KeyboardInterrupt as exc:
        # Stopped (every child with it): report what got done, the rest as not run.
        interrupted = next((r.interrupted for r in results if r.interrupted),
                           None) or describe(exc)
        results += [ScenarioResult(scenario, (), 0.0, skipped=f"not run: {interrupted}")
                    for scenario in scenarios[len(results):]]
    if args.junit is not None:
        write_junit(args.junit, results)
    if args.json is not None:
        write_json(args.json, results)
    print(summary_table(results), flush=True)
    if interrupted:
        print(f"harness run: {interrupted}, stopped everything; the results above are partial",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0 if all(result.passed for result in results) else 1


def _run_all(args: argparse.Namespace, where_to: tuple[str, str | None, str | None],
             scenarios: list[Any], options: PropertyOptions,
             results: list[ScenarioResult]) -> None:
    """Run ``scenarios`` on the target, appending to ``results`` as each ends (the one that
    Ctrl-C or SIGTERM stopped included, before the exception goes on)."""
    from harness.deploy import default_build_dir
    from harness.scenario.reporting import ConsoleProgress
    from harness.scenario.runner import RunInterrupted, ScenarioRunner
    from harness.scenario.session import ScenarioSession
    from harness.targets import open_target

    target, endpoint, s3_endpoint = where_to
    progress = ConsoleProgress()
    with _stopped_whole(open_target(target, endpoint, s3_endpoint_url=s3_endpoint,
                                    supported=TARGETS)) as where:
        where_text = f"endpoint {where.url}" if where.url else "real AWS (boto3's endpoints)"
        s3_text = f", S3 at {where.s3_url}" if where.s3_url else ""
        print(f"==> {target} {where_text}{s3_text}", file=sys.stderr, flush=True)
        session = ScenarioSession(where.endpoint_url, default_build_dir(),
                                  progress=lambda msg: print(f"    {msg}", file=sys.stderr,
                                                             flush=True),
                                  s3_endpoint_url=where.s3_url,
                                  profile=getattr(args, "profile", None))
        if target == "aws":
            _confirm_aws(session, scenarios, bool(getattr(args, "yes", False)))
        runner = ScenarioRunner(session, progress, options)
        for scenario in scenarios:
            try:
                results.append(runner.run(scenario))
            except RunInterrupted as stopped:
                results.append(stopped.result)
                raise
        if target == "aws" and session.deployed():
            left = ", ".join(f"{stack.function_name} ({stack.region})"
                             for stack in session.deployed())
            print(f"==> left on AWS (emptied, not deleted): {left}", file=sys.stderr)


@contextmanager
def _stopped_whole(opened: AbstractContextManager[T]) -> Iterator[T]:
    """``opened``, whose exit (the embedded emulator stopping its runtimes and threads) a second
    Ctrl-C or SIGTERM cannot cut short; such a signal is raised once the exit is done."""
    from harness import interrupts

    with ExitStack() as stack:
        value = stack.enter_context(opened)
        try:
            yield value
        finally:
            with interrupts.deferred():
                stack.close()


def _check_combination(target: str, endpoint: str | None, s3_endpoint: str | None) -> None:
    if target == "aws" and endpoint:
        raise UsageError("--target aws takes no endpoint URL (--endpoint-url or "
                         "$HARNESS_ENDPOINT_URL is set); boto3 resolves AWS's endpoints, and "
                         "AWS_ENDPOINT_URL points them at an emulator")
    if s3_endpoint and target not in ("localstack", "compose"):
        raise UsageError(f"--s3-endpoint-url needs --target localstack or compose, not {target}")


def _confirm_aws(session: Any, scenarios: list[Any], yes: bool) -> None:
    """Show the account, region and the plan of every stack the scenarios deploy; go on only
    once confirmed (--yes, or the account id typed), as harness deploy --aws."""
    from harness.aws_target import plan
    from harness.cli.aws_confirm import confirm_real_aws
    from harness.deploy import StackSpec
    from harness.targets import unmet_requirement

    specs, templates = {}, {}
    for scenario in scenarios:
        if not scenario.runnable or unmet_requirement(scenario.requires):
            continue
        request = scenario.stack
        if request.template is not None:  # the user's template: CloudFormation makes the plan
            templates[f"create or update a stack from {request.template.path}  "
                      f"[{request.region}]"] = StackSpec(region=request.region)
            continue
        spec = session.spec_for(request)
        specs[spec.function_name] = spec
    if not specs and not templates:
        return
    lines = [f"{item}  [{spec.region}]" for spec in specs.values()
             for item in plan(session.target, spec)] + list(templates)
    first = next(iter(specs.values()), None) or next(iter(templates.values()))
    confirm_real_aws(session.target, first, "run", lines, yes)
