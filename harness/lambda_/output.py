"""What a runtime prints, held for the invocation that printed it, up to a bound.

Lambda ships a function's output as it comes and keeps none of it in the environment; the
harness holds it until the invocation ends, so a function that prints without end (1 GB in a
loop) must not grow the harness: past ``MAX_OUTPUT_BYTES`` per invocation the rest is counted,
dropped, and said in one line at the end.
"""

from __future__ import annotations

MAX_OUTPUT_BYTES = 1024 * 1024
"""Output kept per invocation (and per init): four CloudWatch events of the largest size."""


class BoundedOutput:
    """Output since the last ``take``: the first ``limit`` bytes, and a count of the rest.

    Not thread-safe: its owner calls it under the lock that guards its reader.
    """

    def __init__(self, limit: int = MAX_OUTPUT_BYTES, preamble: bytes = b"") -> None:
        if limit < 1:
            raise ValueError(f"output limit {limit} is below 1 byte")
        self._limit = limit
        self._data = bytearray()
        self._dropped = 0
        self.add(preamble)

    @property
    def limit(self) -> int:
        return self._limit

    def add(self, chunk: bytes) -> None:
        room = self._limit - len(self._data)
        if len(chunk) <= room:
            self._data += chunk
            return
        if room > 0:
            self._data += chunk[:room]
        self._dropped += len(chunk) - max(room, 0)

    def __len__(self) -> int:
        """Bytes held now (never more than the limit)."""
        return len(self._data)

    def take(self) -> str:
        """Everything held, decoded, with the truncation line if some was dropped; then empty."""
        data, dropped = bytes(self._data), self._dropped
        self._data.clear()
        self._dropped = 0
        return with_truncation_note(data.decode("utf-8", errors="replace"), dropped,
                                    self._limit)


def with_truncation_note(text: str, dropped: int, limit: int) -> str:
    """``text`` and, when ``dropped`` bytes were left out, a line that says how many."""
    if not dropped:
        return text
    gap = "" if not text or text.endswith("\n") else "\n"
    return (f"{text}{gap}...truncated {dropped} bytes (the harness keeps the first {limit} "
            "bytes a function prints per invocation)\n")
