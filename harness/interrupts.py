"""Ctrl-C and SIGTERM as a KeyboardInterrupt that names its signal, and raised again where
Python swallowed it.

A signal handler's exception is lost when the handler happens to run inside a garbage-collector
callback or a ``__del__`` ("Exception ignored in ..."). hypothesis registers a gc callback and
collects before every example, so a Ctrl-C during a property run was often lost. The signal is
therefore remembered, and `check`, called between units of work, raises it again.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

_received: list[str] = []


@contextmanager
def handled() -> Iterator[None]:
    """For the block: SIGTERM, and SIGINT unless this process was started with it ignored
    (``nohup``, a background job of a script), raise KeyboardInterrupt naming the signal, so
    that every ``with`` block unwinds and stops what it started, as on Ctrl-C. The previous
    handlers come back afterwards."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    hook = sys.unraisablehook
    signal.signal(signal.SIGTERM, _raise)
    if previous[signal.SIGINT] is signal.default_int_handler:
        signal.signal(signal.SIGINT, _raise)
    sys.unraisablehook = _quiet_about_interrupts(hook)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sys.unraisablehook = hook
        _received.clear()


def _raise(signum: int, frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    _received.append(name)
    raise KeyboardInterrupt(name)


_Hook = Callable[["sys.UnraisableHookArgs"], object]


def _quiet_about_interrupts(hook: _Hook) -> _Hook:
    """``hook``, minus the "Exception ignored" traceback of a swallowed interrupt: `check`
    raises it again."""

    def quiet(unraisable: sys.UnraisableHookArgs) -> None:
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            hook(unraisable)

    return quiet


def check() -> None:
    """Raise KeyboardInterrupt again when a signal came and its exception was swallowed (once
    the first one unwinds, nothing calls this any more)."""
    if _received:
        raise KeyboardInterrupt(_received[-1])


@contextmanager
def deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block is done, then raise KeyboardInterrupt naming the
    signal. For stopping what was started: a stop cut short by a late Ctrl-C would leave
    threads behind and the process hanging. (Off the main thread, signals cannot arrive.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: caught.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if caught:
        raise KeyboardInterrupt(signal.Signals(caught[0]).name)


def describe(exc: BaseException) -> str:
    """Which signal a KeyboardInterrupt stands for, e.g. "interrupted by SIGTERM" (one raised
    by Python's own handler, or without a name, is Ctrl-C)."""
    named = exc.args[0] if exc.args and isinstance(exc.args[0], str) else ""
    return f"interrupted by {named if named.startswith('SIG') else 'SIGINT'}"
