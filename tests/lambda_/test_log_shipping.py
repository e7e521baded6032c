"""The log shipper gathers writes and puts each run of writes to one stream in one call, in
order, against moto's own CloudWatch Logs backend; ``flush`` sees every write so far."""

from __future__ import annotations

import threading

from harness.lambda_.cloudwatch import LogWriter, logs_backend, stream_runs
from harness.lambda_.launcher import log_stream_name
from harness.lambda_.spec import FunctionSpec
from tests.lambda_.specs import plain_spec


def _messages(spec: FunctionSpec, env_id: str) -> list[str]:
    group = logs_backend(spec.account_id, spec.region).groups[spec.log_group]
    return [e.message for e in group.streams[log_stream_name(spec.version, env_id)].events]


def test_interleaved_writes_from_several_threads_land_in_order_in_their_streams():
    spec = plain_spec("shipping")
    writer = LogWriter()
    envs = [f"env-{n}" for n in range(4)]

    def write_all(env_id: str) -> None:
        for index in range(200):
            writer.write(spec, env_id, [f"{env_id} {index} a", f"{env_id} {index} b"])

    threads = [threading.Thread(target=write_all, args=(env_id,)) for env_id in envs]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        writer.flush()  # read your writes: every line is in the backend now
        for env_id in envs:
            assert _messages(spec, env_id) == [f"{env_id} {i} {part}" for i in range(200)
                                               for part in "ab"]
    finally:
        writer.close()


def test_a_run_of_writes_to_one_stream_is_one_put_and_time_never_goes_back_within_one():
    spec, other = plain_spec("shipping"), plain_spec("shipping")
    batch = [(spec, "e1", ["a", "b"], 10), (spec, "e1", ["c"], 11), (other, "e1", ["d"], 11),
             (spec, "e1", ["e"], 12), (spec, "e1", ["f"], 9), (spec, "e2", [], 13)]
    assert list(stream_runs(batch)) == [
        (spec, "e1", [(10, "a"), (10, "b"), (11, "c")]),
        (other, "e1", [(11, "d")]),
        (spec, "e1", [(12, "e")]),
        (spec, "e1", [(9, "f")]),  # stamped earlier (another thread's clock read): its own put
        (spec, "e2", []),  # an empty write still makes its stream, as before
    ]
    assert list(stream_runs([])) == []
