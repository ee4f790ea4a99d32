"""What the listening scanners share: a send-only serial line, and scans kept briefly until a call takes one.

The MRZ reader and the payment-code scanner only talk when something passes
under them. A reader task feeds every byte of the link into the device's line
codec (``feed(data, now)``, ``expire(now)``, ``busy``), which turns them into
scans or read errors; while a line is unfinished or any scan is kept, the
task wakes every :data:`EXPIRE_TICK` to report a line that stopped part way
and to forget scans older than the driver's ``freshness``. Each scan is kept
(at most :data:`MAX_KEPT`) with the time it arrived, until a call takes it.

Scans are personal or payment data: they live in memory only while a call may
still take them, and go when they are too old, when the link goes, when the
driver detaches, and when the station's visit ends (:meth:`drop_personal_data`).
The devices have no query command: they are healthy while the link is open,
and offline at once when it goes.
"""

from __future__ import annotations

import abc
import asyncio
import collections
import contextlib
from collections.abc import Sequence
from typing import ClassVar, Final, Generic, Protocol, TypeVar

from hallgw_daemon.core.errors import LinkLostError
from hallgw_daemon.drivers.base import Driver, DriverContext, stream_of
from hallgw_daemon.transports import ByteStream, LinkClosedError, Transport

MAX_KEPT: Final = 4
"""Scans kept waiting for a call; older ones are dropped first."""
EXPIRE_TICK: Final = 0.25
"""How often an unfinished line and the kept scans are looked at."""


class LineCodec(Protocol):
    """A scanner's line codec, as the reader task uses it."""

    @property
    def busy(self) -> bool: ...

    def feed(self, data: bytes, now: float) -> Sequence[object]: ...

    def expire(self, now: float) -> Sequence[object]: ...


class Timed(Protocol):
    @property
    def time(self) -> float: ...


S = TypeVar("S", bound=Timed)


class ScanningDriver(Driver, Generic[S]):
    """A listening scanner (see the module docstring); subclasses make scans out of the codec's events."""

    freshness: ClassVar[float]
    """Seconds a scan stays usable by a call that starts after it; then it is forgotten."""
    what: ClassVar[str]
    """How messages name the device ("MRZ reader")."""

    def __init__(self, ctx: DriverContext) -> None:
        super().__init__(ctx)
        self._link: ByteStream | None = None
        self._codec = self._new_codec()
        self._scans: collections.deque[S] = collections.deque(maxlen=MAX_KEPT)
        self._arrived = asyncio.Event()
        self._closed: asyncio.Future[str] | None = None
        self._task: asyncio.Task[None] | None = None

    @abc.abstractmethod
    def _new_codec(self) -> LineCodec:
        """A fresh line codec for a new link."""

    @abc.abstractmethod
    def _scan_of(self, event: object, now: float) -> S:
        """The scan an event of the codec makes (logged and traced as the device may show it)."""

    def attach(self, transport: Transport) -> None:
        self._link = stream_of(transport, self.ctx.device_id)
        self._codec = self._new_codec()
        self._closed = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._read_loop(self._link), name=f"scan-read:{self.ctx.device_id}")

    async def probe(self, *, timeout: float) -> None:
        if self._closed is None or self._closed.done():
            raise LinkLostError(f"the {self.what}'s link is closed", device_id=self.ctx.device_id)

    async def wait_closed(self) -> str:
        if self._closed is None:
            raise LinkLostError("the device went offline (its link is closed)", device_id=self.ctx.device_id)
        return await asyncio.shield(self._closed)

    def drop_personal_data(self) -> None:
        """The visit ended: a scan not taken must not serve the next applicant."""
        self._scans.clear()

    async def detach(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        link, self._link = self._link, None
        if link is not None:
            await link.close()
        self._lost("detached")

    @property
    def kept(self) -> int:
        """Scans held in memory right now (for tests and diagnostics; never their content)."""
        return len(self._scans)

    def _lost(self, reason: str) -> None:
        self._scans.clear()
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(reason)
        self._arrived.set()  # wake a waiting call: it sees the link is gone

    async def _read_loop(self, link: ByteStream) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                tick = EXPIRE_TICK if self._codec.busy or self._scans else None
                try:
                    async with asyncio.timeout(tick):
                        data = await link.read()
                except TimeoutError:
                    self._handle(self._codec.expire(loop.time()))
                    self._forget_old(loop.time())
                    continue
                self._handle(self._codec.feed(data, loop.time()))
        except LinkClosedError as err:
            self._lost(str(err))

    def _handle(self, events: Sequence[object]) -> None:
        now = asyncio.get_running_loop().time()
        for event in events:
            self._scans.append(self._scan_of(event, now))
            self._arrived.set()

    def _forget_old(self, now: float) -> None:
        while self._scans and self._scans[0].time < now - type(self).freshness:
            self._scans.popleft()
