"""Template mode (``LambdaConfig.cold_starts = "template"``): the cold starts of a function
version fork from one initialised template, so that a burst costs this machine one init.

On AWS every new execution environment has its own CPU: sixteen first requests answer in about
one Init Duration. Here sixteen runtimes importing scikit-learn share two cores and the slowest
waits sixteen inits. In template mode the version's first cold start makes its template (the
real init, measured), and every environment, that first one included, is a fork of it
(``harness.lambda_.template``) with its own Runtime API, credentials, TMPDIR, output and memory
check. Its REPORT shows the template's Init Duration and, with ``hold_init``, its first response
is held back until that long after it was asked for: the latency a client sees is AWS's.

A function whose init leaves threads running cannot be forked faithfully (a fork has only the
thread that forked): its cold starts run as real ones, and its log says why. Image functions
and zip functions in containers always start for real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from harness.lambda_.environment import RuntimeHandle, error_payload
from harness.lambda_.invocation import RuntimeError_
from harness.lambda_.launcher import ProcessLauncher
from harness.lambda_.spec import FunctionSpec
from harness.lambda_.template import RuntimeTemplate, TemplateError

ON_DEMAND = "on-demand"
LogLines = Callable[[FunctionSpec, str, list[str]], None]


class TemplateLauncher:
    """The launcher of one pool's environments in template mode (one function version, one
    configuration); ``close()`` ends its template once the pool's environments are gone."""

    def __init__(self, spec: FunctionSpec, launcher: ProcessLauncher, *, init_timeout_s: float,
                 hold_init: bool, new_id: Callable[[], str], log: LogLines) -> None:
        self._spec = spec
        self._launcher = launcher
        self._init_timeout_s = init_timeout_s
        self._hold_init = hold_init
        self._new_id = new_id
        self._log = log
        self._lock = threading.Lock()
        self._make_lock = threading.Lock()
        self._template: RuntimeTemplate | None = None
        self._making: RuntimeTemplate | None = None
        """The template whose init runs now (``close`` cuts it short)."""
        self._init_output = ""
        self._failure: TemplateError | None = None
        self._failed_at = float("-inf")
        self._real_reason = ""
        """Why cold starts run for real after all (the init left threads running)."""
        self._closed = False
        self._live = 0
        """Environments forked from the template and not yet exited."""

    def launch(self, spec: FunctionSpec, runtime_api: str, env_id: str,
               on_exit: Callable[[int], None]) -> RuntimeHandle:
        template = self._template_for(time.perf_counter())
        if template is None:  # forking would lose the init's threads: a real cold start
            return self._launcher.launch(spec, runtime_api, env_id, on_exit)

        def exited(code: int) -> None:
            with self._lock:
                self._live -= 1
            on_exit(code)

        try:
            process = template.fork(spec, runtime_api, env_id, exited,
                                    preamble=self._init_output)
        except BaseException:
            with self._lock:
                self._live -= 1
            raise
        process.template_init_ms = template.init_duration_ms
        process.hold_init = self._hold_init
        return process

    def release_if_unused(self) -> None:
        """End the template if no environment forked from it is alive (the keep-alive has
        stopped them all); the next cold start makes a new one."""
        with self._lock:
            if self._live or self._template is None:
                return
            template, self._template = self._template, None
        template.close()

    def _template_for(self, asked: float) -> RuntimeTemplate | None:
        """The version's template, made by the first cold start that needs it, and counted
        as forking (the caller forks from it, or uncounts it). Cold starts that waited for a
        make that failed share its failure (each would have failed alike); a later one tries
        again, as Lambda runs a failed init again in a new environment."""
        with self._make_lock:  # one make at a time; the others wait for it
            with self._lock:
                if self._closed:
                    raise _stopped()
                if self._template is not None or self._real_reason:
                    return self._counted(self._template)
                if self._failure is not None and self._failed_at >= asked:
                    raise self._failure
                template = self._making = RuntimeTemplate(self._spec, self._launcher,
                                                          self._new_id(), mode=ON_DEMAND)
            try:
                output = template.start(self._init_timeout_s)
            except TemplateError as failed:
                with self._lock:
                    self._making = None
                    self._failure, self._failed_at = failed, time.perf_counter()
                    raise _stopped() if self._closed else failed from None
            return self._keep(template, output)

    def _keep(self, template: RuntimeTemplate, output: str) -> RuntimeTemplate | None:
        """The template just made, counted as forking; None (and the template ended) if its
        init left threads running or the launcher was closed meanwhile."""
        with self._lock:
            self._making = None
            closed = self._closed
            if not closed and template.threads <= 1:
                self._template, self._init_output = template, output
                return self._counted(template)
            if not closed:
                self._real_reason = (
                    f"harness: cold starts of {self._spec.name} run for real (not from a "
                    f"template): its init left {template.threads - 1} thread(s) running, "
                    "which a forked environment would not have")
        template.close()
        if closed:
            raise _stopped()
        self._log(self._spec, template.template_id, [*output.splitlines(), self._real_reason])
        return None

    def _counted(self, template: RuntimeTemplate | None) -> RuntimeTemplate | None:
        """``template``, counted as about to fork (under the lock: so it is not let go)."""
        if template is not None:
            self._live += 1
        return template

    def close(self) -> None:
        """End the template (the pool's environments are stopped by then), and one being
        made: its init is cut short, as a stopping emulator cuts a real one."""
        with self._lock:
            self._closed = True
            template, self._template = self._template, None
            making = self._making
        for each in (template, making):
            if each is not None:
                each.close()


def _stopped() -> TemplateError:
    return TemplateError(RuntimeError_("Runtime.ExitError", error_payload(
        "Runtime.ExitError", "the function's environments are being stopped")), "")

