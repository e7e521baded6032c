"""An initialised template and the environments forked from it, with real awslambdaric
processes and real Runtime API sockets (no emulator): what each fork has of its own."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from harness.lambda_.environment import ExecutionEnvironment, State
from harness.lambda_.invocation import Invocation
from harness.lambda_.launcher import ProcessLauncher
from harness.lambda_.spec import FunctionSpec
from harness.lambda_.template import RuntimeTemplate, TemplateError

APP = '''
import os, threading
BIG = []
if os.environ.get("INIT_THREAD"):
    threading.Thread(target=threading.Event().wait, daemon=True).start()

def handler(event, context):
    if event.get("grow_mb"):
        BIG.append(bytearray(event["grow_mb"] * 1024 * 1024))
    return {"pid": os.getpid(), "api": os.environ["AWS_LAMBDA_RUNTIME_API"],
            "tmp": os.environ["TMPDIR"], "threads": threading.active_count()}
'''
STOP_WAIT_S = 30  # a stop takes milliseconds; this only bounds a failing test


def _spec(code_dir: Path, memory_mb: int = 256, **environment: str) -> FunctionSpec:
    return FunctionSpec(
        name="tmpl", arn="arn:aws:lambda:us-east-1:123456789012:function:tmpl", version="1",
        handler="app.handler", runtime="python3.12", memory_mb=memory_mb, timeout_s=10,
        environment=tuple(sorted(environment.items())), code_sha256="t", package_type="Zip",
        image_uri=None, account_id="123456789012", region="us-east-1", code_dir=str(code_dir))


@pytest.fixture
def launcher(tmp_path: Path) -> ProcessLauncher:
    return ProcessLauncher(lambda: "http://127.0.0.1:9", state_dir=tmp_path / "state")


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(APP)
    return code


@pytest.fixture
def template(launcher: ProcessLauncher, code_dir: Path) -> Iterator[RuntimeTemplate]:
    made = RuntimeTemplate(_spec(code_dir), launcher, "template1")
    made.start(60)
    yield made
    made.close()


def _env(template: RuntimeTemplate, env_id: str) -> ExecutionEnvironment:
    env = ExecutionEnvironment(template.spec, template, env_id, init_timeout_s=10, restore=True)
    assert env.start() is None
    return env


def _call(env: ExecutionEnvironment, event: dict, request_id: str = "r1"):  # type: ignore[no-untyped-def]
    record = env.invoke(Invocation(request_id=request_id, payload=json.dumps(event).encode(),
                                   function_arn=env.spec.arn, timeout_s=10))
    return record, json.loads(record.payload)


def test_the_template_forks_with_no_thread_but_its_own(template: RuntimeTemplate) -> None:
    assert template.threads == 1


def test_forks_have_their_own_runtime_api_tmp_dir_and_processes(
        template: RuntimeTemplate) -> None:
    first, second = _env(template, "fork0001"), _env(template, "fork0002")
    try:
        _, one = _call(first, {})
        _, two = _call(second, {})
        assert one["pid"] != two["pid"]
        assert one["api"] != two["api"] and one["tmp"] != two["tmp"]
        assert Path(one["tmp"]).is_dir()
        # Stopping one ends its processes and TMPDIR only: the other still answers.
        gone = psutil.Process(one["pid"])
        first.stop()
        _, alive = psutil.wait_procs([gone], timeout=STOP_WAIT_S)
        assert alive == []
        record, again = _call(second, {}, "r2")
        assert record.error_type is None and again["pid"] == two["pid"]
        assert not os.path.exists(one["tmp"])
    finally:
        first.stop()
        second.stop()


def test_a_fork_over_its_memory_size_is_out_of_memory(launcher, code_dir: Path) -> None:
    template = RuntimeTemplate(_spec(code_dir, memory_mb=128), launcher, "template2")
    template.start(60)
    env = _env(template, "fork0003")
    try:
        record, _ = _call(env, {"grow_mb": 200})
        assert record.error_type == "Runtime.OutOfMemory"
        assert env.state is State.FAILED
    finally:
        env.stop()
        template.close()


def test_an_init_that_left_a_thread_running_is_counted(launcher, code_dir: Path) -> None:
    template = RuntimeTemplate(_spec(code_dir, INIT_THREAD="1"), launcher, "template3")
    template.start(60)
    env = _env(template, "fork0004")
    try:
        assert template.threads == 2
        _, body = _call(env, {})
        assert body["threads"] == 1  # a fork has only the thread that forked
    finally:
        env.stop()
        template.close()


def test_an_init_error_fails_the_template(launcher, tmp_path: Path) -> None:
    code = tmp_path / "broken"
    code.mkdir()
    (code / "app.py").write_text("raise ValueError('no model')\n")
    template = RuntimeTemplate(_spec(code), launcher, "template4")
    with pytest.raises(TemplateError) as failed:
        template.start(60)
    assert failed.value.error.error_type == "ValueError"
    assert b"no model" in failed.value.error.payload
