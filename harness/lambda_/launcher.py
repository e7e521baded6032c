"""Starts a zip function's runtime client as a local process, as Lambda's Python runtime would."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from harness.lambda_ import template_runtime
from harness.lambda_.environment import RuntimeHandle
from harness.lambda_.layers import joined, layer_paths
from harness.lambda_.packages import PackageCache, version_note
from harness.lambda_.process import RuntimeProcess
from harness.lambda_.spec import FunctionSpec
from harness.leftovers import ENV_MARKER, env_marker

# Credentials a function sees when IAM is off: the emulator accepts any, real AWS is never reached.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_SESSION_TOKEN": "test",
}
# Taken from the harness's environment so the interpreter and its libraries work at all.
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


Credentials = Callable[[FunctionSpec], Mapping[str, str] | None]
"""The execution role's credentials for a new environment (``harness.iam.Iam.credentials_for``):
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; None for the fake ones."""


def runtime_environment(spec: FunctionSpec, runtime_api: str, env_id: str,
                        endpoint_url: str,
                        credentials: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment variables of a function's runtime, as Lambda documents them.

    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
    """
    env = {key: os.environ[key] for key in _PASSED_THROUGH if key in os.environ}
    env.update(credentials or FAKE_CREDENTIALS)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name(spec.version, env_id),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime or 'python3.12'}",
        "AWS_ENDPOINT_URL": endpoint_url,
        "LAMBDA_TASK_ROOT": spec.code_dir,
        "LAMBDA_RUNTIME_DIR": os.path.dirname(sys.executable),
        "_HANDLER": spec.handler,
        "TZ": ":UTC",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": spec.code_dir,
    })
    # The function's own variables come last and win, as on Lambda (except reserved ones).
    env.update(dict(spec.environment))
    # Inherited by everything the function starts: how a leftover is known after a reparent.
    env[ENV_MARKER] = env_marker(env_id)
    return env


def log_stream_name(version: str, env_id: str) -> str:
    import time

    return time.strftime("%Y/%m/%d", time.gmtime()) + f"/[{version}]{env_id}"


# ``python -S``: none of the interpreter's site-packages, only the path the launcher sets. The
# builtins that ``site`` would add (exit, quit, help...) are still there, as on Lambda.
_BOOTSTRAP = ("import runpy, site; site.setquit(); site.setcopyright(); site.sethelper(); "
              "runpy.run_module('awslambdaric', run_name='__main__', alter_sys=True)")


class ProcessLauncher:
    """Runs the runtime client (awslambdaric) in the unpacked package, one process each.

    The function imports from its task root, then its requirements.txt's packages, then the
    runtime's (awslambdaric, boto3): see ``harness.lambda_.packages``. Its memory is held to its
    MemorySize by the process (``RuntimeProcess.check_memory``).
    """

    def __init__(self, endpoint_url: Callable[[], str], python: str | None = None, *,
                 state_dir: Path | None = None, pip_args: Sequence[str] = (),
                 credentials: Credentials | None = None) -> None:
        from harness.config import EmulatorConfig

        self._endpoint_url = endpoint_url
        self._credentials = credentials
        self._packages = PackageCache(state_dir or EmulatorConfig().state_dir, python, pip_args)
        self._python = self._packages.python

    def launch(self, spec: FunctionSpec, runtime_api: str, env_id: str,
               on_exit: Callable[[int], None]) -> RuntimeHandle:
        env, notes = self.environment_for(spec, runtime_api, env_id)
        process = RuntimeProcess(
            [self._python, "-S", "-c", _BOOTSTRAP, spec.handler],
            cwd=spec.code_dir,
            env=env,
            on_exit=on_exit,
            memory_limit_mb=spec.memory_mb,
            preamble="".join(note + "\n" for note in notes),
        )
        process.start()
        return process

    def environment_for(self, spec: FunctionSpec, runtime_api: str,
                        env_id: str) -> tuple[dict[str, str], list[str]]:
        """A runtime's environment variables, and the notes its log starts with."""
        imports = self._packages.imports_for(spec.code_dir)
        env = runtime_environment(spec, runtime_api, env_id, self._endpoint_url(),
                                  self._credentials(spec) if self._credentials else None)
        own = dict(spec.environment).get("PYTHONPATH")
        layers = layer_paths(spec.layer_dirs, self._packages.interpreter().version)
        env["PYTHONPATH"] = os.pathsep.join([*([own] if own else []), spec.code_dir,
                                             *layers.python, *imports.path])
        if spec.layer_dirs:
            env["PATH"] = joined(layers.bin, env.get("PATH"))
            env["LD_LIBRARY_PATH"] = joined(layers.lib, env.get("LD_LIBRARY_PATH"))
        env["LAMBDA_RUNTIME_DIR"] = imports.runtime_dir
        notes = list(imports.notes)
        mismatch = version_note(spec.runtime, self._packages.interpreter())
        if mismatch:
            notes.insert(0, mismatch)
        return env, notes

    def launch_template(self, spec: FunctionSpec, runtime_api: str, env_id: str,
                        control_fd: int, on_exit: Callable[[int], None],
                        env: Mapping[str, str], notes: Sequence[str]) -> RuntimeProcess:
        """The runtime of an initialised template (``harness.lambda_.template``): the
        function's init once, then a fork per environment over ``control_fd``."""
        process = RuntimeProcess(
            [self._python, "-S", "-c", template_runtime.LOADER, spec.handler,
             os.path.dirname(template_runtime.__file__), str(control_fd)],
            cwd=spec.code_dir, env=env, on_exit=on_exit, memory_limit_mb=spec.memory_mb,
            preamble="".join(note + "\n" for note in notes), pass_fds=(control_fd,),
        )
        process.start()
        return process
