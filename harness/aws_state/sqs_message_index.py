"""One SQS queue's messages indexed by id, receipt handle and state, so that each operation
costs the same at any depth: ready messages oldest first (per FIFO message group, a group with a
message in flight not served), in-flight ones by the time they become visible again, delayed
ones by the time their delay ends. Works on moto's ``Message`` objects and their times (ms);
``sqs_index`` puts one index in each of moto's queues and runs it under the queue's lock.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from typing import Any

from moto.sqs.models import DEDUPLICATION_TIME_IN_SECONDS, Message

READY, IN_FLIGHT, DELAYED = 0, 1, 2
COMPACT_SLACK = 1024
"""Stale heap items allowed beyond twice the queue's messages before the heaps are rebuilt."""


class _Entry:
    """One message's place in the index. ``token`` names its one live heap item (0: none)."""

    __slots__ = ("message", "seq", "group", "state", "token")

    def __init__(self, message: Message, seq: int, group: str | None) -> None:
        self.message = message
        self.seq = seq
        self.group = group
        self.state = READY
        self.token = 0


class QueueIndex:
    """The messages of one queue, by id, receipt handle and state. The caller holds the
    queue's lock for every method."""

    def __init__(self, fifo: bool) -> None:
        self.fifo = fifo
        self.entries: dict[str, _Entry] = {}
        """Every message in the queue by id, in send order."""
        self.handles: dict[str, _Entry] = {}
        """Every receipt handle a message still in the queue was given (moto takes old ones)."""
        self.counts = [0, 0, 0]
        """Messages ready, in flight and delayed, as of the last ``promote``."""
        self._ready: dict[str | None, list[tuple[float, int, _Entry]]] = {}
        """Ready messages by (seq, token), per FIFO group (one group, None, in a standard
        queue); items whose token is not their entry's are stale and skipped."""
        self._heads: list[tuple[int, str | None]] = []
        """Groups that can be served, by the seq of their oldest ready message."""
        self._queued: dict[str | None, int] = {}
        """The one live item of each group in ``_heads``."""
        self._in_flight: list[tuple[float, int, _Entry]] = []
        self._delayed: list[tuple[float, int, _Entry]] = []
        self._busy: Counter[str | None] = Counter()
        """In-flight messages per group: a FIFO group with one is not served."""
        self._items = 0
        """Items in all heaps, stale ones included (they are compacted away)."""
        self._dedup: dict[tuple[str | None, str], float] = {}
        self._dedup_order: deque[tuple[float, tuple[str | None, str]]] = deque()
        self._seq = 0
        self._tokens = 0
        self._last_sequence = 0

    # -- messages in and out -------------------------------------------------------------------
    def add(self, message: Message, now: float) -> None:
        self._seq += 1
        entry = _Entry(message, self._seq, message.group_id if self.fifo else None)
        self.entries[message.id] = entry
        for handle in message.all_receipt_handles:
            if handle:
                self.handles[handle] = entry
        self._place(entry, now)

    def remove(self, entry: _Entry) -> None:
        self._leave(entry)
        self._forget(entry)

    def place(self, entry: _Entry, now: float) -> None:
        """Move ``entry`` to the state its times give (after its visibility changed)."""
        self._leave(entry)
        self._place(entry, now)

    def receive(self, count: int, visibility_s: int, now: float, max_receives: int | None,
                retention_s: int) -> tuple[list[Message], list[Message]]:
        """Up to ``count`` ready messages, oldest first, from groups not in flight, each
        received (hidden for ``visibility_s``, its count up, a new receipt handle); and the
        messages taken out for the dead-letter queue (received ``max_receives`` times already).
        Messages past retention are deleted on the way."""
        self.promote(now)
        chosen: list[_Entry] = []
        redriven: list[Message] = []
        while len(chosen) < count:
            entry = self._next_ready()
            if entry is None:
                break
            message = entry.message
            if max_receives is not None and message.approximate_receive_count >= max_receives:
                redriven.append(message)
                self._forget(entry)
            elif message.sent_timestamp / 1000 + retention_s <= now / 1000:  # type: ignore[operator]
                self._forget(entry)
            else:
                chosen.append(entry)
        # Placed after the loop: a message received with VisibilityTimeout 0 is ready again at
        # once, and must not come back in the same answer.
        for entry in chosen:
            entry.message.mark_received(visibility_timeout=visibility_s)
            self.handles[str(entry.message.receipt_handle)] = entry
            self._place(entry, now)
        return [entry.message for entry in chosen], redriven

    def duplicate(self, message: Message, by_group: bool) -> bool:
        """Whether a FIFO message repeats a deduplication id accepted in the last five minutes;
        if not, its id is remembered from now."""
        now = float(message.sent_timestamp or 0)
        window = DEDUPLICATION_TIME_IN_SECONDS * 1000
        while self._dedup_order and self._dedup_order[0][0] + window <= now:
            accepted, old = self._dedup_order.popleft()
            if self._dedup.get(old) == accepted:
                del self._dedup[old]
        key = (message.group_id if by_group else None, str(message.deduplication_id))
        if key in self._dedup:
            return True
        self._dedup[key] = now
        self._dedup_order.append((now, key))
        return False

    def sequence_number(self, now: float) -> str:
        """The next FIFO sequence number: 20 digits, increasing."""
        self._last_sequence = max(self._last_sequence + 1, int(now) * 1_000_000)
        return f"{self._last_sequence:020d}"

    # -- what is there -------------------------------------------------------------------------
    def promote(self, now: float) -> None:
        """Messages whose delay or visibility timeout has run out become ready."""
        for heap in (self._delayed, self._in_flight):
            while heap and heap[0][0] <= now:
                _, token, entry = self._pop(heap)
                if entry.token == token:
                    self.place(entry, now)

    def next_due(self) -> float | None:
        """When (ms) the next delay or visibility timeout may run out."""
        tops = [heap[0][0] for heap in (self._delayed, self._in_flight) if heap]
        return min(tops) if tops else None

    def in_state(self, state: int) -> list[Message]:
        return [e.message for e in self.entries.values() if e.state == state]

    # -- states --------------------------------------------------------------------------------
    def _place(self, entry: _Entry, now: float) -> None:
        message = entry.message
        if now < message.delayed_until:
            state, heap, key = DELAYED, self._delayed, float(message.delayed_until)
        elif now < message.visible_at:
            state, heap, key = IN_FLIGHT, self._in_flight, float(message.visible_at)
        else:
            state, heap, key = READY, self._ready.setdefault(entry.group, []), float(entry.seq)
        self._tokens += 1
        entry.state, entry.token = state, self._tokens
        self.counts[state] += 1
        self._push(heap, (key, entry.token, entry))
        if state == IN_FLIGHT:
            self._busy[entry.group] += 1
        elif state == READY:
            self._schedule(entry.group)

    def _leave(self, entry: _Entry) -> None:
        """Out of its state (its heap item goes stale); a FIFO group it held may be served."""
        if entry.token == 0:
            return
        self.counts[entry.state] -= 1
        entry.token = 0
        if entry.state == IN_FLIGHT:
            self._busy[entry.group] -= 1
            if self._busy[entry.group] <= 0:
                del self._busy[entry.group]
                self._schedule(entry.group)

    def _forget(self, entry: _Entry) -> None:
        self.entries.pop(entry.message.id, None)
        for handle in entry.message.all_receipt_handles:
            if handle:
                self.handles.pop(handle, None)
        if self._items > 2 * len(self.entries) + COMPACT_SLACK:
            self._compact()

    # -- FIFO groups (a standard queue is one group that is never blocked) ----------------------
    def _blocked(self, group: str | None) -> bool:
        return self.fifo and group in self._busy

    def _head(self, group: str | None) -> _Entry | None:
        """The group's oldest ready message (stale items at the top are dropped)."""
        heap = self._ready.get(group)
        while heap:
            _, token, entry = heap[0]
            if entry.token == token:
                return entry
            self._pop(heap)
        self._ready.pop(group, None)
        return None

    def _schedule(self, group: str | None) -> None:
        """Let ``group`` be served from its oldest ready message, unless it is blocked."""
        if self._blocked(group):
            return
        head = self._head(group)
        if head is None or self._queued.get(group) == head.seq:
            return
        self._queued[group] = head.seq
        heapq.heappush(self._heads, (head.seq, group))

    def _next_ready(self) -> _Entry | None:
        """The oldest ready message of a group that may be served, out of the ready state."""
        while self._heads:
            seq, group = heapq.heappop(self._heads)
            if self._queued.get(group) != seq:
                continue
            del self._queued[group]
            head = self._head(group)
            if head is None or self._blocked(group):
                continue
            if head.seq != seq:
                self._schedule(group)
                continue
            self._pop(self._ready[group])
            self._leave(head)
            self._schedule(group)
            return head
        return None

    # -- heaps ---------------------------------------------------------------------------------
    def _push(self, heap: list[Any], item: tuple[float, int, _Entry]) -> None:
        heapq.heappush(heap, item)
        self._items += 1

    def _pop(self, heap: list[Any]) -> Any:
        self._items -= 1
        return heapq.heappop(heap)

    def _compact(self) -> None:
        """Drop the stale heap items (deleted messages' visibility times): rebuilt from the
        live entries, at most once per as many removals as there are messages."""
        self._ready, self._heads, self._queued = {}, [], {}
        self._in_flight, self._delayed = [], []
        self._items = 0
        for entry in self.entries.values():
            if entry.token == 0:
                continue  # out of its state for the moment (being received)
            message = entry.message
            if entry.state == READY:
                self._push(self._ready.setdefault(entry.group, []),
                           (float(entry.seq), entry.token, entry))
            elif entry.state == IN_FLIGHT:
                self._push(self._in_flight, (float(message.visible_at), entry.token, entry))
            else:
                self._push(self._delayed, (float(message.delayed_until), entry.token, entry))
        for group in list(self._ready):
            self._schedule(group)
