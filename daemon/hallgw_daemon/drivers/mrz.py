"""The MRZ reader: an OCR reader that sends the lines of a document's MRZ over a serial line.

Theory of operation
-------------------
The reader talks only when a data page passes under it, so the driver just
listens: a task reads the link and feeds the line codec
(:mod:`hallgw_protocols.mrz_reader`), which turns bytes into whole scans or
read errors; a timer lets it report a read that stopped part way. Each scan is
parsed and checked (:func:`~hallgw_protocols.icao9303.parse_mrz`) at once and
kept, with the time it arrived, until a read takes it.

:meth:`MrzReaderDriver.take_scan` gives a read the first scan made after a
moment it names (a read accepts a scan made up to ``freshness`` seconds before
it started: the clerk often scans the page before the business system asks).
Each scan is taken once. A scan whose check digits fail, or a read the reader
broke off, is handed out the same way, as MRZ_INVALID: the applicant must
scan the page again. Scans older than ``freshness`` are forgotten, so an MRZ
(personal data) does not linger in memory.

The reader has no query command: it is healthy while its link is open, and
offline at once when the link goes (unplugged, converter gone).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from typing import ClassVar, Final

from hallgw_daemon.core.errors import LinkLostError, MrzInvalidError, NoDocumentError
from hallgw_daemon.core.model import DeviceKind
from hallgw_daemon.drivers.base import Direction, Driver, DriverContext, TraceRecord, register_driver, stream_of
from hallgw_daemon.logging import get_logger
from hallgw_daemon.transports import ByteStream, LinkClosedError, Transport
from hallgw_protocols import RemoteProtocolError
from hallgw_protocols.icao9303 import Mrz, parse_mrz
from hallgw_protocols.mrz_reader import MrzEvent, MrzLineCollector, MrzReadError, MrzScan

log = get_logger(__name__)

MAX_KEPT: Final = 4
"""Scans kept waiting for a read; older ones are dropped first."""
EXPIRE_TICK: Final = 0.25
"""How often an unfinished read is checked for silence."""

ProgressFn = Callable[[str, str], None]


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class _Scan:
    time: float
    mrz: Mrz | None
    error: str = ""

    def __repr__(self) -> str:
        return f"_Scan({'ok' if self.mrz else 'error'})"


@register_driver
class MrzReaderDriver(Driver):
    """A send-only serial MRZ reader (see the module docstring)."""

    kind: ClassVar[DeviceKind] = DeviceKind.MRZ_READER
    freshness: ClassVar[float] = 10.0
    """Seconds a scan stays usable by a read that starts after it (``documents.mrz_freshness``)."""

    def __init__(self, ctx: DriverContext) -> None:
        super().__init__(ctx)
        self._link: ByteStream | None = None
        self._codec = MrzLineCollector()
        self._scans: collections.deque[_Scan] = collections.deque(maxlen=MAX_KEPT)
        self._arrived = asyncio.Event()
        self._closed: asyncio.Future[str] | None = None
        self._task: asyncio.Task[None] | None = None

    def attach(self, transport: Transport) -> None:
        self._link = stream_of(transport, self.ctx.device_id)
        self._codec = MrzLineCollector()
        self._closed = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._read_loop(self._link), name=f"mrz-read:{self.ctx.device_id}")

    async def identify(self, *, timeout: float) -> Mapping[str, str]:
        await self.probe(timeout=timeout)
        return {}

    async def probe(self, *, timeout: float) -> None:
        if self._closed is None or self._closed.done():
            raise LinkLostError("the MRZ reader's link is closed", device_id=self.ctx.device_id)

    async def wait_closed(self) -> str:
        if self._closed is None:
            raise LinkLostError("the device went offline (its link is closed)", device_id=self.ctx.device_id)
        return await asyncio.shield(self._closed)

    def drop_personal_data(self) -> None:
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
        self._scans.clear()
        self._lost("detached")

    def _lost(self, reason: str) -> None:
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(reason)
        self._arrived.set()  # wake a waiting read: it sees the link is gone

    async def _read_loop(self, link: ByteStream) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    async with asyncio.timeout(EXPIRE_TICK if self._codec.busy else None):
                        data = await link.read()
                except TimeoutError:
                    self._handle(self._codec.expire(loop.time()))
                    continue
                self._handle(self._codec.feed(data, loop.time()))
        except LinkClosedError as err:
            self._lost(str(err))

    def _handle(self, events: list[MrzEvent]) -> None:
        now = asyncio.get_running_loop().time()
        for event in events:
            if isinstance(event, MrzScan):
                scan = self._parse(event, now)
            else:
                assert isinstance(event, MrzReadError)  # noqa: S101 - the codec's only other event
                log.info("mrz read failed", device_id=self.ctx.device_id, error=event.message)
                scan = _Scan(now, None, f"the MRZ reader did not read the whole MRZ ({event.message})")
            self._trace(scan)
            self._scans.append(scan)
            self._arrived.set()

    def _parse(self, event: MrzScan, now: float) -> _Scan:
        try:
            return _Scan(now, parse_mrz(event.text))
        except RemoteProtocolError as err:  # MrzCheckError included: its message names checks, not values
            log.info("mrz scan rejected", device_id=self.ctx.device_id, error=str(err))
            return _Scan(now, None, f"the scanned MRZ is not valid: {err}")

    def _trace(self, scan: _Scan) -> None:
        if self.ctx.taps:
            summary = "MRZ scan" if scan.mrz is not None else f"MRZ read error: {scan.error}"
            rec = TraceRecord(direction=Direction.FROM_DEVICE, summary=summary, masked=scan.mrz is not None)
            for tap in tuple(self.ctx.taps):
                tap(rec)

    def _forget_old(self, now: float) -> None:
        while self._scans and self._scans[0].time < now - type(self).freshness:
            self._scans.popleft()

    async def take_scan(self, *, since: float, until: float, progress: ProgressFn) -> Mrz:
        """The first scan made at or after ``since`` (loop time), waiting until ``until`` for one."""
        loop = asyncio.get_running_loop()
        announced = False
        while True:
            self._forget_old(loop.time())
            while self._scans and self._scans[0].time < since:
                self._scans.popleft()
            if self._scans:
                scan = self._scans.popleft()
                if scan.mrz is None:
                    raise MrzInvalidError(f"{scan.error}: scan the data page again", device_id=self.ctx.device_id)
                progress("MRZ_READ", "MRZ read")
                return scan.mrz
            if self._closed is None or self._closed.done():
                raise LinkLostError("the MRZ reader went away", device_id=self.ctx.device_id)
            remaining = until - loop.time()
            if remaining <= 0:
                raise NoDocumentError(
                    "no data page was scanned on the MRZ reader in time", device_id=self.ctx.device_id
                )
            if not announced:
                progress("WAITING_FOR_MRZ", "pass the document's data page through the MRZ reader")
                announced = True
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._arrived.wait()
