"""The memory bounds of a long-running emulator are read from HARNESS_* variables."""

from __future__ import annotations

import pytest

from harness.config import EmulatorConfig
from harness.errors import UsageError


def test_the_bounds_have_defaults_and_are_read_from_the_environment():
    default = EmulatorConfig.from_env({})
    assert (default.log_bytes_per_stream, default.log_streams_per_group,
            default.ledger_max_entries) == (8 * 1024 * 1024, 50, 100_000)
    config = EmulatorConfig.from_env({"HARNESS_LOG_BYTES_PER_STREAM": "4096",
                                      "HARNESS_LOG_STREAMS_PER_GROUP": "3",
                                      "HARNESS_LEDGER_MAX_ENTRIES": "20000"})
    assert (config.log_bytes_per_stream, config.log_streams_per_group,
            config.ledger_max_entries) == (4096, 3, 20_000)


@pytest.mark.parametrize("name", ["HARNESS_LOG_BYTES_PER_STREAM",
                                  "HARNESS_LOG_STREAMS_PER_GROUP", "HARNESS_LEDGER_MAX_ENTRIES"])
@pytest.mark.parametrize("value", ["0", "many"])
def test_a_bad_bound_is_one_clear_line(name, value):
    with pytest.raises(UsageError) as caught:
        EmulatorConfig.from_env({name: value})
    message = str(caught.value)
    assert "\n" not in message and "bad HARNESS_* environment value" in message
    if value == "0":
        assert f"{name}=0 is below 1" in message
