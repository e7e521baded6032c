"""moto's backends looked up without its per-lookup lock once they exist (the IAM checks read
them on every request). Light on purpose: the invoke path and the load generator import it."""

from __future__ import annotations

from typing import Any


def existing(backends: Any, account_id: str, region: str) -> Any:
    """``backends[account_id][region]``: moto's own lookup takes a process-wide lock and lists
    every account each time; a backend that exists already is read straight from the dicts."""
    regions = dict.get(backends, account_id)
    found = dict.get(regions, region) if regions is not None else None
    return found if found is not None else backends[account_id][region]
