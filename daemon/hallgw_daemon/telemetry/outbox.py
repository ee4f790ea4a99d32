"""The telemetry outbox: bounded and ordered; when full, the least important goes first.

While the broker is away, messages wait here in the order they happened. When
the buffer is full, the oldest message of the lowest priority present is dropped
(metrics before events, state and alarms last) and the drop is counted, so the
publisher can report it. Putting never waits: telemetry never slows device work.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import itertools

from hallgw_protocols.telemetry import Payload, Priority


@dataclasses.dataclass(frozen=True, slots=True)
class Outgoing:
    """One message waiting to be sent."""

    topic: str
    payload: Payload | None
    """None: an empty (retained-deleting) message."""
    retain: bool
    time: str
    priority: Priority
    order: int


class Outbox:
    """See module docstring."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._queues: dict[Priority, collections.deque[Outgoing]] = {p: collections.deque() for p in Priority}
        self._order = itertools.count()
        self._ready = asyncio.Event()
        self.dropped: dict[Priority, int] = dict.fromkeys(Priority, 0)
        self.first_dropped_at = ""
        self.last_dropped_at = ""

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def put(self, topic: str, payload: Payload | None, *, retain: bool, time: str, priority: Priority) -> None:
        if len(self) >= self.limit:
            self._drop_one(time)
        self._queues[priority].append(Outgoing(topic, payload, retain, time, priority, next(self._order)))
        self._ready.set()

    def _drop_one(self, time: str) -> None:
        for priority in Priority:  # lowest first
            if self._queues[priority]:
                self._queues[priority].popleft()
                self.dropped[priority] += 1
                self.first_dropped_at = self.first_dropped_at or time
                self.last_dropped_at = time
                return

    def take_dropped(self) -> tuple[dict[str, int], str, str] | None:
        """The drop counts since the last call (by priority name) and when, or None if nothing was dropped."""
        if not any(self.dropped.values()):
            return None
        counts = {p.name.lower(): n for p, n in self.dropped.items()}
        report = (counts, self.first_dropped_at, self.last_dropped_at)
        self.dropped = dict.fromkeys(Priority, 0)
        self.first_dropped_at = self.last_dropped_at = ""
        return report

    def peek(self) -> Outgoing | None:
        """The oldest message (in the order they were put), without removing it."""
        heads = [q[0] for q in self._queues.values() if q]
        return min(heads, key=lambda m: m.order) if heads else None

    def pop(self, message: Outgoing) -> None:
        """Remove ``message`` once it was sent (it may have been dropped meanwhile)."""
        queue = self._queues[message.priority]
        if queue and queue[0] is message:
            queue.popleft()
        if not len(self):
            self._ready.clear()

    async def wait(self) -> None:
        """Return when a message is waiting."""
        while not len(self):
            self._ready.clear()
            await self._ready.wait()
