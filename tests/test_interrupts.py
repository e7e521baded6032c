"""Signals as KeyboardInterrupt, and one that Python swallowed raised again (in-process)."""

from __future__ import annotations

import gc
import os
import signal
import sys

import pytest

from harness import interrupts


def test_a_signal_raises_a_keyboard_interrupt_that_names_it():
    with interrupts.handled(), pytest.raises(KeyboardInterrupt) as caught:
        os.kill(os.getpid(), signal.SIGTERM)
        signal.pause()  # not reached: the handler raises first
    assert interrupts.describe(caught.value) == "interrupted by SIGTERM"
    assert interrupts.describe(KeyboardInterrupt()) == "interrupted by SIGINT"


def test_an_interrupt_swallowed_by_a_gc_callback_is_raised_again():
    """A handler that runs inside a gc callback (hypothesis has one) loses its exception."""

    def signal_during_collection(phase: str, _info: dict) -> None:
        if phase == "start":
            os.kill(os.getpid(), signal.SIGTERM)

    with interrupts.handled():
        gc.callbacks.append(signal_during_collection)
        try:
            gc.collect()  # the KeyboardInterrupt is raised in the callback, and ignored
        finally:
            gc.callbacks.remove(signal_during_collection)
        with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
            interrupts.check()


def test_the_previous_handlers_come_back_and_nothing_is_remembered():
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM),
              sys.unraisablehook)
    with interrupts.handled(), pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGTERM)
        signal.pause()
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM),
            sys.unraisablehook) == before
    interrupts.check()  # nothing pending once the block is over
