"""The container tier: a Docker engine connection, and the images functions run in.

``engine`` connects to Docker through its SDK (the ``container`` extra) and says clearly why it
cannot; ``images`` builds the offline stand-in of AWS's Python base image and the function image.
The executor that runs execution environments in containers is ``harness.lambda_.container``.
"""
