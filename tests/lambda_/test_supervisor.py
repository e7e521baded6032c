"""A runtime process under its supervisor: the whole tree goes with it, its exit code comes back."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from harness.lambda_.process import RuntimeProcess, supervised
from tests.lambda_.children import alive, processes, wait_gone

# Starts the three kinds of child, prints their pids, then waits for the test's go (a file)
# before it exits with the code it is given: so the test sees the children alive first.
RUNTIME = r'''
import os, subprocess, sys, time
same = subprocess.Popen(["sleep", "300"])
own = subprocess.Popen(["sleep", "300"], start_new_session=True)
reader, writer = os.pipe()
if os.fork() == 0:
    os.setsid()
    grandchild = os.fork()
    if grandchild == 0:
        os.execvp("sleep", ["sleep", "300"])
    os.write(writer, str(grandchild).encode())
    os._exit(0)
os.wait()
os.close(writer)
print("pids", same.pid, own.pid, os.read(reader, 64).decode(), flush=True)
go, code = sys.argv[1], int(sys.argv[2])
while not os.path.exists(go):
    time.sleep(0.01)
print("bye", flush=True)
os._exit(code)
'''

GONE_DEADLINE_S = 30  # a stop takes milliseconds; this only bounds a failing test


def started(tmp_path: Path, exit_code: int = 0) -> tuple[RuntimeProcess, list, list[int]]:
    exits: list[int] = []
    process = RuntimeProcess(
        [sys.executable, "-S", "-c", RUNTIME, str(tmp_path / "go"), str(exit_code)],
        cwd=str(tmp_path), env={"PATH": os.environ["PATH"]}, on_exit=exits.append)
    process.start()
    output = ""
    deadline = time.monotonic() + GONE_DEADLINE_S
    while "pids" not in output and time.monotonic() < deadline:
        time.sleep(0.01)
        output += process.take_output()
    children = processes(int(pid) for pid in output.split("pids", 1)[1].split())
    assert alive(children) == children
    return process, children, exits


def wait_exit(exits: list[int]) -> list[int]:
    deadline = time.monotonic() + GONE_DEADLINE_S
    while not exits and time.monotonic() < deadline:
        time.sleep(0.01)
    return exits


def test_kill_ends_the_runtime_and_every_process_it_started(tmp_path):
    process, children, exits = started(tmp_path)
    runtime = processes([process.pid])
    assert set(process.pids()) >= {process.pid, *(child.pid for child in children)}
    try:
        process.kill()
        assert exits == [-9]  # reported before kill() returns
        assert wait_gone(children + runtime, GONE_DEADLINE_S) == []
    finally:
        process.kill()


def test_the_runtimes_own_exit_is_reported_and_takes_its_children(tmp_path):
    process, children, exits = started(tmp_path, exit_code=3)
    try:
        (tmp_path / "go").touch()
        assert wait_exit(exits) == [3]
        assert wait_gone(children, GONE_DEADLINE_S) == []
        assert "bye" in process.take_output()  # what it wrote before it exited is kept
    finally:
        process.kill()


def test_a_runtime_command_must_be_python_dash_c():
    with pytest.raises(ValueError, match="python \\[flags\\] -c CODE"):
        supervised(["python", "bootstrap.py"], 5)
    argv = supervised(["python", "-S", "-c", "print(1)", "handler"], 5)
    assert argv[:3] == ["python", "-S", "-c"] and argv[-3:] == ["5", "print(1)", "handler"]


def test_a_function_module_named_like_the_supervisor_is_the_functions_own(lambda_client,
                                                                          create_function):
    name = create_function({"app.py": "import supervisor\n"
                                      "def handler(event, context):\n"
                                      "    return supervisor.WHOSE\n",
                            "supervisor.py": "WHOSE = 'the function'\n"})
    response = lambda_client.invoke(FunctionName=name)
    assert response["Payload"].read() == b'"the function"'
