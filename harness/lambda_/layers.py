"""Where a function's layers go on its paths, as Lambda's Python runtime puts /opt (pure).

Lambda extracts the layers into /opt in the function's order, a later layer's files over an
earlier one's, and the function's own code (the task root) comes before all of them. Here each
layer stays in its own directory, so "later over earlier" is path order: the last layer first.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LayerPaths:
    python: tuple[str, ...] = ()
    """For PYTHONPATH: each layer's python/lib/python3.X/site-packages, then its python/."""
    bin: tuple[str, ...] = ()
    """For PATH: each layer's bin/."""
    lib: tuple[str, ...] = ()
    """For LD_LIBRARY_PATH: each layer's lib/."""


def layer_paths(layer_dirs: Sequence[str], python_version: str) -> LayerPaths:
    """The paths of ``layer_dirs`` (in the function's order) for a runtime of ``python_version``
    ('3.11.7' or '3.11')."""
    major_minor = ".".join(python_version.split(".")[:2])
    python: list[str] = []
    for layer in reversed(layer_dirs):
        python.append(os.path.join(layer, "python", "lib", f"python{major_minor}",
                                   "site-packages"))
        python.append(os.path.join(layer, "python"))
    newest_first = list(reversed(layer_dirs))
    return LayerPaths(python=tuple(python),
                      bin=tuple(os.path.join(layer, "bin") for layer in newest_first),
                      lib=tuple(os.path.join(layer, "lib") for layer in newest_first))


def joined(first: Sequence[str], existing: str | None) -> str:
    """``first`` before an existing PATH-like value."""
    return os.pathsep.join([*first, *([existing] if existing else [])])
