"""Function code that holds N invocations in flight together, so that each runs in an
environment of its own: ``rendezvous.py`` goes into the function's zip beside its handler,
which calls ``wait_for_others(event)`` first."""

SOURCE = '''
import os, time


def wait_for_others(event):
    """With {"wait_for": DIR, "count": N}: wait until N invocations are in flight at once."""
    wait_for = event.get("wait_for") if isinstance(event, dict) else None
    if not wait_for:
        return
    open(os.path.join(wait_for, str(os.getpid())), "w").close()
    deadline = time.monotonic() + 60
    while len(os.listdir(wait_for)) < event["count"] and time.monotonic() < deadline:
        time.sleep(0.01)
'''


def with_rendezvous(app: str) -> dict[str, str]:
    """The files of a function whose handler is ``app`` (app.py) and may wait for others."""
    return {"app.py": app, "rendezvous.py": SOURCE}
