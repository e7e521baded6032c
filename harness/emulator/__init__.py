"""The single endpoint: the harness's own routes first, moto's WSGI app for everything else."""

from harness.emulator.server import Emulator

__all__ = ["Emulator"]
