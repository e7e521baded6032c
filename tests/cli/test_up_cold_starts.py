"""`harness up --cold-starts template`: a burst of first invocations, with plain boto3 against
the running command, runs the function's init once and answers from forks; `real` (the
default) runs it in every environment."""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest

from harness.cli.main import build_parser
from harness.cli.up import config_from_args
from harness.package import zip_files
from tests.cli.up_process import harness_up_with

# Each init appends its pid to INIT_LOG; the handler waits until COUNT invocations are in
# flight (files in RENDEZVOUS), so that COUNT environments exist at once.
APP = '''
import os, time
with open(os.environ["INIT_LOG"], "a") as log:
    log.write(f"{os.getpid()}\\n")

def handler(event, context):
    open(os.path.join(event["rendezvous"], str(os.getpid())), "w").close()
    deadline = time.monotonic() + 60
    while len(os.listdir(event["rendezvous"])) < event["count"] and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.getpid()
'''
BURST = 4


def _burst(url: str, tmp_path: Path, name: str) -> tuple[set[int], int]:
    """(the environments' pids, how many inits ran) for a burst of BURST first invocations."""
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name="us-east-1")
    iam, lam = session.client("iam", endpoint_url=url), session.client("lambda", endpoint_url=url)
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    init_log, rendezvous = tmp_path / f"{name}-inits", tmp_path / f"{name}-rendezvous"
    rendezvous.mkdir()
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                        Timeout=60, Code={"ZipFile": zip_files({"app.py": APP})},
                        Environment={"Variables": {"INIT_LOG": str(init_log)}})
    event = json.dumps({"rendezvous": str(rendezvous), "count": BURST}).encode()
    with ThreadPoolExecutor(BURST) as pool:
        answers = list(pool.map(lambda _: lam.invoke(FunctionName=name, Payload=event),
                                range(BURST)))
    pids = {json.loads(answer["Payload"].read()) for answer in answers}
    return pids, len(init_log.read_text().splitlines())


def _health(url: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(f"{url}/_harness/health", timeout=10) as answer:
        return json.loads(answer.read())  # type: ignore[no-any-return]


def test_template_mode_runs_a_bursts_init_once(cli_env: dict[str, str], tmp_path: Path) -> None:
    with harness_up_with(cli_env, "--cold-starts", "template") as url:
        assert _health(url)["cold_starts"] == "template"
        pids, inits = _burst(url, tmp_path, "templated")
    assert len(pids) == BURST and inits == 1


def test_real_mode_is_the_default_and_runs_every_init(cli_env: dict[str, str],
                                                      tmp_path: Path) -> None:
    with harness_up_with(cli_env) as url:
        assert _health(url)["cold_starts"] == "real"
        pids, inits = _burst(url, tmp_path, "real")
    assert len(pids) == BURST and inits == BURST


def test_the_mode_from_the_environment_and_the_command_line() -> None:
    def parse(*argv: str):  # type: ignore[no-untyped-def]
        return build_parser().parse_args(["up", *argv])

    assert config_from_args(parse(), {}).lambda_.cold_starts == "real"
    assert config_from_args(parse(), {"HARNESS_COLD_STARTS": "template"}).lambda_.cold_starts \
        == "template"
    assert config_from_args(parse("--cold-starts", "real"),
                            {"HARNESS_COLD_STARTS": "template"}).lambda_.cold_starts == "real"
    with pytest.raises(SystemExit):
        parse("--cold-starts", "warm")
