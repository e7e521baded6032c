"""SnapStart: each version published with ``SnapStart: {ApplyOn: PublishedVersions}`` gets an
initialised template (``harness.lambda_.template``) made at PublishVersion; its environments
are forks of it that run the after-restore hooks.

The version is Pending while its init and before-snapshot hooks run, then Active (or Failed,
with the init's error as StateReason). Invoking it before then is SnapStartNotReadyException;
an after-restore hook that fails is SnapStartException, one that runs past 10 s
SnapStartTimeoutException (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness.errors import AwsError
from harness.lambda_.environment import SNAPSTART_ERROR, SNAPSTART_TIMEOUT
from harness.lambda_.launcher import ProcessLauncher
from harness.lambda_.spec import FunctionSpec
from harness.lambda_.template import RuntimeTemplate, TemplateError

RESTORE_TIMEOUT_S = 10.0
"""AWS's limit on the after-restore hooks."""
INIT_TIMEOUT_S = 15 * 60.0
"""The init of a SnapStart version at publish may take up to 15 minutes on AWS."""

Key = tuple[str, str, str, str]
"""(account, region, function name, version)."""
Resolve = Callable[[Key], FunctionSpec]
LogLines = Callable[[FunctionSpec, str, list[str]], None]


def invoke_error(error_type: str) -> AwsError:
    """The Invoke API's error for a restore that failed, in AWS's words."""
    if error_type == SNAPSTART_TIMEOUT:
        return AwsError("Lambda couldn't restore the snapshot within the timeout limit.",
                        code=SNAPSTART_TIMEOUT, status=408)
    return AwsError("The after-restore runtime hook encountered an error. For more "
                    "information, check the Amazon CloudWatch logs.",
                    code=SNAPSTART_ERROR, status=400)


RESTORE_ERRORS = frozenset({SNAPSTART_ERROR, SNAPSTART_TIMEOUT})


class Snapshots:
    """The templates of SnapStart versions; ``close()`` ends them and every fork."""

    def __init__(self, launcher: ProcessLauncher | None, resolve: Resolve, log: LogLines,
                 new_id: Callable[[], str]) -> None:
        self._launcher = launcher
        self._resolve = resolve
        self._log = log
        self._new_id = new_id
        self._lock = threading.Lock()
        self._templates: dict[Key, RuntimeTemplate] = {}
        self._building: set[Key] = set()
        self._closed = False
        self._builds = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lambda-snapstart")

    def on_publish(self, fn: Any) -> None:
        """PublishVersion made ``fn`` (moto's version, Pending): build its template."""
        key = (fn.account_id, fn.region, fn.function_name, str(fn.version))
        with self._lock:
            if self._closed:
                return
            self._building.add(key)
        self._builds.submit(self._build, fn, key)

    def _build(self, fn: Any, key: Key) -> None:
        from harness.aws_state.snap_start import set_version_state

        try:
            if self._launcher is None:
                raise AwsError("SnapStart needs the process executor (zip functions)")
            spec = self._resolve(key)
            template = RuntimeTemplate(spec, self._launcher, self._new_id())
            output = template.start(INIT_TIMEOUT_S)
        except TemplateError as failed:
            self._forget(key)
            set_version_state(fn, "Failed", _reason(failed.error.payload), "FunctionError")
            return
        except Exception as failed:  # noqa: BLE001 - the version must not stay Pending
            self._forget(key)
            set_version_state(fn, "Failed", str(failed), "InternalError")
            return
        with self._lock:
            self._building.discard(key)
            keep = not self._closed
            if keep:
                self._templates[key] = template
        if not keep:
            template.close()
            return
        lines = output.splitlines()
        if template.threads > 1:
            lines.append(f"harness: the init left {template.threads - 1} thread(s) running; an "
                         "environment restored from the snapshot has only the thread that took "
                         "it (start them again in an after-restore hook)")
        self._log(spec, template.template_id, lines)
        set_version_state(fn, "Active")

    def on_delete(self, fn: Any) -> None:
        """DeleteFunction removed ``fn`` (a SnapStart version): its template goes (environments
        still running end with it; their pool is retired by then)."""
        key = (fn.account_id, fn.region, fn.function_name, str(fn.version))
        with self._lock:
            template = self._templates.pop(key, None)
        if template is None:
            return
        try:
            self._builds.submit(template.close)  # off moto's request thread
        except RuntimeError:  # closing: nothing runs there any more
            template.close()

    def _forget(self, key: Key) -> None:
        with self._lock:
            self._building.discard(key)

    def template_for(self, spec: FunctionSpec) -> RuntimeTemplate:
        """The version's template; SnapStartNotReadyException while it is being made."""
        key = (spec.account_id, spec.region, spec.name, spec.version)
        with self._lock:
            template = self._templates.get(key)
            building = key in self._building
        if template is None or template.spec.code_sha256 != spec.code_sha256:
            if building:
                raise AwsError("Lambda is initializing your function. You can invoke the "
                               "function when the function state becomes Active.",
                               code="SnapStartNotReadyException", status=409)
            raise AwsError(f"The snapshot of {spec.name}:{spec.version} failed or is gone: "
                           "see the version's StateReason", code="ResourceConflictException",
                           status=409)
        return template

    def reset(self) -> None:
        """End every template (their environments are stopped first, by the pools)."""
        with self._lock:
            templates, self._templates = list(self._templates.values()), {}
        for template in templates:
            template.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._builds.shutdown(wait=True, cancel_futures=True)
        self.reset()


def _reason(payload: bytes) -> str:
    try:
        body = json.loads(payload)
        return f"{body.get('errorType')}: {body.get('errorMessage')}"
    except (ValueError, AttributeError):
        return payload.decode(errors="replace")
