"""In-process event bus: publishers never wait, slow subscribers lose the oldest events.

Each subscriber has a bounded queue. When it is full the oldest event is dropped
so a stalled WatchEvents stream never holds up a device; the subscriber sees the
gap in ``Event.sequence``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from hallgw_daemon.core.events import Event, Payload
from hallgw_daemon.core.model import DeviceId, StationId, utcnow

Filter = Callable[[Event], bool]


class Subscription:
    """A subscriber's queue; iterate it to receive events."""

    def __init__(self, maxsize: int, accept: Filter | None) -> None:
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self._accept = accept
        self.dropped = 0

    def _offer(self, event: Event) -> None:
        if self._accept is not None and not self._accept(event):
            return
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> Event:
        return await self._queue.get()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[Event]:
        while True:
            yield await self._queue.get()


class EventBus:
    """Fan-out of events to subscribers; ``publish`` is synchronous and never blocks."""

    def __init__(self, *, subscriber_queue: int = 1000) -> None:
        self._subs: set[Subscription] = set()
        self._seq = itertools.count(1)
        self._queue_size = subscriber_queue
        self.published = 0
        self.visit_of: Callable[[StationId | None], str] = lambda _station: ""
        """The visit holding a station now (installed by the registry): stamped on each event."""

    def publish(
        self, *, device_id: DeviceId, station_id: StationId | None, payload: Payload, request_id: str = ""
    ) -> Event:
        event = Event(
            sequence=next(self._seq),
            time=utcnow(),
            device_id=device_id,
            station_id=station_id,
            request_id=request_id,
            payload=payload,
            visit_id=self.visit_of(station_id),
        )
        self.published += 1
        for sub in self._subs:
            sub._offer(event)
        return event

    @asynccontextmanager
    async def subscribe(
        self, accept: Filter | None = None, *, maxsize: int | None = None
    ) -> AsyncIterator[Subscription]:
        """Subscribe for the duration of the ``async with`` block (``maxsize``: this subscriber's queue)."""
        sub = Subscription(maxsize or self._queue_size, accept)
        self._subs.add(sub)
        try:
            yield sub
        finally:
            self._subs.discard(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subs)


def replace_sequence(event: Event, sequence: int) -> Event:
    """A copy of ``event`` with another sequence (for synthesised snapshot events)."""
    return dataclasses.replace(event, sequence=sequence)
