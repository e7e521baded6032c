"""``harness up --function-python`` and the HARNESS_* variables of function dependencies."""

from __future__ import annotations

from harness.cli.main import build_parser
from harness.cli.up import config_from_args
from harness.config import EmulatorConfig


def parse(*argv: str):
    return build_parser().parse_args(["up", *argv])


def test_function_python_overrides_the_environment():
    environ = {"HARNESS_LAMBDA_PYTHON": "/from/env/python"}
    assert config_from_args(parse(), environ).lambda_.python == "/from/env/python"
    config = config_from_args(parse("--function-python", "/opt/py312/bin/python"), environ)
    assert config.lambda_.python == "/opt/py312/bin/python"
    assert config_from_args(parse(), {}).lambda_.python is None


def test_pip_args_are_split_as_a_shell_would():
    environ = {"HARNESS_PIP_ARGS": "--no-index --find-links '/srv/my wheels'"}
    config = EmulatorConfig.from_env(environ)
    assert config.lambda_.pip_args == ("--no-index", "--find-links", "/srv/my wheels")
    assert EmulatorConfig.from_env({}).lambda_.pip_args == ()
