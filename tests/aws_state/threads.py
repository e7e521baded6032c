"""Senders and receivers on threads of their own, for the queue tests."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_together(senders: list[Callable[[], None]], receivers: list[Callable[[], None]],
                 join_s: float) -> list[BaseException]:
    """Run every sender and receiver on a thread of its own and wait for them all (each gives
    up at its own deadline, before ``join_s``); the errors they raised, and a TimeoutError for
    each one still running after ``join_s``."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as error:  # noqa: BLE001 - reported by the test thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in [*senders, *receivers]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(join_s)
    errors += [TimeoutError(f"{t.name} still runs") for t in threads if t.is_alive()]
    return errors
