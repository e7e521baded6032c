"""Load replays: the ``load:`` section, Locust as the generator, exact statistics, the REPORT
listener, the cost and free-tier meter, and the JSON and HTML reports (docs/load.md).

Nothing here imports Locust at module import: it monkey-patches the standard library with
gevent, so only the generator process (`harness.load.engine`) loads it.
"""
